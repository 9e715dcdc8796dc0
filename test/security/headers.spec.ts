import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders, request as httpRequest, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { call } from '../support/http';
import { freePort, NGINX_BIN, startTestNginx, TestNginx } from '../support/nginx';
import { eventually, startStack } from '../support/stack';

jest.setTimeout(120_000);

/** GET with any Host header (fetch would not send a forged one). */
function getWithHost(url: string, path: string, headers: Record<string, string>) {
  const u = new URL(url);
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers: { ...headers, connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Response headers and what nginx passes on: no-store on answers that carry secrets (and on every
 * API answer unless a route chose otherwise), nosniff everywhere, a CSP on /docs and on the
 * provider's pages, nothing loaded from another origin, discovery built from the configured issuer
 * whatever Host a client sends, and the client's forwarding and identity headers replaced by nginx.
 */
describe('security: headers', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let nginx: TestNginx;
  let issuer: string;
  let op: string;

  beforeAll(async () => {
    const port = await freePort();
    issuer = `http://127.0.0.1:${port}/oidc`;
    nginx = await startTestNginx('headers', { gateway: `127.0.0.1:${port}` });
    stack = await startStack('sec_headers', { SSO_ISSUER: issuer, AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false' });
    await stack.startGateway(port);
    op = stack.operator();
  });
  afterAll(async () => {
    await stack?.close();
    await nginx?.stop();
  });

  it('answers that carry secrets are no-store: registration, rotation by the platform and by the container, the provider', async () => {
    const reg = await call(stack.url, 'POST', '/onboarding/containers', op, {
      org_id: randomUUID(),
      project_id: randomUUID(),
      image_id: 'pgadmin:4',
      display_name: 'headers',
    });
    expect(reg.status).toBe(201);
    expect(reg.body.settings_decoded.oauth_clients[0].client_secret).toBeTruthy();
    const rotated = await call(stack.url, 'POST', `/onboarding/containers/${reg.body.container_id}/token`, op);
    const own = await call(stack.url, 'POST', '/collab/token', rotated.body.token);
    expect(own.status).toBe(200);
    const user = await call(stack.url, 'POST', '/sso/users', op, {
      email: `h-${randomUUID().slice(0, 6)}@example.com`,
      name: 'H',
      password: 'a long password 1',
    });
    const client = reg.body.settings_decoded.oauth_clients[0];
    const token = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'nope',
        client_id: client.client_id,
        client_secret: client.client_secret,
        redirect_uri: client.redirect_uris[0],
      }),
    });
    for (const r of [reg, rotated, own, user, { status: token.status, headers: token.headers }]) {
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('every API read answers nosniff with a cache policy (no-store unless the route chose one)', async () => {
    const doc = (await call(stack.url, 'GET', '/docs/openapi.json')).body;
    const reads = Object.entries<Record<string, unknown>>(doc.paths)
      .filter(([path, item]) => 'get' in item && !path.includes('{') && !path.includes('stream'))
      .map(([path]) => path);
    expect(reads.length).toBeGreaterThan(5);
    for (const path of reads) {
      const r = await fetch(stack.url + path, { headers: { authorization: `Bearer ${op}` } });
      await r.body?.cancel();
      expect({ path, nosniff: r.headers.get('x-content-type-options'), cache: r.headers.get('cache-control') }).toEqual({
        path,
        nosniff: 'nosniff',
        cache: expect.stringMatching(/no-store|no-cache|max-age/),
      });
    }
    // Errors too.
    const unauth = await fetch(`${stack.url}/onboarding/gateway-nodes`);
    expect([unauth.status, unauth.headers.get('x-content-type-options'), unauth.headers.get('cache-control')]).toEqual([
      401,
      'nosniff',
      'no-store',
    ]);
  });

  it('/docs has a CSP that loads nothing from elsewhere', async () => {
    const r = await fetch(`${stack.url}/docs`);
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
    expect(csp).toContain("frame-ancestors 'none'");
  });

  it("the provider's pages have a CSP and load nothing from a third-party host (sign-out included)", async () => {
    const logout = await fetch(`${issuer}/session/end`);
    const html = await logout.text();
    expect(logout.status).toBe(200);
    expect(html).toContain('<form');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    expect(html).not.toMatch(/@import|<link|<script src/);
    const csp = logout.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(logout.headers.get('x-content-type-options')).toBe('nosniff');
    // The sign-in form too.
    const interaction = await fetch(`${stack.url}/sso/interaction/abcdefghijklmnop`);
    expect(interaction.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it.each([
    ['Host', { host: 'evil.example' }],
    ['Host with a port', { host: 'evil.example:8443' }],
    ['X-Forwarded-Host/-Proto', { host: 'evil.example', 'x-forwarded-host': 'evil2.example', 'x-forwarded-proto': 'https' }],
  ])('discovery is built from the configured issuer whatever the %s', async (_what, headers) => {
    const r = await getWithHost(issuer, '/oidc/.well-known/openid-configuration', headers);
    expect(r.status).toBe(200);
    const meta = JSON.parse(r.body);
    expect(meta.issuer).toBe(issuer);
    const urls = Object.entries(meta).filter(([, v]) => typeof v === 'string' && /^https?:/.test(v as string));
    expect(urls.length).toBeGreaterThan(5);
    for (const [key, value] of urls)
      expect([key, value]).toEqual([key, expect.stringMatching(new RegExp(`^${issuer.replace(/[.]/g, '\\.')}`))]);
    expect(r.body).not.toContain('evil');
  });

  describe('nginx replaces what a client says about itself', () => {
    let echo: Server;
    let seen: IncomingHttpHeaders[] = [];
    const host = 'svc.headers.test';
    beforeAll(async () => {
      echo = createServer((req, res) => {
        seen.push(req.headers);
        res.end('ok');
      });
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      const port = (echo.address() as AddressInfo).port;
      writeFileSync(
        nginx.mapPath,
        `map $pid $collab_routes_hash {\n    default "headers-test";\n}\nmap $host $collab_upstream {\n    hostnames;\n    default "unknown";\n    ${host} "127.0.0.1:${port}";\n}\n`,
      );
      const reload = spawnSync(NGINX_BIN, ['-p', `${nginx.dir}/`, '-c', nginx.conf, '-e', `${nginx.dir}/error.log`, '-s', 'reload'], {
        encoding: 'utf8',
      });
      expect(reload.status).toBe(0);
      await eventually(async () => (await (await fetch(nginx.statusUrl)).text()) === 'headers-test');
    });
    afterAll(() => echo?.close());

    it("X-Forwarded-For, X-Real-IP, Forwarded and the X-Auth-User-* headers it sets are never the client's", async () => {
      seen = [];
      const r = await getWithHost(nginx.url, '/', {
        host,
        'x-forwarded-for': '203.0.113.9',
        'x-real-ip': '203.0.113.9',
        forwarded: 'for=203.0.113.9;proto=https',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
        'x-auth-user-id': randomUUID(),
        'x-auth-user-email': 'admin@example.com',
        'x-auth-user-name': 'Admin',
        x_auth_user_id: 'underscored',
      });
      expect([r.status, r.body]).toEqual([200, 'ok']);
      const h = seen[0];
      expect(h['x-forwarded-for']).toBe('127.0.0.1');
      expect(h['x-real-ip']).toBe('127.0.0.1');
      expect(h['x-forwarded-host']).toBe(host);
      expect(h['x-forwarded-proto']).toBe('http');
      expect(h.forwarded).toBeUndefined();
      for (const name of ['x-auth-user-id', 'x-auth-user-email', 'x-auth-user-name', 'x_auth_user_id']) expect(h[name]).toBeUndefined();
    });
  });
});
