import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/redis';
import type { Principal } from '@app/auth';
import { AppError, withDeadline } from '@app/common';

export class RateLimitedError extends AppError {
  readonly code = 'rate_limited';
  constructor(
    readonly retryAfterS: number,
    field = 'authorization',
  ) {
    super(`too many requests${field === 'authorization' ? ' for this token' : ' from this address'}; retry after ${retryAfterS} s`, [
      { field, message: 'rate limit exceeded' },
    ]);
  }
}

/**
 * The budgets: `events` (container ingest, RATE_LIMIT_MAX), `write` (every other authenticated
 * write, RATE_LIMIT_WRITE_*), `token` (a container rotating its own token, RATE_LIMIT_TOKEN_*),
 * `anonymous` (sign-in and provider endpoints, per source address, RATE_LIMIT_ANON_*).
 */
export type RateLimitKind = 'events' | 'write' | 'token' | 'anonymous';
const KIND_KEY = 'collab:rate-limit';
/** The budget of a route or controller; without it a guarded route counts against `events`. */
export const RateLimit = (kind: RateLimitKind) => SetMetadata(KIND_KEY, kind);

const RATE_LIMIT_COMMAND = 'collabRateLimitTake';
const REDIS_WAIT_MS = 500;
/** Share of a budget a process takes from Redis at once (at least 1): max / LEASE_DIVISOR. */
const LEASE_DIVISOR = 20;

// Fixed window per key, opened by its first take: take ARGV[2] units (INCRBY), give a key without
// an expiry (a new window) its ARGV[1] ms, return the window's total taken so far and its TTL.
const SCRIPT = `
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`;

/** A key's budget in this process for the current window: units taken from Redis, units used. */
interface Lease {
  granted: number;
  used: number;
  /** The window's total taken (by every process) at the last take. */
  total: number;
  ttlMs: number;
  /** When its window ends (ms). */
  expiresAt: number;
  pending?: Promise<void>;
}

export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  retryAfterS: number;
}

/**
 * Counts requests per (budget, subject) with one budget per window shared by every gateway process
 * through Redis. A process takes a budget from Redis in leases of max/20 units (at least 1) and
 * counts requests against its lease in memory, so a container's steady posts cost a Redis round
 * trip per lease, not per request (issue 18: the per-request script was ~10% of the gateway's CPU
 * per event). What every process granted never exceeds the budget; a lease part unused by one
 * process is lost to the others for that window (at most max/20 per process). With max < 40 every
 * request takes its unit from Redis. If Redis is away (or slower than REDIS_WAIT_MS) the request
 * passes: ingest must not depend on the limiter.
 */
@Injectable()
export class RateLimiter {
  private windowStart = -1;
  private leases = new Map<string, Lease>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // A defined command runs by EVALSHA: the script is not resent and re-hashed on every request.
    if (!(RATE_LIMIT_COMMAND in redis)) redis.defineCommand(RATE_LIMIT_COMMAND, { numberOfKeys: 1, lua: SCRIPT });
  }

  budget(kind: RateLimitKind): { max: number; windowMs: number } {
    return kind === 'events' ? this.config.rateLimit : this.config.rateLimits[kind];
  }

  /** One request of `who` against the budget; null when there is no limit or Redis did not answer in time. */
  async hit(kind: RateLimitKind, who: string): Promise<RateLimitVerdict | null> {
    const { max, windowMs } = this.budget(kind);
    if (max === 0) return null;
    const now = Date.now();
    // Leases of windows that have ended are dropped once a minute (budgets' windows differ).
    if (now - this.windowStart > 60_000) {
      this.windowStart = now;
      for (const [k, l] of this.leases) if (l.expiresAt <= now) this.leases.delete(k);
    }
    // A window opens at a subject's first request (not at a clock boundary: every process sees the
    // same window through the key's TTL, and a burst is never split across two windows).
    const key = `${this.config.redis.prefix}:rl:${kind}:${who}`;
    let lease = this.leases.get(key);
    if (!lease || (lease.expiresAt <= now && !lease.pending))
      this.leases.set(key, (lease = { granted: 0, used: 0, total: 0, ttlMs: windowMs, expiresAt: now + windowMs }));
    while (lease.used >= lease.granted) {
      if (lease.pending) {
        await lease.pending;
        continue;
      }
      // Redis away: the shared connection queues commands until it is back (BullMQ needs that), so
      // don't wait on it; a request already waiting gives up after REDIS_WAIT_MS.
      if (this.redis.status !== 'ready') return null;
      const units = Math.max(1, Math.floor(max / LEASE_DIVISOR));
      const l = lease;
      let failed = false;
      l.pending = this.take(key, windowMs, units).then(
        ([total, ttl]) => {
          l.granted += Math.max(0, Math.min(units, max - (total - units)));
          l.total = total;
          l.ttlMs = ttl;
          l.expiresAt = Date.now() + ttl;
          l.pending = undefined;
        },
        () => {
          failed = true;
          l.pending = undefined;
        },
      );
      await l.pending;
      if (failed) return null;
      if (lease.used >= lease.granted) break;
    }
    const allowed = lease.used < lease.granted;
    if (allowed) lease.used++;
    const consumed = lease.total - (lease.granted - lease.used);
    return { allowed, limit: max, remaining: Math.max(0, max - consumed), retryAfterS: Math.max(1, Math.ceil(lease.ttlMs / 1000)) };
  }

  private take(key: string, windowMs: number, units: number): Promise<[number, number]> {
    const run = (this.redis as unknown as Record<string, (key: string, windowMs: number, units: number) => Promise<[number, number]>>)[
      RATE_LIMIT_COMMAND
    ];
    return withDeadline(run.call(this.redis, key, windowMs, units), REDIS_WAIT_MS, 'rate limit: Redis did not answer');
  }

  /** For routes outside Nest (the provider, the sign-in form): headers set, RateLimitedError when over. */
  async enforce(kind: RateLimitKind, who: string, reply: FastifyReply, field = 'authorization'): Promise<void> {
    const v = await this.hit(kind, who);
    if (!v) return;
    reply.header('ratelimit-limit', v.limit).header('ratelimit-remaining', v.remaining);
    if (!v.allowed) {
      reply.header('retry-after', v.retryAfterS);
      throw new RateLimitedError(v.retryAfterS, field);
    }
  }
}

/**
 * Limits a controller's requests per token subject (not per address: many containers share a NAT),
 * or per source address where there is no token. Reads (GET, HEAD) pass unless the route itself
 * names a budget. Apply it above @Auth so that the token is verified first.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    @Inject(RateLimiter) private readonly limiter: RateLimiter,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<FastifyRequest & { user?: Principal }>();
    const onRoute = this.reflector.get<RateLimitKind | undefined>(KIND_KEY, context.getHandler());
    if (!onRoute && (req.method === 'GET' || req.method === 'HEAD')) return true;
    const kind = onRoute ?? this.reflector.get<RateLimitKind | undefined>(KIND_KEY, context.getClass()) ?? 'events';
    const principal = req.user;
    const who = principal ? `${principal.role}:${principal.subject}` : `ip:${req.ip}`;
    await this.limiter.enforce(kind, who, context.switchToHttp().getResponse<FastifyReply>(), principal ? 'authorization' : 'source');
    return true;
  }
}
