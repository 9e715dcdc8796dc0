import { randomUUID } from 'node:crypto';
import { containerStream } from '@app/container-events';
import { eventually, openSse, startStack } from '../support/stack';

jest.setTimeout(60_000);

const watchdog = (projectId: string, services?: { name: string; healthy: boolean; message?: string }[]) => ({
  project_id: projectId,
  event: {
    type: 'user-container:watchdog',
    system: {
      cpu: { usage: '0.40, 0.43 ', count: '2' },
      memory: { free: 1000, total: 4000 },
      disk: { size: '252G', usage: '23.00%' },
      network: { ping_time: ' ms' },
    },
    ...(services ? { services } : {}),
  },
});

describe('health and routing read models through HTTP (gateway + worker, real Postgres and Redis)', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;

  beforeAll(async () => {
    stack = await startStack('health_http', {
      HEALTH_WATCHDOG_INTERVAL_MS: '300',
      HEALTH_STALE_AFTER_INTERVALS: '2',
      HEALTH_OFFLINE_GRACE_MS: '3000', // a wide stale window: a loaded machine must not skip it
      HEALTH_SWEEP_EVERY_MS: '150',
      ROUTES_RESTORE_WATCHDOGS: '2',
      PROJECTION_POLL_MS: '20',
      PLATFORM_DOMAIN: 'collab.test',
    });
    await stack.startGateway();
    await stack.startWorker();
  });

  const closers: (() => void)[] = [];
  afterAll(async () => {
    closers.forEach((c) => c());
    await stack?.close();
  });

  it('watchdogs make a container healthy, silence makes it stale then offline, a watchdog restores it; routes and SSE follow', async () => {
    const c = stack.container();
    const viewer = stack.viewer(c.orgId);
    const sse = openSse(`${stack.url}/containers/events`, viewer);
    closers.push(sse.close);
    expect(await sse.ready).toBe(200);

    expect(
      (
        await stack.post(
          '/collab/event',
          { project_id: c.projectId, event: { type: 'user-container:map-http-service', name: 'jupyter', port: 8888 } },
          c.token,
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await stack.post(
          '/collab/event',
          { project_id: c.projectId, event: { type: 'user-container:map-http-service', name: 'pgadmin', port: 5050 } },
          c.token,
        )
      ).status,
    ).toBe(202);
    expect((await stack.post('/collab/event', watchdog(c.projectId), c.token)).status).toBe(202);

    const healthy = await eventually(async () => {
      const r = await stack.get(`/containers/${c.containerId}`, viewer);
      return r.status === 200 && r.body.status === 'healthy' && r.body.routes.length === 2 ? r.body : null;
    });
    expect(healthy).toMatchObject({ org_id: c.orgId, project_id: c.projectId, deleted: false });
    expect(healthy.stats).toMatchObject({
      cpu: { load1: 0.4, load5: 0.43, count: 2 },
      memory: { usedRatio: 0.75 },
      disk: { usedRatio: 0.23 },
      network: { pingMs: null },
    });
    expect(healthy.routes).toEqual([
      expect.objectContaining({
        fqdn: `uc-${c.containerId}--jupyter.org-${c.orgId}.collab.test`,
        port: 8888,
        is_primary: true,
        active: true,
      }),
      expect.objectContaining({
        fqdn: `uc-${c.containerId}--pgadmin.org-${c.orgId}.collab.test`,
        port: 5050,
        is_primary: false,
        active: true,
      }),
    ]);

    // Silence: stale after two missed intervals, then offline after the grace; routes withdrawn.
    await eventually(async () => (await stack.get(`/containers/${c.containerId}`, viewer)).body.status === 'stale', 5_000);
    // Health and routing are two projections: each follows the lapse on its own.
    await eventually(async () => {
      const r = await stack.get(`/containers/${c.containerId}`, viewer);
      return r.body.status === 'offline' && r.body.routes.every((x: { active: boolean }) => !x.active);
    }, 8_000);
    const lapses = (
      await stack.pool.query(
        `SELECT data FROM events WHERE stream_id = $1 AND event_type = 'user-container:health-lapsed' ORDER BY global_position`,
        [containerStream(c.containerId)],
      )
    ).rows;
    expect(lapses.map((l) => l.data.status)).toEqual(['stale', 'offline']);
    expect(lapses[0].data.last_seen_at).toBe(healthy.last_watchdog_at);

    // One watchdog: healthy again; the routes wait for a second one (hysteresis).
    await stack.post('/collab/event', watchdog(c.projectId), c.token);
    const back = await eventually(async () => {
      const r = await stack.get(`/containers/${c.containerId}`, viewer);
      return r.body.status === 'healthy' ? r.body : null;
    });
    expect(back.routes.every((r: { active: boolean }) => !r.active)).toBe(true);
    await stack.post('/collab/event', watchdog(c.projectId), c.token);
    await eventually(async () =>
      (await stack.get(`/containers/${c.containerId}`, viewer)).body.routes.every((r: { active: boolean }) => r.active),
    );

    // A service reporting unhealthy makes the container degraded.
    await stack.post(
      '/collab/event',
      watchdog(c.projectId, [{ name: 'jupyter', healthy: false, message: 'kernel gateway down' }]),
      c.token,
    );
    const degraded = await eventually(async () => {
      const r = await stack.get(`/containers/${c.containerId}`, viewer);
      return r.body.status === 'degraded' ? r.body : null;
    });
    expect(degraded.services).toContainEqual({
      name: 'jupyter',
      port: 8888,
      mapped: true,
      healthy: false,
      message: 'kernel gateway down',
      fqdn: `uc-${c.containerId}--jupyter.org-${c.orgId}.collab.test`,
    });

    // `starting` shows only when the mapping and the first watchdog landed in different batches.
    const transitions = () =>
      sse.events
        .filter((e) => e.event === 'health' && e.data.container_id === c.containerId)
        .map((e) => e.data.to)
        .filter((s) => s !== 'starting');
    await eventually(async () => transitions().length >= 5, 5_000);
    sse.close();
    expect(transitions()).toEqual(['healthy', 'stale', 'offline', 'healthy', 'degraded']);

    // Unmapping removes the route; the primary moves to the next mapped service.
    await stack.post(
      '/collab/event',
      { project_id: c.projectId, event: { type: 'user-container:unmap-http-service', name: 'jupyter' } },
      c.token,
    );
    const after = await eventually(async () => {
      const r = await stack.get(`/containers/${c.containerId}`, viewer);
      return r.body.routes.length === 1 ? r.body : null;
    });
    expect(after.routes[0]).toMatchObject({ service: 'pgadmin', is_primary: true, active: true });
  });

  it('scopes every read to the token: a viewer never sees another org; project-scoped viewers see their projects', async () => {
    const org = randomUUID();
    const p1 = randomUUID();
    const p2 = randomUUID();
    const mine = [stack.container({ org, project: p1 }), stack.container({ org, project: p1 }), stack.container({ org, project: p2 })];
    const other = stack.container();
    for (const c of [...mine, other]) await stack.post('/collab/event', watchdog(c.projectId), c.token);
    const viewer = stack.viewer(org);
    await eventually(async () => (await stack.get('/containers', viewer)).body.items?.length === 3);
    // The other org's container too (the projector may see its event a batch later).
    await eventually(async () => (await stack.get(`/containers/${other.containerId}`, stack.operator())).status === 200);

    const page1 = await stack.get('/containers?limit=2', viewer);
    expect(page1.body.items).toHaveLength(2);
    const page2 = await stack.get(`/containers?limit=2&cursor=${page1.body.next_cursor}`, viewer);
    expect(page2.body.items).toHaveLength(1);
    expect(page2.body.next_cursor).toBeNull();
    expect([...page1.body.items, ...page2.body.items].map((i: { container_id: string }) => i.container_id).sort()).toEqual(
      mine.map((c) => c.containerId).sort(),
    );

    expect((await stack.get(`/containers/${other.containerId}`, viewer)).status).toBe(404);
    expect((await stack.get(`/containers/${other.containerId}/stats`, viewer)).status).toBe(404);
    expect((await stack.get(`/containers?org=${other.orgId}`, viewer)).status).toBe(403);
    const projectViewer = stack.viewer(org, [p2]);
    expect((await stack.get('/containers', projectViewer)).body.items.map((i: { container_id: string }) => i.container_id)).toEqual([
      mine[2].containerId,
    ]);
    expect((await stack.get(`/containers/${mine[0].containerId}`, projectViewer)).status).toBe(404);
    expect((await stack.get('/containers/summary', viewer)).body).toEqual({
      counts: { starting: 0, healthy: 3, degraded: 0, stale: 0, offline: 0 },
      total: 3,
    });
    expect((await stack.get(`/containers/summary?project=${p1}`, viewer)).body.total).toBe(2);
    expect((await stack.get(`/containers?status=healthy&project=${p2}`, viewer)).body.items).toHaveLength(1);

    const op = stack.operator();
    expect((await stack.get(`/containers/${other.containerId}`, op)).status).toBe(200);
    expect((await stack.get(`/containers?org=${org}`, op)).body.items).toHaveLength(3);
    // Containers cannot read dashboards.
    expect((await stack.get('/containers', mine[0].token)).status).toBe(403);

    const stats = await stack.get(`/containers/${mine[0].containerId}/stats`, viewer);
    expect(stats.status).toBe(200);
    expect(stats.body.samples[0]).toMatchObject({ samples: 1, load1: 0.4, mem_used_ratio: 0.75, disk_used_ratio: 0.23, ping_ms: null });
  });

  it('answers 400 naming the field for bad query parameters', async () => {
    const viewer = stack.viewer(randomUUID());
    const cases: [string, string][] = [
      ['/containers?status=sleeping', 'status[0]'],
      ['/containers?limit=0', 'limit'],
      ['/containers?limit=abc', 'limit'],
      ['/containers?cursor=zzz', 'cursor'],
      ['/containers?project=nope', 'project'],
      ['/containers?colour=red', 'colour'],
      ['/containers/not-a-uuid', 'id'],
      [`/containers/${randomUUID()}/stats?from=yesterday`, 'from'],
    ];
    for (const [path, field] of cases) {
      const r = await stack.get(path, viewer);
      expect([path, r.status, r.body.field]).toEqual([path, 400, field]);
    }
  });

  it('reports projection lag to operators and documents every endpoint in OpenAPI', async () => {
    // Positions past 9 and 99, so a textual comparison of positions would show.
    for (let i = 0; i < 120; i += 10)
      await stack.store.append(
        `lag-test-${randomUUID()}`,
        Array.from({ length: 10 }, () => ({ type: 'test:noise', data: {} })),
      );
    const lag = await stack.get('/projections', stack.operator());
    expect(lag.status).toBe(200);
    expect(lag.body.projections.map((p: { projection: string }) => p.projection).sort()).toEqual(['access', 'health', 'routing']);
    expect(lag.body.projections[0]).toMatchObject({ active_here: true });
    // The head is the numerically greatest position (an ORDER BY on its text form once said "99999").
    const { rows } = await stack.pool.query(`SELECT max(global_position)::text AS head FROM events`);
    expect(lag.body.projections[0].head_position).toBe(rows[0].head);
    expect((await stack.get('/projections', stack.viewer(randomUUID()))).status).toBe(403);
    // Rebuild through HTTP: fresh tables swapped in, same content.
    const before = (await stack.pool.query(`SELECT r::text FROM routes r ORDER BY fqdn`)).rows;
    const rebuilt = await stack.post('/projections/routing/rebuild', {}, stack.operator());
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body).toMatchObject({ projection: 'routing' });
    expect((await stack.pool.query(`SELECT r::text FROM routes r ORDER BY fqdn`)).rows).toEqual(before);
    expect((await stack.post('/projections/nope/rebuild', {}, stack.operator())).status).toBe(404);
    expect((await stack.post('/projections/Bad!/rebuild', {}, stack.operator())).body.field).toBe('name');
    const doc = (await stack.get('/docs/openapi.json', '')).body;
    for (const path of [
      '/containers',
      '/containers/summary',
      '/containers/events',
      '/containers/{id}',
      '/containers/{id}/stats',
      '/projections',
      '/projections/{name}/rebuild',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});
