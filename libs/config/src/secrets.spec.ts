import { loadConfig } from './config';
import { envFileLines, productionSecrets } from './secrets';

describe('productionSecrets', () => {
  it('gives every secret production requires, each accepted by the config checks', () => {
    const secrets = productionSecrets('k1');
    const config = loadConfig({ NODE_ENV: 'production', SSO_ISSUER: 'https://gw.example.test/oidc', ...secrets });
    expect(Buffer.from(JSON.parse(config.jwt.keysJson!).k1, 'base64').length).toBeGreaterThanOrEqual(32);
    expect(config.audit.signingKeyPem).toContain('PRIVATE KEY');
    expect(JSON.parse(config.sso.jwksJson!).keys[0]).toMatchObject({ kty: 'RSA', kid: 'sso-k1', alg: 'RS256' });
  });

  it('writes single-quoted .env lines with no newline inside a value', () => {
    const text = envFileLines(productionSecrets());
    const lines = text.trimEnd().split('\n');
    expect(lines.map((l) => l.split('=')[0])).toEqual(['JWT_KEYS', 'AUDIT_SIGNING_KEY', 'SSO_JWKS']);
    for (const l of lines) expect(l).toMatch(/^[A-Z_]+='[^'\n]+'$/);
  });
});
