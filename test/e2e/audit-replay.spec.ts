import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { loadConfig } from '@app/config';
import { prepareDatabase, poolOf } from '@app/database';
import { EventStore } from '@app/event-store';
import { containerStream, SERVICE_MAPPED, SERVICE_UNMAPPED, WATCHDOG, watchdogStream } from '@app/container-events';
import { HEALTH_LAPSED } from '@app/health';
import { Projector, rebuildProjections } from '@app/projections';
import { replayableProjections } from '../../apps/ops/src/commands/replay.command';
import { seedLog } from '../../bench/seed-log';
import { createTestDatabase } from '../support/db';
import { caughtUp as caughtUpOn, READ_MODEL_TABLES, snapshot as snapshotOf } from '../support/read-models';
import { testEnv } from '../support/gateway';
import { ops } from '../support/audit';

jest.setTimeout(240_000);

/** `ops replay` while events keep arriving and the live projectors run. */
describe('ops replay', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let pool: Pool;
  let store: EventStore;
  let projectors: Projector[];
  let env: Record<string, string>;
  const config = () => loadConfig(env);

  beforeAll(async () => {
    db = await createTestDatabase('audit_replay');
    env = testEnv(db.url, 'replay') as Record<string, string>;
    ds = await prepareDatabase({ url: db.url, poolSize: 10, statementTimeoutMs: 60_000, createIfMissing: false, migrate: true });
    pool = poolOf(ds);
    store = new EventStore(pool, { maxBatchEvents: 128, maxInFlight: 2 });
    await seedLog(pool, { containers: 60, watchdogs: 200, intervalS: 15, start: Date.now() - 3 * 3_600_000 });
    projectors = Object.values(replayableProjections(config())).map(
      (p) => new Projector(pool, store, p, { owner: 'live', batchSize: 500, pollMs: 10, leaseMs: 10_000 }),
    );
    for (const p of projectors) await p.start();
  });

  afterAll(async () => {
    for (const p of projectors ?? []) await p.stop();
    await store?.close();
    await ds?.destroy();
    await db?.drop();
  });

  const caughtUp = () => caughtUpOn(pool, ['health', 'routing'], 120_000);
  const snapshot = () => snapshotOf(pool);

  /** Live ingest until stopped: watchdogs (some unhealthy), services mapped and unmapped, lapses. */
  function ingest(): { stop: () => Promise<number> } {
    let running = true;
    let n = 0;
    const containers = Array.from({ length: 30 }, () => ({ id: randomUUID(), org: randomUUID(), project: randomUUID() }));
    const done = (async () => {
      while (running) {
        await Promise.all(
          containers.map((c, i) => {
            const base = { container_id: c.id, org_id: c.org, project_id: c.project };
            const at = { received_at: new Date().toISOString() };
            n++;
            const r = (n * 7919 + i) % 100;
            if (r < 80)
              return store.append(watchdogStream(c.id), [
                {
                  type: WATCHDOG,
                  data: { ...base, system: { cpu: { usage: `${r / 50}, 0.5` } }, services: [{ name: 'web', healthy: r % 9 !== 0 }] },
                  metadata: at,
                },
              ]);
            if (r < 90)
              return store.append(containerStream(c.id), [
                { type: SERVICE_MAPPED, data: { ...base, name: `s${r % 3}`, port: 8000 + (r % 3) }, metadata: at },
              ]);
            if (r < 95)
              return store.append(containerStream(c.id), [{ type: SERVICE_UNMAPPED, data: { ...base, name: `s${r % 3}` }, metadata: at }]);
            return store.append(containerStream(c.id), [
              {
                type: HEALTH_LAPSED,
                data: { ...base, status: 'offline', last_seen_at: new Date(Date.now() - 60_000).toISOString() },
                metadata: at,
              },
            ]);
          }),
        );
      }
    })();
    return {
      stop: async () => {
        running = false;
        await done;
        return n;
      },
    };
  }

  it('a replay during live ingest leaves the projections equal to a from-scratch build', async () => {
    await caughtUp();
    const writer = ingest();
    const replay = await ops(['replay', 'all', '--json', '--batch', '2000'], env);
    const written = await writer.stop();
    expect({ code: replay.code, stderr: replay.code ? replay.stderr : '' }).toEqual({ code: 0, stderr: '' });
    const out = JSON.parse(replay.stdout);
    expect(out.results.map((r: { projection: string }) => r.projection)).toEqual(['health', 'routing']);
    for (const r of out.results) {
      expect(r.events).toBeGreaterThanOrEqual(60 * 204);
      expect(r.events_per_s).toBeGreaterThan(0);
    }
    // Progress went to stderr as plain lines (no terminal here).
    expect(replay.stderr).toMatch(/replay health\+routing [\d,]+\/[\d,]+ events \([\d.]+%\), [\d,]+ events\/s, ETA/);
    expect(written).toBeGreaterThan(0);

    await caughtUp();
    const live = await snapshot();
    expect(live.container_health.length).toBe(90);
    expect(live.routes.length).toBeGreaterThan(60);

    await rebuildProjections(pool, store, Object.values(replayableProjections(config())), 5_000);
    await caughtUp();
    const scratch = await snapshot();
    for (const table of Object.keys(READ_MODEL_TABLES)) expect([table, live[table]]).toEqual([table, scratch[table]]);
  });

  it('refuses unknown projections and the seal, with exit code 2', async () => {
    const bad = await ops(['replay', 'audit-seal'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown projection "audit-seal"');
    expect((await ops(['replay'], env)).code).toBe(2);
    expect((await ops(['replay', 'health', '--batch', '0'], env)).code).toBe(2);
  });
});
