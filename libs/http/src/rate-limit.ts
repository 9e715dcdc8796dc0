import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/redis';
import type { Principal } from '@app/auth';
import { AppError } from '@app/common';

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

const RATE_LIMIT_COMMAND = 'collabRateLimitHit';
const REDIS_WAIT_MS = 500;

// Fixed window per subject: INCR, set the window's expiry on the first hit, return count and TTL.
const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  retryAfterS: number;
}

/**
 * Counts requests per (budget, subject) in Redis so every gateway process shares the budget.
 * ioredis auto-pipelining sends the scripts of one event-loop turn together. If Redis is away (or
 * slower than REDIS_WAIT_MS) the request passes: ingest must not depend on the limiter.
 */
@Injectable()
export class RateLimiter {
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
    // Redis away: the shared connection queues commands until it is back (BullMQ needs that), so
    // don't wait on it; a request already waiting gives up after REDIS_WAIT_MS.
    if (this.redis.status !== 'ready') return null;
    const key = `${this.config.redis.prefix}:rl:${kind}:${who}:${Math.floor(Date.now() / windowMs)}`;
    const run = (this.redis as unknown as Record<string, (key: string, windowMs: number) => Promise<[number, number]>>)[RATE_LIMIT_COMMAND];
    let result: [number, number];
    try {
      result = await Promise.race([
        run.call(this.redis, key, windowMs),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('rate limit: Redis did not answer')), REDIS_WAIT_MS).unref()),
      ]);
    } catch {
      return null;
    }
    const [count, ttl] = result;
    return { allowed: count <= max, limit: max, remaining: Math.max(0, max - count), retryAfterS: Math.max(1, Math.ceil(ttl / 1000)) };
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
