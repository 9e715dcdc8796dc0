import type { Pool } from 'pg';
import { withTransaction } from '@app/database';
import type { ProjectionLag } from './types';

/** Counting further than this would make the lag query itself slow; the answer says "at least". */
const COUNT_CAP = 1_000_000;

const LAG_SQL = `SELECT p.transaction_id::text AS t, p.global_position::text AS p, p.lease_owner, p.lease_expires_at,
        (SELECT e.global_position::text AS head FROM events e ORDER BY e.global_position DESC LIMIT 1) AS head,
        (SELECT count(*) FROM (SELECT 1 FROM events e
           WHERE (e.transaction_id, e.global_position) > (p.transaction_id, p.global_position)
           ORDER BY e.transaction_id, e.global_position LIMIT ${COUNT_CAP}) x)::int AS behind,
        (SELECT extract(epoch FROM now() - e.recorded_at) FROM events e
           WHERE (e.transaction_id, e.global_position) > (p.transaction_id, p.global_position)
           ORDER BY e.transaction_id, e.global_position LIMIT 1) AS seconds
   FROM projections p WHERE p.name = $1`;

/**
 * Events and seconds behind the head for one projection row, computed in one statement. The count
 * walks the (transaction_id, global_position) index from the checkpoint, so it costs what is
 * behind, not the log's size: PostgreSQL costs the row comparison as a third of the table and
 * chose to count by a sequential scan of every partition (0.84 s at 780,000 events, growing with
 * the log, every 5 s for each projection: the soak's slide in issue 18). Sequential scans and
 * sorts are switched off for this one read-only transaction, so no table size or statistics can
 * bring that plan back.
 */
export async function projectionLag(pool: Pool, name: string, activeHere: boolean): Promise<ProjectionLag | null> {
  const { rows } = await withTransaction(
    pool,
    async (c) => {
      await c.query('SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off');
      return c.query(LAG_SQL, [name]);
    },
    'BEGIN READ ONLY',
  );
  const r = rows[0];
  if (!r) return null;
  return {
    projection: name,
    checkpoint: { transaction_id: r.t, global_position: r.p },
    head_position: r.head,
    events_behind: r.behind,
    seconds_behind: r.seconds === null ? 0 : Math.max(0, Math.round(Number(r.seconds) * 1000) / 1000),
    lease_owner: r.lease_owner,
    lease_expires_at: r.lease_expires_at ? new Date(r.lease_expires_at).toISOString() : null,
    active_here: activeHere,
  };
}

/**
 * For readiness: each live projection that follows the log (not a running rebuild's `name:rebuild`
 * row, not a lease-only row such as `audit-maintenance`, whose checkpoint never moves) and how many
 * seconds the oldest event it has not applied yet has been waiting. One cheap statement: the first
 * event past each checkpoint, by the (transaction_id, global_position) index.
 */
export async function projectionsBehindSeconds(pool: Pick<Pool, 'query'>): Promise<{ projection: string; seconds_behind: number }[]> {
  const { rows } = await pool.query(
    `SELECT p.name,
            (SELECT extract(epoch FROM now() - e.recorded_at) FROM events e
               WHERE (e.transaction_id, e.global_position) > (p.transaction_id, p.global_position)
               ORDER BY e.transaction_id, e.global_position LIMIT 1) AS seconds
       FROM projections p WHERE p.follows_log AND position(':' IN p.name) = 0 ORDER BY p.name`,
  );
  return rows.map((r: { name: string; seconds: string | null }) => ({
    projection: r.name,
    seconds_behind: r.seconds === null ? 0 : Math.max(0, Math.round(Number(r.seconds) * 1000) / 1000),
  }));
}
