import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ProjectorHost } from '@app/projections';
import { startStack } from '../test/support/stack';

/**
 * Projection lag under sustained watchdog ingest. Not part of npm test (it loads the machine); run it with:
 *   BENCH_RATE=3000 npx jest -c jest.bench.config.js bench/projection-lag.bench.ts --forceExit
 * The load generator runs in its own process (autocannon); the gateway and its projectors run here.
 */
jest.setTimeout(180_000);

describe('projection lag under sustained ingest', () => {
  it('measures events and seconds behind, and recorded -> projected latency', async () => {
    const stack = await startStack('bench_lag', { PROJECTION_POLL_MS: process.env.BENCH_POLL_MS ?? '50', DATABASE_POOL_SIZE: '20' });
    await stack.startGateway();
    const containers = Array.from({ length: Number(process.env.BENCH_CONTAINERS ?? 2000) }, () => {
      const c = stack.container({ org: randomUUID() });
      return { token: c.token, project: c.projectId };
    });
    const file = join(tmpdir(), `bench-tokens-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(containers));
    const host = stack.gateway.get(ProjectorHost);
    const seconds = Number(process.env.BENCH_SECONDS ?? 15);
    const samples: { t: number; health: [number, number]; routing: [number, number] }[] = [];
    let sampling = true;
    const t0 = Date.now();
    const sampler = (async () => {
      while (sampling) {
        const lag = await host.lag();
        const of = (n: string) => { const l = lag.find((x) => x.projection === n)!; return [l.events_behind, l.seconds_behind] as [number, number]; };
        samples.push({ t: Date.now() - t0, health: of('health'), routing: of('routing') });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    // Warm up, then measure from a clean slate.
    await new Promise<string>((resolve, reject) => execFile(process.execPath, ['bench/watchdog-load.js', stack.url, file, '32', '3', process.env.BENCH_RATE ?? '0'], (e, out) => (e ? reject(e) : resolve(out))));
    const eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();
    host.projector('health')!.resetLatencies();
    host.projector('routing')!.resetLatencies();
    const load = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['bench/watchdog-load.js', stack.url, file, process.env.BENCH_CONNECTIONS ?? '64', String(seconds), process.env.BENCH_RATE ?? '0'], (e, out) => (e ? reject(e) : resolve(out))),
    );
    const loadEnd = Date.now();
    eld.disable();
    let caughtUpMs = 0;
    for (;;) {
      const lag = await host.lag();
      if (lag.every((l) => l.events_behind === 0)) break;
      await new Promise((r) => setTimeout(r, 20));
      caughtUpMs = Date.now() - loadEnd;
    }
    sampling = false;
    await sampler;
    const during = samples.filter((s) => s.t > 3000);
    const max = (k: 'health' | 'routing', i: 0 | 1) => Math.max(0, ...during.map((s) => s[k][i]));
    const report = {
      load: JSON.parse(load),
      health: { latency: host.projector('health')!.latencyPercentiles(), batches: host.projector('health')!.batchTimings(), max_events_behind: max('health', 0), max_seconds_behind: max('health', 1) },
      routing: { latency: host.projector('routing')!.latencyPercentiles(), batches: host.projector('routing')!.batchTimings(), max_events_behind: max('routing', 0), max_seconds_behind: max('routing', 1) },
      caught_up_after_load_ms: caughtUpMs,
      gateway_event_loop_delay_ms: { p50: Math.round(eld.percentile(50) / 1e6), p99: Math.round(eld.percentile(99) / 1e6) },
      lag_samples: during.length,
    };
    process.stderr.write(`BENCH ${JSON.stringify(report)}\n`);
    const { rows } = await stack.pool.query(`SELECT count(*)::int AS n, sum(watchdogs)::int AS w FROM container_health`);
    process.stderr.write(`BENCH health rows ${rows[0].n}, watchdogs counted ${rows[0].w}\n`);
    await stack.close();
  });
});
