import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { register } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';
import { AppConfig, loadConfig } from '@app/config';
import { poolOf, prepareDatabase } from '@app/database';
import { QUEUE_NAME } from '@app/jobs';
import { parseCidr } from '@app/common';
import {
  liveEntries,
  LiveClient,
  LiveConflict,
  NginxControl,
  NginxRenderer,
  NginxRenderHandler,
  RenderScheduler,
  SetHash,
  stage2Pairs,
} from '@app/nginx';
import { createRedis } from '@app/redis';
import type { RenderRoute } from '@app/routing';
import { createTestDatabase } from '../support/db';
import { testEnv } from '../support/gateway';
import { freePort, startTestNginx, TestNginx, viaNginx } from '../support/nginx';
import { eventually } from '../support/stack';

jest.setTimeout(180_000);
const DOMAIN = 'collab.test';
const ORG = randomUUID();
const fqdn = (c: string, s?: string) => (s ? `uc-${c}--${s}.org-${ORG}.${DOMAIN}` : `uc-${c}.org-${ORG}.${DOMAIN}`);
const metric = async (name: string, kind?: string) =>
  (await register.getSingleMetric(name)!.get()).values.filter((v) => !kind || v.labels.kind === kind).reduce((n, v) => n + v.value, 0);

/**
 * Live routes against a real nginx with Debian's lua module: route changes reach the shared dict
 * through the worker's unix socket, never a reload.
 */
