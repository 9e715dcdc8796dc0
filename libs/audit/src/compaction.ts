import type { Pool, PoolClient } from 'pg';
import { WATCHDOG } from '@app/container-events';
import { compactionMessage, SealDigest } from './domain/chain';
import { listPartitions } from './partitions';
import type { AuditKeys } from './signing';
import { Rollback, withTransaction } from '@app/database';

export interface CompactionOptions {
  /** Raw watchdogs of UTC days that ended more than this many days ago are compacted. */
  retentionDays: number;
  /** A watchdog after a silence longer than this is kept (it ends a lapse on the timeline). */
  keepAfterSilenceMs: number;
  /** Rewrite the compacted partition (VACUUM FULL) so the space goes back to the OS. */
  vacuumFull: boolean;
  now?: number;
  /** Checked between days: a stopping worker ends after the day it is on. */
  stopping?: () => boolean;
}

export interface CompactionResult {
  id: string;
  day: string;
  partition: string;
  watchdogs: number;
  removed: number;
  kept: number;
  containers: number;
  bytes_before: number;
  bytes_after: number;
}

const isPartition = /^events_p\d{8}$/;

/**
 * The retention policy: in each day partition older than the retention, raw watchdogs are
 * replaced by one summary row per container and day (watchdog_summaries). Kept are every event
 * that is not a watchdog (state changes live for ever) and the watchdogs that changed something:
 * the first of each container's day, each healthy <-> degraded change, the first after a silence.
 * Only sealed events are removed; their seals stay (hash and link), marked with the compaction,
 * whose digest over them is signed, so `verify` still walks the whole chain.
 */
export async function compactWatchdogs(pool: Pool, keys: AuditKeys, o: CompactionOptions): Promise<CompactionResult[]> {
  const now = o.now ?? Date.now();
  const cutoffDay = new Date(Math.floor(now / 86_400_000) * 86_400_000 - o.retentionDays * 86_400_000).toISOString().slice(0, 10);
  const done = new Set((await pool.query(`SELECT day::text AS day FROM audit_compactions`)).rows.map((r) => r.day));
  const out: CompactionResult[] = [];
  for (const p of await listPartitions(pool)) {
    if (o.stopping?.()) break;
    if (!p.day || !isPartition.test(p.name) || p.day >= cutoffDay || done.has(p.day)) continue;
    const result = await compactDay(pool, keys, p.name, p.day, o.keepAfterSilenceMs);
    if (!result) continue;
    if (o.vacuumFull) await pool.query(`VACUUM FULL "${p.name}"`);
    else await pool.query(`VACUUM "${p.name}"`);
    result.bytes_after = Number((await pool.query(`SELECT pg_total_relation_size($1::regclass)::bigint AS b`, [p.name])).rows[0].b);
    await pool.query(`UPDATE audit_compactions SET bytes_after = $2 WHERE id = $1`, [result.id, result.bytes_after]);
    out.push(result);
  }
  // Marking seals and deleting keys left dead row versions: make the space reusable for new ones.
  if (out.length) await pool.query(`VACUUM audit_seals, event_keys`);
  return out;
}

