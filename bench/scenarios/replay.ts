import { loadConfig } from '@app/config';
import { prepareDatabase, poolOf } from '@app/database';
import { createTestDatabase } from '../../test/support/db';
import { measureLogReads, measureReplays, seedLog, waitUntilVisible } from '../seed-log';
import { BenchContext, Row } from '../lib/context';

const perS = (rate: number) => `${Math.round(rate).toLocaleString('en')}/s`;

/**
 * `ops replay` (rebuild into fresh tables, then swap) of health and routing from a realistic log
 * of its own database (bench/seed-log.ts: a fleet's life and its watchdogs every 15 s), each
 * projection alone and both in one pass over the log.
 * Beside them, what any replay costs at least on the same machine minutes apart (measureLogReads):
 * the log read alone, and PostgreSQL alone rendering it.
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
    await waitUntilVisible(pool, events);
    // The ceilings first, so that the replays' ratios compare with the same machine minutes later.
    const [read, render] = await measureLogReads(pool);
    const readRate = read.events / read.seconds;
    for (const r of await measureReplays(pool, loadConfig({ ...ctx.env, DATABASE_URL: db.url }))) {
      const rate = r.events / r.seconds;
      rows.push({
        scenario: `replay ${r.name} from ${events.toLocaleString('en')} events`,
        figure: 'events/s, rebuild into fresh tables + swap',
        value: `${perS(rate)} (${r.seconds.toFixed(1)} s) = ${(rate / readRate).toFixed(2)} x the log read alone`,
        target: '>= 50,000/s',
        met: rate >= 50_000,
        data: { events: r.events, seconds: r.seconds, containers, of_read: +(rate / readRate).toFixed(3) },
      });
    }
    rows.push({
      scenario: `replay, ceiling (${events.toLocaleString('en')} events)`,
      figure: 'the log read alone: JSON pages of 10,000 events read and parsed, nothing applied',
      value: `${perS(readRate)} (${read.seconds.toFixed(1)} s)`,
      target: 'printed',
      met: null,
      data: read,
    });
    rows.push({
      scenario: `replay, ceiling (${events.toLocaleString('en')} events)`,
      figure: "PostgreSQL alone: one backend renders every event's columns as text, nothing sent",
      value: `${perS(render.events / render.seconds)} (${render.seconds.toFixed(1)} s)`,
      target: 'printed',
      met: null,
      data: render,
    });
  } finally {
    await ds.destroy();
    await db.drop();
  }
  return rows;
}
