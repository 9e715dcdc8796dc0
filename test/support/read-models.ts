import type { Pool } from 'pg';
import { projectionLag } from '@app/projections';
import { eventually } from './eventually';

/** The health and routing read models' tables and the key that orders their rows. */
export const READ_MODEL_TABLES: Record<string, string> = {
  container_health: 'container_id',
  container_health_samples: 'container_id, bucket',
  routing_containers: 'container_id',
  routes: 'fqdn',
};

/** Waits until the named projections have applied every committed event. */
export async function caughtUp(pool: Pool, names = ['health', 'routing'], timeoutMs = 60_000): Promise<void> {
  const lags = () => Promise.all(names.map((n) => projectionLag(pool, n, true)));
  await eventually(
    async () => (await lags()).every((l) => l && l.events_behind === 0),
    timeoutMs,
    50,
    async () => `projections caught up (${JSON.stringify(await lags())})`,
  );
}

/** Every row of the read models as text, in key order: two snapshots compare row by row. */
export async function snapshot(pool: Pool): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, key] of Object.entries(READ_MODEL_TABLES)) {
    out[table] = (await pool.query(`SELECT t::text AS row FROM ${table} t ORDER BY ${key}`)).rows.map((r) => r.row);
  }
  return out;
}
