import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Queue, Worker } from 'bullmq';
import { register } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';
import { loadConfig } from '@app/config';
import { poolOf, prepareDatabase } from '@app/database';
import { QUEUE_NAME } from '@app/jobs';
import { LiveClient, NginxControl, NginxRenderer, NginxRenderHandler, RenderScheduler } from '@app/nginx';
import { createRedis } from '@app/redis';
import { createTestDatabase } from '../../test/support/db';
import { testEnv } from '../../test/support/gateway';
import { freePort, startTestNginx, viaNginx } from '../../test/support/nginx';
import { BenchContext, Row } from '../lib/context';
import { sleep } from '../lib/procs';
import { percentile } from '../lib/stats';

const DOMAIN = 'collab.test';
const ADDRESS = '127.0.0.7';

export interface ChurnResult {
  path: 'reload' | 'live';
  seconds: number;
  changes: number;
  reloads: number;
  sockets: number;
  dropped: number;
  procs: { start: number; max: number; end: number };
  rssMb: { start: number; max: number; end: number };
  /** Change committed and signalled -> nginx answers the new state (every 10th change). */
  propagationMs: { p50: number; p99: number; samples: number };
}

/**
 * Today's path (render + nginx -t + reload, coalesced) or live routes (deltas into the shared
 * dict), each on an nginx, database and queue of its own: `sockets` WebSockets opened through nginx
 * over the first half of the run (users opening terminals) and held, while routes change at
 * `perMinute`. Samples nginx's processes and their RSS every second; a WebSocket that closes or
 * stops echoing counts as dropped.
 */
