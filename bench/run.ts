// `npm run bench [-- --quick] [--only ingest,lag,routes,nginx,churn,replay,soak] [--soak] [--profile]`: starts what it needs
// (gateway, worker, nginx) on the local PostgreSQL and Redis, runs each scenario with its
// ceiling side by side, prints a table and writes bench/results.json. See README "Measurements".
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { tokenServiceFor } from '@app/auth';
import { loadConfig } from '@app/config';
import { prepareDatabase } from '@app/database';
import { createTestDatabase } from '../test/support/db';
import { testEnv } from '../test/support/gateway';
import { freePort, startTestNginx } from '../test/support/nginx';
import { BenchContext, Row } from './lib/context';
import { ROOT, run, startProcess } from './lib/procs';
import { ingestScenario } from './scenarios/ingest';
import { nginxChurnScenario } from './scenarios/nginx-churn';
import { nginxRenderScenario } from './scenarios/nginx-render';
import { projectionLagScenario } from './scenarios/projection-lag';
import { replayScenario } from './scenarios/replay';
import { routePropagationScenario } from './scenarios/route-propagation';
import { soakScenario } from './scenarios/soak';
import { writeSetScenario } from './scenarios/write-set';
// scripts/start.js runs as plain JavaScript, so the flags it shares with the bench live in a .js module.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { NODE_FLAGS } = require('../scripts/node-flags') as { NODE_FLAGS: string[] };

const SCENARIOS: Record<string, (ctx: BenchContext) => Promise<Row[]>> = {
  ingest: ingestScenario,
  lag: projectionLagScenario,
  routes: routePropagationScenario,
  nginx: nginxRenderScenario,
  churn: nginxChurnScenario,
  replay: replayScenario,
  soak: soakScenario,
  writeset: writeSetScenario,
};
/** Scenarios a plain `npm run bench` runs; the soak runs on `--soak` (or `--only soak`), the others on `--only`. */
const DEFAULT = ['ingest', 'lag', 'routes', 'nginx', 'replay'];

/**
 * A CHECKPOINT before each scenario, so that none pays for the previous one's WAL: the ingest
 * scenario writes ~500 MB, whose checkpoint (its flushes, then full-page images in the WAL of
 * every page touched first after it) could otherwise land in the scenario that follows.
 * Checkpoints under load are part of the soak's figures. Needs superuser or pg_checkpoint;
 * skipped without.
 */
async function checkpoint(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } catch (err) {
    process.stderr.write(`bench: no CHECKPOINT before the scenario (${(err as Error).message})\n`);
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  // --profile: the gateway and the worker write V8 CPU profiles (open in Chrome DevTools) on exit.
  const profile = argv.includes('--profile') ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench', 'profiles')}`] : [];
  // Gateway and worker run with the flags `npm start` and the gateway image give them.
  const nodeArgs = [...NODE_FLAGS, ...profile];
  const onlyArg =
    argv.find((a) => a.startsWith('--only='))?.slice(7) ?? (argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined);
  const only = onlyArg ? onlyArg.split(',') : argv.includes('--soak') ? ['soak'] : DEFAULT;
  for (const name of only) if (!SCENARIOS[name]) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const started = new Date();
  const dir = mkdtempSync(join(tmpdir(), 'cgw-bench-'));
  const db = await createTestDatabase('bench');
  // Live routes (lua_shared_dict): the worker pushes route changes without reloads (docs/nginx.md).
  const nginx = await startTestNginx('bench', { live: true });
  const [gwPort, workerPort] = [await freePort(), await freePort()];
  const env = testEnv(db.url, 'bench', {
    ...nginx.env,
    LOG_LEVEL: 'warn',
    DATA_DIR: dir,
    PLATFORM_DOMAIN: 'collab.test',
    VPN_POOL_CIDR: '127.77.0.0/16',
    NGINX_VPN_RANGES: '127.77.0.0/16',
    NGINX_RELOAD_CMD: `${nginx.env.NGINX_BIN} -p ${nginx.env.NGINX_PREFIX} -c ${nginx.conf} -s reload`,
    DATABASE_POOL_SIZE: '20',
    // A/B runs: BENCH_ENV='{"PROJECTION_BATCH_WINDOW_MS":"5"}' adds settings to the gateway's and worker's environment.
    ...(process.env.BENCH_ENV ? (JSON.parse(process.env.BENCH_ENV) as Record<string, string>) : {}),
  });
  const config = loadConfig(env);
  await (await prepareDatabase({ ...config.database, migrate: true })).destroy();
  const tokens = tokenServiceFor(config);
  // The production topology: the gateway ingests, the worker projects and renders nginx.
  const gateway = await startProcess(
    'gateway',
    'dist/apps/gateway/src/main.js',
    { ...env, HTTP_PORT: String(gwPort), PROJECTIONS_ENABLED: 'false' },
    `http://127.0.0.1:${gwPort}/health/ready`,
    nodeArgs,
  );
  const worker = await startProcess(
    'worker',
    'dist/apps/worker/src/main.js',
    { ...env, WORKER_HTTP_PORT: String(workerPort), PROJECTIONS_ENABLED: 'true' },
    `http://127.0.0.1:${workerPort}/health/ready`,
    nodeArgs,
  );
  const ctx: BenchContext = {
    quick,
    dir,
    db,
    env,
    tokens,
    gateway,
    worker,
    nginx,
    gatewayUrl: `http://127.0.0.1:${gwPort}`,
    workerUrl: `http://127.0.0.1:${workerPort}`,
    operatorToken: tokens.sign({ role: 'operator', sub: 'bench' }, 24 * 3600),
  };
  const rows: Row[] = [];
  try {
    for (const name of only) {
      await checkpoint(db.url);
      const t = performance.now();
      process.stderr.write(`bench: ${name}...\n`);
      try {
        rows.push(...(await SCENARIOS[name](ctx)));
      } catch (err) {
        rows.push({ scenario: name, figure: 'failed', value: (err as Error).message.split('\n')[0], target: '', met: false });
      }
      process.stderr.write(`bench: ${name} done in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
      if (name === 'ingest') {
        const [g, w] = [gateway.rssMb(), worker.rssMb()];
        rows.push({
          scenario: 'memory at the end of the ingest run',
          figure: 'RSS gateway / worker',
          value: `${g.toFixed(0)} / ${w.toFixed(0)} MB`,
          target: '<= 300 MB each',
          met: g <= 300 && w <= 300,
        });
      }
    }
  } finally {
    await gateway.stop();
    await worker.stop();
    await nginx.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  const machine = {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: (await run('psql', ['-V']).catch(() => 'unknown')).trim(),
  };
  const result = { date: started.toISOString(), quick, machine, rows };
  // A soak alone keeps its own file, so it does not replace the full run's figures.
  const out = only.length === 1 && only[0] === 'soak' ? 'results-soak.json' : 'results.json';
  writeFileSync(join(ROOT, 'bench', out), JSON.stringify(result, null, 2) + '\n');
  console.log(table(rows));
  console.log(
    `\n${started.toISOString()} · ${machine.cpus} x ${machine.cpu_model}, ${machine.memory_gb} GB · ${machine.node} · ${quick ? 'quick run' : 'full run'} · bench/${out}`,
  );
}

function table(rows: Row[]): string {
  const head = ['scenario', 'figure', 'measured', 'target', 'met'];
  const body = rows.map((r) => [r.scenario, r.figure, r.value, r.target, r.met === null ? '-' : r.met ? 'yes' : 'NO']);
  return [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
