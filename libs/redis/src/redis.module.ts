import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';

export const REDIS = Symbol('REDIS');

export function createRedis(url: string, name: string): Redis {
  // maxRetriesPerRequest: null is what BullMQ requires; commands wait for a reconnect instead of failing.
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    enableAutoPipelining: true,
  });
}

/** One shared ioredis connection per process (BullMQ opens its own blocking ones). */
@Global()
@Module({})
export class RedisModule implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  static forRoot(url: string, name: string): DynamicModule {
    return {
      module: RedisModule,
      providers: [{ provide: REDIS, useFactory: () => createRedis(url, name) }],
      exports: [REDIS],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/**
 * Refuses Redis settings under which queued work could silently vanish: BullMQ needs
 * `maxmemory-policy noeviction`.
 */
export async function checkRedisSafety(redis: Redis): Promise<string[]> {
  const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
  return policy && policy !== 'noeviction' ? [`Redis maxmemory-policy is ${policy}; BullMQ needs noeviction`] : [];
}
