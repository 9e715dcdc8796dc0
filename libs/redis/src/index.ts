export { RedisModule, REDIS, createRedis, checkRedisSafety } from './redis.module';
export { withRedisLock } from './redis-lock';