export async function churnRun(path: 'reload' | 'live', o: { seconds: number; baseRoutes: number; sockets: number; perMinute: number }) {
  const db = await createTestDatabase(`churn_${path}`);
  const nginx = await startTestNginx(`churn-${path}`, { live: path === 'live', workerConnections: 8192 });
  const config = loadConfig(
    testEnv(db.url, `churn-${path}`, {
      ...nginx.env,
      PLATFORM_DOMAIN: DOMAIN,
      NGINX_COMMAND_TIMEOUT_MS: '120000',
      NGINX_CONFIRM_TIMEOUT_MS: '120000',
    }),
  );
  const ds = await prepareDatabase({ ...config.database, migrate: true });
  const pool = poolOf(ds);
  const redis = createRedis(config.redis.url, `churn-${path}`);
  const conns = [redis.duplicate(), redis.duplicate()];
  const echo = createServer((_q, s) => s.end('ok'));
  new WebSocketServer({ server: echo }).on('connection', (ws) => ws.on('message', (m) => ws.send(String(m))));
  const port = await freePort();
  await new Promise<void>((r) => echo.listen(port, ADDRESS, r));
  const queue = new Queue(QUEUE_NAME, { connection: conns[0], prefix: config.redis.prefix });
  const sockets: WebSocket[] = [];
  let worker: Worker | undefined;
  try {
    const org = randomUUID();
    await pool.query(
      `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, is_primary, vpn_address, updated_position)
       SELECT 'uc-' || c || '--svc.org-' || $1 || '.' || $2, c, $1::uuid, $1::uuid, 'svc', 8000, i % 2 = 0, ('127.1.0.0'::inet + i), i
         FROM (SELECT gen_random_uuid() AS c, i FROM generate_series(1, $3::int) i) g`,
      [org, DOMAIN, o.baseRoutes],
    );
    const fqdn = (c: string, s: string) => `uc-${c}--${s}.org-${org}.${DOMAIN}`;
    const add = (c: string, s: string, active: boolean) =>
      pool.query(
        `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, vpn_address, active, updated_position)
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, 1)`,
        [fqdn(c, s), c, org, s, port, ADDRESS, active],
      );
    const terminals = Array.from({ length: 50 }, () => randomUUID());
    for (const c of terminals) await add(c, 'terminal', true);
    const churned = Array.from({ length: 200 }, () => randomUUID());
    for (const c of churned) await add(c, 'jupyter', true);

    const renderer = new NginxRenderer(pool, redis, config.redis.prefix, config.nginx, DOMAIN, new NginxControl(config.nginx));
    const handler = new NginxRenderHandler(renderer, config.nginx.nodeId);
    worker = new Worker(QUEUE_NAME, (job) => handler.handle(job), { connection: conns[1], prefix: config.redis.prefix, concurrency: 1 });
    const scheduler = new RenderScheduler(queue, redis, config.redis.prefix, config.nginx);
    const first = await renderer.render();
    if (first.outcome === 'failed') throw new Error(`first render failed: ${first.error}`);
    if (path === 'live' && !(await new LiveClient(nginx.socket!, 5_000).state()).ready)
      throw new Error('live nginx not ready after the first render');
    const reloadsBefore = await reloads();

    const sample = () => {
      const ps = nginx.processes();
      return { procs: ps.length, rssMb: ps.reduce((n, p) => n + p.rssKb, 0) / 1024 };
    };
    const start = sample();
    const max = { ...start };
    let last = start;
    const sampler = setInterval(() => {
      last = sample();
      max.procs = Math.max(max.procs, last.procs);
      max.rssMb = Math.max(max.rssMb, last.rssMb);
    }, 1_000);

    let dropped = 0;
    const open = async (i: number) => {
      const ws = new WebSocket(`ws://127.0.0.1:${nginx.port}/terminal`, {
        headers: { host: fqdn(terminals[i % terminals.length], 'terminal') },
      });
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      let closed = false;
      ws.on('close', () => {
        if (!closed) dropped++;
        closed = true;
      });
      ws.on('error', () => undefined);
      (ws as WebSocket & { done?: () => void }).done = () => (closed = true);
      sockets.push(ws);
    };
    const ping = (ws: WebSocket) =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 10_000);
        ws.once('message', () => (clearTimeout(t), resolve(true)));
        if (ws.readyState === WebSocket.OPEN) return ws.send('ping');
        clearTimeout(t);
        resolve(false);
      });

    const started = performance.now();
    const elapsedS = () => (performance.now() - started) / 1000;
    const latencies: number[] = [];
    const probes: Promise<void>[] = [];
    let changes = 0;
    const every = 60_000 / o.perMinute;
    // Users open terminals over the first half of the run, and keep them; beside the changes, so a
    // slow upgrade (nginx busy reloading) never holds the change rate back.
    let opening = true;
    const opener = (async () => {
      while (opening && sockets.length < o.sockets) {
        const wanted = Math.min(o.sockets, Math.ceil((elapsedS() / (o.seconds / 2)) * o.sockets));
        if (sockets.length < wanted) await open(sockets.length);
        else await sleep(20);
      }
    })();
    while (elapsedS() < o.seconds) {
      const due = started + changes * every;
      if (performance.now() < due) await sleep(due - performance.now());
      const c = churned[changes % churned.length];
      const active = Math.floor(changes / churned.length) % 2 === 1;
      await pool.query(`UPDATE routes SET active = $2, updated_at = now() WHERE fqdn = $1`, [fqdn(c, 'jupyter'), active]);
      await scheduler.routesChanged('bench churn', [c]);
      if (changes % 10 === 0) {
        const t0 = performance.now();
        const want = active ? 200 : 503;
        probes.push(
          (async () => {
            for (;;) {
              const r = await viaNginx(nginx, fqdn(c, 'jupyter')).catch(() => ({ status: 0 }));
              if (r.status === want) return void latencies.push(performance.now() - t0);
              if (performance.now() - t0 > 60_000) return;
              await sleep(10);
            }
          })(),
        );
      }
      changes++;
    }
    const seconds = elapsedS();
    opening = false;
    await opener;
    await Promise.all(probes);
    // Every socket still answers?
    const answered = await Promise.all(sockets.map(ping));
    const silent = answered.filter((ok) => !ok).length;
    clearInterval(sampler);
    const end = sample();
    const result: ChurnResult = {
      path,
      seconds: Math.round(seconds),
      changes,
      reloads: (await reloads()) - reloadsBefore,
      sockets: sockets.length,
      dropped: Math.max(dropped, silent),
      procs: { start: start.procs, max: max.procs, end: end.procs },
      rssMb: { start: Math.round(start.rssMb), max: Math.round(max.rssMb), end: Math.round(end.rssMb) },
      propagationMs: {
        p50: Math.round(percentile(latencies, 50) ?? -1),
        p99: Math.round(percentile(latencies, 99) ?? -1),
        samples: latencies.length,
      },
    };
    return result;
  } finally {
    for (const ws of sockets) {
      (ws as WebSocket & { done?: () => void }).done?.();
      ws.terminate();
    }
    await worker?.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    echo.closeAllConnections();
    await new Promise((r) => echo.close(r));
    conns.forEach((c) => c.disconnect());
    redis.disconnect();
    await ds.destroy();
    await nginx.stop();
    await db.drop();
  }
}

