import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { TokenKeys, type KeySettings } from './keys';
import { newPrivateJwk, publicJwk } from './jwks';
import { rotateTokenKeys } from './rotation';
import { TokenService } from './token.service';

const settings = (s: Partial<KeySettings>): KeySettings => ({ env: 'test', dataDir: '/nonexistent', acceptHs256: false, ...s });
const priv = (kid: string) => JSON.stringify({ keys: [newPrivateJwk(kid)] });
const publicOf = (privateJwks: string) =>
  JSON.stringify({
    keys: JSON.parse(privateJwks).keys.map((k: Record<string, unknown>) =>
      publicJwk(String(k.kid), createPublicKey({ key: k as never, format: 'jwk' })),
    ),
  });
const settingsOf = { issuer: 'collab-gateway', audience: 'collab-gateway', clockToleranceS: 0 };

describe('TokenKeys', () => {
  it('an issuer signs ES256 with its active key; a verify-only process has no private key at all', () => {
    const p = priv('a');
    const issuer = new TokenService(TokenKeys.fromSettings(settings({ privateJwks: p })), settingsOf);
    const token = issuer.sign({ sub: 'op', role: 'operator' }, 60);
    expect(jwt.decode(token, { complete: true })!.header).toMatchObject({ alg: 'ES256', kid: 'a' });

    const verifier = TokenKeys.fromSettings(settings({ publicJwks: publicOf(p) }));
    expect(verifier.canSign).toBe(false);
    expect(() => verifier.signer).toThrow(/no token signing key \(JWT_PRIVATE_JWKS\)/);
    const found = verifier.lookup('a', 'ES256');
    expect('key' in found && found.key.key.type).toBe('public');
    expect(jwt.verify(token, 'key' in found ? found.key.key : '', { algorithms: ['ES256'] })).toMatchObject({ role: 'operator' });
  });

  it('pins the algorithm per key, refuses unknown kids, and lists only public keys in the JWKS', () => {
    const legacy = JSON.stringify({ old: randomBytes(32).toString('base64') });
    const keys = TokenKeys.fromSettings(settings({ privateJwks: priv('a'), legacyHs256Json: legacy, acceptHs256: true }));
    expect(keys.algorithms).toEqual(['ES256', 'HS256']);
    expect(keys.lookup('a', 'HS256')).toEqual({ reason: 'key "a" verifies ES256 only, not HS256' });
    expect(keys.lookup('old', 'ES256')).toEqual({ reason: 'key "old" verifies HS256 only, not ES256' });
    expect(keys.lookup('a', 'none')).toHaveProperty('reason');
    expect(keys.lookup('nope', 'ES256')).toEqual({ reason: 'unknown key id "nope"' });
    expect(keys.lookup(undefined, 'ES256')).toEqual({ reason: 'token has no key id' });
    expect(keys.publicJwks().keys).toEqual([expect.objectContaining({ kid: 'a', kty: 'EC', alg: 'ES256' })]);
    expect(JSON.stringify(keys.publicJwks())).not.toMatch(/"d"|"k"/);
  });

  it('HS256 secrets verify only in the migration window (JWT_ACCEPT_HS256)', () => {
    const legacy = JSON.stringify({ old: randomBytes(32).toString('base64') });
    const off = TokenKeys.fromSettings(settings({ privateJwks: priv('a'), legacyHs256Json: legacy }));
    expect(off.algorithms).toEqual(['ES256']);
    expect(off.lookup('old', 'HS256')).toEqual({ reason: 'unknown key id "old"' });
  });

  it.each([
    ['a private part in the public set', () => settings({ publicJwks: priv('a') }), /JWT_PUBLIC_JWKS: key "a" holds a private part/],
    [
      'a public key as a signing key',
      () => settings({ privateJwks: publicOf(priv('a')) }),
      /JWT_PRIVATE_JWKS: key "a" is not a private key/,
    ],
    ['not JSON', () => settings({ publicJwks: 'nope' }), /JWT_PUBLIC_JWKS: must be JSON/],
    ['an RSA key', () => settings({ publicJwks: '{"keys":[{"kty":"RSA","kid":"r","n":"x","e":"AQAB"}]}' }), /EC P-256/],
    ['an active kid that is not a key', () => settings({ privateJwks: priv('a'), activeKid: 'b' }), /JWT_ACTIVE_KID/],
    [
      'a short HS256 secret',
      () => settings({ privateJwks: priv('a'), legacyHs256Json: '{"s":"c2hvcnQ="}' }),
      /JWT_KEYS: key "s" is 5 bytes/,
    ],
    ['no keys in production', () => settings({ env: 'production' }), /JWT_PUBLIC_JWKS: is required in production/],
  ])('refuses %s, naming the setting', (_w, s, msg) => expect(() => TokenKeys.fromSettings(s())).toThrow(msg));

  it('rotation: the old kid verifies during the overlap and is refused after it', () => {
    const first = priv('old');
    const t0 = new Date('2026-11-28T12:00:00Z');
    const next = rotateTokenKeys({ privateJwks: first, publicJwks: publicOf(first), overlapS: 3600, now: t0, kid: 'new' });
    expect(next.JWT_ACTIVE_KID).toBe('new');
    expect(JSON.parse(next.JWT_PRIVATE_JWKS).keys.map((k: { kid: string }) => k.kid)).toEqual(['new']);
    const keys = TokenKeys.fromSettings(settings({ privateJwks: next.JWT_PRIVATE_JWKS, publicJwks: next.JWT_PUBLIC_JWKS }));
    expect(keys.activeKid).toBe('new');
    const during = t0.getTime() + 3599_000;
    expect(keys.lookup('old', 'ES256', during)).toHaveProperty('key');
    expect(keys.lookup('old', 'ES256', t0.getTime() + 3600_000)).toEqual({ reason: 'key "old" was retired at 2026-11-28T13:00:00.000Z' });
    expect(keys.publicJwks(during).keys.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(keys.publicJwks(t0.getTime() + 3600_000).keys.map((k) => k.kid)).toEqual(['new']);
    // The next rotation drops what has retired and retires the key that signed until then.
    const third = rotateTokenKeys({
      ...{ privateJwks: next.JWT_PRIVATE_JWKS, publicJwks: next.JWT_PUBLIC_JWKS },
      overlapS: 60,
      now: new Date(t0.getTime() + 7200_000),
      kid: 'third',
    });
    expect(JSON.parse(third.JWT_PUBLIC_JWKS).keys.map((k: { kid: string; retire_at?: string }) => [k.kid, k.retire_at])).toEqual([
      ['third', undefined],
      ['new', '2026-11-28T14:01:00.000Z'],
    ]);
  });

  it('keeps a development key across restarts, readable by the owner only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keys-'));
    const first = TokenKeys.fromSettings(settings({ env: 'development', dataDir: dir }));
    const second = TokenKeys.fromSettings(settings({ env: 'development', dataDir: dir }));
    expect(second.activeKid).toBe(first.activeKid);
    expect(second.publicJwks()).toEqual(first.publicJwks());
    expect(statSync(join(dir, 'jwt-private-jwks.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, 'jwt-private-jwks.json'), 'utf8')).keys[0].kid).toBe(first.activeKid);
  });
});
