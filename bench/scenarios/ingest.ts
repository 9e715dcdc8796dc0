import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../test/support/nginx';
import { BenchContext, LoadResult, Row, tokensFile } from '../lib/context';
import { run, startProcess } from '../lib/procs';

const CONNECTIONS = 64;

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
 * Ingest against its ceiling, side by side: the bare Fastify + JWT endpoint and the gateway take
 * turns under the same load generator (its own process), so both see the same machine.
 */
export async function ingestScenario(ctx: BenchContext): Promise<Row[]> {
  const port = await freePort();
  const bare = await startProcess(
    'bare',
    'bench/bare-server.js',
    { ...ctx.env, BARE_PORT: String(port) },
    `http://127.0.0.1:${port}/health/live`,
  );
  const bareUrl = `http://127.0.0.1:${port}`;
  const tokens = tokensFile(ctx, 5_000, 'ingest');
  const seconds = ctx.quick ? 5 : 10;
  const rounds = ctx.quick ? 1 : 2;
  const bareRuns: LoadResult[] = [];
  const gwRuns: LoadResult[] = [];
  let gwCpu = 0;
  try {
    // Warm-up (JIT, token cache, pools), not measured.
    await load(ctx.gatewayUrl, tokens, 3);
    await load(bareUrl, tokens, 2);
    const before = await countEvents(ctx.db.url);
    for (let r = 0; r < rounds; r++) {
      bareRuns.push(await load(bareUrl, tokens, seconds));
      const cpu0 = ctx.gateway.cpuSeconds();
      gwRuns.push(await load(ctx.gatewayUrl, tokens, seconds));
      gwCpu += ctx.gateway.cpuSeconds() - cpu0;
    }
    const stored = (await countEvents(ctx.db.url)) - before;
    const acked = gwRuns.reduce((n, r) => n + r.accepted, 0);
    const mean = (rs: LoadResult[], f: (r: LoadResult) => number) => rs.reduce((n, r) => n + f(r), 0) / rs.length;
    const bareRate = mean(bareRuns, (r) => r.accepted_per_s);
    const gwRate = mean(gwRuns, (r) => r.accepted_per_s);
    const p50 = mean(gwRuns, (r) => r.latency_ms.p50);
    const p99 = mean(gwRuns, (r) => r.latency_ms.p99);
    const ratio = gwRate / bareRate;
    const failures = gwRuns.reduce((n, r) => n + r.non2xx + r.errors, 0);
    return [
      {
        scenario: 'ingest: 5,000 containers posting watchdogs, 64 connections',
        figure: 'durable events/s (202 after COMMIT)',
        value: `${Math.round(gwRate)}/s = ${ratio.toFixed(2)} x bare`,
        target: '>= 0.75 x bare',
        met: ratio >= 0.75 && failures === 0 && stored >= BigInt(acked),
        data: { runs: gwRuns, acked, stored: stored.toString(), failures, gateway_cpu_us_per_event: Math.round((gwCpu * 1e6) / acked) },
      },
      {
        scenario: 'ingest: 5,000 containers posting watchdogs, 64 connections',
        figure: 'ack latency p50 / p99',
        value: `${p50.toFixed(0)} / ${p99.toFixed(0)} ms`,
        target: 'p99 <= 25 ms',
        met: p99 <= 25,
      },
      {
        scenario: 'ingest, ceiling',
        figure: 'bare Fastify + JWT endpoint',
        value: `${Math.round(bareRate)}/s (p99 ${mean(bareRuns, (r) => r.latency_ms.p99).toFixed(0)} ms)`,
        target: 'printed',
        met: null,
        data: { runs: bareRuns },
      },
      await pgbenchCeiling(ctx, seconds),
    ];
  } finally {
    await bare.stop();
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
