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

function rate(name: string, fn: () => void): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  const r = Math.round(n / (ms / 1000));
  console.log(`${name.padEnd(58)} ${r.toLocaleString('en').padStart(10)} /s`);
  return r;
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

const results = {
  hs256String: rate('HS256, string secret (before KeyObjects)', () =>
    jwt.verify(hsStringToken, stringSecret, { algorithms: ['HS256'], ...opts }),
  ),
  hs256: rate('HS256, KeyObject secret (before this change)', () => jwt.verify(hsToken, hsKey, { algorithms: ['HS256'], ...opts })),
  es256: rate('ES256, KeyObject public key by kid, alg pinned (now)', () => {
    const { kid, alg } = headerOf(esToken);
    const found = keys.lookup(kid, alg);
    if (!('key' in found)) throw new Error(found.reason);
    principalFromClaims(jwt.verify(esToken, found.key.key, { algorithms: keys.algorithms, ...opts }) as Record<string, unknown>);
  }),
  // For comparison only: jsonwebtoken (under passport-jwt) has no EdDSA, hence ES256.
  ed25519Raw: (() => {
    const ed = generateKeyPairSync('ed25519');
    const input = Buffer.from(esToken.slice(0, esToken.lastIndexOf('.')));
    const sig = sign(null, input, ed.privateKey);
    return rate('Ed25519 bare signature check, node:crypto (not used)', () => verify(null, input, ed.publicKey, sig));
  })(),
  es256Sign: rate('ES256 signing (issuers only)', () =>
    jwt.sign(claims(), keys.signer.key, { algorithm: 'ES256', keyid: 'k1', expiresIn: 600, ...opts }),
  ),
};
const cache = new VerifiedTokenCache();
const tokens = Array.from({ length: 1000 }, () =>
  jwt.sign(claims(), keys.signer.key, { algorithm: 'ES256', keyid: 'k1', subject: randomUUID(), expiresIn: 600, ...opts }),
);
for (const t of tokens) cache.set(t, principalFromClaims(jwt.decode(t) as Record<string, unknown>));
let i = 0;
const cached = rate('ES256 token already verified (VerifiedTokenCache hit)', () => {
  if (!cache.get(tokens[i++ % tokens.length])) throw new Error('miss');
});
console.log(
  `\nES256 / HS256 (KeyObject): ${(results.es256 / results.hs256).toFixed(3)}; cache hit / ES256 verify: ${(cached / results.es256).toFixed(0)}x`,
);
