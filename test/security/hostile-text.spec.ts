import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { call } from '../support/http';
import { startTestGateway, TestGateway } from '../support/gateway';

jest.setTimeout(180_000);

/**
 * Text PostgreSQL cannot take (NUL), that is not Unicode (unpaired surrogates, invalid UTF-8) and
 * over-long paths, on every route: refused at the edge (400 problem+json naming the field), never a
 * 500, never the database's own words, nothing stored. Routes come from the OpenAPI document, so a
 * new route is covered when it is added.
 */
const NUL = ['%00', 'a%00b', '%C0%80'];
const BAD_UNICODE = ['%ED%A0%80', 'x%ED%B0%80y', '%FF', '%E2%82'];
const DB_WORDS = /postgres|invalid byte sequence|UTF8|0x00|unsupported Unicode|surrogate.*jsonb|syntax error|relation "/i;

/** Raw HTTP, so that the path and query are sent exactly as written (fetch would normalise them). */
function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const u = new URL(url);
  return new Promise<{ status: number; headers: Record<string, unknown>; text: string; json: any }>((resolve, reject) => {
    const length: Record<string, string> = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest(
      { host: u.hostname, port: u.port, method, path, headers: { ...headers, ...length, connection: 'close' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('security: hostile text at the edge', () => {
  let gw: TestGateway;
  let op: string;
  let operations: { method: string; path: string; query: string[]; hasBody: boolean }[];
  const count = async () =>
    (
      await gw.pool.query(
        `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM sso_credentials)::int AS credentials,
                (SELECT count(*) FROM oidc_payloads)::int AS oidc`,
      )
    ).rows[0];
  const refusedAtEdge = (r: { status: number; json: any; text: string; headers: Record<string, unknown> }, field?: string) => {
    expect({ status: r.status, type: r.headers['content-type'], field: r.json?.field }).toEqual({
      status: 400,
      type: expect.stringMatching(/^application\/problem\+json/),
      field: field ?? expect.any(String),
    });
    expect(r.text).not.toMatch(DB_WORDS);
  };

  beforeAll(async () => {
    gw = await startTestGateway('sec_text', { SSO_ISSUER: 'http://127.0.0.1:1/oidc' });
    op = gw.tokens.sign({ sub: 'op-security', role: 'operator' }, 3600);
    const doc = (await call(gw.url, 'GET', '/docs/openapi.json')).body;
    operations = [];
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        operations.push({
          method: method.toUpperCase(),
          path,
          query: (op.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name),
          hasBody: ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method.toUpperCase()),
        });
      }
    }
    expect(operations.length).toBeGreaterThan(20);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('every path parameter of every route: NUL, surrogates and invalid UTF-8 are 400 naming `path`', async () => {
    const before = await count();
    for (const o of operations.filter((o) => o.path.includes('{'))) {
      for (const bad of [...NUL, ...BAD_UNICODE]) {
        const path = o.path.replace(/\{[^}]+\}/g, bad);
        refusedAtEdge(await raw(gw.url, o.method, path, { authorization: `Bearer ${op}` }), 'path');
      }
    }
    expect(await count()).toEqual(before);
  });

  it('every query parameter of every route (and one no route declares): 400 naming the parameter', async () => {
    const before = await count();
    for (const o of operations) {
      const path = o.path.replace(/\{[^}]+\}/g, randomUUID());
      for (const name of [...o.query, 'undeclared']) {
        for (const bad of [...NUL, ...BAD_UNICODE]) {
          refusedAtEdge(await raw(gw.url, o.method, `${path}?${name}=${bad}`, { authorization: `Bearer ${op}` }), name);
        }
      }
    }
    expect(await count()).toEqual(before);
  });

  it('the audit search and export with a NUL actor: 400, not the database error', async () => {
    for (const path of ['/audit/events?actor=%00', '/audit/events/export?actor=a%00b', '/audit/events?type=a%00']) {
      refusedAtEdge(await raw(gw.url, 'GET', path, { authorization: `Bearer ${op}` }));
    }
  });

  it('the provider: NUL or bad UTF-8 in query strings and form bodies of auth, token, introspection, revocation', async () => {
    const before = await count();
    for (const bad of [...NUL, ...BAD_UNICODE]) {
      refusedAtEdge(await raw(gw.url, 'GET', `/oidc/auth?client_id=${bad}&response_type=code&scope=openid`), 'client_id');
      for (const endpoint of ['/oidc/token', '/oidc/token/introspection', '/oidc/token/revocation']) {
        const form = `client_id=${bad}&client_secret=x&token=t&grant_type=authorization_code&code=c`;
        refusedAtEdge(
          await raw(
            gw.url,
            'POST',
            endpoint,
            { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(form.length) },
            form,
          ),
          'client_id',
        );
      }
    }
    expect(await count()).toEqual(before);
  });

  describe('JSON bodies', () => {
    // JSON text as sent: \\u0000 and lone surrogates are valid JSON escapes; JSON.parse yields them as is.
    const hostile = ['"a\\u0000b"', '"\\ud800"', '"x\\udc00"', '"\\udbff\\u0041"'];

    it('every route that takes a body: a hostile string, at any depth or as a key, is 400 naming its path', async () => {
      const before = await count();
      for (const o of operations.filter((o) => o.hasBody)) {
        const path = o.path.replace(/\{[^}]+\}/g, randomUUID());
        for (const h of hostile) {
          for (const [body, field] of [
            [`{"name":${h}}`, 'name'],
            [`{"event":{"system":{"cpu":{"model":${h}}}}}`, 'event.system.cpu.model'],
            [`[{"event":{"type":"user-container:watchdog"}},{"x":[1,${h}]}]`, '[1].x[1]'],
            [`{${h}:1}`, 'key'],
          ] as const) {
            const r = await raw(gw.url, o.method, path, { authorization: `Bearer ${op}`, 'content-type': 'application/json' }, body);
            if (r.status !== 400 || r.json?.field !== field) throw new Error(`${o.method} ${path} ${body}: ${r.status} ${r.text}`);
            refusedAtEdge(r, field);
          }
        }
      }
      expect(await count()).toEqual(before);
    });

    it('a registration with an unpaired surrogate leaves no credential row', async () => {
      const before = await count();
      const body = `{"email":"s-${randomUUID().slice(0, 6)}@example.com","name":"\\ud800","password":"a long password 1"}`;
      refusedAtEdge(
        await raw(gw.url, 'POST', '/sso/users', { authorization: `Bearer ${op}`, 'content-type': 'application/json' }, body),
        'name',
      );
      expect(await count()).toEqual(before);
    });

    it('a batch whose second item holds a surrogate stores nothing, the valid first item included', async () => {
      const c = gw.container();
      const before = await count();
      const first = `{"event":{"type":"user-container:watchdog","system":{"cpu":{"model":"ok"}}},"project_id":"${c.projectId}","event_id":"${randomUUID()}"}`;
      const second = `{"event":{"type":"user-container:watchdog","system":{"cpu":{"model":"\\ud800"}}},"project_id":"${c.projectId}"}`;
      const r = await raw(
        gw.url,
        'POST',
        '/collab/events',
        { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
        `[${first},${second}]`,
      );
      refusedAtEdge(r, '[1].event.system.cpu.model');
      expect(await count()).toEqual(before);
    });
  });

  it('a 5,000-character path parameter is problem+json like every other error, without echoing the URL', async () => {
    const long = 'a'.repeat(5_000);
    for (const path of [`/audit/containers/${long}/timeline`, `/onboarding/containers/${long}`, `/${long}`]) {
      const r = await raw(gw.url, 'GET', path, { authorization: `Bearer ${op}` });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json).toMatchObject({ type: expect.stringMatching(/^urn:collab-gateway:problem:/), status: r.status });
      expect(r.text).not.toContain(long.slice(0, 200));
    }
  });
});
