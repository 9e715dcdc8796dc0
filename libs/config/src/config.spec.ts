import { generateKeyPairSync } from 'node:crypto';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('gives working defaults for this machine', () => {
    const c = loadConfig({});
    expect(c.database.url).toBe('postgres://postgres@127.0.0.1:5432/collab_gateway');
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
    expect(c.http.bodyLimitBytes).toBe(65536);
    expect(c.database.createIfMissing).toBe(true);
  });

  it('names every bad variable', () => {
    let err: unknown;
    try {
      loadConfig({ HTTP_PORT: 'eighty', DATABASE_URL: 'mysql://x', PLATFORM_DOMAIN: 'Bad_Domain' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['DATABASE_URL', 'HTTP_PORT', 'PLATFORM_DOMAIN']);
    expect((err as Error).message).toMatch(/HTTP_PORT/);
  });

  it('requires the provider issuer in production unless SSO is off (its keys are kept sealed in the database), and an issuer ending in /oidc', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SSO_ISSUER/);
    expect(() => loadConfig({ SSO_ISSUER: 'https://gw.example/' })).toThrow(/SSO_ISSUER: must end in \/oidc/);
    expect(() => loadConfig({ SSO_JWKS: '{"keys":[{"kty":"RSA","n":"x","e":"AQAB"}]}' })).toThrow(
      /SSO_JWKS: every key must be a private RSA JWK/,
    );
    expect(() => loadConfig({ SSO_JWKS: 'nope' })).toThrow(/SSO_JWKS: must be JSON/);
    expect(loadConfig({ HTTP_PORT: '4000' }).sso).toMatchObject({
      enabled: true,
      issuer: 'http://127.0.0.1:4000/oidc',
      serviceScheme: 'https',
      checkCacheMs: 1000,
    });
  });

  it('takes an Ed25519 PEM as the audit signing key and names anything else', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(loadConfig({ AUDIT_SIGNING_KEY: pem.replace(/\n/g, '\\n') }).audit.signingKeyPem).toBeDefined();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const bad of ['not a key', rsa])
      expect(() => loadConfig({ AUDIT_SIGNING_KEY: bad })).toThrow(/AUDIT_SIGNING_KEY: must be an Ed25519 private key/);
  });
});
