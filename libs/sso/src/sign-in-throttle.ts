import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { withDeadline } from '@app/common';
import { REDIS } from '@app/redis';
import { EventStore } from '@app/event-store';
import { FailureRecord, lockDelayMs, lockedForMs, ThrottlePolicy } from './domain/throttle';
import { SIGN_IN_FAILED, signInFailuresStream } from './domain/events';

const EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,255}\.[A-Za-z]{2,}$/;
const REDIS_WAIT_MS = 500;

// Both keys' records: [failures, lastAt] each (nil when absent).
const READ = `return {redis.call('HMGET', KEYS[1], 'n', 'at'), redis.call('HMGET', KEYS[2], 'n', 'at')}`;
// One failure on both keys; answers the new counts.
const FAIL = `
local a = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'at', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local s = redis.call('HINCRBY', KEYS[2], 'n', 1)
redis.call('HSET', KEYS[2], 'at', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {a, s}`;

export interface SignInAttempt {
  login: string;
  sourceAddress: string;
}

/**
 * Throttles the provider's sign-in form per account and per source address, in Redis so that every
 * gateway process shares the counts (libs/sso/src/domain/throttle.ts has the policy). Each failed
 * sign-in is an event (`sso:sign-in-failed`, stream `sso-sign-in-failures`) an operator finds with
 * GET /audit/events?type=sso:sign-in-failed; attempts refused while locked are not checked and not
 * recorded one by one (the failure that locked is). If Redis is away the form still works, unthrottled.
 */
@Injectable()
export class SignInThrottle {
  private readonly logger = new Logger('sso:sign-in');
  private readonly account: ThrottlePolicy;
  private readonly source: ThrottlePolicy;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EventStore) private readonly store: EventStore,
  ) {
    const s = config.signIn;
    this.account = { maxFailures: s.maxFailuresAccount, baseMs: s.lockBaseMs, maxMs: s.lockMaxMs };
    this.source = { maxFailures: s.maxFailuresSource, baseMs: s.lockBaseMs, maxMs: s.lockMaxMs };
  }

  private keys(a: SignInAttempt): [string, string] {
    const login = createHash('sha256').update(a.login.trim().toLowerCase()).digest('hex').slice(0, 32);
    const p = `${this.config.redis.prefix}:signin`;
    return [`${p}:account:${login}`, `${p}:source:${a.sourceAddress}`];
  }

  private async run<T>(script: string, keys: string[], args: (string | number)[]): Promise<T | null> {
    if (this.redis.status !== 'ready') return null;
    try {
      return await withDeadline(
        this.redis.eval(script, keys.length, ...keys, ...args) as Promise<T>,
        REDIS_WAIT_MS,
        'Redis did not answer',
      );
    } catch (err) {
      this.logger.warn(`throttle unavailable: ${(err as Error).message}`);
      return null;
    }
  }

  /** Milliseconds the attempt must wait (account or source locked); 0: check the password. */
  async lockedFor(a: SignInAttempt, now = Date.now()): Promise<number> {
    const r = await this.run<[(string | null)[], (string | null)[]]>(READ, this.keys(a), []);
    if (!r) return 0;
    const rec = (v: (string | null)[]): FailureRecord | null => (v[0] ? { failures: Number(v[0]), lastAt: Number(v[1]) } : null);
    return Math.max(lockedForMs(rec(r[0]), now, this.account), lockedForMs(rec(r[1]), now, this.source));
  }

  /** Records a failed sign-in (counts and an event); answers the lock it starts, in ms. */
  async failed(a: SignInAttempt, now = Date.now()): Promise<number> {
    const ttl = this.config.signIn.forgetMs + this.config.signIn.lockMaxMs;
    const counts = await this.run<[number, number]>(FAIL, this.keys(a), [now, ttl]);
    const locked = counts ? Math.max(lockDelayMs(counts[0], this.account), lockDelayMs(counts[1], this.source)) : 0;
    const login = a.login.trim().toLowerCase();
    await this.store
      .append(
        signInFailuresStream,
        [
          {
            type: SIGN_IN_FAILED,
            data: {
              // Only what looks like an email: a password typed into the wrong field is not kept.
              login: EMAIL.test(login) && login.length <= 320 ? login : null,
              source_address: a.sourceAddress,
              failures_account: counts?.[0] ?? null,
              failures_source: counts?.[1] ?? null,
              locked_for_ms: locked,
            },
            metadata: {
              actor: { type: 'anonymous', id: a.sourceAddress },
              source_address: a.sourceAddress,
              received_at: new Date(now).toISOString(),
            },
          },
        ],
        'any',
      )
      .catch((err) => this.logger.warn(`sign-in failure not recorded: ${(err as Error).message}`));
    return locked;
  }

  /** A successful sign-in forgets the account's failures (not the source's: one's own account must not reset a spray). */
  async succeeded(a: SignInAttempt): Promise<void> {
    await this.run<number>(`return redis.call('DEL', KEYS[1])`, [this.keys(a)[0]], []);
  }
}