const reloads = async () => (await register.getSingleMetric('nginx_reloads_total')!.get()).values.reduce((n, v) => n + v.value, 0);

/** Both paths, one after the other, in the same run: one table. */
export async function nginxChurnScenario(ctx: BenchContext): Promise<Row[]> {
  const o = ctx.quick
    ? { seconds: 60, baseRoutes: 10_000, sockets: 500, perMinute: 1_000 }
    : { seconds: 600, baseRoutes: 10_000, sockets: 500, perMinute: 1_000 };
  const rows: Row[] = [];
  for (const path of ['reload', 'live'] as const) {
    const r = await churnRun(path, o);
    const name = `route churn, ${path === 'reload' ? "today's path (reload)" : 'live routes (lua)'}: ${r.changes} changes in ${r.seconds} s, ${r.sockets} WebSockets, ${o.baseRoutes.toLocaleString('en')} routes`;
    const live = path === 'live';
    rows.push(
      {
        scenario: name,
        figure: 'nginx reloads',
        value: String(r.reloads),
        target: live ? '0' : 'printed',
        met: live ? r.reloads === 0 : null,
        data: { ...r },
      },
      {
        scenario: name,
        figure: 'nginx processes start / max / end',
        value: `${r.procs.start} / ${r.procs.max} / ${r.procs.end}`,
        target: live ? 'flat' : 'printed',
        met: live ? r.procs.max === r.procs.start && r.procs.end === r.procs.start : null,
      },
      {
        scenario: name,
        figure: 'nginx RSS (sum) start / max / end',
        value: `${r.rssMb.start} / ${r.rssMb.max} / ${r.rssMb.end} MB`,
        // Flat: the WebSockets' own buffers only (500 sockets ~ a few MB), no copy of the routes per generation.
        target: live ? 'flat (max <= start + 32 MB)' : 'printed',
        met: live ? r.rssMb.max <= r.rssMb.start + 32 : null,
      },
      {
        scenario: name,
        figure: 'WebSockets dropped',
        value: `${r.dropped} of ${r.sockets}`,
        target: live ? '0' : 'printed',
        met: live ? r.dropped === 0 : null,
      },
      {
        scenario: name,
        figure: 'change committed -> nginx answers it, p50 / p99',
        value: `${r.propagationMs.p50} / ${r.propagationMs.p99} ms (${r.propagationMs.samples} samples)`,
        target: live ? 'p99 <= 100 ms' : 'printed',
        met: live ? r.propagationMs.p99 <= 100 : null,
      },
    );
  }
  return rows;
}

if (require.main === module) {
  // node -r ./test/support/ts-register.js bench/scenarios/nginx-churn.ts [seconds] [reload|live]
  (async () => {
    const seconds = Number(process.argv[2] ?? 60);
    for (const path of (process.argv[3] ? [process.argv[3]] : ['reload', 'live']) as ('reload' | 'live')[]) {
      console.log(JSON.stringify(await churnRun(path, { seconds, baseRoutes: 10_000, sockets: 500, perMinute: 1_000 })));
    }
  })().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
