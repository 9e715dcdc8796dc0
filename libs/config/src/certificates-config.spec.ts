import { ConfigError, loadConfig } from './config';

const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => p.variable).sort();
  }
};

describe('certificates settings', () => {
  it('off by default; the development CA unless an ACME directory is named', () => {
    const c = loadConfig({});
    expect(c.certificates).toMatchObject({ enabled: false, issuer: 'dev-ca', renewBeforeDays: 30, layout: 'map' });
    expect(c.certificates.acme.limits).toEqual({
      ordersPer3h: 300,
      certsPerDomainPerWeek: 50,
      duplicatesPerWeek: 5,
      failedValidationsPerHostPerHour: 5,
    });
    expect(loadConfig({ ACME_DIRECTORY_URL: 'https://acme.test/dir' }).certificates.issuer).toBe('acme');
  });

  it('names what ACME needs, and refuses the development CA in production', () => {
    expect(problems({ CERTS_ENABLED: 'true', CERTS_ISSUER: 'acme' })).toEqual(['ACME_DIRECTORY_URL', 'ACME_DNS_CHALLTESTSRV_URL']);
    expect(problems({ CERTS_RETRY_MIN_S: '100', CERTS_RETRY_MAX_S: '10' })).toEqual(['CERTS_RETRY_MAX_S']);
    expect(problems({ CERTS_DIR: 'relative/dir' })).toEqual(['CERTS_DIR']);
    const prod = problems({ NODE_ENV: 'production', CERTS_ENABLED: 'true', CERTS_ISSUER: 'dev-ca' });
    expect(prod).toEqual(expect.arrayContaining(['CERTS_ISSUER']));
  });
});
