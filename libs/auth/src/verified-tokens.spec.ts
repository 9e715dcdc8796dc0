import type { Principal } from './principal';
import { VerifiedTokenCache } from './verified-tokens';

const T0 = Date.parse('2026-11-29T12:00:00Z');
const principal = (expiresInS: number): Principal => ({ role: 'container', subject: 'c', expiresAt: T0 / 1000 + expiresInS });

describe('verified-token cache', () => {
  it("keeps a container's token for an hour of beats, not a minute", () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', principal(7 * 24 * 3600), T0);
    expect(cache.get('t', T0 + 15 * 60_000)).toBeDefined();
    expect(cache.get('t', T0 + 3_600_000 - 1)).toBeDefined();
    expect(cache.get('t', T0 + 3_600_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("never outlives the token's expiry or its key's retirement", () => {
    const cache = new VerifiedTokenCache();
    cache.set('expiring', principal(30), T0);
    cache.set('retiring', principal(7 * 24 * 3600), T0, T0 + 5_000);
    expect(cache.get('expiring', T0 + 29_999)).toBeDefined();
    expect(cache.get('expiring', T0 + 30_000)).toBeUndefined();
    expect(cache.get('retiring', T0 + 4_999)).toBeDefined();
    expect(cache.get('retiring', T0 + 5_000)).toBeUndefined();
  });

  it('does not keep a token that is already expired', () => {
    const cache = new VerifiedTokenCache();
    cache.set('t', principal(-1), T0);
    expect(cache.size).toBe(0);
  });

  it('drops the oldest tenth when full', () => {
    const cache = new VerifiedTokenCache(20);
    for (let i = 0; i < 20; i++) cache.set(`t${i}`, principal(3600), T0);
    cache.set('t20', principal(3600), T0);
    expect(cache.size).toBe(19);
    expect(cache.get('t0', T0)).toBeUndefined();
    expect(cache.get('t1', T0)).toBeUndefined();
    expect(cache.get('t2', T0)).toBeDefined();
    expect(cache.get('t20', T0)).toBeDefined();
  });
});
