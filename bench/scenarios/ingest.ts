import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { freePort } from '../../test/support/nginx';
import { BenchContext, LoadResult, Row, tokensFile } from '../lib/context';
import { budget, fmtBudget, measureTurn, type Turn } from '../lib/cpu';
import { BenchProcess, run, startProcess } from '../lib/procs';
import { appendBatchesBetween, batchesBetween, histogramBuckets, histogramQuantile } from '../lib/stats';

const CONNECTIONS = 64;
/** Requests/s of the fixed-rate turn (below either target's ceiling). */
const FIXED_RATE = 800;

export function load(
  url: string,
  tokens: string,
  seconds: number,
  opts: { connections?: number; rate?: number; batch?: number } = {},
): Promise<LoadResult> {
  const args = [
    'bench/watchdog-load.js',
    url,
    tokens,
    String(opts.connections ?? CONNECTIONS),
    String(seconds),
    String(opts.rate ?? 0),
    String(opts.batch ?? 1),
  ];
  return run(process.execPath, args).then((out) => JSON.parse(out) as LoadResult);
}

/**
 * Loads `url` for `seconds`, and again until every token has been posted once: a token's first
 * post is an ES256 check, which a fleet's steady state pays once per token per hour (the
 * verified-token cache). A warm-up that ended short of the token count left the rest of those
 * checks to the measured turns (on a slow machine moment, 13% of the gateway's busy time there).
 */
async function warmUp(url: string, tokens: string, seconds: number): Promise<void> {
  const count = (JSON.parse(readFileSync(tokens, 'utf8')) as unknown[]).length;
  // Each load starts again at the first token: one of them must cover the file, longer each try.
  for (let s = seconds; (await load(url, tokens, s)).accepted < count && s < 60; s *= 2);
}

async function countEvents(url: string): Promise<bigint> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    return BigInt((await pg.query(`SELECT count(*) AS n FROM events WHERE event_type = 'user-container:watchdog'`)).rows[0].n);
  } finally {
    await pg.end();
  }
}

/**
 * Events a projector beside the server has not applied yet: the worker's followers of the log
 * (health, routing, the sealer), or the minimal projector.
 */
const BEHIND_SQL = {
  worker: `SELECT (SELECT coalesce(max(global_position), 0) FROM events)
    - (SELECT min(global_position) FROM projections WHERE name IN ('health', 'routing', 'audit-seal')) AS n`,
  minimal: `SELECT (SELECT coalesce(max(id), 0) FROM bench_minimal_events) - (SELECT position FROM bench_minimal_checkpoint) AS n`,
};

/** A turn whose projector's catch-up after the load is part of it. */
export type ProjectedTurn = Turn & { behindAtEnd: number; catchUpMs: number };

/** Waits (up to 60 s) until the projector has applied every event; how far behind it was, and for how long. */
async function catchUp(url: string, sql: string): Promise<{ behindAtEnd: number; catchUpMs: number }> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const started = Date.now();
    const behind = async () => Number((await pg.query<{ n: string }>(sql)).rows[0].n);
    const behindAtEnd = await behind();
    for (let n = behindAtEnd; n > 0 && Date.now() - started < 60_000; n = await behind()) await sleep(20);
    return { behindAtEnd, catchUpMs: behindAtEnd > 0 ? Date.now() - started : 0 };
  } finally {
    await pg.end();
  }
}

/** One load run against `url`, with the CPU every party spent on it. */
const turn = (ctx: BenchContext, server: BenchProcess, url: string, tokens: string, seconds: number, rate = 0): Promise<Turn> =>
  measureTurn(ctx, server, () => load(url, tokens, seconds, { rate }));

/**
 * A load run with a projector beside the server, whose CPU (and its PostgreSQL's) is counted until
 * it has applied the run's last event: a projector that fell behind during the load pays for its
 * catch-up in the same turn.
 */
async function projectedTurn(
  ctx: BenchContext,
  server: BenchProcess,
  url: string,
  tokens: string,
  seconds: number,
  projector: { process: BenchProcess; behind: string },
): Promise<ProjectedTurn> {
  let caught = { behindAtEnd: 0, catchUpMs: 0 };
  const t = await measureTurn(
    ctx,
    server,
    async () => {
      const result = await load(url, tokens, seconds);
      caught = await catchUp(ctx.db.url, projector.behind);
      return result;
    },
    projector.process,
  );
  return { ...t, ...caught };
}

