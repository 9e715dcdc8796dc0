import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../support/gateway';
import { call } from '../support/http';
import { eventually } from '../support/stack';

jest.setTimeout(60_000);

/** The dashboard's read API beyond /containers: GET /routes and GET /nginx/renders. */
describe('dashboard read API: routes and nginx renders (real PostgreSQL)', () => {
  let g: TestGateway;
  let emptyDir: string;
  const operator = () => g.tokens.sign({ role: 'operator', sub: 'operator-test' }, 3600);
  const viewer = (org: string, projects?: string[]) =>
    g.tokens.sign({ role: 'viewer', sub: `viewer-${randomUUID()}`, org, projects }, 3600);
  const get = (path: string, token: string) => call(g.url, 'GET', path, token);

  beforeAll(async () => {
    // No built dashboard here: the gateway says how to build it instead of failing.
    emptyDir = await mkdtemp(join(tmpdir(), 'cgw-no-dashboard-'));
    g = await startTestGateway('dashboard_read', { PLATFORM_DOMAIN: 'collab.test', PROJECTION_POLL_MS: '20', DASHBOARD_DIR: emptyDir });
  });
  afterAll(async () => {
    await g?.close();
    await rm(emptyDir, { recursive: true, force: true });
  });

  async function publish(org: string, project: string, services: string[]) {
    const reg = await call(g.url, 'POST', '/onboarding/containers', operator(), {
      org_id: org,
      project_id: project,
      image_id: 'ubuntu:terminal',
      display_name: services.join(' '),
    });
    expect([reg.status, reg.body.detail]).toEqual([201, undefined]);
    const { container_id: id, token } = reg.body as { container_id: string; token: string };
    for (const [i, name] of services.entries()) {
      expect(
        (
          await g.post(
            '/collab/event',
            { project_id: project, event: { type: 'user-container:map-http-service', name, port: 8000 + i } },
            token,
          )
        ).status,
      ).toBe(202);
    }
    return id;
  }

  it('lists active and withdrawn routes within the token scope, filtered and paged', async () => {
    const org = randomUUID();
    const [p1, p2] = [randomUUID(), randomUUID()];
    const a = await publish(org, p1, ['terminal', 'jupyter']);
    const b = await publish(org, p2, ['pgadmin']);
    const other = await publish(randomUUID(), randomUUID(), ['n8n']);
    // Deletion withdraws b's route (active = false), it stays listed.
    expect((await call(g.url, 'DELETE', `/onboarding/containers/${b}`, operator(), {})).status).toBe(200);
    await eventually(async () => {
      const r = await get('/routes', operator());
      const rows = (r.body.items ?? []) as { container_id: string; active: boolean }[];
      return rows.some((x) => x.container_id === other) && rows.some((x) => x.container_id === b && !x.active);
    });

    const mine = await get('/routes', viewer(org));
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((r: { fqdn: string; active: boolean }) => [r.fqdn, r.active])).toEqual(
      [
        [`uc-${a}--jupyter.org-${org}.collab.test`, true],
        [`uc-${a}--terminal.org-${org}.collab.test`, true],
        [`uc-${b}--pgadmin.org-${org}.collab.test`, false],
      ].sort(),
    );
    expect(mine.body.items.find((r: { service: string }) => r.service === 'jupyter')).toMatchObject({
      container_id: a,
      org_id: org,
      project_id: p1,
      service: 'jupyter',
      port: 8001,
      is_primary: false,
      updated_position: expect.stringMatching(/^\d+$/),
    });
    expect(mine.body.next_cursor).toBeNull();

    expect((await get('/routes?active=false', viewer(org))).body.items.map((r: { container_id: string }) => r.container_id)).toEqual([b]);
    expect((await get(`/routes?container=${a}&active=true`, viewer(org))).body.items).toHaveLength(2);
    expect((await get('/routes', viewer(org, [p2]))).body.items.map((r: { container_id: string }) => r.container_id)).toEqual([b]);
    expect((await get(`/routes?container=${other}`, viewer(org))).body.items).toEqual([]);
    expect((await get(`/routes?org=${randomUUID()}`, viewer(org))).status).toBe(403);

    const page1 = await get('/routes?limit=2', viewer(org));
    expect(page1.body.items).toHaveLength(2);
    const page2 = await get(`/routes?limit=2&cursor=${page1.body.next_cursor}`, viewer(org));
    expect([...page1.body.items, ...page2.body.items]).toEqual(mine.body.items);
    expect(page2.body.next_cursor).toBeNull();

    const all = await get('/routes', operator());
    expect(all.body.items.some((r: { container_id: string }) => r.container_id === other)).toBe(true);
    expect((await get(`/routes?org=${org}`, operator())).body.items).toHaveLength(3);
    // A container token may not read dashboards.
    expect((await get('/routes', g.container().token)).status).toBe(403);
    expect((await call(g.url, 'GET', '/routes')).status).toBe(401);
  });

  it('answers 400 naming the field for bad query parameters', async () => {
    const v = viewer(randomUUID());
    for (const [path, field] of [
      ['/routes?active=yes', 'active'],
      ['/routes?limit=1001', 'limit'],
      ['/routes?cursor=%25%25', 'cursor'],
      ['/routes?container=nope', 'container'],
      ['/routes?colour=red', 'colour'],
    ]) {
      const r = await get(path, v);
      expect([path, r.status, r.body.field]).toEqual([path, 400, field]);
    }
  });

  it('shows the last render per node: everything to operators, outcome and times to viewers', async () => {
    expect((await get('/nginx/renders', operator())).body).toEqual({ items: [] });
    // The render job writes this table (see nginx-render.spec.ts); here a failed render is planted.
    await g.pool.query(
      `INSERT INTO nginx_render_state (node, stage, last_attempt_at, last_outcome, last_success_at, config_hash, routes, skipped_rows, skipped_sample, failed_stage, last_error, duration_ms)
       VALUES ('gw-b', 'stage2', now(), 'failed', now() - interval '1 minute', 'abc', 7, 1, '[{"fqdn":"uc-x--y.org-z.collab.test","reason":"bad port"}]', 'test', 'nginx -t failed', 42),
              ('gw-a', 'stage2', now(), 'swapped', now(), 'def', 9, 0, '[]', null, null, 12)`,
    );
    const op = await get('/nginx/renders', operator());
    expect(op.status).toBe(200);
    expect(op.body.items.map((r: { node: string }) => r.node)).toEqual(['gw-a', 'gw-b']);
    expect(op.body.items[1]).toMatchObject({
      last_outcome: 'failed',
      routes: 7,
      skipped_rows: 1,
      skipped_sample: [{ fqdn: 'uc-x--y.org-z.collab.test', reason: 'bad port' }],
      last_error: 'nginx -t failed',
      failed_stage: 'test',
    });
    const v = await get('/nginx/renders', viewer(randomUUID()));
    expect(v.status).toBe(200);
    expect(v.body.items[1]).toEqual({
      node: 'gw-b',
      stage: 'stage2',
      last_attempt_at: expect.any(String),
      last_outcome: 'failed',
      last_success_at: expect.any(String),
      duration_ms: 42,
    });
    expect((await get('/nginx/renders', g.container().token)).status).toBe(403);
  });

  it('documents the endpoints in OpenAPI, and answers 503 with the build command when the page was not built', async () => {
    const doc = (await call(g.url, 'GET', '/docs/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/routes', '/nginx/renders']));
    const page = await call(g.url, 'GET', '/dashboard/');
    expect(page.status).toBe(503);
    expect(page.text).toContain('npm run build');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});
