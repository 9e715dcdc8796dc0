import { hostCookie, parseCookies, parseServiceHost, safeReturnPath, serviceOrigin } from './hosts';

const C = '11111111-1111-4111-8111-111111111111';
const O = '22222222-2222-4222-8222-222222222222';
const D = 'apps.example.test';

describe('parseServiceHost', () => {
  it('reads the container, org and service of a canonical service host', () => {
    expect(parseServiceHost(`uc-${C}--terminal.org-${O}.${D}`, D)).toEqual({
      host: `uc-${C}--terminal.org-${O}.${D}`,
      containerId: C,
      orgId: O,
      service: 'terminal',
    });
    expect(parseServiceHost(`uc-${C}.org-${O}.${D}`, D)).toEqual({ host: `uc-${C}.org-${O}.${D}`, containerId: C, orgId: O });
  });
  it('refuses other domains, upper case, bad ids and service names, ports and junk', () => {
    for (const h of [
      `uc-${C}.org-${O}.evil.test`,
      `uc-${C}.org-${O}.${D}.evil.test`,
      `UC-${C}.org-${O}.${D}`,
      `uc-${'aaaaaaaa-1111-4111-8111-111111111111'.toUpperCase()}.org-${O}.${D}`,
      `uc-${C}--Bad.org-${O}.${D}`,
      `uc-${C}----x.org-${O}.${D}`,
      `uc-${C}.org-${O}.${D}:8080`,
      `x.uc-${C}.org-${O}.${D}`,
      '',
      42,
      null,
    ]) {
      expect(parseServiceHost(h, D)).toBeNull();
    }
  });
});

describe('safeReturnPath', () => {
  it('keeps paths on the same host', () => {
    for (const p of ['/', '/shell?tab=1', '/a/b#c', '/%2F%2Fx']) expect(safeReturnPath(p)).toBe(p);
  });
  it('refuses absolute and scheme-relative URLs, backslashes, control characters and oversize', () => {
    for (const p of [
      'https://evil.example/',
      '//evil.example',
      '/\\evil.example',
      '\\\\evil',
      'evil',
      '',
      '/\r\nSet-Cookie: x',
      '/\t/evil',
      'javascript:alert(1)',
      '/' + 'a'.repeat(2048),
      undefined,
      ['/'],
    ]) {
      expect(safeReturnPath(p)).toBeNull();
    }
  });
});

describe('cookies', () => {
  it('parses a Cookie header, the first of a name winning', () => {
    expect(parseCookies('a=1; b=two; a=3; junk; =x')).toEqual(
      new Map([
        ['a', '1'],
        ['b', 'two'],
      ]),
    );
    expect(parseCookies(undefined).size).toBe(0);
  });
  it('sets host-only, HttpOnly, SameSite=Lax cookies (Secure over https), and refuses unsafe values', () => {
    expect(hostCookie('collab_sso', 'abc', { path: '/', maxAgeS: 60, secure: true })).toBe(
      'collab_sso=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure',
    );
    expect(hostCookie('s', 'v', { path: '/x/', maxAgeS: 0, secure: false })).not.toMatch(/Domain|Secure/);
    expect(() => hostCookie('s', 'a;b', { path: '/', maxAgeS: 1, secure: false })).toThrow();
  });
  it('builds service origins with the port browsers use', () => {
    expect(serviceOrigin('h.test', { scheme: 'https' })).toBe('https://h.test');
    expect(serviceOrigin('h.test', { scheme: 'http', port: 8080 })).toBe('http://h.test:8080');
  });
});
