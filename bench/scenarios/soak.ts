import { BenchContext, Row, tokensFile } from '../lib/context';
import { budget, measureTurn } from '../lib/cpu';
import { histogramBuckets, histogramQuantile } from '../lib/stats';
import { load } from './ingest';

const RATE = 3_000;
const WINDOW_S = 30;
const METRIC = 'projection_event_latency_seconds';

interface Window {
  at_s: number;
  accepted_per_s: number;
  ack_p99_ms: number;
  failures: number;
  lag_p99_ms: { health: number | null; routing: number | null };
  rss_mb: { gateway: number; worker: number };
  /** CPU µs per acknowledged event of each party in this window: which one's cost grows. */
  cpu_us_per_event: ReturnType<typeof budget>;
}

const avg = (ws: Window[], f: (w: Window) => number) => ws.reduce((n, w) => n + f(w), 0) / Math.max(1, ws.length);

/**
 * `npm run bench -- --soak`: 10 minutes (1 with --quick) of 3,000 watchdogs/s, one per request as
 * containers send them, in back-to-back windows of 30 s. Each window records the accepted rate,
 * the ack p99, the projection lag p99 (the worker's histogram) and both processes' RSS, so a
 * slow decay (a plan gone stale, a leak, a growing backlog) shows as a trend. Steady means: the
 * last quarter's rate within 5% of the first quarter's and of the offered rate, RSS in the second
 * half grown by less than 10% and under 300 MB, lag p99 of the last quarter no more than twice
 * the first quarter's (or under 100 ms).
 */
export async function soakScenario(ctx: BenchContext): Promise<Row[]> {
  const total = ctx.quick ? 60 : 600;
  const tokens = tokensFile(ctx, 5_000, 'soak');
  const scrape = () => fetch(`${ctx.workerUrl}/metrics`).then((r) => r.text());
  await load(ctx.gatewayUrl, tokens, 3, { connections: 64, rate: RATE });
  const windows: Window[] = [];
  const t0 = Date.now();
  let before = await scrape();
  while (Date.now() - t0 < total * 1000) {
    const turn = await measureTurn(ctx, ctx.gateway, () => load(ctx.gatewayUrl, tokens, WINDOW_S, { connections: 64, rate: RATE }));
    const r = turn.load;
    const after = await scrape();
    const lag = (p: string) => {
      const q = histogramQuantile(
        histogramBuckets(before, METRIC, ['projection', p]),
        histogramBuckets(after, METRIC, ['projection', p]),
        0.99,
      );
      return q ? Math.round(q.value * 1000) : null;
    };
    windows.push({
      at_s: Math.round((Date.now() - t0) / 1000),
      accepted_per_s: r.accepted_per_s,
      ack_p99_ms: r.latency_ms.p99,
      failures: r.non2xx + r.errors,
      lag_p99_ms: { health: lag('health'), routing: lag('routing') },
      rss_mb: { gateway: Math.round(ctx.gateway.rssMb()), worker: Math.round(ctx.worker.rssMb()) },
      cpu_us_per_event: budget([turn]),
    });
    before = after;
    const w = windows[windows.length - 1];
    process.stderr.write(
      `soak ${w.at_s}s: ${w.accepted_per_s}/s, ack p99 ${w.ack_p99_ms} ms, lag p99 ${w.lag_p99_ms.health}/${w.lag_p99_ms.routing} ms, RSS ${w.rss_mb.gateway}/${w.rss_mb.worker} MB, ` +
        `CPU µs/event gateway ${w.cpu_us_per_event.server} worker ${w.cpu_us_per_event.worker} PostgreSQL ${w.cpu_us_per_event.postgres} ` +
        `(${Object.entries(w.cpu_us_per_event.postgres_by)
          .map(([app, us]) => `${app} ${us}`)
          .join(', ')}) load ${w.cpu_us_per_event.load}\n`,
    );
  }
  const q = Math.max(1, Math.floor(windows.length / 4));
  const [first, last] = [windows.slice(0, q), windows.slice(-q)];
  const half = windows.slice(Math.floor(windows.length / 2));
  const rateFirst = avg(first, (w) => w.accepted_per_s);
  const rateLast = avg(last, (w) => w.accepted_per_s);
  const lagOf = (ws: Window[]) => avg(ws, (w) => Math.max(w.lag_p99_ms.health ?? 0, w.lag_p99_ms.routing ?? 0));
  const rss = (ws: Window[], k: 'gateway' | 'worker') => ws.map((w) => w.rss_mb[k]);
  const growth = (k: 'gateway' | 'worker') => Math.max(...rss(half, k)) / Math.max(1, rss(half, k)[0]) - 1;
  const maxRss = Math.max(...rss(windows, 'gateway'), ...rss(windows, 'worker'));
  const failures = windows.reduce((n, w) => n + w.failures, 0);
  const rateSteady = rateLast >= 0.95 * rateFirst && rateLast >= 0.95 * RATE && failures === 0;
  const lagSteady = lagOf(last) <= Math.max(100, 2 * lagOf(first));
  const rssSteady = growth('gateway') < 0.1 && growth('worker') < 0.1 && maxRss <= 300;
  const scenario = `soak: ${total / 60} min at ${RATE.toLocaleString('en')} watchdogs/s (64 connections)`;
  return [
    {
      scenario,
      figure: 'accepted/s, first / last quarter',
      value: `${Math.round(rateFirst)} / ${Math.round(rateLast)}/s (${failures} failures)`,
      target: 'steady, >= 95% of offered',
      met: rateSteady,
      data: { windows },
    },
    {
      scenario,
      figure: 'projection lag p99, first / last quarter',
      value: `${Math.round(lagOf(first))} / ${Math.round(lagOf(last))} ms`,
      target: 'steady (last <= 2 x first, or <= 100 ms)',
      met: lagSteady,
    },
    {
      scenario,
      figure: 'RSS gateway / worker, start -> end',
      value: `${windows[0].rss_mb.gateway} -> ${windows[windows.length - 1].rss_mb.gateway} / ${windows[0].rss_mb.worker} -> ${windows[windows.length - 1].rss_mb.worker} MB`,
      target: '<= 300 MB, < 10% growth over the second half',
      met: rssSteady,
    },
  ];
}
