import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { prepareDatabase, poolOf } from '@app/database';
import { EventStore, NewEvent } from '@app/event-store';
import { containerStream, SERVICE_MAPPED, SERVICE_UNMAPPED, WATCHDOG, watchdogStream } from '@app/container-events';
import { Projection, Projector, rebuildProjection } from '@app/projections';
import { HEALTH_LAPSED, HealthProjection } from '@app/health';
import { DELETED, REGISTERED, VPN_ADDRESS_ASSIGNED as VPN_ASSIGNED, VPN_ADDRESS_RELEASED as VPN_RELEASED } from '@app/onboarding';
import { RoutingProjection } from '@app/routing';
import { createTestDatabase } from '../support/db';
import { caughtUp as caughtUpOn, READ_MODEL_TABLES, snapshot as snapshotOf } from '../support/read-models';

jest.setTimeout(120_000);

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('rebuilding projections', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let pool: Pool;
  let store: EventStore;
  const routesChanged: string[] = [];
  const healthChanges: unknown[] = [];
  const live = {
    health: new HealthProjection({ bucketS: 60, retentionH: 48, onChanges: (c) => void healthChanges.push(...c) }),
    routing: new RoutingProjection({
      domain: 'collab.test',
      restoreWatchdogs: 2,
      listener: { routesChanged: async (r) => void routesChanged.push(r) },
    }),
  };
  // The rebuilds use projections whose side effects fail loudly if ever called.
  const forRebuild: Record<string, Projection> = {
    health: new HealthProjection({
      bucketS: 60,
      retentionH: 48,
      onChanges: () => {
        throw new Error('health changes published during a rebuild');
      },
    }),
    routing: new RoutingProjection({
      domain: 'collab.test',
      restoreWatchdogs: 2,
      listener: {
        routesChanged: () => {
          throw new Error('ROUTES_CHANGED during a rebuild');
        },
      },
    }),
  };
  let projectors: Projector[];

  beforeAll(async () => {
    db = await createTestDatabase('rebuild');
    ds = await prepareDatabase({ url: db.url, poolSize: 12, statementTimeoutMs: 30_000, createIfMissing: false, migrate: true });
    pool = poolOf(ds);
    store = new EventStore(pool, { maxBatchEvents: 512, maxInFlight: 2 });
    projectors = Object.values(live).map(
      (p) => new Projector(pool, store, p, { owner: 'live', batchSize: 97, pollMs: 10, leaseMs: 5_000 }),
    );
    for (const p of projectors) await p.start();
  });

  afterAll(async () => {
    for (const p of projectors) await p.stop();
    await store.close();
    await ds.destroy();
    await db.drop();
  });

  /** Thousands of mixed events over `n` containers, in a plausible order per container. */
  function generate(n: number, steps: number, seed: number): { stream: string; event: NewEvent }[] {
    const rand = rng(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const orgs = [randomUUID(), randomUUID()];
    const projects = [randomUUID(), randomUUID(), randomUUID()];
    let clock = Date.parse('2026-11-01T00:00:00Z');
    const containers = Array.from({ length: n }, () => ({
      container_id: randomUUID(),
      org_id: pick(orgs),
      project_id: pick(projects),
      lastSeen: null as string | null,
      deleted: false,
    }));
    const out: { stream: string; event: NewEvent }[] = [];
    const push = (c: (typeof containers)[number], stream: string, type: string, data: Record<string, unknown>) => {
      clock += Math.floor(rand() * 4_000);
      out.push({
        stream,
        event: {
          type,
          data: { container_id: c.container_id, org_id: c.org_id, project_id: c.project_id, ...data },
          metadata: { received_at: new Date(clock).toISOString() },
        },
      });
      return new Date(clock).toISOString();
    };
    for (const c of containers) {
      push(c, containerStream(c.container_id), REGISTERED, {
        image_id: 'jupyterlab',
        display_name: 'nb',
        gateway_node: pick(['gw-1', 'gw-2']),
      });
      if (rand() < 0.8)
        push(c, containerStream(c.container_id), VPN_ASSIGNED, {
          gateway_node: 'gw-1',
          address: `10.8.${Math.floor(rand() * 250)}.${2 + Math.floor(rand() * 250)}`,
        });
    }
    for (let i = 0; i < steps; i++) {
      const c = pick(containers);
      const r = rand();
      const cs = containerStream(c.container_id);
      if (r < 0.7) {
        const t = push(c, watchdogStream(c.container_id), WATCHDOG, {
          system: {
            cpu: { usage: `${(rand() * 4).toFixed(2)}, 0.5 `, count: '2' },
            memory: { free: Math.floor(rand() * 4000), total: 4000 },
            disk: { size: '252G', usage: `${(rand() * 100).toFixed(2)}%` },
            network: { ping_time: rand() < 0.5 ? ' ms' : `rtt min/avg/max/mdev = 0.1/${(rand() * 5).toFixed(3)}/0.9/0.1 ms` },
          },
          services: rand() < 0.2 ? [{ name: 'jupyter', healthy: rand() < 0.5 }] : undefined,
        });
        c.lastSeen = t;
      } else if (r < 0.8) {
        push(c, cs, SERVICE_MAPPED, { name: pick(['jupyter', 'pgadmin', 'n8n', 'terminal']), port: pick([8888, 5050, 5678, 7681, 8080]) });
      } else if (r < 0.85) {
        push(c, cs, SERVICE_UNMAPPED, { name: pick(['jupyter', 'pgadmin', 'n8n', 'terminal']) });
      } else if (r < 0.95) {
        push(c, cs, HEALTH_LAPSED, { status: pick(['stale', 'offline']), last_seen_at: c.lastSeen });
      } else if (r < 0.97) {
        push(c, cs, VPN_RELEASED, { address: '10.8.0.2' });
        push(c, cs, VPN_ASSIGNED, { gateway_node: 'gw-2', address: `10.9.0.${2 + Math.floor(rand() * 250)}` });
      } else if (r < 0.975 && !c.deleted) {
        c.deleted = true;
        push(c, cs, DELETED, { reason: 'test' });
      }
    }
    return out;
  }

  async function appendAll(items: { stream: string; event: NewEvent }[]) {
    // Concurrent appends: group commits interleave streams, as under real load.
    for (let i = 0; i < items.length; i += 50) {
      await Promise.all(items.slice(i, i + 50).map((x) => store.append(x.stream, [x.event])));
    }
  }

  const caughtUp = () => caughtUpOn(pool);
  const snapshot = () => snapshotOf(pool);

  it('a rebuilt projection equals the incrementally built one, row by row, and fires no side effects', async () => {
    const items = generate(60, 4_000, 42);
    await appendAll(items);
    await caughtUp();
    const incremental = await snapshot();
    expect(incremental.container_health).toHaveLength(60);
    expect(incremental.routes.length).toBeGreaterThan(20);
    expect(incremental.container_health_samples.length).toBeGreaterThan(100);
    expect(routesChanged.length).toBeGreaterThan(0);
    const calls = routesChanged.length;
    // Damage the live tables: a rebuild recomputes from the log, so the damage must disappear.
    await pool.query(
      `UPDATE container_health SET watchdogs = watchdogs + 1000 WHERE container_id = (SELECT container_id FROM container_health ORDER BY container_id LIMIT 1)`,
    );
    await pool.query(`DELETE FROM routes WHERE fqdn = (SELECT min(fqdn) FROM routes)`);

    for (const name of ['health', 'routing']) {
      const result = await rebuildProjection(pool, store, forRebuild[name], 333);
      expect(result.events).toBeGreaterThanOrEqual(items.length);
    }
    await caughtUp();
    const rebuilt = await snapshot();
    for (const table of Object.keys(READ_MODEL_TABLES)) expect([table, rebuilt[table]]).toEqual([table, incremental[table]]);
    expect(routesChanged.length).toBe(calls);
    // The swapped-in tables carry the migrated names of their indexes and constraints.
    const names = async () =>
      (
        await pool.query(
          `SELECT indexname FROM pg_indexes WHERE tablename IN ('routes', 'container_health', 'container_health_samples', 'routing_containers') ORDER BY 1`,
        )
      ).rows.map((r) => r.indexname);
    expect(await names()).toEqual(
      expect.arrayContaining([
        'routes_pkey',
        'routes_container_service_uq',
        'routes_org_idx',
        'routes_gateway_idx',
        'container_health_pkey',
        'container_health_scope_idx',
        'container_health_samples_pkey',
      ]),
    );
    // ...and the live tables' storage parameters (the health writes' room for HOT updates).
    const { rows: options } = await pool.query(
      `SELECT relname, reloptions FROM pg_class WHERE relname IN ('container_health', 'container_health_samples') ORDER BY 1`,
    );
    expect(options).toEqual([
      { relname: 'container_health', reloptions: ['fillfactor=50'] },
      { relname: 'container_health_samples', reloptions: ['fillfactor=70'] },
    ]);
    // The fresh tables replaced the old ones: nothing left behind.
    const { rows } = await pool.query(
      `SELECT tablename FROM pg_tables WHERE tablename LIKE '%\\_\\_rb\\_%' OR tablename LIKE '%\\_\\_old\\_%'`,
    );
    expect(rows).toEqual([]);
  });

  it('rebuilds while events keep arriving: the live projection keeps serving, then continues on the swapped tables', async () => {
    const more = generate(30, 2_000, 7);
    const writer = appendAll(more);
    // Serving during the rebuild: reads of the live tables answer.
    const reads = (async () => {
      let n = 0;
      while (n < 20) {
        await pool.query(`SELECT count(*) FROM container_health`);
        await pool.query(`SELECT count(*) FROM routes`);
        n++;
      }
      return n;
    })();
    await Promise.all([rebuildProjection(pool, store, forRebuild.health, 250), rebuildProjection(pool, store, forRebuild.routing, 250)]);
    await writer;
    expect(await reads).toBe(20);
    await caughtUp();
    const continued = await snapshot();
    await rebuildProjection(pool, store, forRebuild.health, 1000);
    await rebuildProjection(pool, store, forRebuild.routing, 1000);
    await caughtUp();
    const replayed = await snapshot();
    for (const table of Object.keys(READ_MODEL_TABLES)) expect([table, continued[table]]).toEqual([table, replayed[table]]);
    expect(continued.container_health).toHaveLength(90);
  });
});
