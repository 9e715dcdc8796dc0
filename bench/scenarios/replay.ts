import { loadConfig } from '@app/config';
import { prepareDatabase, poolOf } from '@app/database';
import { createTestDatabase } from '../../test/support/db';
import { Measured, measureLogRead, measureLogRender, measureReplays, seedLog, waitUntilVisible } from '../seed-log';
import { BenchContext, Row } from '../lib/context';

const perS = (rate: number) => `${Math.round(rate).toLocaleString('en')}/s`;

/**
 * `ops replay` (rebuild into fresh tables, then swap) of health and routing from a realistic log
 * of its own database (bench/seed-log.ts: a fleet's life and its watchdogs every 15 s), each
 * projection alone and both in one pass over the log. Beside them, what any replay costs at least
 * on the same machine minutes apart: the log read alone (measureLogRead) and PostgreSQL alone
 * rendering it (measureLogRender).
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
    // The ceilings before and after the replays: the machine's speed drifts within a run, and
    // the faster of the two reads is what the replays are compared with.
    const before = await measureLogRead(pool);
    const render = await measureLogRender(pool);
    const replays = await measureReplays(pool, loadConfig({ ...ctx.env, DATABASE_URL: db.url }));
    const after = await measureLogRead(pool);
    const rateOf = (r: { events: number; seconds: number }) => r.events / r.seconds;
    // CPU µs per event: Node (this process runs the replay) and PostgreSQL (the database's backends).
    const cpu = (r: Measured) => ({
      node: Math.round((r.cpu_s.node * 1e6) / r.events),
      postgres: Math.round((r.cpu_s.postgres * 1e6) / r.events),
    });
    const fmtCpu = (r: Measured) => `CPU per event Node ${cpu(r).node} + PostgreSQL ${cpu(r).postgres} µs`;
    const readRate = Math.max(rateOf(before), rateOf(after));
    for (const r of replays) {
      const rate = rateOf(r);
      rows.push({
        scenario: `replay ${r.name} from ${events.toLocaleString('en')} events`,
        figure: 'events/s, rebuild into fresh tables + swap',
        value: `${perS(rate)} (${r.seconds.toFixed(1)} s) = ${(rate / readRate).toFixed(2)} x the faster read alone; ${fmtCpu(r)}`,
        target: '>= 50,000/s',
        met: rate >= 50_000,
        data: { events: r.events, seconds: r.seconds, containers, of_read: +(rate / readRate).toFixed(3), cpu_us_per_event: cpu(r) },
      });
    }
    rows.push({
      scenario: `replay, ceiling (${events.toLocaleString('en')} events)`,
      figure: 'the log read alone: JSON pages of 10,000 events read and parsed, nothing applied (before / after the replays)',
      value: `${perS(rateOf(before))} / ${perS(rateOf(after))}; ${fmtCpu(before)} / ${cpu(after).node} + ${cpu(after).postgres} µs`,
      target: 'printed',
      met: null,
      data: { before: { ...before, cpu_us_per_event: cpu(before) }, after: { ...after, cpu_us_per_event: cpu(after) } },
    });
    rows.push({
      scenario: `replay, ceiling (${events.toLocaleString('en')} events)`,
      figure: "PostgreSQL alone: one backend renders every event's columns as text, nothing sent",
      value: `${perS(rateOf(render))} (${render.seconds.toFixed(1)} s)`,
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