async function compactDay(
  pool: Pool,
  keys: AuditKeys,
  partition: string,
  day: string,
  keepAfterSilenceMs: number,
): Promise<CompactionResult | null> {
  return withTransaction(pool, async (client) => {
    await client.query(`SET LOCAL collab.allow_event_rewrite = 'on'`);
    // Nothing unsealed may go: the chain must cover what is removed.
    const unsealed = (
      await client.query(
        `SELECT count(*)::int AS n FROM "${partition}" e WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.global_position = e.global_position)`,
      )
    ).rows[0].n;
    if (unsealed) throw new Rollback(null);
    const bytesBefore = Number((await client.query(`SELECT pg_total_relation_size($1::regclass)::bigint AS b`, [partition])).rows[0].b);
    const id = (
      await client.query(
        `INSERT INTO audit_compactions (day, cutoff, events_removed, bytes_before) VALUES ($1, $2, 0, $3) RETURNING id::text AS id`,
        [day, `${day} 00:00:00+00`, bytesBefore],
      )
    ).rows[0].id as string;
    await client.query(
      `CREATE TEMP TABLE compact_watchdogs ON COMMIT DROP AS
       SELECT global_position, recorded_at, event_id, stream_id, org_id, project_id, unhealthy,
              (n > 1 AND prev_unhealthy = unhealthy AND recorded_at - prev_at <= $2 * interval '1 millisecond') AS remove
         FROM (SELECT global_position, recorded_at, event_id, stream_id, data->>'org_id' AS org_id, data->>'project_id' AS project_id, unhealthy,
                      row_number() OVER s AS n, lag(unhealthy) OVER s AS prev_unhealthy, lag(recorded_at) OVER s AS prev_at
                 FROM (SELECT *, coalesce(jsonb_path_exists(data, '$.services[*] ? (@.healthy == false)'), false) AS unhealthy
                         FROM "${partition}" WHERE event_type = $1) w
               WINDOW s AS (PARTITION BY stream_id ORDER BY stream_version)) x`,
      [WATCHDOG, keepAfterSilenceMs],
    );
    const counts = (
      await client.query(
        `SELECT count(*)::int AS watchdogs, count(*) FILTER (WHERE remove)::int AS removed, count(DISTINCT stream_id)::int AS containers FROM compact_watchdogs`,
      )
    ).rows[0];
    if (!counts.watchdogs) {
      // A day without watchdogs (cheap to look at again): no compaction record.
      throw new Rollback(null);
    }
    await client.query(`DELETE FROM "${partition}" e USING compact_watchdogs g WHERE g.remove AND e.global_position = g.global_position`);
    await client.query(`DELETE FROM event_keys k USING compact_watchdogs g WHERE g.remove AND k.event_id = g.event_id`);
    await client.query(
      `UPDATE audit_seals s SET compaction_id = $1 FROM compact_watchdogs g WHERE g.remove AND s.global_position = g.global_position`,
      [id],
    );
    await client.query(
      `INSERT INTO watchdog_summaries (container_id, day, org_id, project_id, watchdogs, unhealthy, first_at, last_at, first_position, last_position, compaction_id)
       SELECT substr(stream_id, 10)::uuid, $1, max(org_id)::uuid, max(project_id)::uuid, count(*), count(*) FILTER (WHERE unhealthy),
              min(recorded_at), max(recorded_at), min(global_position), max(global_position), $2
         FROM compact_watchdogs WHERE stream_id ~ '^watchdog-[0-9a-f-]{36}$' GROUP BY stream_id`,
      [day, id],
    );
    const digest = await sealDigest(client, id);
    const signature = keys.sign(compactionMessage({ id, day, eventsRemoved: String(counts.removed), digest }));
    await client.query(`UPDATE audit_compactions SET events_removed = $2, digest = $3, key_id = $4, signature = $5 WHERE id = $1`, [
      id,
      counts.removed,
      digest,
      keys.keyId,
      signature,
    ]);
    return {
      id,
      day,
      partition,
      watchdogs: counts.watchdogs,
      removed: counts.removed,
      kept: counts.watchdogs - counts.removed,
      containers: counts.containers,
      bytes_before: bytesBefore,
      bytes_after: bytesBefore,
    };
  });
}

async function sealDigest(client: PoolClient, compactionId: string): Promise<Buffer> {
  const digest = new SealDigest();
  let after = '0';
  for (;;) {
    const { rows } = await client.query(
      `SELECT seq::text AS seq, hash FROM audit_seals WHERE compaction_id = $1 AND audit_seals.seq > $2 ORDER BY audit_seals.seq LIMIT 50000`,
      [compactionId, after],
    );
    for (const r of rows) digest.add(r.seq, r.hash);
    if (rows.length < 50_000) return digest.digest();
    after = rows[rows.length - 1].seq;
  }
}
