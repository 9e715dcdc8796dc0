import { clientSetting, defaultRedirectUris, hashSecret, redirectUriAllowed, secretMatches } from './clients';

const C = '11111111-1111-4111-8111-111111111111';
const C2 = '33333333-3333-4333-8333-333333333333';
const O = '22222222-2222-4222-8222-222222222222';
const o = { domain: 'apps.example.test', scheme: 'https' as const };
const container = { kind: 'container' as const, containerId: C, orgId: O };

describe('client secrets', () => {
  it('are compared against their SHA-256 only', () => {
    const stored = hashSecret('s3cret');
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(secretMatches(stored, 's3cret')).toBe(true);
    expect(secretMatches(stored, 's3cret ')).toBe(false);
    expect(secretMatches('s3cret', 's3cret')).toBe(false);
    expect(secretMatches(stored, undefined)).toBe(false);
  });
});

describe('redirectUriAllowed', () => {
  it("lets a container's client return to any path on that container's own hosts", () => {
    expect(redirectUriAllowed(container, `https://uc-${C}.org-${O}.apps.example.test/oauth2/authorize`, o)).toBe(true);
    expect(redirectUriAllowed(container, `https://uc-${C}--pgadmin.org-${O}.apps.example.test/x?y=1`, o)).toBe(true);
  });
  it('refuses other containers, other orgs, other schemes and ports, user info, fragments and foreign hosts', () => {
    for (const u of [
      `https://uc-${C2}.org-${O}.apps.example.test/cb`,
      `https://uc-${C}.org-${C2}.apps.example.test/cb`,
      `http://uc-${C}.org-${O}.apps.example.test/cb`,
      `https://uc-${C}.org-${O}.apps.example.test:444/cb`,
      `https://x@uc-${C}.org-${O}.apps.example.test/cb`,
      `https://uc-${C}.org-${O}.apps.example.test/cb#f`,
      'https://evil.example/cb',
      'not a url',
    ]) {
      expect(redirectUriAllowed(container, u, o)).toBe(false);
    }
  });
  it('lets the guard return only to the callback path of a platform service host', () => {
    expect(redirectUriAllowed({ kind: 'guard' }, `https://uc-${C2}--terminal.org-${O}.apps.example.test/.collab-sso/callback`, o)).toBe(
      true,
    );
    expect(redirectUriAllowed({ kind: 'guard' }, `https://uc-${C2}--terminal.org-${O}.apps.example.test/other`, o)).toBe(false);
    expect(redirectUriAllowed({ kind: 'guard' }, `https://evil.example/.collab-sso/callback`, o)).toBe(false);
  });
  it('registers callback paths on the bare FQDN, and describes the client as pgAdmin needs it', () => {
    const uris = defaultRedirectUris(C, O, { ...o, port: 8443 });
    expect(uris[0]).toBe(`https://uc-${C}.org-${O}.apps.example.test:8443/oauth2/authorize`);
    for (const u of uris) expect(redirectUriAllowed(container, u, { ...o, port: 8443 })).toBe(true);
    expect(clientSetting('uc-x', 's', 'https://gw/oidc', uris)).toMatchObject({
      client_id: 'uc-x',
      client_secret: 's',
      server_metadata_url: 'https://gw/oidc/.well-known/openid-configuration',
      token_url: 'https://gw/oidc/token',
    });
  });
});
