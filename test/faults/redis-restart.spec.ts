import { readFile } from 'node:fs/promises';
import { QUEUE_NAME } from '@app/jobs';
import { startTestNginx, TestNginx } from '../support/nginx';
import { eventually } from '../support/stack';
import { FaultStack, fqdnOf, mapService, postJson, startFaultStack } from '../support/fault-stack';
import type { AppProcess } from '../support/processes';

const DOMAIN = 'faults.test';

describe('faults: Redis restarted (empty) and flushed under a running gateway and worker', () => {
  let s: FaultStack;
  let nginx: TestNginx;
  let gw: AppProcess;
  let worker: AppProcess;
  const served = async (host: string) =>
    (await readFile(nginx.mapPath, 'utf8')).includes(host) &&
    (await fetch(nginx.statusUrl).then((r) => r.text())).trim() ===
      /default "([0-9a-f]{64}|none)"/.exec(await readFile(nginx.mapPath, 'utf8'))?.[1];

  beforeAll(async () => {
    nginx = await startTestNginx('faults-redis');
    s = await startFaultStack('redisrestart', {
      ...nginx.env,
      PLATFORM_DOMAIN: DOMAIN,
      RATE_LIMIT_MAX: '1000',
      // Renders wait in Redis as delayed jobs for a while, so a flush can lose one.
      NGINX_COALESCE_MIN_MS: '1500',
      NGINX_COALESCE_MAX_MS: '3000',
      NGINX_RECONCILE_INTERVAL_MS: '2000',
    });
    gw = await s.spawn('gateway');
    worker = await s.spawn('worker');
  }, 120_000);
  afterAll(async () => {
    await s?.close();
    await nginx?.stop();
  });

  it('ingest goes on while Redis is down; both processes reconnect by themselves and renders resume', async () => {
    const a = s.container();
    await mapService(gw.url, a, 'web', 8080);
    await eventually(() => served(fqdnOf(a, 'web', DOMAIN)), 30_000, 100);

    await s.redis.stop();
    // The rate limiter does not wait for Redis: acknowledged while Redis is away.
    const during = await postJson(`${gw.url}/collab/event`, a.token, {
      event: { type: 'user-container:watchdog' },
      project_id: a.projectId,
    });
    expect(during.status).toBe(202);
    await s.redis.start(); // empty: no persistence

    const b = s.container();
    await mapService(gw.url, b, 'web', 8080);
    await eventually(() => served(fqdnOf(b, 'web', DOMAIN)), 60_000, 100);
    expect(await served(fqdnOf(a, 'web', DOMAIN))).toBe(true);
    for (const p of [gw, worker]) expect((await fetch(`${p.url}/health/ready`)).status).toBe(200);
  }, 180_000);

  it('the periodic reconciliation restores a render that a FLUSHALL lost', async () => {
    const q = `${s.config.redis.prefix}:${QUEUE_NAME}`;
    const renderWaiting = async () => {
      for (const id of (await s.redis.command('zrange', `${q}:delayed`, 0, -1)) as string[]) {
        const data = (await s.redis.command('hget', `${q}:${id}`, 'data')) as string | null;
        if (data && !data.includes('"reconcile"')) return true;
      }
      return false;
    };
    // No render running, queued or waiting, and no debounce window open: the mapping below starts
    // a fresh window, so its render waits the full NGINX_COALESCE_MIN_MS (an older window's job
    // could fire at any moment, before the flush).
    await eventually(
      async () => {
        const [active, wait, lock, window] = await Promise.all([
          s.redis.command('llen', `${q}:active`),
          s.redis.command('llen', `${q}:wait`),
          s.redis.command('exists', `${s.config.redis.prefix}:nginx:lock:default`),
          s.redis.command('exists', `${s.config.redis.prefix}:nginx:pending-since:default`),
        ]);
        return active === 0 && wait === 0 && lock === 0 && window === 0 && !(await renderWaiting());
      },
      30_000,
      50,
    );
    const c = s.container();
    await mapService(gw.url, c, 'web', 8080);
    // The route is in the read model and its render job is waiting (delayed) in Redis: flush it away.
    await eventually(
      async () => (await s.pool.query(`SELECT 1 FROM routes WHERE container_id = $1`, [c.containerId])).rowCount === 1,
      30_000,
      20,
    );
    await eventually(renderWaiting, 10_000, 10);
    await s.redis.flushAll();
    expect(await served(fqdnOf(c, 'web', DOMAIN))).toBe(false);
    // Nothing rendered it yet; the reconciliation (its scheduler re-created after the flush) does.
    await eventually(() => served(fqdnOf(c, 'web', DOMAIN)), 60_000, 100);
  }, 180_000);
});