/**
 * A turn of the minimal durable ingest with the minimal projector (bench/minimal-projector.js)
 * beside it, started from the end of the log for this turn only.
 */
async function minimalProjectedTurn(
  ctx: BenchContext,
  minimal: BenchProcess,
  url: string,
  tokens: string,
  seconds: number,
): Promise<ProjectedTurn> {
  const port = await freePort();
  const projector = await startProcess(
    'minimal-projector',
    'bench/minimal-projector.js',
    { ...ctx.env, BARE_PORT: String(port) },
    `http://127.0.0.1:${port}/`,
  );
  try {
    return await projectedTurn(ctx, minimal, url, tokens, seconds, { process: projector, behind: BEHIND_SQL.minimal });
  } finally {
    await projector.stop();
  }
}

/** How far the projector was behind when each load ended, and how long it took to catch up (results.json). */
const caughtUpData = (turns: ProjectedTurn[]) =>
  turns.map(({ behindAtEnd, catchUpMs }) => ({ behind_at_end: behindAtEnd, catch_up_ms: catchUpMs }));

/** The same, said. */
const caughtUp = (turns: ProjectedTurn[]) =>
  `projector behind at the load's end ${turns.map((t) => `${t.behindAtEnd} events (caught up in ${t.catchUpMs} ms)`).join(', ')}`;

/** Seconds (a histogram quantile) as milliseconds, or "-" when nothing was observed. */
const fmtMs = (seconds: number | null) => (seconds === null ? '-' : (seconds * 1000).toFixed(1));

/** Mean of a figure over runs. */
const mean = <T>(rs: T[], f: (r: T) => number) => rs.reduce((n, r) => n + f(r), 0) / rs.length;

/**
 * Ingest against its ceilings, side by side: the bare Fastify + JWT endpoint, the minimal durable
 * ingest (the same check, group commit into a plain table, 202 after COMMIT) and the gateway take
 * turns under the same load generator (its own process), so all three see the same machine. The
 * worker projects and seals beside the gateway, as in production.
 */
