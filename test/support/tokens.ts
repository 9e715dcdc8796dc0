import { createHmac, createPrivateKey, createPublicKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { newPrivateJwk, publicJwk, TokenService, tokenServiceFor } from '@app/auth';
import { newKekJson } from '@app/secrets';
import type { AppConfig } from '@app/config';

/**
 * The one place tests get token keys and mint tokens. Every test process has its own ES256 key
 * (kid TEST_KID) and KEK; testEnv (gateway.ts) hands them to the processes under test, and
 * `testTokens(config)` signs with the same private key, exactly as the platform API does.
 */
export const TEST_KID = 'test-1';
const privateJwk = newPrivateJwk(TEST_KID);
export const TEST_PRIVATE_KEY: KeyObject = createPrivateKey({ key: privateJwk as never, format: 'jwk' });
export const TEST_PRIVATE_JWKS = JSON.stringify({ keys: [privateJwk] });
/** What a verify-only process gets: the public half alone. */
export const TEST_PUBLIC_JWKS = JSON.stringify({ keys: [publicJwk(TEST_KID, TEST_PRIVATE_KEY)] });
/** The public key as PEM: the HMAC secret of a key-confusion attack. */
export const TEST_PUBLIC_PEM = createPublicKey(TEST_PRIVATE_KEY).export({ type: 'spki', format: 'pem' }) as string;
/** The key-encryption key of this test process's gateways and workers. */
export const TEST_KEK = JSON.stringify(newKekJson('test-kek'));
/** A legacy HS256 secret (JWT_KEYS) for the migration-window tests. */
export const TEST_HS256_KID = 'legacy-1';
export const TEST_HS256_SECRET = randomBytes(48).toString('base64');

/** The platform's signer for a test config (which holds TEST_PRIVATE_JWKS unless the test changed it). */
export function testTokens(config: Pick<AppConfig, 'env' | 'dataDir' | 'jwt'>): TokenService {
  return tokenServiceFor(config);
}

/**
 * A hand-made token, for attacks and edge cases: ES256 with the test key by default; `key` and
 * `opts.algorithm` override. `exp` in the payload replaces the default 10 minutes.
 */
export function signRaw(payload: object, opts: jwt.SignOptions = {}, key: jwt.Secret | KeyObject = TEST_PRIVATE_KEY): string {
  return jwt.sign(payload, key as jwt.Secret, {
    algorithm: 'ES256',
    keyid: TEST_KID,
    issuer: 'collab-gateway',
    audience: 'collab-gateway',
    subject: randomUUID(),
    ...('exp' in payload ? {} : { expiresIn: 600 }),
    ...opts,
  });
}

/** A token with any header, HMAC-signed with any bytes, or unsigned for `alg: none` (jsonwebtoken refuses to build some attacks). */
export function forgeHmac(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  if (header.alg === 'none') return `${input}.`;
  const alg = String(header.alg ?? 'HS256').replace('HS', 'sha');
  return `${input}.${createHmac(alg, secret).update(input).digest('base64url')}`;
}
