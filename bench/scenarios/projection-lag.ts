import { BenchContext, Row, tokensFile } from '../lib/context';
import { budget, fmtBudget, measureTurn } from '../lib/cpu';
import { sleep } from '../lib/procs';
import { batchesBetween, histogramBuckets, histogramQuantile } from '../lib/stats';
import { load } from './ingest';

const RATE = 5_000;
const BATCH = 10;
const METRIC = 'projection_event_latency_seconds';

async function projectionsBehind(ctx: BenchContext): Promise<number> {
  const res = await fetch(`${ctx.gatewayUrl}/projections`, { headers: { authorization: `Bearer ${ctx.operatorToken}` } });
  const body = (await res.json()) as { projections?: { events_behind: number }[] } | { events_behind: number }[];
  const rows = Array.isArray(body) ? body : (body.projections ?? []);
  return rows.reduce((n, p) => n + Number(p.events_behind), 0);
}

/**
 * Sustained 5,000 watchdogs/s (posted in batches of 10, as containers flush queued events, so the
 * load generator is not what limits the rate; sent evenly over time, as a fleet posts) while the
 * worker's projectors follow the log. The latency is the worker's own histogram (recorded ->
 * projection committed), read before and after; the CPU every party spent per event beside it.
 */
export async function projectionLagScenario(ctx: BenchContext): Promise<Row[]> {
  const tokens = tokensFile(ctx, 5_000, 'lag');
  const seconds = ctx.quick ? 8 : 20;
  await load(ctx.gatewayUrl, tokens, 2, { connections: 16, rate: RATE / BATCH, batch: BATCH });
  const scrape = () => fetch(`${ctx.workerUrl}/metrics`).then((r) => r.text());
  const before = await scrape();
  const turn = await measureTurn(ctx, ctx.gateway, () =>
    load(ctx.gatewayUrl, tokens, seconds, { connections: 32, rate: RATE / BATCH, batch: BATCH }),
  );
  const result = turn.load;
  const loadEnd = Date.now();
  let caughtUpMs = 0;
  while ((await projectionsBehind(ctx)) > 0 && Date.now() - loadEnd < 60_000) await sleep(20);
  caughtUpMs = Date.now() - loadEnd;
  const after = await scrape();
  const rows: Row[] = [];
  for (const projection of ['health', 'routing']) {
    const b = histogramBuckets(before, METRIC, ['projection', projection]);
    const a = histogramBuckets(after, METRIC, ['projection', projection]);
    const p50 = histogramQuantile(b, a, 0.5);
    const p99 = histogramQuantile(b, a, 0.99);
    const { batches, events_per_batch: batchMean } = batchesBetween(before, after, projection);
    rows.push({
      scenario: `projection lag at ${RATE.toLocaleString('en')} events/s sustained (${projection})`,
      figure: 'commit -> read model p50 / p99',
      value: p99
        ? `${(p50!.value * 1000).toFixed(0)} / ${(p99.value * 1000).toFixed(0)} ms (${result.events_per_s}/s offered+accepted)`
        : 'no events projected',
      target: 'p99 <= 100 ms',
      met: !!p99 && p99.value <= 0.1 && result.events_per_s >= RATE * 0.95,
      data: {
        p50_s: p50?.value,
        p99_s: p99?.value,
        events: p99?.count,
        batches,
        events_per_batch: batchMean,
        load: result,
        caught_up_ms_after_load: caughtUpMs,
      },
    });
  }
  // At this rate the 2 cores are nearly busy (vmstat: 1-4% idle), so the lag's tail follows the CPU every event costs.
  const cpu = budget([turn]);
  rows.push({
    scenario: `projection lag at ${RATE.toLocaleString('en')} events/s sustained`,
    figure: `CPU per event (µs; requests of ${BATCH} events)`,
    value: fmtBudget(cpu, 'gateway'),
    target: 'printed',
    met: null,
    data: cpu,
  });
  return rows;
}
