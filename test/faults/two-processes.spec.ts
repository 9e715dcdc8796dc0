import { chmod, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NGINX_BIN, startTestNginx, TestNginx } from '../support/nginx';
import { eventually } from '../support/stack';
import { FaultStack, fqdnOf, startFaultStack } from '../support/fault-stack';
import { Load } from '../support/load';
import type { AppProcess } from '../support/processes';

const DOMAIN = 'faults.test';

/**
 * Two gateway processes and two workers on one database, one Redis and one nginx node, under
 * ingest through both gateways. The nginx wrapper marks any two nginx commands running at once.
 * The reference result is the log itself, folded in SQL.
 */
describe('faults: two gateways and two workers on the same database, Redis and nginx node', () => {
  let s: FaultStack;
  let nginx: TestNginx;
  const gateways: AppProcess[] = [];
  const workers: AppProcess[] = [];
  const aborts: (() => void)[] = [];
  let overlapFlag: string;
  let loaded: { containerId: string }[] = [];

  beforeAll(async () => {
    nginx = await startTestNginx('faults-two');
    const bin = join(nginx.dir, 'nginx-wrapper');
    const busy = join(nginx.dir, 'busy');
    overlapFlag = join(nginx.dir, 'overlap');
    // Each command holds a directory while it runs (mkdir is atomic): a second one at the same time marks the overlap.
    await writeFile(
      bin,
      `#!/bin/sh\nif ! mkdir ${busy} 2>/dev/null; then touch ${overlapFlag}; fi\nsleep 0.2\n${NGINX_BIN} "$@"\nrc=$?\nrmdir ${busy} 2>/dev/null\nexit $rc\n`,
    );
    await chmod(bin, 0o755);
    s = await startFaultStack('twoprocs', {
      ...nginx.env,
      NGINX_BIN: bin,
      PLATFORM_DOMAIN: DOMAIN,
      RATE_LIMIT_MAX: '0',
      NGINX_COALESCE_MIN_MS: '20',
      NGINX_COALESCE_MAX_MS: '100',
      NGINX_RECONCILE_INTERVAL_MS: '1000',
      HEALTH_SWEEP_EVERY_MS: '3600000',
      PROJECTION_LEASE_MS: '2000',
    });
    for (let i = 0; i < 2; i++) gateways.push(await s.spawn('gateway'));
    for (let i = 0; i < 2; i++) workers.push(await s.spawn('worker'));
  }, 180_000);
  afterAll(async () => {
    aborts.forEach((a) => a());
    await s?.close();
    await nginx?.stop();
  });

  const leaseHeld = async (p: AppProcess) => {
    const text = await fetch(`${p.url}/metrics`).then((r) => r.text());
    return Object.fromEntries(
      [...text.matchAll(/^projection_lease_held\{projection="([^"]+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]),
    );
  };
  it('one active projector per projection, one nginx command at a time, and routes equal to the fold of the log', async () => {
    const containers = Array.from({ length: 8 }, () => s.container());
    let n = 0;
    const load = new Load(() => gateways[n++ % 2].url, containers);
    aborts.push(() => load.abort());
    load.start();
    await eventually(async () => load.acked.size >= 400, 120_000, 50);
    await load.stop();
    expect(load.unexpected).toEqual([]);

    const op = s.operator();
    const projections = async () => {
      const res = await fetch(`${gateways[0].url}/projections`, { headers: { authorization: `Bearer ${op}` } });
      return ((await res.json()) as { projections: { projection: string; events_behind: number; lease_owner: string }[] }).projections;
    };
    await eventually(async () => (await projections()).every((p) => p.events_behind === 0), 60_000, 100);

    // Each projection is driven by exactly one process (gateways and workers all run projector hosts).
    const held = await Promise.all([...gateways, ...workers].map(leaseHeld));
    const names = (await projections()).map((p) => p.projection);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect([name, held.reduce((sum, h) => sum + (h[name] ?? 0), 0)]).toEqual([name, 1]);

    // Every mapped service is live in the one nginx, and no two nginx commands ever overlapped.
    for (const c of containers) {
      await eventually(async () => (await readFile(nginx.mapPath, 'utf8')).includes(fqdnOf(c, 'web', DOMAIN)), 60_000, 100);
    }
    expect(existsSync(overlapFlag)).toBe(false);

    // Routing equals the fold of the log: one route per mapped service, at its last mapped port.
    const { rows: mapped } = await s.pool.query(
      `SELECT DISTINCT ON (stream_id) data->>'container_id' AS id, (data->>'port')::int AS port FROM events
        WHERE event_type = 'user-container:http-service-mapped' AND data->>'container_id' = ANY($1) ORDER BY stream_id, global_position DESC`,
      [containers.map((c) => c.containerId)],
    );
    const { rows: routes } = await s.pool.query(`SELECT container_id::text AS id, port FROM routes WHERE service = 'web' ORDER BY 1`);
    expect(routes).toEqual(mapped.sort((x, y) => x.id.localeCompare(y.id)));
    loaded = containers;
  }, 300_000);

  it('health rows equal the fold of the log (every watchdog once; first and last from server time)', async () => {
    const containers = loaded;
    expect(containers.length).toBeGreaterThan(0);
    const { rows: truth } = await s.pool.query(
      `SELECT data->>'container_id' AS id, count(*) FILTER (WHERE event_type = 'user-container:watchdog')::int AS watchdogs,
              min((metadata->>'received_at')::timestamptz) AS first,
              max((metadata->>'received_at')::timestamptz) FILTER (WHERE event_type = 'user-container:watchdog') AS last
         FROM events WHERE data->>'container_id' = ANY($1) GROUP BY 1`,
      [containers.map((c) => c.containerId)],
    );
    const { rows: health } = await s.pool.query(
      `SELECT container_id::text AS id, watchdogs::int, created_at AS first, last_watchdog_at AS last FROM container_health`,
    );
    const byId = (rows: { id: string; watchdogs: number; first: Date; last: Date }[]) =>
      Object.fromEntries(
        rows.map((r) => [r.id, { watchdogs: r.watchdogs, first: new Date(r.first).toISOString(), last: new Date(r.last).toISOString() }]),
      );
    expect(byId(health)).toEqual(byId(truth));
  });

  it('one process projecting the same log from scratch gets the same read models, row by row', async () => {
    const tables: Record<string, string> = {
      container_health: 'container_id',
      container_health_samples: 'container_id, bucket',
      routing_containers: 'container_id',
      routes: 'fqdn',
    };
    const snapshot = async () => {
      const out: Record<string, string[]> = {};
      for (const [table, key] of Object.entries(tables))
        out[table] = (await s.pool.query(`SELECT t::text AS row FROM ${table} t ORDER BY ${key}`)).rows.map((r) => r.row);
      return out;
    };
    const several = await snapshot();
    expect(several.routes.length).toBeGreaterThan(0);
    // Every projector host stops; the read models and their checkpoints are emptied; one gateway
    // alone projects the whole log again.
    for (const p of [...gateways.splice(0), ...workers.splice(0)]) await p.stop();
    await s.pool.query(`TRUNCATE ${Object.keys(tables).join(', ')}`);
    await s.pool.query(
      `UPDATE projections SET transaction_id = '0', global_position = 0, last_event_at = NULL, lease_owner = NULL, lease_expires_at = NULL`,
    );
    const one = await s.spawn('gateway');
    gateways.push(one);
    const op = s.operator();
    await eventually(
      async () => {
        const res = await fetch(`${one.url}/projections`, { headers: { authorization: `Bearer ${op}` } });
        const p = ((await res.json()) as { projections: { events_behind: number }[] }).projections;
        return p.length > 0 && p.every((x) => x.events_behind === 0);
      },
      60_000,
      100,
    );
    const single = await snapshot();
    for (const table of Object.keys(tables)) expect([table, single[table]]).toEqual([table, several[table]]);
  }, 180_000);
});
