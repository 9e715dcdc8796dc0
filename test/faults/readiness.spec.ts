import { ProjectorHost } from '@app/projections';
import { startTestGateway, TestGateway } from '../support/gateway';
import { eventually } from '../support/stack';

/**
 * /health/ready reflects projection lag (READINESS_MAX_PROJECTION_LAG_S, 1 s here): projectors
 * stopped while events arrive make it 503, naming the projections behind; caught up, 200 again.
 * Liveness does not depend on anything. (PostgreSQL down: test/faults/postgres-restart.spec.ts;
 * the worker's nginx check: test/faults/nginx-and-crashes.spec.ts.)
 */
describe('faults: readiness reflects projection lag', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('readiness', { READINESS_MAX_PROJECTION_LAG_S: '1' });
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
  });

  const ready = async () => {
    const res = await fetch(`${gw.url}/health/ready`);
    return { status: res.status, body: (await res.json()) as any };
  };

  it('503 naming the lagging projections while they are stopped; 200 once they have caught up', async () => {
    await eventually(async () => (await ready()).status === 200, 30_000, 100);
    const host = gw.app.get(ProjectorHost);
    const names = host.names();
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) await host.projector(n)!.stop();
    try {
      const c = gw.container();
      expect(
        (await gw.post('/collab/event', { event: { type: 'user-container:watchdog' }, project_id: c.projectId }, c.token)).status,
      ).toBe(202);
      const down = await eventually(
        async () => {
          const r = await ready();
          return r.status === 503 ? r.body : null;
        },
        30_000,
        100,
      );
      expect(down.error.projections.status).toBe('down');
      expect(down.error.projections.lagging.map((l: { projection: string }) => l.projection).sort()).toEqual([...names].sort());
      expect(down.info.postgres.status).toBe('up');
      expect(down.info.redis.status).toBe('up');
      expect((await fetch(`${gw.url}/health/live`)).status).toBe(200);
    } finally {
      for (const n of names) await host.projector(n)!.start();
    }
    await eventually(async () => (await ready()).status === 200, 30_000, 100);
  }, 90_000);
});
