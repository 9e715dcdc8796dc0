/**
 * Token verifications per second on this machine, one core, one run (ratios, not absolutes):
 * the HS256 check of before (KeyObject secret) against the ES256 check of now (KeyObject public
 * key, chosen by kid with the algorithm pinned, as JwtStrategy does), and the verified-token cache
 * that answers a container's repeated token without any signature check.
 *   node -r ./test/support/ts-register.js bench/jwt-verify.ts [ms per case, default 2000]
 */
import { createSecretKey, generateKeyPairSync, randomBytes, randomUUID, sign, verify } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { headerOf, newPrivateJwk, principalFromClaims, TokenKeys, VerifiedTokenCache } from '@app/auth';

const ms = Number(process.argv[2] ?? 2000);
const opts = { issuer: 'collab-gateway', audience: 'collab-gateway' };
const claims = () => ({ role: 'container', org: randomUUID(), project: randomUUID(), tv: 1 });

const cases: { name: string; fn: () => void; n: number; ms: number }[] = [];
const rate = (name: string, fn: () => void) => cases.push({ name, fn, n: 0, ms: 0 });

/** Round-robin slices of 100 ms per case, so the machine's noise falls on every case alike. */
function measure(): Record<string, number> {
  for (const c of cases) for (let i = 0; i < 200; i++) c.fn();
  const end = performance.now() + ms * cases.length;
  while (performance.now() < end) {
    for (const c of cases) {
      const t = performance.now();
      while (performance.now() - t < 100) {
        for (let i = 0; i < 20; i++) c.fn();
        c.n += 20;
      }
      c.ms += performance.now() - t;
    }
  }
  const out: Record<string, number> = {};
  for (const c of cases) {
    out[c.name] = Math.round(c.n / (c.ms / 1000));
    console.log(`${c.name.padEnd(58)} ${out[c.name].toLocaleString('en').padStart(10)} /s`);
  }
  return out;
}

const secret = randomBytes(48);
const stringSecret = secret.toString('base64');
const hsStringToken = jwt.sign(claims(), stringSecret, { algorithm: 'HS256', subject: randomUUID(), expiresIn: 600, ...opts });
const hsKey = createSecretKey(secret);
const hsToken = jwt.sign(claims(), hsKey, { algorithm: 'HS256', keyid: 'old', subject: randomUUID(), expiresIn: 600, ...opts });
const keys = TokenKeys.fromSettings({
  env: 'test',
  dataDir: '/nonexistent',
  privateJwks: JSON.stringify({ keys: [newPrivateJwk('k1')] }),
  acceptHs256: false,
});
const esToken = jwt.sign(claims(), keys.signer.key, { algorithm: 'ES256', keyid: 'k1', subject: randomUUID(), expiresIn: 600, ...opts });

const HS_STRING = 'HS256, string secret (before KeyObjects)';
const HS = 'HS256, KeyObject secret (before this change)';
const ES = 'ES256, KeyObject public key by kid, alg pinned (now)';
const CACHED = 'ES256 token already verified (VerifiedTokenCache hit)';
rate(HS_STRING, () => jwt.verify(hsStringToken, stringSecret, { algorithms: ['HS256'], ...opts }));
rate(HS, () => jwt.verify(hsToken, hsKey, { algorithms: ['HS256'], ...opts }));
rate(ES, () => {
  const { kid, alg } = headerOf(esToken);
  const found = keys.lookup(kid, alg);
  if (!('key' in found)) throw new Error(found.reason);
  principalFromClaims(jwt.verify(esToken, found.key.key, { algorithms: keys.algorithms, ...opts }) as Record<string, unknown>);
});
// For comparison only: jsonwebtoken (under passport-jwt) has no EdDSA, hence ES256.
const ed = generateKeyPairSync('ed25519');
const edInput = Buffer.from(esToken.slice(0, esToken.lastIndexOf('.')));
const edSig = sign(null, edInput, ed.privateKey);
rate('Ed25519 bare signature check, node:crypto (not used)', () => verify(null, edInput, ed.publicKey, edSig));
rate('ES256 signing (issuers only)', () =>
  jwt.sign(claims(), keys.signer.key, { algorithm: 'ES256', keyid: 'k1', expiresIn: 600, ...opts }),
);
const cache = new VerifiedTokenCache();
const tokens = Array.from({ length: 1000 }, () =>
  jwt.sign(claims(), keys.signer.key, { algorithm: 'ES256', keyid: 'k1', subject: randomUUID(), expiresIn: 600, ...opts }),
);
for (const t of tokens) cache.set(t, principalFromClaims(jwt.decode(t) as Record<string, unknown>));
let i = 0;
rate(CACHED, () => {
  if (!cache.get(tokens[i++ % tokens.length])) throw new Error('miss');
});

const r = measure();
console.log(`\nES256 / HS256 (KeyObject): ${(r[ES] / r[HS]).toFixed(3)}; cache hit / ES256 verify: ${(r[CACHED] / r[ES]).toFixed(0)}x`);
