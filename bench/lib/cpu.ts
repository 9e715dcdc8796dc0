import { readFileSync } from 'node:fs';
import { Client } from 'pg';

/** CPU seconds (user + system) a process has used so far, from /proc (0 once it is gone). */
export function procCpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * The PostgreSQL backends serving one database (pg_stat_activity), as CPU seconds per pid. The
 * cluster's shared processes (WAL writer, checkpointer, autovacuum) serve every database on the
 * machine and are not counted.
 */
export async function pgBackendsCpu(url: string): Promise<Map<number, number>> {
  const pg = new Client({ connectionString: url });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return new Map(rows.map((r) => [r.pid, procCpuSeconds(r.pid)]));
  } finally {
    await pg.end();
  }
}

/** CPU seconds the backends used between two snapshots (a backend new in `after` counts whole). */
export function pgCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, cpu] of after) s += cpu - (before.get(pid) ?? 0);
  return s;
}

/** CPU microseconds per acknowledged event, rounded. */
export const usPerEvent = (seconds: number, events: number) => (events ? Math.round((seconds * 1e6) / events) : null);
