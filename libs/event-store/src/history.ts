import type { Pool } from 'pg';
import { jsonPageSql, pageEnd, parseJsonPage, type RawPage } from './json-page';
import type { Position, RecordedEvent } from './types';

/** Which part of the log a time-travel read folds: event types and/or streams (all when absent). */
export interface HistoryFilter {
  types?: readonly string[];
  streams?: readonly string[];
}

/**
 * The log as it stood at a position, for time travel (docs/design.md, rule 2): the committed events
 * at or below `upTo`, in the order projections fold them ((transaction_id, global_position)), so a
 * fold of these pages equals what a projection held once it had read that far. Pages travel as one
 * JSON document each (jsonPageSql, as readAll's), filtered in PostgreSQL.
 */
export async function* readUpTo(pool: Pool, upTo: Position, filter: HistoryFilter = {}, pageSize = 5_000): AsyncGenerator<RecordedEvent[]> {
  let after = { transactionId: '0', globalPosition: '0' };
  for (;;) {
    const { rows } = await pool.query<RawPage>(
      jsonPageSql(
        `(transaction_id, global_position) > ($1::xid8, $2::bigint)
           AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
           AND global_position <= $3::bigint
           AND ($4::text[] IS NULL OR event_type = ANY($4::text[]))
           AND ($5::text[] IS NULL OR stream_id = ANY($5::text[]))`,
        '$6',
      ),
      [after.transactionId, after.globalPosition, upTo, filter.types ?? null, filter.streams ?? null, pageSize],
    );
    const raw = rows[0]!;
    if (raw.n) yield parseJsonPage(raw.page);
    if (raw.n < pageSize) return;
    after = pageEnd(raw, after);
  }
}

/**
 * The position a time-travel read stands on: the newest committed event recorded at or before
 * `time` (the newest of all when `time` is absent); null when the log held nothing then.
 */
export async function positionAt(pool: Pool, time?: Date): Promise<{ position: Position; recordedAt: Date } | null> {
  const { rows } = await pool.query<{ p: string; recorded_at: Date }>(
    `SELECT global_position::text AS p, recorded_at FROM events
      WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) AND ($1::timestamptz IS NULL OR recorded_at <= $1)
      ORDER BY global_position DESC LIMIT 1`,
    [time ?? null],
  );
  return rows[0] ? { position: rows[0].p, recordedAt: rows[0].recorded_at } : null;
}

/** The recording time of the event at `position`, or null when there is none. */
export async function recordedAtOf(pool: Pool, position: Position): Promise<Date | null> {
  const { rows } = await pool.query<{ recorded_at: Date }>(`SELECT recorded_at FROM events WHERE global_position = $1::bigint`, [position]);
  return rows[0]?.recorded_at ?? null;
}

/**
 * Where a time-travel read stands for a moment: a position is taken as given (with its time when an
 * event sits there), a time becomes the newest event recorded by then. Null: the log held nothing.
 */
export async function resolveMoment(
  pool: Pool,
  at: { position: Position } | { time: Date },
): Promise<{ position: Position; recorded_at: string | null } | null> {
  if ('position' in at) {
    const t = await recordedAtOf(pool, at.position);
    return { position: at.position, recorded_at: t ? t.toISOString() : null };
  }
  const p = await positionAt(pool, at.time);
  return p ? { position: p.position, recorded_at: p.recordedAt.toISOString() } : null;
}
