import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/redis';
import type { Principal } from '@app/auth';
import { AppError } from '@app/common';

export class RateLimitedError extends AppError {
  readonly code = 'rate_limited';
  constructor(readonly retryAfterS: number) {
    super(`too many requests for this token; retry after ${retryAfterS} s`, [{ field: 'authorization', message: 'rate limit exceeded' }]);
  }
}

const RATE_LIMIT_COMMAND = 'collabRateLimitHit';
const REDIS_WAIT_MS = 500;

// Fixed window per subject: INCR, set the window's expiry on the first hit, return count and TTL.
const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

/**
 * Limits requests per token subject (not per address: many containers share a NAT), counted in
 * Redis so every gateway process shares the budget. ioredis auto-pipelining sends the scripts of
 * one event-loop turn together. If Redis is away (or slower than REDIS_WAIT_MS) the request
 * passes: ingest must not depend on the limiter.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // A defined command runs by EVALSHA: the script is not resent and re-hashed on every request.
    if (!(RATE_LIMIT_COMMAND in redis)) redis.defineCommand(RATE_LIMIT_COMMAND, { numberOfKeys: 1, lua: SCRIPT });
  }

  private hit(key: string, windowMs: number): Promise<[number, number]> {
    const run = (this.redis as unknown as Record<string, (key: string, windowMs: number) => Promise<[number, number]>>)[RATE_LIMIT_COMMAND];
    return run.call(this.redis, key, windowMs);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { max, windowMs } = this.config.rateLimit;
    if (max === 0) return true;
    const principal = context.switchToHttp().getRequest().user as Principal | undefined;
    if (!principal) return true;
    const window = Math.floor(Date.now() / windowMs);
    const key = `${this.config.redis.prefix}:rl:${principal.role}:${principal.subject}:${window}`;
    // Redis away: the shared connection queues commands until it is back (BullMQ needs that), so
    // don't wait on it; a request already waiting gives up after REDIS_WAIT_MS.
    if (this.redis.status !== 'ready') return true;
    let result: [number, number];
    try {
      result = await Promise.race([
        this.hit(key, windowMs),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('rate limit: Redis did not answer')), REDIS_WAIT_MS).unref()),
      ]);
    } catch {
      return true;
    }
    const [count, ttl] = result;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    reply.header('ratelimit-limit', max).header('ratelimit-remaining', Math.max(0, max - count));
    if (count > max) {
      const retryAfterS = Math.max(1, Math.ceil(ttl / 1000));
      reply.header('retry-after', retryAfterS);
      throw new RateLimitedError(retryAfterS);
    }
    return true;
  }
}
