import { loadConfig } from '@app/config';
import { prepareDatabase } from '@app/database';
import { EventStore, poolOf } from '@app/event-store';
import { rebuildProjections, REBUILD_PAGE_EVENTS } from '@app/projections';
import { replayableProjections } from '@app/audit';
import { createTestDatabase } from '../../test/support/db';
import { seedLog } from '../seed-log';
import { BenchContext, Row } from '../lib/context';
import { sleep } from '../lib/procs';

/**
 * `ops replay` (rebuild into fresh tables, then swap) of health and routing from a realistic log
 * of its own database (bench/seed-log.ts: a fleet's life and its watchdogs every 15 s), each
 * projection alone and both in one pass over the log.
 */
export async function replayScenario(ctx: BenchContext): Promise<Row[]> {
  const containers = ctx.quick ? 200 : 1_000;
  const target = ctx.quick ? 100_000 : 1_000_000;
  const db = await createTestDatabase('bench_replay');
  const ds = await prepareDatabase({ url: db.url, poolSize: 6, statementTimeoutMs: 600_000, createIfMissing: false, migrate: true });
  const pool = poolOf(ds);
  const rows: Row[] = [];
  try {
    const watchdogs = Math.ceil(target / containers) - 4;
    const events = await seedLog(pool, { containers, watchdogs, intervalS: 15, start: Date.now() - (watchdogs * 15 + 600) * 1000 });
    // The gap-safe reader sees an event once no older transaction is open anywhere on the server.
    while ((await pool.query(`SELECT count(*)::int AS n FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`)).rows[0].n < events) await sleep(200);
    const store = new EventStore(pool, { maxBatchEvents: 1, maxInFlight: 1 });
    const projections = replayableProjections(loadConfig({ ...ctx.env, DATABASE_URL: db.url }));
    for (const [name, list] of [['health', [projections.health]], ['routing', [projections.routing]], ['health + routing in one pass', [projections.health, projections.routing]]] as const) {
      const t = performance.now();
      const result = await rebuildProjections(pool, store, [...list], REBUILD_PAGE_EVENTS);
      const seconds = (performance.now() - t) / 1000;
      const rate = result[0].events / seconds;
      rows.push({
        scenario: `replay ${name} from ${events.toLocaleString('en')} events`,
        figure: 'events/s, rebuild into fresh tables + swap',
        value: `${Math.round(rate).toLocaleString('en')}/s (${seconds.toFixed(1)} s)`,
        target: '>= 50,000/s',
        met: rate >= 50_000,
        data: { events: result[0].events, seconds, containers },
      });
    }
  } finally {
    await ds.destroy();
    await db.drop();
  }
  return rows;
}
