import { generateKeyPairSync, randomBytes } from 'node:crypto';

/**
 * Fresh production secrets, as `NAME=value` lines for a `.env` file (docker compose reads it):
 * the platform JWT key (the active one: the last of JWT_KEYS), the audit checkpoint key, the OpenID provider's signing key. Values are
 * single-quoted (literal for compose and POSIX shells); the PEM's newlines are written as `\n`,
 * which the audit key setting accepts.
 */
export function productionSecrets(kid = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`): Record<string, string> {
  const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  return {
    JWT_KEYS: JSON.stringify({ [kid]: randomBytes(48).toString('base64') }),
    AUDIT_SIGNING_KEY: ed.trim().replace(/\n/g, '\\n'),
    SSO_JWKS: JSON.stringify({ keys: [{ ...rsa, kid: `sso-${kid}`, alg: 'RS256', use: 'sig' }] }),
  };
}

export function envFileLines(values: Record<string, string>): string {
  return (
    Object.entries(values)
      .map(([k, v]) => `${k}='${v}'`)
      .join('\n') + '\n'
  );
}
