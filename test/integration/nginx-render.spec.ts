import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';
import { AppConfig, loadConfig } from '@app/config';
import { safeSwap, SwapError } from '@app/common';
import { prepareDatabase, poolOf } from '@app/database';
import { QUEUE_NAME } from '@app/jobs';
import { NginxControl, NginxRenderer, NginxRenderHandler, RenderScheduler } from '@app/nginx';
import { createRedis } from '@app/redis';
import { createTestDatabase } from '../support/db';
import { testEnv } from '../support/gateway';
import { freePort, startTestNginx, TestNginx, viaNginx } from '../support/nginx';
import { eventually } from '../support/eventually';

jest.setTimeout(60_000);
const DOMAIN = 'collab.test';
const ORG = randomUUID();
const fqdn = (c: string, s?: string) => (s ? `uc-${c}--${s}.org-${ORG}.${DOMAIN}` : `uc-${c}.org-${ORG}.${DOMAIN}`);

describe('nginx render job against a real nginx', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: Awaited<ReturnType<typeof prepareDatabase>>;
  let pool: Pool;
  let redis: Redis;
  let nginx: TestNginx;
  let config: AppConfig;
  let control: NginxControl;
  let renderer: NginxRenderer;
  let queue: Queue;
  let worker: Worker;
  let scheduler: RenderScheduler;
  let backend: Server;
  let backendPort: number;
  let conns: Redis[] = [];
  const hits: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('nginx_render');
    nginx = await startTestNginx('render');
    config = loadConfig(
      testEnv(db.url, 'nginx', { ...nginx.env, PLATFORM_DOMAIN: DOMAIN, NGINX_COALESCE_MIN_MS: '100', NGINX_COALESCE_MAX_MS: '1000' }),
    );
    ds = await prepareDatabase({ ...config.database, migrate: true });
    pool = poolOf(ds);
    redis = createRedis(config.redis.url, 'nginx-test');
    control = new NginxControl(config.nginx);
    renderer = new NginxRenderer(pool, redis, config.redis.prefix, config.nginx, DOMAIN, control);
    // Only the nginx job runs in this file; the worker process's dispatcher (every job) is wired in nginx-wiring.spec.
    const render = new NginxRenderHandler(renderer, config.nginx.nodeId);
    conns = [redis.duplicate(), redis.duplicate()];
    queue = new Queue(QUEUE_NAME, { connection: conns[0], prefix: config.redis.prefix });
    worker = new Worker(QUEUE_NAME, (job) => render.handle(job), { connection: conns[1], prefix: config.redis.prefix, concurrency: 4 });
    scheduler = new RenderScheduler(queue, redis, config.redis.prefix, config.nginx);

    // The "container": HTTP + WebSocket on 127.0.0.7, standing in for its VPN address.
    backendPort = await freePort();
    backend = createServer((req, res) => {
      hits.push(req.headers.host ?? '');
      res.setHeader('content-type', 'text/plain');
      res.end(`hello from ${req.headers.host}`);
    });
    const wss = new WebSocketServer({ server: backend });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
    await new Promise<void>((r) => backend.listen(backendPort, '127.0.0.7', r));
  });

  afterAll(async () => {
    await worker?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    backend?.closeAllConnections();
    await new Promise((r) => backend?.close(r));
    conns.forEach((c) => c.disconnect());
    await redis?.quit();
    await ds?.destroy();
    await nginx?.stop();
    await db?.drop();
  });

  const insert = (c: string, service: string, o: { active?: boolean; primary?: boolean; port?: number; address?: string } = {}) =>
    pool.query(
      `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, is_primary, vpn_address, active, updated_position)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)`,
      [
        fqdn(c, service),
        c,
        ORG,
        randomUUID(),
        service,
        o.port ?? backendPort,
        o.primary ?? false,
        o.address ?? '127.0.0.7',
        o.active ?? true,
      ],
    );
  /** No render job queued or running: nginx serves (only) the last render. */
  const idle = () =>
    eventually(async () => {
      const n = (await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized')) as Record<string, number>;
      return !n.active && !n.waiting && !n.delayed && !n.prioritized ? n : null;
    }, 15_000);
  afterEach(() => idle());
  const reloads = async () => (await register.getSingleMetric('nginx_reloads_total')!.get()).values.reduce((n, v) => n + v.value, 0);
  const servedHash = () => control.servingHash();

  it('routes a new FQDN to the container after the change, WebSocket included (how fast: npm run bench)', async () => {
    const c = randomUUID();
    await insert(c, 'jupyter', { primary: true });
    await scheduler.routesChanged('test: map jupyter');
    const res = await eventually(async () => {
      const r = await viaNginx(nginx, fqdn(c, 'jupyter'));
      return r.status === 200 ? r : null;
    });
    expect(res.body).toBe(`hello from ${fqdn(c, 'jupyter')}`);
    // For ~100 ms after a reload the old workers still accept too; the job confirms past that.
    await idle();
    expect((await viaNginx(nginx, fqdn(c))).body).toBe(`hello from ${fqdn(c)}`);

    const ws = new WebSocket(`ws://127.0.0.1:${nginx.port}/terminal`, { headers: { host: fqdn(c, 'jupyter') } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('ping'));
      ws.once('message', (m) => resolve(String(m)));
      ws.once('error', reject);
    });
    ws.close();
    expect(reply).toBe('echo:ping');
    const { rows } = await pool.query(`SELECT last_outcome, config_hash, routes FROM nginx_render_state WHERE node = $1`, [
      config.nginx.nodeId,
    ]);
    expect(rows[0]).toMatchObject({ last_outcome: 'swapped', config_hash: await servedHash() });
  });

  it('answers offline for an inactive route and unknown once the route is removed', async () => {
    const c = randomUUID();
    await insert(c, 'ttyd');
    await scheduler.routesChanged('test');
    await eventually(async () => {
      const r = await viaNginx(nginx, fqdn(c, 'ttyd'));
      return r.status === 200 ? r : null;
    });
    await idle();

    await pool.query(`UPDATE routes SET active = false WHERE container_id = $1`, [c]);
    await scheduler.routesChanged('test: offline');
    const offline = await eventually(async () => {
      const r = await viaNginx(nginx, fqdn(c, 'ttyd'));
      return r.status === 503 ? r : null;
    });
    expect(offline.status).toBe(503);
    expect(JSON.parse(offline.body)).toMatchObject({ error: 'offline' });
    await idle();

    await pool.query(`DELETE FROM routes WHERE container_id = $1`, [c]);
    await scheduler.routesChanged('test: unmap');
    const gone = await eventually(async () => {
      const r = await viaNginx(nginx, fqdn(c, 'ttyd'));
      return r.body.includes('unknown_host') ? r : null;
    });
    expect(gone.status).toBe(503);
    expect(JSON.parse(gone.body)).toMatchObject({ error: 'unknown_host' });
    expect(JSON.parse((await viaNginx(nginx, 'nobody.example.com')).body)).toMatchObject({ error: 'unknown_host' });
  });

  it('a candidate that fails nginx -t never goes live; the last good config keeps serving', async () => {
    const c = randomUUID();
    await insert(c, 'web');
    expect((await renderer.render()).outcome).toBe('swapped');
    const live = await readFile(nginx.mapPath, 'utf8');
    const hash = await servedHash();
    const before = await reloads();

    const broken = live.replace('hostnames;', 'hostnames;\n    this is { not nginx');
    const err = await safeSwap(nginx.mapPath, broken, { validate: (f) => control.test(f), activate: () => control.reload() }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(SwapError);
    expect(err.stage).toBe('validate');
    expect(await readFile(nginx.mapPath, 'utf8')).toBe(live);
    expect(await servedHash()).toBe(hash);
    expect(await reloads()).toBe(before);
    expect((await viaNginx(nginx, fqdn(c, 'web'))).status).toBe(200);
    expect((await readdir(nginx.dir)).filter((n) => n.endsWith('.tmp') || n.includes('.test-'))).toEqual([]);
  });

  it('a failed activation rolls back to the last good file and nginx serves it again', async () => {
    const c = randomUUID();
    await insert(c, 'pgadmin');
    const live = await readFile(nginx.mapPath, 'utf8');
    const hash = await servedHash();
    // The confirm step refuses the new hash once, as if the reload never took.
    const flaky = new NginxControl(config.nginx);
    let refused = false;
    flaky.confirm = async (h: string) => {
      if (h !== hash && !refused) {
        refused = true;
        throw new Error('reload did not take');
      }
      return control.confirm(h);
    };
    const r = await new NginxRenderer(pool, redis, config.redis.prefix, config.nginx, DOMAIN, flaky).render();
    expect(r).toMatchObject({ outcome: 'failed', failedStage: 'activate' });
    expect(await readFile(nginx.mapPath, 'utf8')).toBe(live);
    expect(await readFile(`${nginx.mapPath}.last-good`, 'utf8')).toBe(live);
    expect(await servedHash()).toBe(hash);
    expect((await renderer.render()).outcome).toBe('swapped');
    expect((await viaNginx(nginx, fqdn(c, 'pgadmin'))).status).toBe(200);
  });

  it('a worker SIGKILLed between writing and renaming leaves the live config intact; the next render converges', async () => {
    const c = randomUUID();
    await insert(c, 'n8n');
    const live = await readFile(nginx.mapPath, 'utf8');
    const hash = await servedHash();
    const child = fork(join(__dirname, '../support/render-child.ts'), [], {
      execArgv: ['-r', join(__dirname, '../support/ts-register.js')],
      env: { ...process.env, RENDER_CHILD_CONFIG: JSON.stringify(config), RENDER_CHILD_DOMAIN: DOMAIN },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const candidate = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: any) => resolve(m.candidate));
      child.once('exit', (code) => reject(new Error(`child exited ${code} before the rename`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await readdir(nginx.dir)).includes(candidate.split('/').pop()!)).toBe(true);
    expect(await readFile(nginx.mapPath, 'utf8')).toBe(live);
    expect(await servedHash()).toBe(hash);
    expect((await viaNginx(nginx, fqdn(c, 'n8n'))).body).toContain('unknown_host');

    // The dead worker's lock would expire after its TTL; stand in for that.
    await redis.del(`${config.redis.prefix}:nginx:lock:${config.nginx.nodeId}`);
    expect((await renderer.render()).outcome).toBe('swapped');
    expect((await viaNginx(nginx, fqdn(c, 'n8n'))).status).toBe(200);
    expect((await readdir(nginx.dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('re-activates identical bytes on disk that nginx is not serving (killed between rename and reload)', async () => {
    const c = randomUUID();
    await insert(c, 'code');
    const { renderStage2Map } = await import('@app/nginx');
    const { parseCidr } = await import('@app/common');
    const { rows } = await pool.query(
      `SELECT fqdn, container_id::text, org_id::text, service, port, is_primary, host(vpn_address) AS vpn_address, gateway_node, active FROM routes`,
    );
    const file = renderStage2Map(rows, { domain: DOMAIN, vpnRanges: [parseCidr('127.0.0.0/8')], node: { id: 'gw-1', isDefault: true } });
    await safeSwap(nginx.mapPath, file.text); // renamed, never reloaded
    expect(await servedHash()).not.toBe(file.hash);
    expect((await renderer.render()).outcome).toBe('swapped');
    expect(await servedHash()).toBe(file.hash);
    expect((await renderer.render()).outcome).toBe('unchanged');
  });

  it('1,000 route changes in a burst cause a handful of reloads, and the final config holds them all', async () => {
    await idle();
    const before = await reloads();
    const containers = Array.from({ length: 1000 }, () => randomUUID());
    const t0 = Date.now();
    for (let i = 0; i < containers.length; i += 50) {
      await Promise.all(
        containers.slice(i, i + 50).map(async (c) => {
          await insert(c, 'svc');
          await scheduler.routesChanged('burst');
        }),
      );
    }
    const last = containers[containers.length - 1];
    await eventually(async () => {
      const r = await viaNginx(nginx, fqdn(last, 'svc'));
      return r.status === 200 ? r : null;
    }, 15_000);
    await idle();
    const made = (await reloads()) - before;
    console.log(`burst: 1000 changes in ${Date.now() - t0} ms -> ${made} reloads`);
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThanOrEqual(10);
    const map = await readFile(nginx.mapPath, 'utf8');
    for (const c of containers) expect(map).toContain(`${fqdn(c, 'svc')} "127.0.0.7:${backendPort}";`);
    for (const c of [containers[0], containers[500]]) expect((await viaNginx(nginx, fqdn(c, 'svc'))).status).toBe(200);
  });

  it('hostile values planted in the table never reach a rendered file; good rows still route', async () => {
    const hostile = ['x\r\ny', 'x;y', 'x{y', 'x}y', 'x"y', "x'y", 'x$y', 'x#y', 'x y'];
    const good = randomUUID();
    await insert(good, 'good');
    for (const h of hostile) {
      const c = randomUUID();
      await pool.query(
        `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, vpn_address, gateway_node, updated_position)
         VALUES ($1, $2, $3, $4, $5, $6, '127.0.0.7', $7, 1)`,
        [`${fqdn(c, 'x')}${h}`, c, ORG, randomUUID(), `svc${h}`, backendPort, null],
      );
      const c2 = randomUUID();
      await pool.query(
        `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, vpn_address, gateway_node, updated_position)
         VALUES ($1, $2, $3, $4, 'ok', $5, '127.0.0.7', $6, 1)`,
        [fqdn(c2, 'ok'), c2, ORG, randomUUID(), backendPort, `gw${h}`],
      );
    }
    const r = await renderer.render();
    expect(r.outcome).toBe('swapped');
    expect(r.skipped.length).toBe(hostile.length * 2);
    const files = [nginx.mapPath, `${nginx.mapPath}.last-good`, nginx.conf];
    for (const f of files) {
      const text = await readFile(f, 'utf8');
      for (const h of hostile) {
        expect(text).not.toContain(`svc${h}`);
        expect(text).not.toContain(`gw${h}`);
      }
      expect(text).not.toMatch(/\r/);
    }
    expect((await viaNginx(nginx, fqdn(good, 'good'))).status).toBe(200);
    const { rows } = await pool.query(`SELECT skipped_rows, skipped_sample FROM nginx_render_state`);
    expect(rows[0].skipped_rows).toBe(hostile.length * 2);
    for (const s of rows[0].skipped_sample) expect(s.fqdn).toMatch(/^[a-z0-9.-]+$|^\(unprintable\)$/);
    const metrics = await register.metrics();
    expect(metrics).toMatch(new RegExp(`nginx_skipped_rows\\{node="${config.nginx.nodeId}"\\} ${hostile.length * 2}`));
  });
});
