import { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { prepareDatabase, poolOf } from '@app/database';
import { EventStore } from '@app/event-store';
import {
  compactWatchdogs,
  containerTimeline,
  ensurePartitionsAhead,
  listPartitions,
  utcDay,
  verifyChain,
  type AuditKeys,
} from '@app/audit';
import { seedLog } from '../../bench/seed-log';
import { createTestDatabase } from '../support/db';
import { newSigningKey, ops, sealAll } from '../support/audit';

jest.setTimeout(240_000);

const DAY = 86_400_000;

/** Retention: old raw watchdogs become per-container summaries; state changes and the chain stay. */
describe('audit retention', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let pool: Pool;
  let store: EventStore;
  let keys: AuditKeys;
  let pem: string;
  const oldDay = utcDay(Date.now() - 4 * DAY);

  const firstWatchdogStream = async () =>
    (await pool.query(`SELECT stream_id FROM events WHERE event_type = 'user-container:watchdog' ORDER BY global_position LIMIT 1`)).rows[0]
      .stream_id as string;
  const byType = async () =>
    Object.fromEntries(
      (await pool.query(`SELECT event_type, array_agg(event_id::text ORDER BY event_id) AS ids FROM events GROUP BY 1`)).rows.map((r) => [
        r.event_type,
        r.ids as string[],
      ]),
    );

  beforeAll(async () => {
    db = await createTestDatabase('audit_retention');
    ds = await prepareDatabase({ url: db.url, poolSize: 8, statementTimeoutMs: 60_000, createIfMissing: false, migrate: true });
    pool = poolOf(ds);
    store = new EventStore(pool, { maxBatchEvents: 64, maxInFlight: 2 });
    ({ keys, pem } = newSigningKey());
    // Eight containers with a day of watchdogs every 15 s, four days ago; a few unhealthy ones.
    await seedLog(pool, { containers: 8, watchdogs: 5_700, intervalS: 15, start: Date.parse(`${oldDay}T00:00:00Z`) });
    // A silence of ten minutes in one container's day (made before sealing), then watchdogs again:
    // the first after it ends a silence and must stay.
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL collab.allow_event_rewrite = 'on'`);
      await c.query(
        `DELETE FROM events WHERE global_position IN (SELECT global_position FROM events WHERE stream_id = $1 ORDER BY stream_version OFFSET 3000 LIMIT 40)`,
        [await firstWatchdogStream()],
      );
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    // And today's life of the same containers: recent events are never compacted.
    await store.append('watchdog-recent', [
      { type: 'user-container:watchdog', data: { container_id: '00000000-0000-4000-8000-000000000001' } },
    ]);
    await ensurePartitionsAhead(pool, 2);
    await sealAll(pool, store, keys, 5_000);
  });

  afterAll(async () => {
    await store?.close();
    await ds?.destroy();
    await db?.drop();
  });

  it('compacts old raw watchdogs into summaries, keeps every state change and health transition, and verify still passes', async () => {
    const before = await byType();
    const watchdogsBefore = before['user-container:watchdog'].length;
    const transitionsBefore = (await containerTimeline(
      pool,
      (await pool.query(`SELECT data->>'container_id' AS c FROM events WHERE event_type = 'user-container:registered' LIMIT 1`)).rows[0].c,
    ))!.items;

    const [result, ...more] = await compactWatchdogs(pool, keys, { retentionDays: 2, keepAfterSilenceMs: 30_000, vacuumFull: true });
    expect(more).toEqual([]);
    expect(result).toMatchObject({
      day: oldDay,
      partition: `events_p${oldDay.replace(/-/g, '')}`,
      watchdogs: 8 * 5_700 - 40,
      containers: 8,
    });
    expect(result.removed).toBeGreaterThan(8 * 5_600);
    expect(result.kept).toBe(8 * 5_700 - 40 - result.removed);
    expect(result.bytes_after).toBeLessThan(result.bytes_before / 5);

    const after = await byType();
    for (const [type, ids] of Object.entries(before)) {
      if (type !== 'user-container:watchdog') expect([type, after[type]]).toEqual([type, ids]);
    }
    expect(after['user-container:watchdog'].length).toBe(watchdogsBefore - result.removed);
    const afterSilence = await pool.query(`SELECT 1 FROM events WHERE stream_id = $1 AND stream_version = 3040`, [
      await firstWatchdogStream(),
    ]);
    expect(afterSilence.rowCount).toBe(1);
    // Summaries: one per container and day, counting every raw watchdog of it.
    const summaries = (await pool.query(`SELECT watchdogs, unhealthy, day::text AS day FROM watchdog_summaries ORDER BY container_id`))
      .rows;
    expect(summaries).toHaveLength(8);
    expect(summaries.map((s) => s.day)).toEqual(Array(8).fill(oldDay));
    expect(summaries.reduce((n, s) => n + s.watchdogs, 0)).toBe(8 * 5_700 - 40);
    expect(summaries.reduce((n, s) => n + s.unhealthy, 0)).toBeGreaterThan(0);
    // The timeline reads the same: the watchdogs that changed health were kept.
    const transitionsAfter = (await containerTimeline(pool, (transitionsBefore[0].data as { container_id: string }).container_id))!.items;
    expect(transitionsAfter.map((i) => [i.position, i.summary])).toEqual(transitionsBefore.map((i) => [i.position, i.summary]));

    const v = await verifyChain(pool, keys);
    expect(v).toMatchObject({ ok: true, compacted: result.removed, compactions: 1, sealed: watchdogsBefore + 8 * 4 });
    const cli = await ops(['verify', '--json'], { DATABASE_URL: db.url, AUDIT_SIGNING_KEY: pem });
    expect(cli.code).toBe(0);

    // Once per day: a second run finds nothing to do.
    expect(await compactWatchdogs(pool, keys, { retentionDays: 2, keepAfterSilenceMs: 30_000, vacuumFull: false })).toEqual([]);
    // Today's partition was not touched.
    expect((await pool.query(`SELECT count(*)::int AS n FROM events WHERE stream_id = 'watchdog-recent'`)).rows[0].n).toBe(1);
    expect((await listPartitions(pool)).map((p) => p.day)).toEqual(
      expect.arrayContaining([utcDay(Date.now()), utcDay(Date.now() + 2 * DAY)]),
    );
  });

  it('a seal passed off as compacted (its event deleted by hand) breaks the signed compaction', async () => {
    const victim = (
      await pool.query(
        `SELECT s.global_position::text AS p FROM audit_seals s JOIN events e ON e.global_position = s.global_position
        WHERE s.compaction_id IS NULL AND e.event_type = 'user-container:watchdog' ORDER BY s.seq LIMIT 1`,
      )
    ).rows[0].p;
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL collab.allow_event_rewrite = 'on'`);
      await c.query(`DELETE FROM events WHERE global_position = $1`, [victim]);
      await c.query(`UPDATE audit_seals SET compaction_id = (SELECT min(id) FROM audit_compactions) WHERE global_position = $1`, [victim]);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    const v = await verifyChain(pool, keys);
    expect(v.ok).toBe(false);
    expect(v.problem).toMatchObject({ kind: 'compaction-invalid' });
  });
});