export async function ingestScenario(ctx: BenchContext): Promise<Row[]> {
  const [barePort, minimalPort] = [await freePort(), await freePort()];
  const bare = await startProcess(
    'bare',
    'bench/bare-server.js',
    { ...ctx.env, BARE_PORT: String(barePort) },
    `http://127.0.0.1:${barePort}/health/live`,
  );
  const minimal = await startProcess(
    'minimal',
    'bench/durable-server.js',
    { ...ctx.env, BARE_PORT: String(minimalPort) },
    `http://127.0.0.1:${minimalPort}/health/live`,
  ).catch(async (err) => {
    await bare.stop();
    throw err;
  });
  const bareUrl = `http://127.0.0.1:${barePort}`;
  const minimalUrl = `http://127.0.0.1:${minimalPort}`;
  const tokens = tokensFile(ctx, 5_000, 'ingest');
  const seconds = ctx.quick ? 5 : 10;
  const rounds = ctx.quick ? 1 : 2;
  const runs: Record<'bare' | 'minimal', Turn[]> & Record<'projected' | 'gateway', ProjectedTurn[]> = {
    bare: [],
    minimal: [],
    projected: [],
    gateway: [],
  };
  try {
    // Warm-up (JIT, token cache, pools), not measured.
    await warmUp(ctx.gatewayUrl, tokens, 3);
    await warmUp(minimalUrl, tokens, 2);
    await warmUp(bareUrl, tokens, 2);
    const before = await countEvents(ctx.db.url);
    const scrape = (url = ctx.workerUrl) => fetch(`${url}/metrics`).then((r) => r.text());
    const pages: [string, string][] = [];
    const gatewayPages: [string, string][] = [];
    for (let r = 0; r < rounds; r++) {
      runs.bare.push(await turn(ctx, bare, bareUrl, tokens, seconds));
      runs.minimal.push(await turn(ctx, minimal, minimalUrl, tokens, seconds));
      runs.projected.push(await minimalProjectedTurn(ctx, minimal, minimalUrl, tokens, seconds));
      const [page, gatewayPage] = [await scrape(), await scrape(ctx.gatewayUrl)];
      runs.gateway.push(
        await projectedTurn(ctx, ctx.gateway, ctx.gatewayUrl, tokens, seconds, { process: ctx.worker, behind: BEHIND_SQL.worker }),
      );
      pages.push([page, await scrape()]);
      gatewayPages.push([gatewayPage, await scrape(ctx.gatewayUrl)]);
    }
    // The worker's batches during the gateway's turns (per-batch costs are what batching spreads).
    const workerBatches = Object.fromEntries(
      ['health', 'routing', 'audit-seal'].map((p) => [p, pages.map(([b, a]) => batchesBetween(b, a, p))]),
    );
    // CPU per event at one fixed rate that both can serve: unlike the saturated turns, not skewed by
    // how far each is from its ceiling on a machine shared with other work (smaller batches, more
    // switches when slower).
    const fixed = {
      minimal: await turn(ctx, minimal, minimalUrl, tokens, seconds, FIXED_RATE),
      gateway: await turn(ctx, ctx.gateway, ctx.gatewayUrl, tokens, seconds, FIXED_RATE),
    };
    const stored = (await countEvents(ctx.db.url)) - before;
    const gw = runs.gateway.map((t) => t.load);
    const acked = gw.reduce((n, r) => n + r.accepted, 0);
    const rate = (k: keyof typeof runs) => mean(runs[k], (t) => t.load.accepted_per_s);
    const p99 = (k: keyof typeof runs) => mean(runs[k], (t) => t.load.latency_ms.p99);
    const ratio = rate('gateway') / rate('minimal');
    const failures = gw.reduce((n, r) => n + r.non2xx + r.errors, 0);
    // The group commit's share of the latency: the gateway's commit histogram over each of its turns.
    const commits = gatewayPages.map(([b, a]) => {
      const [before, after] = [histogramBuckets(b, 'event_store_commit_seconds'), histogramBuckets(a, 'event_store_commit_seconds')];
      const q = (x: number) => histogramQuantile(before, after, x)?.value ?? null;
      return { p50: q(0.5), p99: q(0.99) };
    });
    const cpu = {
      gateway: budget(runs.gateway),
      minimal: budget(runs.minimal),
      projected: budget(runs.projected),
      bare: budget(runs.bare),
    };
    return [
      {
        scenario: 'ingest: 5,000 containers posting watchdogs, 64 connections',
        figure: 'durable events/s (202 after COMMIT), worker projecting beside it',
        value: `${Math.round(rate('gateway'))}/s = ${ratio.toFixed(2)} x minimal durable, ${(rate('gateway') / rate('bare')).toFixed(2)} x bare`,
        target: '>= 0.6 x minimal durable',
        met: ratio >= 0.6 && failures === 0 && stored >= BigInt(acked),
        data: {
          runs: gw,
          acked,
          stored: stored.toString(),
          failures,
          cpu_us_per_event: cpu.gateway,
          cpu_s: runs.gateway.map((t) => t.cpu),
          worker_batches: workerBatches,
          caught_up: caughtUpData(runs.gateway),
          append_batches: gatewayPages.map(([b, a]) => appendBatchesBetween(b, a)),
        },
      },
      {
        scenario: 'ingest: 5,000 containers posting watchdogs, 64 connections',
        figure: 'ack latency p50 / p99',
        value: `${mean(gw, (r) => r.latency_ms.p50).toFixed(0)} / ${p99('gateway').toFixed(0)} ms (of which the group commit, taken to COMMIT, p50 / p99 ${commits
          .map((c) => `${fmtMs(c.p50)} / ${fmtMs(c.p99)}`)
          .join(', ')} ms)`,
        target: 'p99 <= 25 ms',
        met: p99('gateway') <= 25,
        data: { group_commit_ms: commits },
      },
      {
        scenario: 'ingest: CPU per acknowledged event',
        figure: 'gateway path (µs)',
        value: `${fmtBudget(cpu.gateway, 'gateway')}, until the worker applied the last event; worker ${caughtUp(runs.gateway)}`,
        target: 'printed',
        met: null,
        data: cpu.gateway,
      },
      {
        scenario: 'ingest, ceiling',
        figure: 'minimal durable ingest (Fastify + JWT, group commit into a plain table, 202 after COMMIT)',
        value: `${Math.round(rate('minimal'))}/s (p99 ${p99('minimal').toFixed(0)} ms); CPU ${fmtBudget(cpu.minimal, 'server', false)}`,
        target: 'printed',
        met: null,
        data: { runs: runs.minimal.map((t) => t.load), cpu_us_per_event: cpu.minimal },
      },
      {
        scenario: 'ingest, ceiling',
        figure:
          "minimal durable ingest + minimal projector (one statement per batch upserts each container's newest beat and moves a checkpoint, all in PostgreSQL)",
        value: `${Math.round(rate('projected'))}/s = ${(rate('projected') / rate('minimal')).toFixed(2)} x minimal durable (p99 ${p99('projected').toFixed(0)} ms); CPU ${fmtBudget(cpu.projected, 'server')}; ${caughtUp(runs.projected)}; the gateway ${(rate('gateway') / rate('projected')).toFixed(2)} x this`,
        target: 'printed',
        met: null,
        data: {
          runs: runs.projected.map((t) => t.load),
          cpu_us_per_event: cpu.projected,
          caught_up: caughtUpData(runs.projected),
        },
      },
      {
        scenario: 'ingest, ceiling',
        figure: 'bare Fastify + JWT endpoint',
        value: `${Math.round(rate('bare'))}/s (p99 ${p99('bare').toFixed(0)} ms); CPU ${fmtBudget(cpu.bare, 'server', false)}`,
        target: 'printed',
        met: null,
        data: { runs: runs.bare.map((t) => t.load), cpu_us_per_event: cpu.bare },
      },
      {
        scenario: 'ingest: CPU per acknowledged event',
        figure: `at a fixed ${FIXED_RATE}/s, gateway vs minimal durable (µs)`,
        value: `${fmtBudget(budget([fixed.gateway]), 'gateway')}; minimal ${fmtBudget(budget([fixed.minimal]), 'server', false)}`,
        target: 'printed',
        met: null,
        data: { gateway: budget([fixed.gateway]), minimal: budget([fixed.minimal]), runs: [fixed.gateway.load, fixed.minimal.load] },
      },
      await pgbenchCeiling(ctx, seconds),
    ];
  } finally {
    await bare.stop();
    await minimal.stop();
  }
}

