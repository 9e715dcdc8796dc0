import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { call } from '../support/http';
import { startTestGateway, TestGateway } from '../support/gateway';

jest.setTimeout(180_000);

/**
 * Every endpoint that writes has a budget (libs/http rate-limit, counted in Redis): the operator
 * and platform writes (`write`), a container's own token rotation (`token`), its events (`events`),
 * and the anonymous sign-in and provider endpoints per source address (`anonymous`). The routes
 * come from the OpenAPI document, so a new write route without a limit fails here. Reads are not
 * limited. Before: only /collab/event(s) were; 400 self-rotations appended 801 events.
 */
const BUDGET = 3;

describe('security: every write has a rate limit', () => {
  let gw: TestGateway;
  let redis: Redis;
  const operator = () => gw.tokens.sign({ sub: `op-${randomUUID()}`, role: 'operator' }, 3600);
  const eventCount = async () => (await gw.pool.query(`SELECT count(*)::int AS n FROM events`)).rows[0].n as number;

  beforeAll(async () => {
    gw = await startTestGateway('sec_writes', {
      RATE_LIMIT_MAX: String(BUDGET),
      RATE_LIMIT_WRITE_MAX: String(BUDGET),
      RATE_LIMIT_TOKEN_MAX: String(BUDGET),
      RATE_LIMIT_ANON_MAX: String(BUDGET),
      // Fixed windows: an hour long, so that no window turns over in the middle of a route's requests.
      RATE_LIMIT_WINDOW_MS: '3600000',
      RATE_LIMIT_WRITE_WINDOW_MS: '3600000',
      RATE_LIMIT_TOKEN_WINDOW_MS: '3600000',
      RATE_LIMIT_ANON_WINDOW_MS: '3600000',
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      SSO_ISSUER: 'http://127.0.0.1:1/oidc',
    });
    redis = new Redis(gw.config.redis.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await gw?.close();
  });

  it('every write operation of the OpenAPI document answers 429 (with Retry-After) beyond its budget', async () => {
    const reg = await call(gw.url, 'POST', '/onboarding/containers', operator(), {
      org_id: randomUUID(),
      project_id: randomUUID(),
      image_id: 'ubuntu:terminal',
      display_name: 'limits',
    });
    expect(reg.status).toBe(201);
    const doc = (await call(gw.url, 'GET', '/docs/openapi.json')).body;
    const writes: [string, string][] = [];
    for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(item))
        if (['post', 'put', 'patch', 'delete'].includes(method)) writes.push([method.toUpperCase(), path]);
    }
    expect(writes.length).toBeGreaterThanOrEqual(10);
    let containerToken = reg.body.token as string;
    for (const [method, template] of writes) {
      const path = template.replace(/\{[^}]+\}/g, randomUUID());
      // Routes of one kind share a subject's budget (/collab/event and /collab/events): each route from zero.
      const keys = await redis.keys(`${gw.config.redis.prefix}:rl:*`);
      if (keys.length) await redis.del(...keys);
      // A fresh subject per operation: budgets are per subject, so each route is seen on its own.
      let token = operator();
      let first = await call(gw.url, method, path, token, method === 'DELETE' ? undefined : {});
      if (first.status === 403) {
        token = containerToken;
        first = await call(gw.url, method, path, token, {});
      }
      if (first.status === 200 && first.body?.token && token === containerToken) token = containerToken = first.body.token;
      const statuses = [first.status];
      for (let i = 1; i < BUDGET; i++) {
        const r = await call(gw.url, method, path, token, method === 'DELETE' ? undefined : {});
        statuses.push(r.status);
        if (r.status === 200 && r.body?.token && token === containerToken) token = containerToken = r.body.token;
      }
      const limited = await call(gw.url, method, path, token, method === 'DELETE' ? undefined : {});
      expect({ route: `${method} ${template}`, statuses, last: limited.status }).toEqual({
        route: `${method} ${template}`,
        statuses: expect.not.arrayContaining([429]),
        last: 429,
      });
      expect(limited.body).toMatchObject({ code: 'rate_limited' });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('a container rotating its own token: the budget, then 429 and nothing appended', async () => {
    const reg = await call(gw.url, 'POST', '/onboarding/containers', operator(), {
      org_id: randomUUID(),
      project_id: randomUUID(),
      image_id: 'ubuntu:terminal',
      display_name: 'rotate',
    });
    let token = reg.body.token as string;
    for (let i = 0; i < BUDGET; i++) {
      const r = await call(gw.url, 'POST', '/collab/token', token);
      expect(r.status).toBe(200);
      token = r.body.token;
    }
    const before = await eventCount();
    for (let i = 0; i < 20; i++) expect((await call(gw.url, 'POST', '/collab/token', token)).status).toBe(429);
    expect(await eventCount()).toBe(before);
  });

  it('reads are not limited', async () => {
    const op = operator();
    for (let i = 0; i < BUDGET * 3; i++) expect((await call(gw.url, 'GET', '/onboarding/gateway-nodes', op)).status).toBe(200);
  });

  describe('anonymous endpoints, per source address', () => {
    const clear = async () => {
      const keys = await redis.keys(`${gw.config.redis.prefix}:rl:anonymous:*`);
      if (keys.length) await redis.del(...keys);
    };
    it.each([
      ['GET', '/sso/start?rd=/'],
      ['GET', '/sso/callback?state=x&code=y'],
      ['GET', '/sso/logout?rd=/'],
      ['GET', '/oidc/auth?client_id=x&response_type=code&scope=openid'],
      ['POST', '/oidc/token'],
      ['POST', '/oidc/token/introspection'],
      ['POST', '/oidc/token/revocation'],
      ['GET', '/sso/interaction/abcdefghijklmnop'],
      ['POST', '/sso/interaction/abcdefghijklmnop/login'],
    ])('%s %s: 429 beyond the budget', async (method, path) => {
      await clear();
      const headers = {
        'x-collab-host': `uc-${randomUUID()}.org-${randomUUID()}.collab.localhost`,
        'content-type': 'application/x-www-form-urlencoded',
      };
      const send = () => fetch(gw.url + path, { method, headers, redirect: 'manual', body: method === 'POST' ? 'a=b' : undefined });
      for (let i = 0; i < BUDGET; i++) expect((await send()).status).not.toBe(429);
      const limited = await send();
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
});