describe('nginx live routes (lua_shared_dict, no reloads)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: Awaited<ReturnType<typeof prepareDatabase>>;
  let pool: Pool;
  let redis: Redis;
  let nginx: TestNginx;
  let config: AppConfig;
  let renderer: NginxRenderer;
  let client: LiveClient;
  let queue: Queue;
  let worker: Worker;
  let scheduler: RenderScheduler;
  let backend: Server;
  let backendPort: number;
  const conns: Redis[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('nginx_live');
    nginx = await startTestNginx('live', { live: true });
    config = loadConfig(testEnv(db.url, 'nginx-live', { ...nginx.env, PLATFORM_DOMAIN: DOMAIN }));
    ds = await prepareDatabase({ ...config.database, migrate: true });
    pool = poolOf(ds);
    redis = createRedis(config.redis.url, 'nginx-live-test');
    renderer = new NginxRenderer(pool, redis, config.redis.prefix, config.nginx, DOMAIN, new NginxControl(config.nginx));
    client = new LiveClient(nginx.socket!, 5_000);
    const handler = new NginxRenderHandler(renderer, config.nginx.nodeId);
    conns.push(redis.duplicate(), redis.duplicate());
    queue = new Queue(QUEUE_NAME, { connection: conns[0], prefix: config.redis.prefix });
    worker = new Worker(QUEUE_NAME, (job) => handler.handle(job), { connection: conns[1], prefix: config.redis.prefix, concurrency: 4 });
    scheduler = new RenderScheduler(queue, redis, config.redis.prefix, config.nginx);

    backendPort = await freePort();
    backend = createServer((req, res) => res.end(`hello from ${req.headers.host}`));
    const wss = new WebSocketServer({ server: backend });
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
    await new Promise<void>((r) => backend.listen(backendPort, '127.0.0.7', r));
    // The worker's start-up render: map file + first snapshot.
    expect((await renderer.render()).outcome).not.toBe('failed');
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

  const upsert = (c: string, service: string, o: { port?: number; address?: string; active?: boolean; primary?: boolean } = {}) =>
    pool.query(
      `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, is_primary, vpn_address, active, updated_position)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)
       ON CONFLICT (fqdn) DO UPDATE SET port = excluded.port, vpn_address = excluded.vpn_address, active = excluded.active`,
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
  const idle = () =>
    eventually(async () => {
      const n = (await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized')) as Record<string, number>;
      return !n.active && !n.waiting && !n.delayed && !n.prioritized;
    }, 30_000);
  /** What the routes table says nginx should serve, as the set hash nginx reports (computed here, not by the worker). */
  const expectedHash = async () => {
    const { rows } = await pool.query<RenderRoute>(
      `SELECT fqdn, container_id::text AS container_id, org_id::text AS org_id, service, port, is_primary,
              host(vpn_address) AS vpn_address, gateway_node, active, protected FROM routes ORDER BY fqdn`,
    );
    const policy = { domain: DOMAIN, vpnRanges: [parseCidr('127.0.0.0/8')], node: { id: config.nginx.nodeId, isDefault: true } };
    const { entries } = liveEntries(stage2Pairs(rows, policy).pairs);
    expect(entries.size).toBeGreaterThan(0);
    return SetHash.of(entries).hex();
  };
  const answers = (host: string, status: number) => eventually(async () => (await viaNginx(nginx, host)).status === status, 10_000);

  it('keeps a WebSocket open through 1,000 route changes, with no reload and no new nginx process', async () => {
    const mine = randomUUID();
    await upsert(mine, 'terminal', { primary: true });
    await scheduler.routesChanged('test: terminal', [mine]);
    await answers(fqdn(mine, 'terminal'), 200);
    const before = {
      reloads: await metric('nginx_reloads_total'),
      procs: nginx
        .processes()
        .map((p) => p.pid)
        .sort(),
    };

    const ws = new WebSocket(`ws://127.0.0.1:${nginx.port}/terminal`, { headers: { host: fqdn(mine, 'terminal') } });
    let closed = false;
    ws.on('close', () => (closed = true));
    const echo = (text: string) =>
      new Promise<string>((resolve, reject) => {
        ws.once('message', (m) => {
          ws.off('error', reject);
          resolve(String(m));
        });
        ws.once('error', reject);
        ws.send(text);
      });
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    expect(await echo('before')).toBe('echo:before');

    const others = Array.from({ length: 50 }, () => randomUUID());
    for (let i = 0; i < 1000; i++) {
      const c = others[i % others.length];
      await upsert(c, 'jupyter', { port: 1000 + i, active: i % 7 !== 0 });
      await scheduler.routesChanged(`test: change ${i}`, [c]);
      if (i % 100 === 99) expect(await echo(`during ${i}`)).toBe(`echo:during ${i}`);
    }
    await idle();
    // The last change of the last container is what nginx serves (port 1999 answers 502: nothing listens).
    const last = others[999 % others.length];
    await answers(fqdn(last, 'jupyter'), 502);
    expect(await echo('after')).toBe('echo:after');
    expect(closed).toBe(false);
    ws.close();
    expect(await metric('nginx_reloads_total')).toBe(before.reloads);
    expect(
      nginx
        .processes()
        .map((p) => p.pid)
        .sort(),
    ).toEqual(before.procs);
    expect(await metric('nginx_live_pushes_total', 'delta')).toBeGreaterThan(0);
    const state = await client.state();
    expect(state).toMatchObject({ ready: true, hash: await expectedHash() });
  });

  it('heals a lost delta through a snapshot', async () => {
    const c = randomUUID();
    await upsert(c, 'jupyter');
    await scheduler.routesChanged('test: jupyter', [c]);
    await answers(fqdn(c, 'jupyter'), 200);
    // A push the worker never saw confirmed (killed after nginx applied it): nginx is one generation ahead.
    const s = await client.state();
    const ghost = fqdn(randomUUID(), 'ghost');
    await client.delta(s.generation, s.generation + 1, s.hash, `set ${ghost} 127.0.0.7:${backendPort}\n`);
    // And a change whose notification was lost (the worker died before it queued the push).
    const lost = randomUUID();
    await upsert(lost, 'notebook');
    const conflicts = await metric('nginx_live_pushes_total', 'conflict');
    const next = randomUUID();
    await upsert(next, 'jupyter');
    await scheduler.routesChanged('test: next', [next]);
    await idle();
    expect(await metric('nginx_live_pushes_total', 'conflict')).toBe(conflicts + 1);
    await answers(fqdn(next, 'jupyter'), 200);
    await answers(fqdn(lost, 'notebook'), 200); // the snapshot read every row
    expect((await client.state()).hash).toBe(await expectedHash());
    // The snapshot swept what no row holds: the dict has exactly the entries it counts, the ghost not among them.
    const dump = await client.dump();
    expect(dump.entries.has(ghost)).toBe(false);
    expect(dump.entries.size).toBe(dump.state.count);
    expect((await viaNginx(nginx, ghost)).body).toContain('unknown_host');
    expect(await renderer.liveInSync()).toBe(true);
  });

  it('never lets a hostile row reach nginx, and nginx refuses hostile lines itself', async () => {
    const good = randomUUID();
    await upsert(good, 'jupyter');
    const hostile = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    // Outside the VPN ranges; a port out of range; a service name with config syntax; an fqdn that lies.
    await upsert(hostile[0], 'outside', { address: '10.9.9.9' });
    await upsert(hostile[1], 'badport', { port: 70000 });
    await pool.query(
      `INSERT INTO routes (fqdn, container_id, org_id, project_id, service, port, vpn_address, updated_position)
       VALUES ($1, $2, $3, $4, 'x;}evil', 80, '127.0.0.7', 1), ('attacker.example', $5, $3, $4, 'web', 80, '127.0.0.7', 1)`,
      [`uc-${hostile[2]}--x;}evil.org-${ORG}.${DOMAIN}`, hostile[2], ORG, randomUUID(), hostile[3]],
    );
    await scheduler.routesChanged('test: hostile', [good, ...hostile]);
    await idle();
    await answers(fqdn(good, 'jupyter'), 200);
    for (const host of [fqdn(hostile[0], 'outside'), fqdn(hostile[1], 'badport'), 'attacker.example']) {
      expect((await viaNginx(nginx, host)).body).toContain('unknown_host');
    }
    // A full render (the snapshot path) refuses them too.
    expect((await renderer.render()).skipped.length).toBeGreaterThanOrEqual(4);
    const served = await client.state();
    const map = await readFile(nginx.mapPath, 'utf8');
    expect(map).not.toMatch(/evil|attacker|10\.9\.9\.9|70000/);
    // The last line of defence, in nginx: a line with config syntax or an address outside IPv4 is refused whole.
    for (const body of [`set a.test 127.0.0.7:80;evil\n`, `set a.test 999.0.0.1:80\n`, `set A.test 127.0.0.7:80\n`, `del a..test\n`]) {
      await expect(client.delta(served.generation, served.generation + 1, served.hash, body)).rejects.toThrow(/400 line 1/);
    }
    await expect(client.snapshot(served.generation + 1, `ok.test 127.0.0.7:80\nbad.test 127.0.0.7:0\n`)).rejects.toThrow(/400 line 2/);
    expect(await client.state()).toEqual(served);
  });

  it('comes back with every route after nginx restarts: the map file at once, then the snapshot', async () => {
    const fromFile = randomUUID();
    await upsert(fromFile, 'jupyter');
    await renderer.render(); // written into the map file
    const fromDelta = randomUUID();
    await upsert(fromDelta, 'jupyter');
    await scheduler.routesChanged('test: after the file', [fromDelta]);
    await idle();
    await answers(fqdn(fromDelta, 'jupyter'), 200);

    await nginx.restart();
    // Cold start: the rendered map answers until a snapshot arrives.
    expect(await client.state()).toMatchObject({ ready: false, generation: 0 });
    expect((await viaNginx(nginx, fqdn(fromFile, 'jupyter'))).status).toBe(200);
    // What the worker's check sees, and what it queues: a full render, whose snapshot heals it.
    expect(await renderer.liveInSync()).toBe(false);
    expect((await renderer.render()).outcome).not.toBe('failed');
    expect(await renderer.liveInSync()).toBe(true);
    await answers(fqdn(fromDelta, 'jupyter'), 200);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM routes`);
    expect((await client.state()).count).toBeLessThanOrEqual(rows[0].n * 2);
    expect((await client.state()).hash).toBe(await expectedHash());
  });

  it('never applies two workers pushes out of order', async () => {
    // A second worker process: its own renderer (own view of what nginx serves), same lock and queue keys.
    const redis2 = createRedis(config.redis.url, 'nginx-live-test-2');
    const other = new NginxRenderer(pool, redis2, config.redis.prefix, config.nginx, DOMAIN, new NginxControl(config.nginx));
    try {
      await other.render();
      const c = randomUUID();
      const generations: number[] = [];
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          generations.push((await client.state()).generation);
          await new Promise((r) => setTimeout(r, 2));
        }
      })();
      for (let i = 0; i < 60; i++) {
        await upsert(c, 'jupyter', { port: 2000 + i });
        // Both workers are told; each takes whatever is pending, under the node's lock.
        await scheduler.routesChanged(`test: ${i}`, [c]);
        await Promise.all([renderer.applyPending(), other.applyPending()]);
      }
      watching = false;
      await watcher;
      for (let i = 1; i < generations.length; i++) expect(generations[i]).toBeGreaterThanOrEqual(generations[i - 1]);
      await idle();
      const state = await client.state();
      expect(state.hash).toBe(await expectedHash());
      // nginx itself refuses a delta built on a state it no longer serves.
      const stale = SetHash.fromHex(state.hash).hex();
      await expect(client.delta(state.generation - 1, state.generation, stale, `del ${fqdn(c, 'jupyter')}\n`)).rejects.toBeInstanceOf(
        LiveConflict,
      );
      expect((await client.state()).generation).toBe(state.generation);
    } finally {
      await redis2.quit();
    }
  });
});
