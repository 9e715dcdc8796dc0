import { ProjectorHost } from '@app/projections';
import { eventually, openSse, startStack } from '../support/stack';

jest.setTimeout(60_000);

/**
 * The default topology (scripts/start.js, docker-compose.yml): gateways ingest with
 * PROJECTIONS_ENABLED=false and the worker runs the projectors. The read API and its SSE stream on
 * the gateway must still follow the log.
 */
describe('projectors in the worker (health, routing, access), gateway ingest only', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    stack = await startStack('worker_projections', {
      PROJECTIONS_ENABLED: 'false',
      PROJECTION_POLL_MS: '20',
      PLATFORM_DOMAIN: 'collab.test',
    });
    await stack.startGateway();
    await stack.startWorker({ projections: true });
  });
  afterAll(async () => {
    closers.forEach((c) => c());
    await stack?.close();
  });

  it('projects health and routing from the worker; the gateway serves the read models and relays SSE', async () => {
    expect(stack.gateway.get(ProjectorHost).projector('health')).toBeUndefined();
    const c = stack.container();
    const viewer = stack.viewer(c.orgId);
    const sse = openSse(`${stack.url}/containers/events`, viewer);
    closers.push(sse.close);
    expect(await sse.ready).toBe(200);

    const mapped = await stack.post(
      '/collab/event',
      { project_id: c.projectId, event: { type: 'user-container:map-http-service', name: 'jupyter', port: 8888 } },
      c.token,
    );
    expect(mapped.status).toBe(202);
    const watchdog = {
      project_id: c.projectId,
      event: { type: 'user-container:watchdog', system: { cpu: { usage: '0.10, 0.20 ', count: '2' } } },
    };
    expect((await stack.post('/collab/event', watchdog, c.token)).status).toBe(202);

    const view = await eventually(async () => {
      const r = await stack.get(`/containers/${c.containerId}`, viewer);
      return r.status === 200 && r.body.status === 'healthy' && r.body.routes.length === 1 ? r.body : null;
    });
    expect(view.routes[0]).toMatchObject({ fqdn: `uc-${c.containerId}--jupyter.org-${c.orgId}.collab.test`, port: 8888 });
    await eventually(async () =>
      sse.events.some((e) => e.event === 'health' && e.data.container_id === c.containerId && e.data.to === 'healthy'),
    );

    const workerHost = stack.worker.get(ProjectorHost);
    expect(workerHost.projector('health')?.holdsLease).toBe(true);
    expect(workerHost.projector('routing')?.holdsLease).toBe(true);
    // The operators' lag report on the gateway reads the worker's checkpoints from the database.
    const lag = await eventually(async () => {
      const r = await stack.get('/projections', stack.operator());
      const rows = r.body?.projections ?? r.body;
      return Array.isArray(rows) && rows.length >= 3 && rows.every((p: { events_behind: number }) => p.events_behind === 0) ? rows : null;
    });
    expect(lag.map((p: { projection: string }) => p.projection)).toEqual(expect.arrayContaining(['access', 'health', 'routing']));
    expect(workerHost.projector('access')?.holdsLease).toBe(true);
  });

  it('keeps any text of a container byte for byte through the batch statement sent as literal SQL', async () => {
    // The health row travels as one dollar-quoted constant in the statement sent with COMMIT:
    // quotes, backslashes, dollar-quote tags and a JSON escape must neither end it nor change it.
    const c = stack.container();
    const viewer = stack.viewer(c.orgId);
    const model = `EPYC 'single' "double" \\back\\slash $q$ $q0$ $$ \u0041 ü 🙂 ');--`;
    const cards = `$q$'); DROP TABLE container_health; --`;
    const watchdog = {
      project_id: c.projectId,
      event: { type: 'user-container:watchdog', system: { cpu: { model }, graphic: { cards } } },
    };
    expect((await stack.post('/collab/event', watchdog, c.token)).status).toBe(202);
    const view = await eventually(async () => {
      const r = await stack.get(`/containers/${c.containerId}`, viewer);
      return r.status === 200 && r.body.stats ? r.body : null;
    });
    expect(view.stats.cpu.model).toBe(model);
    expect(view.stats.graphic.cards).toBe(cards);
  });
});
