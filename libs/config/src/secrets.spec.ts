import { createPrivateKey, createPublicKey } from 'node:crypto';
import { loadConfig } from './config';
import { envFileLines, productionSecrets } from './secrets';

describe('productionSecrets', () => {
  it('gives every secret production requires, each accepted by the config checks', () => {
    const secrets = productionSecrets('k1', 'kek1');
    const config = loadConfig({ NODE_ENV: 'production', SSO_ISSUER: 'https://gw.example.test/oidc', ...secrets });
    const priv = JSON.parse(config.jwt.privateJwks!).keys[0];
    const pub = JSON.parse(config.jwt.publicJwks!).keys[0];
    expect(priv).toMatchObject({ kty: 'EC', crv: 'P-256', kid: 'k1', alg: 'ES256' });
    expect(pub.d).toBeUndefined();
    // The public set is the private key's public half.
    expect(createPublicKey(createPrivateKey({ key: priv, format: 'jwk' })).export({ format: 'jwk' }).x).toBe(pub.x);
    expect(config.jwt.activeKid).toBe('k1');
    expect(Buffer.from(JSON.parse(config.keyEncryption.keysJson!).kek1, 'base64')).toHaveLength(32);
    expect(config.audit.signingKeyPem).toContain('PRIVATE KEY');
  });

  it('writes single-quoted .env lines with no newline inside a value', () => {
    const text = envFileLines(productionSecrets());
    const lines = text.trimEnd().split('\n');
    expect(lines.map((l) => l.split('=')[0])).toEqual([
      'JWT_PRIVATE_JWKS',
      'JWT_ACTIVE_KID',
      'JWT_PUBLIC_JWKS',
      'KEY_ENCRYPTION_KEYS',
      'AUDIT_SIGNING_KEY',
    ]);
    for (const l of lines) expect(l).toMatch(/^[A-Z_]+='[^'\n]+'$/);
  });
});
