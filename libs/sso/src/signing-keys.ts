import { generateKeyPairSync, hkdfSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AppConfig, jwksProblem } from '@app/config';
import type { SigningKeys } from '@app/auth';

export interface Jwks {
  keys: Record<string, unknown>[];
}

function generate(): Jwks {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' }] };
}

function parse(json: string, origin: string): Jwks {
  const problem = jwksProblem(json);
  if (problem) throw new Error(`${origin}: ${problem}`);
  return JSON.parse(json) as Jwks;
}

/**
 * The provider's signing keys: SSO_JWKS (required in production); in development a key kept in
 * DATA_DIR (so restarts keep tokens valid); in tests one per process, never written.
 */
export function providerJwks(config: AppConfig): Jwks {
  if (config.sso.jwksJson) return parse(config.sso.jwksJson, 'SSO_JWKS');
  if (config.env === 'test') return generate();
  const file = join(config.dataDir, 'oidc-jwks.json');
  if (existsSync(file)) return parse(readFileSync(file, 'utf8'), file);
  const jwks = generate();
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(jwks), { mode: 0o600 });
  return jwks;
}

/**
 * The provider's cookie signing key, derived from the platform's active JWT key: no new secret to
 * manage. Rotating JWT_ACTIVE_KID signs users out of the provider (they sign in again).
 */
export function cookieKeys(keys: SigningKeys): string[] {
  return [Buffer.from(hkdfSync('sha256', keys.active.export(), Buffer.alloc(0), 'collab-sso-cookies', 32)).toString('base64url')];
}
