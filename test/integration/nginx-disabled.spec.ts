import { Queue } from 'bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { QUEUE_NAME } from '@app/jobs';
import { createWorker } from '../../apps/worker/src/bootstrap';
import { startTestGateway, TestGateway, testEnv } from '../support/gateway';
import { loadConfig } from '@app/config';
import { call } from '../support/http';
import { eventually } from '../support/stack';

/**
 * NGINX_RENDER_ENABLED=false means no render at all: a route change schedules no `nginx:render`
 * job, a reconciliation scheduler left in Redis by an earlier run is removed, and nothing reports
 * a failed render (GET /nginx/renders, the worker's readiness). Before, every change queued a
 * render that failed five times (ENOENT under /etc/nginx) and showed as `failed`.
 */
describe('nginx rendering disabled', () => {
  let g: TestGateway;
  let worker: NestFastifyApplication;
  let queue: Queue;

  beforeAll(async () => {
    // Short coalescing: a scheduled render would be due (and failing) well within the test.
    g = await startTestGateway('render_off', { NGINX_RENDER_ENABLED: 'false', NGINX_COALESCE_MIN_MS: '50', NGINX_COALESCE_MAX_MS: '200' });
    queue = new Queue(QUEUE_NAME, { connection: { url: g.config.redis.url }, prefix: g.config.redis.prefix });
    // What an earlier run with rendering enabled leaves in Redis.
    await queue.upsertJobScheduler(
      `nginx-reconcile.${g.config.nginx.nodeId}`,
      { every: 1_000 },
      { name: 'nginx:render', data: { node: g.config.nginx.nodeId, reason: 'reconcile' } },
    );
    const env = testEnv(g.config.database.url, 'render_off', {
      REDIS_PREFIX: g.config.redis.prefix,
      NGINX_RENDER_ENABLED: 'false',
      PROJECTIONS_ENABLED: 'false',
      WORKER_HTTP_PORT: '0',
    });
    worker = await createWorker(loadConfig(env));
    await worker.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    await g?.close();
  });

  it('a mapped service gets its route, and no render job is scheduled or fails', async () => {
    const renderSchedulers = async () => (await queue.getJobSchedulers()).filter((j) => j.name === 'nginx:render');
    expect(await renderSchedulers()).toEqual([]);
    const c = g.container();
    expect(
      (
        await g.post(
          '/collab/event',
          { event: { type: 'user-container:map-http-service', name: 'web', port: 8080 }, project_id: c.projectId },
          c.token,
        )
      ).status,
    ).toBe(202);
    await eventually(
      async () => (await g.pool.query(`SELECT 1 FROM routes WHERE container_id = $1`, [c.containerId])).rowCount === 1,
      15_000,
    );
    // Past the longest coalescing window: a scheduled render would be in the queue (or done) by now.
    await new Promise((r) => setTimeout(r, 1_500));
    const jobs = (await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized', 'paused'])).filter(
      (j) => j.name === 'nginx:render',
    );
    // Only the planted scheduler's job may exist (made before the worker removed it): done, untouched.
    const states = await Promise.all(jobs.map(async (j) => [j.data.reason, await j.getState(), j.returnvalue, j.failedReason ?? null]));
    expect(states.filter(([reason]) => reason !== 'reconcile')).toEqual([]);
    for (const s of states) expect(s).toEqual(['reconcile', 'completed', { outcome: 'disabled' }, null]);
    expect(await renderSchedulers()).toEqual([]);

    const op = g.tokens.sign({ role: 'operator', sub: 'op-render-off' }, 3600);
    expect((await call(g.url, 'GET', '/nginx/renders', op)).body).toEqual({ items: [] });
    const port = (worker.getHttpServer().address() as { port: number }).port;
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
  }, 60_000);
});
