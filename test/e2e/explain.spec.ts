import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { call } from '../support/http';
import { freePort, startTestNginx, type TestNginx, viaNginx } from '../support/nginx';
import { eventually, startStack } from '../support/stack';

jest.setTimeout(180_000);

/**
 * GET /routes/explain on real PostgreSQL, Redis (the render queue) and nginx: each verdict comes
 * from a real state of the chain, made through the API (and, for the last two, by stopping the
 * node's nginx and by another node holding the routing projection's lease).
 */
describe('explain a URL: one verdict per link of the chain (real PostgreSQL, Redis, nginx)', () => {
  let nginx: TestNginx;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let backend: Server | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  const DOMAIN = 'explain.e2e.test';
  const org = randomUUID();
  const project = randomUUID();
  const host = (id: string, service?: string, o = org) => `uc-${id}${service ? `--${service}` : ''}.org-${o}.${DOMAIN}`;
  const explain = async (fqdn: string, token = stack.operator(), extra = '') => {
    const r = await call(stack.url, 'GET', `/routes/explain?fqdn=${encodeURIComponent(fqdn)}${extra}`, token);
    expect(r.status).toBe(200);
    return r.body as { code: string; verdict: string; chain: Record<string, any> };
  };
  const verdictOf = (fqdn: string, code: string, extra = '') => {
    let last = '';
    return eventually(
      async () => {
        const r = await explain(fqdn, stack.operator(), extra);
        last = `${r.code}: ${r.verdict} ${JSON.stringify(r.chain.render)}`;
        return r.code === code ? r : null;
      },
      30_000,
      100,
      () => `verdict ${code} for ${fqdn} (last: ${last})`,
    );
  };

  beforeAll(async () => {
    nginx = await startTestNginx('explain');
    stack = await startStack('explain', {
      ...nginx.env,
      PLATFORM_DOMAIN: DOMAIN,
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      VPN_POOL_CIDR: '127.78.0.0/16',
      NGINX_COALESCE_MIN_MS: '50',
      NGINX_COALESCE_MAX_MS: '300',
      HEALTH_WATCHDOG_INTERVAL_MS: '400',
      HEALTH_STALE_AFTER_INTERVALS: '2',
      HEALTH_OFFLINE_GRACE_MS: '2000',
      HEALTH_SWEEP_EVERY_MS: '200',
      HEALTH_OUTAGE_MIN_CONTAINERS: '50',
    });
    await stack.startGateway();
    await stack.startWorker();
  });
  afterAll(async () => {
    clearInterval(heartbeat);
    backend?.close();
    await stack?.close();
    await nginx?.stop();
  });

  async function register() {
    const reg = await call(stack.url, 'POST', '/onboarding/containers', stack.operator(), {
      org_id: org,
      project_id: project,
      image_id: 'ubuntu:terminal',
      display_name: 'explain',
    });
    expect(reg.status).toBe(201);
    const { container_id: id, token } = reg.body as { container_id: string; token: string };
    const post = (event: object) => stack.post('/collab/event', { event, project_id: project }, token);
    return { id, token, post };
  }

  it('walks every link: served, access, service, org, offline, VPN, deleted, render failed, not projected', async () => {
    // A: a served notebook (open) and terminal (always protected) on its VPN address through nginx.
    const a = await register();
    expect((await call(stack.url, 'GET', '/collab/vpn-config', a.token)).status).toBe(200);
    const { rows } = await stack.pool.query(`SELECT host(address) AS a FROM vpn_addresses WHERE container_id = $1`, [a.id]);
    const port = await freePort();
    backend = createServer((req, res) => res.end(`notebook of ${req.headers.host}`));
    await new Promise<void>((ok) => backend!.listen(port, rows[0].a, ok));
    expect((await a.post({ type: 'user-container:watchdog' })).status).toBe(202);
    // A stays alive throughout (C below is the one that goes dark).
    heartbeat = setInterval(() => void a.post({ type: 'user-container:watchdog' }).catch(() => undefined), 300);
    expect((await a.post({ type: 'user-container:map-http-service', name: 'notebook', port })).status).toBe(202);
    expect((await a.post({ type: 'user-container:map-http-service', name: 'terminal', port })).status).toBe(202);
    await eventually(async () => (await viaNginx(nginx, host(a.id, 'notebook'))).status === 200, 30_000);

    const served = await verdictOf(host(a.id, 'notebook'), 'served');
    expect(served.verdict).toBe(
      `served: ${host(a.id, 'notebook')} -> ${rows[0].a}:${port} through node ${served.chain.route.gateway_node}`,
    );
    expect(served.chain.mapping).toMatchObject({ port, actor: `container:${a.id}` });
    expect(served.chain.render).toMatchObject({ last_outcome: expect.stringMatching(/swapped|unchanged/) });
    // The bare name is the primary (first mapped) service; the URL form works the same.
    const bare = await call(
      stack.url,
      'GET',
      `/routes/explain?url=${encodeURIComponent(`https://${host(a.id)}/lab?x=1`)}`,
      stack.operator(),
    );
    expect([bare.body.code, bare.body.chain.route.service]).toEqual(['served', 'notebook']);

    const denied = await explain(host(a.id, 'terminal'), stack.operator(), `&user=${randomUUID()}`);
    expect(denied.code).toBe('access_denied');
    expect((await explain(host(a.id, 'terminal'))).verdict).toMatch(/behind sign-in/);

    const missing = await explain(host(a.id, 'jupyter'));
    expect(missing).toMatchObject({
      code: 'no_such_service',
      verdict: "no service 'jupyter' on this container; it has 'notebook', 'terminal'",
    });
    expect((await explain(host(a.id, 'notebook', randomUUID()))).code).toBe('wrong_org');
    expect((await explain(host(randomUUID(), 'notebook'))).code).toBe('unknown_container');
    expect((await explain('www.example.test')).code).toBe('not_a_service_host');
    // Another org's viewer learns nothing: the container is unknown to it.
    expect((await explain(host(a.id, 'notebook'), stack.viewer(randomUUID()))).code).toBe('unknown_container');
    expect((await explain(host(a.id, 'notebook'), stack.viewer(org))).code).toBe('served');

    // B: mapped but never fetched its VPN profile.
    const b = await register();
    expect((await b.post({ type: 'user-container:map-http-service', name: 'lab', port: 8888 })).status).toBe(202);
    await verdictOf(host(b.id, 'lab'), 'no_vpn_address');

    // C: went silent; its routes are withdrawn after the grace.
    const c = await register();
    expect((await call(stack.url, 'GET', '/collab/vpn-config', c.token)).status).toBe(200);
    expect((await c.post({ type: 'user-container:watchdog' })).status).toBe(202);
    expect((await c.post({ type: 'user-container:map-http-service', name: 'lab', port: 8888 })).status).toBe(202);
    const offline = await verdictOf(host(c.id, 'lab'), 'container_offline');
    expect(offline.verdict).toMatch(/^container offline since \d{4}-/);

    // B deleted.
    expect((await call(stack.url, 'DELETE', `/onboarding/containers/${b.id}`, stack.operator(), {})).status).toBe(200);
    await verdictOf(host(b.id, 'lab'), 'container_deleted');

    // The node's nginx is gone: the next change cannot reach it, and the old routes are what it served.
    await nginx.halt();
    expect((await a.post({ type: 'user-container:map-http-service', name: 'notebook', port: port + 1 })).status).toBe(202);
    const failed = await verdictOf(host(a.id, 'notebook'), 'render_failed');
    expect(failed.verdict).toMatch(/^render failed at \w+: /);

    // Another node holds the routing projection's lease: a new mapping is in the log, not in the routes.
    await stack.pool.query(
      `UPDATE projections SET lease_owner = 'another-node', lease_expires_at = now() + interval '1 hour' WHERE name = 'routing'`,
    );
    await new Promise((r) => setTimeout(r, 1_500)); // the holder notices at its next renewal
    expect((await a.post({ type: 'user-container:map-http-service', name: 'docs', port: 8080 })).status).toBe(202);
    const behind = await verdictOf(host(a.id, 'docs'), 'not_projected');
    expect(behind.verdict).toMatch(
      /^not routed yet: the mapping at position \d+ is ahead of the routing projection \(\d+ events behind\)$/,
    );
    expect(Number(behind.chain.projection.behind_events)).toBeGreaterThan(0);
  });

  it('refuses a request that names neither or both of url and fqdn, or a bad URL, naming the field', async () => {
    const op = stack.operator();
    const neither = await call(stack.url, 'GET', '/routes/explain', op);
    expect([neither.status, neither.body.field]).toEqual([400, 'url']);
    const both = await call(stack.url, 'GET', '/routes/explain?url=http://a.test/&fqdn=a.test', op);
    expect([both.status, both.body.field]).toEqual([400, 'url']);
    const ftp = await call(stack.url, 'GET', '/routes/explain?url=ftp://a.test/', op);
    expect([ftp.status, ftp.body.field]).toEqual([400, 'url']);
    const hostile = await call(stack.url, 'GET', `/routes/explain?fqdn=${encodeURIComponent('a.test;rm')}`, op);
    expect([hostile.status, hostile.body.field]).toEqual([400, 'fqdn']);
    expect((await call(stack.url, 'GET', '/routes/explain?fqdn=a.test')).status).toBe(401);
  });
});
