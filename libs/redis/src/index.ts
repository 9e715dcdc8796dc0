export { RedisModule, REDIS, createRedis, checkRedisSafety } from './redis.module';
