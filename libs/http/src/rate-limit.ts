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

const RATE_LIMIT_COMMAND = 'collabRateLimitTake';
const REDIS_WAIT_MS = 500;
/** Share of the budget a process takes from Redis at once (at least 1): max / LEASE_DIVISOR. */
const LEASE_DIVISOR = 20;

// Fixed window per subject: take ARGV[2] units (INCRBY), set the window's expiry on the first take,
// return the window's total taken so far and its TTL.
const SCRIPT = `
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
if n == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

/** A subject's budget in this process for the current window: units taken from Redis, units used. */
interface Lease {
  granted: number;
  used: number;
  /** The window's total taken (by every process) at the last take. */
  total: number;
  ttlMs: number;
  pending?: Promise<void>;
}

/**
 * Limits requests per token subject (not per address: many containers share a NAT), with one
 * budget per window shared by every gateway process through Redis. A process takes the budget
 * from Redis in leases of max/20 units (at least 1) and counts requests against its lease in
 * memory, so a container's steady posts cost a Redis round trip per lease, not per request
 * (issue 18: the per-request script was ~10% of the gateway's CPU per event). The sum of what every
 * process granted never exceeds the budget; a lease part unused by one process is lost to the
 * others for that window (at most max/20 per process). With max < 40 every request takes its unit
 * from Redis, as before. If Redis is away (or slower than REDIS_WAIT_MS) the request passes: ingest
 * must not depend on the limiter.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private window = -1;
  private leases = new Map<string, Lease>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // A defined command runs by EVALSHA: the script is not resent and re-hashed on every request.
    if (!(RATE_LIMIT_COMMAND in redis)) redis.defineCommand(RATE_LIMIT_COMMAND, { numberOfKeys: 1, lua: SCRIPT });
  }

  private take(key: string, windowMs: number, units: number): Promise<[number, number]> {
    const run = (this.redis as unknown as Record<string, (key: string, windowMs: number, units: number) => Promise<[number, number]>>)[
      RATE_LIMIT_COMMAND
    ];
    return Promise.race([
      run.call(this.redis, key, windowMs, units),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('rate limit: Redis did not answer')), REDIS_WAIT_MS).unref()),
    ]);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { max, windowMs } = this.config.rateLimit;
    if (max === 0) return true;
    const principal = context.switchToHttp().getRequest().user as Principal | undefined;
    if (!principal) return true;
    const window = Math.floor(Date.now() / windowMs);
    if (window !== this.window) {
      this.window = window;
      this.leases = new Map();
    }
    const key = `${this.config.redis.prefix}:rl:${principal.role}:${principal.subject}:${window}`;
    let lease = this.leases.get(key);
    if (!lease) this.leases.set(key, (lease = { granted: 0, used: 0, total: 0, ttlMs: windowMs }));
    while (lease.used >= lease.granted) {
      if (!lease.pending) {
        // Redis away: the shared connection queues commands until it is back (BullMQ needs that), so
        // don't wait on it; a request already waiting gives up after REDIS_WAIT_MS.
        if (this.redis.status !== 'ready') return true;
        const units = Math.max(1, Math.floor(max / LEASE_DIVISOR));
        const l = lease;
        let failed = false;
        l.pending = this.take(key, windowMs, units).then(
          ([total, ttl]) => {
            l.granted += Math.max(0, Math.min(units, max - (total - units)));
            l.total = total;
            l.ttlMs = ttl;
            l.pending = undefined;
          },
          () => {
            failed = true;
            l.pending = undefined;
          },
        );
        await l.pending;
        if (failed) return true;
        if (lease.used >= lease.granted) break;
      } else await lease.pending;
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const allowed = lease.used < lease.granted;
    if (allowed) lease.used++;
    const consumed = lease.total - (lease.granted - lease.used);
    reply.header('ratelimit-limit', max).header('ratelimit-remaining', Math.max(0, max - consumed));
    if (!allowed) {
      const retryAfterS = Math.max(1, Math.ceil(lease.ttlMs / 1000));
      reply.header('retry-after', retryAfterS);
      throw new RateLimitedError(retryAfterS);
    }
    return true;
  }
}
