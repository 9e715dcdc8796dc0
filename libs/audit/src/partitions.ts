import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '@app/database';

/** events is partitioned by UTC day: events_pYYYYMMDD holds [day, day + 1); events_default the rest. */
export const partitionName = (day: string) => `events_p${day.replace(/-/g, '')}`;
const DAY_MS = 86_400_000;
export const utcDay = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
const nextDay = (day: string) => utcDay(Date.parse(`${day}T00:00:00Z`) + DAY_MS);

export interface PartitionInfo {
  name: string;
  day: string | null;
  bytes: number;
  /** Live rows as the statistics collector counts them (approximate). */
  rows_estimate: number;
}

export async function listPartitions(db: Pool | PoolClient): Promise<PartitionInfo[]> {
  const { rows } = await db.query(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid)::bigint AS bytes, coalesce(s.n_live_tup, 0)::bigint AS rows
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
      WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`,
  );
  return rows.map((r) => {
    const m = /^events_p(\d{4})(\d\d)(\d\d)$/.exec(r.name);
    return { name: r.name, day: m ? `${m[1]}-${m[2]}-${m[3]}` : null, bytes: Number(r.bytes), rows_estimate: Number(r.rows) };
  });
}

/**
 * Makes sure a partition exists for every UTC day from `fromDay` to `toDay` (inclusive). A new
 * partition is created as a plain table and then attached, which locks the parent only in SHARE
 * UPDATE EXCLUSIVE mode (appends go on); rows of that day already in the default partition
 * (nobody created the day ahead) are moved into it first, in the same transaction.
 */
export async function ensurePartitions(
  pool: Pool,
  fromDay: string,
  toDay: string,
  stopping: () => boolean = () => false,
): Promise<string[]> {
  const existing = new Set((await listPartitions(pool)).map((p) => p.day).filter(Boolean));
  const created: string[] = [];
  for (let day = fromDay; day <= toDay && !stopping(); day = nextDay(day)) {
    if (existing.has(day)) continue;
    const name = partitionName(day);
    const from = `${day} 00:00:00+00`;
    const to = `${nextDay(day)} 00:00:00+00`;
    try {
      await withTransaction(pool, async (client) => {
        await client.query(`SET LOCAL collab.allow_event_rewrite = 'on'`);
        await client.query(`CREATE TABLE "${name}" (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        await client.query(
          `WITH moved AS (DELETE FROM events_default WHERE recorded_at >= $1 AND recorded_at < $2 RETURNING *)
           INSERT INTO "${name}" SELECT * FROM moved`,
          [from, to],
        );
        await client.query(`ALTER TABLE events ATTACH PARTITION "${name}" FOR VALUES FROM ('${from}') TO ('${to}')`);
      });
      created.push(name);
    } catch (err) {
      // Another maintainer made it meanwhile: fine.
      if ((err as { code?: string }).code !== '42P07') throw err;
    }
  }
  return created;
}

/** Today (UTC) and `aheadDays` after it. */
export function ensurePartitionsAhead(pool: Pool, aheadDays: number, now = Date.now(), stopping?: () => boolean): Promise<string[]> {
  return ensurePartitions(pool, utcDay(now), utcDay(now + aheadDays * DAY_MS), stopping);
}
