import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { loadConfig } from '@app/config';
import { prepareDatabase, poolOf } from '@app/database';
import { EventStore } from '@app/event-store';
import { HEALTH_LAPSED, HealthSweeper } from '@app/health';
import { createTestDatabase } from '../support/db';
import { testEnv } from '../support/gateway';

jest.setTimeout(30_000);

/** 100 lapses/s in a 1 s sweep period: at most 50 per sweep, in chunks of 10 every 100 ms. */
const SETTINGS = { HEALTH_LAPSES_PER_S: '100', HEALTH_SWEEP_EVERY_MS: '1000', HEALTH_WATCHDOG_INTERVAL_MS: '1000' };

describe('the health sweeper paces its lapses', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let pool: Pool;
  let sweeper: HealthSweeper;
  const silent = Array.from({ length: 80 }, () => randomUUID());

  beforeAll(async () => {
    db = await createTestDatabase('health_sweeper');
    const config = loadConfig(testEnv(db.url, 'sweeper', SETTINGS));
    ds = await prepareDatabase({ ...config.database, migrate: true });
    pool = poolOf(ds);
    sweeper = new HealthSweeper(pool, new EventStore(pool, { maxBatchEvents: 512, maxInFlight: 2 }), config);
    // 80 containers silent for a minute and 5 still talking (so it is no fleet-wide outage), a
    // health projector holding its lease, a sweeper listening for a day.
    const row = (id: string, lastMs: number) => ({
      container_id: id,
      org_id: randomUUID(),
      project_id: randomUUID(),
      gateway_node: 'default',
      display_name: null,
      status: 'healthy',
      deleted: false,
      last_watchdog_at: new Date(Date.now() - lastMs).toISOString(),
      stats: {},
      services: [],
      watchdogs: 1,
      status_since: new Date(Date.now() - 86_400_000).toISOString(),
      created_at: new Date(Date.now() - 86_400_000).toISOString(),
      updated_at: new Date().toISOString(),
      updated_position: 0,
    });
    const rows = [...silent.map((id) => row(id, 60_000)), ...Array.from({ length: 5 }, () => row(randomUUID(), 0))];
    await pool.query(`INSERT INTO container_health SELECT * FROM jsonb_populate_recordset(null::container_health, $1::jsonb)`, [
      JSON.stringify(rows),
    ]);
    await pool.query(`INSERT INTO projections (name, lease_owner, lease_acquired_at, lease_expires_at)
                      VALUES ('health', 'test', now() - interval '1 day', now() + interval '1 hour')
                      ON CONFLICT (name) DO UPDATE SET lease_owner = 'test', lease_acquired_at = now() - interval '1 day',
                        lease_expires_at = now() + interval '1 hour'`);
    await pool.query(`INSERT INTO health_sweeper (id, last_run_at, watching_since) VALUES (1, now(), now() - interval '1 day')`);
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const lapses = async () =>
    (
      await pool.query<{ id: string; at: Date }>(
        `SELECT data->>'container_id' AS id, recorded_at AS at FROM events WHERE event_type = $1 ORDER BY global_position`,
        [HEALTH_LAPSED],
      )
    ).rows;

  it('appends what its rate allows per sweep, spread over the sweep, and leaves the rest to the next sweep', async () => {
    const first = await sweeper.sweep();
    expect(first).toMatchObject({ outcome: 'swept', stale: 50, offline: 0 });
    const after1 = await lapses();
    expect(after1).toHaveLength(50);
    // Five chunks of ten, each after the one before committed and at least 100 ms after it began.
    const times = after1.map((l) => l.at.getTime());
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(350);
    expect(new Set(times).size).toBeGreaterThanOrEqual(5);

    // The read model takes the first 50 lapses (as the health projector would): the next sweep lapses the other 30.
    await pool.query(`UPDATE container_health SET status = 'stale' WHERE container_id = ANY($1::uuid[])`, [after1.map((l) => l.id)]);
    const second = await sweeper.sweep();
    expect(second).toMatchObject({ outcome: 'swept', stale: 30 });
    const after2 = await lapses();
    expect(after2).toHaveLength(80);
    expect(new Set(after2.map((l) => l.id))).toEqual(new Set(silent));
  });
});
