import { createHash } from 'node:crypto';
import { seedLog } from '../../bench/seed-log';
import { startTestGateway, type TestGateway } from '../support/gateway';
import { call } from '../support/http';
import { onboard, operatorToken } from '../support/onboarding';

jest.setTimeout(180_000);

/** GET /audit/*, through HTTP on a real gateway and PostgreSQL. */
describe('audit API', () => {
  let g: TestGateway;
  let op: string;
  let reg: { container_id: string; token: string; org_id: string; project_id: string };

  const get = (path: string, token = op) => call(g.url, 'GET', path, token);
  const post = (token: string, event: Record<string, unknown>) =>
    call(g.url, 'POST', '/collab/event', undefined, { event, project_id: reg.project_id }, { authorization: token });
  const watchdog = (healthy: boolean) => ({
    type: 'user-container:watchdog',
    system: { cpu: { usage: '0.40, 0.43 ' } },
    services: [{ name: 'terminal', healthy }],
  });

  beforeAll(async () => {
    g = await startTestGateway('audit-api', { AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false', RATE_LIMIT_MAX: '0' });
    op = operatorToken(g);
    // Tens of thousands of realistic events (120 containers, their lives and watchdogs), in SQL.
    await seedLog(g.pool, { containers: 120, watchdogs: 246, intervalS: 15, start: Date.now() - 2 * 3_600_000 });
    // One container's life through the API: registered, token, VPN address, a service, watchdogs
    // (healthy, healthy, degraded, degraded, healthy), unmapped, deleted.
    const body = await onboard(g, op, { org_id: '11111111-1111-4111-8111-111111111111' });
    reg = {
      container_id: body.container_id,
      token: body.token,
      org_id: body.org_id ?? '11111111-1111-4111-8111-111111111111',
      project_id: body.project_id,
    };
    const vpn = await call(g.url, 'GET', '/collab/vpn-config', reg.token);
    expect({ status: vpn.status, body: vpn.status === 200 ? null : vpn.text }).toEqual({ status: 200, body: null });
    expect((await post(reg.token, { type: 'user-container:map-http-service', name: 'terminal', port: 7681 })).status).toBe(202);
    for (const healthy of [true, true, false, false, true]) expect((await post(reg.token, watchdog(healthy))).status).toBe(202);
    expect((await post(reg.token, { type: 'user-container:unmap-http-service', name: 'terminal' })).status).toBe(202);
    expect((await call(g.url, 'DELETE', `/onboarding/containers/${reg.container_id}`, op, { reason: 'audit test' })).status).toBe(200);
  });

  afterAll(async () => {
    await g?.close();
  });

  it('exports every event as NDJSON, identical to the store, and the container filter to its streams', async () => {
    const res = await fetch(`${g.url}/audit/events/export`, { headers: { authorization: `Bearer ${op}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const store = (
      await g.pool.query(
        `SELECT global_position::text AS p, event_id::text AS id, event_type, stream_id, data FROM events ORDER BY global_position`,
      )
    ).rows;
    expect(store.length).toBeGreaterThan(30_000);
    expect(lines).toHaveLength(store.length);
    const digest = (xs: unknown[]) => createHash('sha256').update(JSON.stringify(xs)).digest('hex');
    expect(digest(lines.map((l) => [l.position, l.event_id, l.type, l.stream_id, l.data]))).toBe(
      digest(store.map((r) => [r.p, r.id, r.event_type, r.stream_id, r.data])),
    );

    const mine = await fetch(`${g.url}/audit/events/export?container=${reg.container_id}`, { headers: { authorization: `Bearer ${op}` } });
    const items = (await mine.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const streams = store.filter((r) => r.stream_id === `container-${reg.container_id}` || r.stream_id === `watchdog-${reg.container_id}`);
    expect(items.map((i) => i.position)).toEqual(streams.map((r) => r.p));
    expect(items.length).toBeGreaterThanOrEqual(10);
  });

  it('pages with a cursor through a filtered query, positions as strings in log order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(
        `/audit/events?type=user-container:registered,user-container:deleted&limit=37${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      for (const item of res.body.items) {
        expect(typeof item.position).toBe('string');
        expect(['user-container:registered', 'user-container:deleted']).toContain(item.type);
        seen.push(item.position);
      }
      cursor = res.body.next_cursor;
    } while (cursor);
    const expected = (
      await g.pool.query(
        `SELECT global_position::text AS p FROM events WHERE event_type IN ('user-container:registered', 'user-container:deleted') ORDER BY global_position`,
      )
    ).rows.map((r) => r.p);
    expect(seen).toEqual(expected);
    expect(seen.length).toBe(122);
  });

  it('filters by org, actor and time; an item says who did it', async () => {
    const byOrg = await get(`/audit/events?org=${reg.org_id}&type=user-container:deleted`);
    expect(byOrg.body.items).toHaveLength(1);
    expect(byOrg.body.items[0]).toMatchObject({
      container_id: reg.container_id,
      org_id: reg.org_id,
      actor: 'operator:op-alice',
      type: 'user-container:deleted',
    });
    expect(byOrg.body.items[0].recorded_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);

    const byActor = await get(`/audit/events?actor=operator:op-alice&limit=1000`);
    expect(byActor.body.items.length).toBeGreaterThanOrEqual(3);
    expect(byActor.body.items.every((i: { actor: string }) => i.actor === 'operator:op-alice')).toBe(true);

    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await get(`/audit/events?from=${future}`)).body).toEqual({ items: [], next_cursor: null });
    const recent = await get(
      `/audit/events?from=${new Date(Date.now() - 30 * 60_000).toISOString()}&container=${reg.container_id}&limit=1000`,
    );
    expect(recent.body.items.length).toBeGreaterThanOrEqual(10);
  });

  it('refuses bad filters with 400 naming the field, and non-operators', async () => {
    for (const [query, field] of [
      ['container=nope', 'container'],
      ['org=11111111-1111-4111-8111-11111111111', 'org'],
      ['type=watchdog', 'type[0]'],
      ['from=yesterday', 'from'],
      ['from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z', 'to'],
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['colour=blue', 'colour'],
    ]) {
      const res = await get(`/audit/events?${query}`);
      expect({ query, status: res.status, field: res.body.field }).toEqual({ query, status: 400, field });
    }
    expect((await get('/audit/events/export?actor=a%20b')).status).toBe(400);
    const viewer = g.tokens.sign({ sub: 'v', role: 'viewer', org: reg.org_id }, 600);
    expect((await get('/audit/events', viewer)).status).toBe(403);
    expect((await get(`/audit/containers/${reg.container_id}/timeline`, viewer)).status).toBe(403);
    expect((await call(g.url, 'GET', '/audit/events/export')).status).toBe(401);
  });

  it("a container's timeline: state changes with one-line summaries, watchdogs only where health changed", async () => {
    const res = await get(`/audit/containers/${reg.container_id}/timeline`);
    expect(res.status).toBe(200);
    expect(res.body.container_id).toBe(reg.container_id);
    const summaries: string[] = res.body.items.map((i: { summary: string }) => i.summary);
    const expected = [
      /^registered \(image ubuntu:terminal, "My terminal"\) on gateway node \S+ by operator:op-alice$/,
      /^token version 1 issued/,
      /^VPN address [\d.]+ assigned/,
      /^service terminal mapped to port 7681 by container:/,
      /^first watchdog: healthy$/,
      /^health changed to degraded \(unhealthy: terminal\)$/,
      /^health changed to healthy$/,
      /^service terminal unmapped/,
    ];
    let at = 0;
    for (const re of expected) {
      const i = summaries.findIndex((s, k) => k >= at && re.test(s));
      expect({ re: String(re), found: i >= 0, summaries }).toMatchObject({ re: String(re), found: true });
      at = i + 1;
    }
    expect(summaries.some((s) => /^VPN certificate \S+ issued/.test(s))).toBe(true);
    expect(summaries.some((s) => /^deleted \(audit test\) by operator:op-alice$/.test(s))).toBe(true);
    expect(res.body.items.filter((i: { type: string }) => i.type === 'user-container:watchdog')).toHaveLength(3);
    const positions = res.body.items.map((i: { position: string }) => BigInt(i.position));
    expect([...positions].sort((a, b) => (a < b ? -1 : 1))).toEqual(positions);

    expect((await get('/audit/containers/00000000-0000-4000-8000-000000000000/timeline')).status).toBe(404);
    expect((await get('/audit/containers/not-a-uuid/timeline')).body.field).toBe('id');
  });

  it('documents the audit API in OpenAPI', async () => {
    const doc = (await call(g.url, 'GET', '/docs/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/audit/events', '/audit/events/export', '/audit/containers/{id}/timeline']),
    );
    expect(doc.paths['/audit/events'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['container', 'project', 'org', 'type', 'actor', 'from', 'to', 'cursor', 'limit']),
    );
  });
});
