import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

/**
 * Fresh production secrets, as `NAME=value` lines for a `.env` file (docker compose reads it and
 * hands each service only its own; see the README's "Who holds which key"):
 * - JWT_PRIVATE_JWKS / JWT_ACTIVE_KID: the ES256 key that signs tokens (the platform API only);
 * - JWT_PUBLIC_JWKS: its public half, which every gateway verifies with;
 * - KEY_ENCRYPTION_KEYS: the KEK that seals private keys in the database (gateway and worker);
 * - AUDIT_SIGNING_KEY: the audit checkpoint key (the worker's sealer, `ops verify`).
 * Values are single-quoted (literal for compose and POSIX shells); the PEM's newlines are written
 * as `\n`, which the audit key setting accepts.
 */
const today = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');

export function productionSecrets(kid = `es256-${today()}`, kekId = `kek-${today()}`): Record<string, string> {
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const priv = { ...ec.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' };
  const { kty, crv, x, y } = createPublicKey(ec).export({ format: 'jwk' });
  return {
    JWT_PRIVATE_JWKS: JSON.stringify({ keys: [priv] }),
    JWT_ACTIVE_KID: kid,
    JWT_PUBLIC_JWKS: JSON.stringify({ keys: [{ kty, crv, x, y, kid, alg: 'ES256', use: 'sig' }] }),
    KEY_ENCRYPTION_KEYS: JSON.stringify({ [kekId]: randomBytes(32).toString('base64') }),
    AUDIT_SIGNING_KEY: ed.trim().replace(/\n/g, '\\n'),
  };
}

export function envFileLines(values: Record<string, string>): string {
  return (
    Object.entries(values)
      .map(([k, v]) => `${k}='${v}'`)
      .join('\n') + '\n'
  );
}
