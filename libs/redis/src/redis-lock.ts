import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** One holder at a time per key; waits up to `waitMs`. The TTL only matters if the holder dies. */
export async function withRedisLock<T>(redis: Redis, key: string, o: { ttlMs: number; waitMs: number }, fn: () => Promise<T>): Promise<T> {
  const token = randomBytes(12).toString('hex');
  const deadline = Date.now() + o.waitMs;
  for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
    if ((await redis.set(key, token, 'PX', o.ttlMs, 'NX')) === 'OK') break;
    if (Date.now() + wait > deadline) throw new Error(`lock ${key} still held after ${o.waitMs} ms`);
    await new Promise((r) => setTimeout(r, wait));
  }
  try {
    return await fn();
  } finally {
    await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
  }
}
