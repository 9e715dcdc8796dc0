import type { Pool } from 'pg';
import { projectionLag } from '@app/projections';

/** The health and routing read models' tables and the key that orders their rows. */
export const READ_MODEL_TABLES: Record<string, string> = {
  container_health: 'container_id',
  container_health_samples: 'container_id, bucket',
  routing_containers: 'container_id',
  routes: 'fqdn',
};

/** Waits until the named projections have applied every committed event. */
export async function caughtUp(pool: Pool, names = ['health', 'routing'], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lags = await Promise.all(names.map((n) => projectionLag(pool, n, true)));
    if (lags.every((l) => l && l.events_behind === 0)) return;
    if (Date.now() > deadline) throw new Error(`projections did not catch up: ${JSON.stringify(lags)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every row of the read models as text, in key order: two snapshots compare row by row. */
export async function snapshot(pool: Pool): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, key] of Object.entries(READ_MODEL_TABLES)) {
    out[table] = (await pool.query(`SELECT t::text AS row FROM ${table} t ORDER BY ${key}`)).rows.map((r) => r.row);
  }
  return out;
}
