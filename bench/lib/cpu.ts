import { Client } from 'pg';
import type { BenchContext, LoadResult } from './context';
import { procCpuSeconds, type BenchProcess } from './procs';

/** CPU microseconds per acknowledged event, rounded. */
export const usPerEvent = (seconds: number, events: number) => (events ? Math.round((seconds * 1e6) / events) : null);

/** A load run with the CPU every party spent on it. */
export interface Turn {
  load: LoadResult;
  /** CPU seconds over the run: the server under load, the worker, the database's backends, the load generator. */
  cpu: { server: number; worker: number; postgres: number; load: number };
  /** The PostgreSQL share by who connected (application_name): the gateway's appends, the worker's projections, others. */
  postgresBy: Record<string, number>;
}

/** CPU seconds per backend of this database, with the backend's application_name. */
async function pgBackendsByApp(db: string | Queryable): Promise<Map<number, { app: string; cpu: number }>> {
  const pg = typeof db === 'string' ? new Client({ connectionString: db }) : null;
  await pg?.connect();
  try {
    const { rows } = await ((pg ?? db) as Queryable).query<{ pid: number; app: string }>(
      // A connection of its own is left out (it lives for this query); one of a pool's stays in.
      `SELECT pid, application_name AS app FROM pg_stat_activity WHERE datname = current_database()${pg ? ' AND pid <> pg_backend_pid()' : ''}`,
    );
    return new Map(rows.map((r) => [r.pid, { app: r.app || 'other', cpu: procCpuSeconds(r.pid) }]));
  } finally {
    await pg?.end();
  }
}

interface Queryable {
  query<R extends object>(sql: string): Promise<{ rows: R[] }>;
}

/** How long `fn` ran, and the CPU seconds this process (all its threads) and the database's backends spent meanwhile. */
export async function cpuOf<T>(
  db: Queryable,
  fn: () => Promise<T>,
): Promise<{ result: T; seconds: number; node: number; postgres: number }> {
  const [n0, p0] = [process.cpuUsage(), await pgBackendsByApp(db)];
  const t = performance.now();
  const result = await fn();
  const seconds = (performance.now() - t) / 1000;
  const n = process.cpuUsage(n0);
  const postgres = Object.values(pgByApp(p0, await pgBackendsByApp(db))).reduce((a, b) => a + b, 0);
  return { result, seconds, node: (n.user + n.system) / 1e6, postgres };
}

function pgByApp(
  before: Map<number, { app: string; cpu: number }>,
  after: Map<number, { app: string; cpu: number }>,
): Record<string, number> {
  const by: Record<string, number> = {};
  for (const [pid, a] of after) by[a.app] = (by[a.app] ?? 0) + a.cpu - (before.get(pid)?.cpu ?? 0);
  return by;
}

/**
 * Runs `run` (a load against `server`) and reads the CPU the server, the worker (or the process
 * projecting beside this server) and the database's backends spent meanwhile.
 */
export async function measureTurn(
  ctx: BenchContext,
  server: BenchProcess,
  run: () => Promise<LoadResult>,
  worker: BenchProcess = ctx.worker,
): Promise<Turn> {
  const [s0, w0, by0] = [server.cpuSeconds(), worker.cpuSeconds(), await pgBackendsByApp(ctx.db.url)];
  const result = await run();
  const [s1, w1, by1] = [server.cpuSeconds(), worker.cpuSeconds(), await pgBackendsByApp(ctx.db.url)];
  const postgresBy = pgByApp(by0, by1);
  return {
    load: result,
    cpu: {
      server: s1 - s0,
      worker: server === worker ? 0 : w1 - w0,
      postgres: Object.values(postgresBy).reduce((n, s) => n + s, 0),
      load: result.cpu_s,
    },
    postgresBy,
  };
}

/** CPU µs per acknowledged event of each party, summed over the runs of one target. */
export function budget(turns: Turn[]): Record<keyof Turn['cpu'] | 'total', number | null> & { postgres_by: Record<string, number | null> } {
  const acked = turns.reduce((n, t) => n + t.load.events, 0);
  const sum = (k: keyof Turn['cpu']) => turns.reduce((n, t) => n + t.cpu[k], 0);
  const all = sum('server') + sum('worker') + sum('postgres') + sum('load');
  return {
    server: usPerEvent(sum('server'), acked),
    worker: usPerEvent(sum('worker'), acked),
    postgres: usPerEvent(sum('postgres'), acked),
    load: usPerEvent(sum('load'), acked),
    total: usPerEvent(all, acked),
    postgres_by: Object.fromEntries(
      [...new Set(turns.flatMap((t) => Object.keys(t.postgresBy)))].map((app) => [
        app,
        usPerEvent(
          turns.reduce((n, t) => n + (t.postgresBy[app] ?? 0), 0),
          acked,
        ),
      ]),
    ),
  };
}

export const fmtBudget = (b: ReturnType<typeof budget>, server: string, worker = true) =>
  `${server} ${b.server} + ${worker ? `worker ${b.worker} + ` : ''}PostgreSQL ${b.postgres}${
    worker
      ? ` (${Object.entries(b.postgres_by)
          .map(([app, us]) => `${app} ${us}`)
          .join(', ')})`
      : ''
  } + load generator ${b.load} = ${b.total} µs`;