/** Raw one-row INSERT transactions (an events-shaped row with a jsonb payload), 32 clients, pgbench. */
async function pgbenchCeiling(ctx: BenchContext, seconds: number): Promise<Row> {
  const pg = new Client({ connectionString: ctx.db.url });
  await pg.connect();
  await pg.query(
    `CREATE TABLE IF NOT EXISTS bench_raw_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, stream_id text NOT NULL, event_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(), data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`,
  );
  await pg.end();
  const script = join(ctx.dir, 'raw-insert.sql');
  writeFileSync(
    script,
    `INSERT INTO bench_raw_inserts (stream_id, data) VALUES ('watchdog-' || :client_id, '{"system":{"cpu":{"usage":"0.40, 0.43 ","count":"2"},"memory":{"free":23665,"total":24105},"disk":{"size":"252G","usage":"23.00%"}}}');\n`,
  );
  const u = new URL(ctx.db.url);
  try {
    const out = await run('pgbench', [
      '-n',
      '-c',
      '32',
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      script,
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username) || 'postgres',
      u.pathname.slice(1),
    ]);
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    return {
      scenario: 'ingest, ceiling',
      figure: 'raw INSERTs (pgbench, 32 clients, one row per commit)',
      value: `${Math.round(tps)}/s`,
      target: 'printed',
      met: null,
    };
  } catch (err) {
    return {
      scenario: 'ingest, ceiling',
      figure: 'raw INSERTs (pgbench)',
      value: `not measured: ${(err as Error).message.split('\n')[0]}`,
      target: 'printed',
      met: null,
    };
  }
}
