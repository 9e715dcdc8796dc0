import type { Principal } from './principal';

/**
 * A bounded cache of tokens whose signature and claims were verified, so a container posting every
 * 15 s is verified once, not on every request. An entry lives until the token's own expiry, its
 * key's retirement (notAfterMs) or maxAgeMs, whichever comes first; the oldest entries go when the
 * cache is full. Revocation checks (token versions) run on every request after this cache, so they
 * stay immediate. The keys are fixed for the life of the process (a key removed from the settings
 * takes a restart, which empties the cache), so nothing else can make a verified token invalid.
 *
 * maxAgeMs was 60 s: an ES256 check (passport-jwt and jsonwebtoken around 65-90 µs of crypto) on
 * one beat in four of every container, and in the ingest bench each of its 5,000 tokens verified
 * again in every turn (issue 18). An hour costs a container one check per 240 beats.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly maxEntries = 50_000,
    private readonly maxAgeMs = 3_600_000,
  ) {}

  get(token: string, now = Date.now()): Principal | undefined {
    const hit = this.entries.get(token);
    if (!hit) return undefined;
    if (hit.until <= now) {
      this.entries.delete(token);
      return undefined;
    }
    return hit.principal;
  }

  /** `notAfterMs`: a further bound (when the token's key retires). */
  set(token: string, principal: Principal, now = Date.now(), notAfterMs = Infinity): void {
    const until = Math.min(principal.expiresAt * 1000, now + this.maxAgeMs, notAfterMs);
    if (until <= now) return;
    if (this.entries.size >= this.maxEntries) {
      // Map iterates in insertion order: drop the oldest tenth in one go.
      let drop = Math.ceil(this.maxEntries / 10);
      for (const key of this.entries.keys()) {
        this.entries.delete(key);
        if (--drop === 0) break;
      }
    }
    this.entries.set(token, { principal, until });
  }

  get size(): number {
    return this.entries.size;
  }
}
