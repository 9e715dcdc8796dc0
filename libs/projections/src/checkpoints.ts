import type { Pool, PoolClient } from 'pg';
import { START, type Checkpoint, type RecordedEvent } from '@app/event-store';
import type { AfterCommit, Projection } from './types';

/** SQL for the `projections` rows: checkpoints (compare-and-set) and leases. */
export async function ensureProjectionRow(db: Pool | PoolClient, name: string): Promise<void> {
  await db.query(`INSERT INTO projections (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [name]);
}

/**
 * A row used only for its lease (one holder of some periodic duty across processes): it follows
 * no log, so lag, readiness and `ops status` leave it out (`follows_log = false`).
 */
export async function ensureLeaseRow(db: Pool | PoolClient, name: string): Promise<void> {
  await db.query(
    `INSERT INTO projections (name, follows_log) VALUES ($1, false)
     ON CONFLICT (name) DO UPDATE SET follows_log = false WHERE projections.follows_log`,
    [name],
  );
}

export async function readCheckpoint(db: Pool | PoolClient, name: string): Promise<Checkpoint> {
  const { rows } = await db.query(`SELECT transaction_id::text AS t, global_position::text AS p FROM projections WHERE name = $1`, [name]);
  return rows[0] ? { transactionId: rows[0].t, globalPosition: rows[0].p } : START;
}

/**
 * Takes the lease when it is free or expired, or renews it when `owner` holds it. Returns whether
 * `owner` holds it now. A holder that stops renewing (crashed, partitioned) loses it at expiry.
 */
export async function takeLease(pool: Pool, name: string, owner: string, leaseMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE projections
        SET lease_acquired_at = CASE WHEN lease_owner = $2 AND lease_expires_at > now() THEN lease_acquired_at ELSE now() END,
            lease_owner = $2,
            lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
      WHERE name = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at <= now())`,
    [name, owner, leaseMs],
  );
  return rowCount === 1;
}

export async function releaseLease(pool: Pool, name: string, owner: string): Promise<void> {
  await pool.query(`UPDATE projections SET lease_owner = NULL, lease_expires_at = NULL WHERE name = $1 AND lease_owner = $2`, [
    name,
    owner,
  ]);
}

export const sameCheckpoint = (a: Checkpoint, b: Checkpoint) =>
  a.transactionId === b.transactionId && a.globalPosition === b.globalPosition;

export type ApplyOutcome = { kind: 'applied'; after?: AfterCommit } | { kind: 'lost'; checkpoint: Checkpoint };

const DIVISION_BY_ZERO = '22012';
/** First key of the checkpoints' advisory locks (the second is the row name's hash). */
const CHECKPOINT_LOCK_CLASS = 0x63677770; // 'cgwp'

/**
 * SQL that takes the transaction-level lock under which a checkpoint row moves (every batch, a
 * rebuild's pages and its swap take it). Unlike a row lock it gives the transaction no xid.
 */
export const checkpointLock = (rowName: string) => `SELECT pg_advisory_xact_lock(${CHECKPOINT_LOCK_CLASS}, hashtext(${lit(rowName)}))`;

/** A SQL string literal (standard_conforming_strings is on since PostgreSQL 9.1). */
const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;

const DIGITS = /^\d+$/;

type Result = { rows: { t: string; p: string; lease_owner: string | null; lease_valid: boolean }[] };

export interface ApplyOptions {
  /** Sent in the same round trip before the checkpoint lock (e.g. BEGIN and SET LOCAL). */
  prelude?: string;
  /** Sends COMMIT in the same round trip as the checkpoint update. */
  commit?: boolean;
  /** The projection's `prepare` result for this batch. */
  prepared?: unknown;
}

/**
 * Applies one batch and moves the checkpoint in one transaction on `client`.
 * The checkpoint is locked first (checkpointLock) and compared with `expected` (and the lease with
 * `owner`): a mismatch means another instance or a rebuild swap moved it, and nothing is written
 * (the caller rolls back). Statements are sent as literal SQL so that the lock and the
 * projection's read (Projection.read) ride with BEGIN, and its deferred writes (ctx.defer) and the
 * checkpoint with COMMIT: every round trip counts under load (each pays the event-loop delay). A
 * projection that reads and writes that way costs a batch two round trips.
 *
 * The lock is a transaction-level advisory lock, not a row lock: a row lock gives the transaction
 * an xid at its start, and every gap-safe reader of the log (EventStore.readAll: transaction_id <
 * pg_snapshot_xmin) then saw nothing committed after it until the whole batch committed, so each
 * projector held back the others (and itself) by a batch. Now the xid comes with the batch's
 * first write. The checkpoint update still compares with `expected` (a holder that took no
 * advisory lock, e.g. an older release during an upgrade, cannot be overwritten).
 */
export async function applyInTransaction(
  client: PoolClient,
  rowName: string,
  projection: Projection,
  tables: Map<string, string>,
  expected: Checkpoint,
  events: RecordedEvent[],
  owner: string | null,
  rebuilding: boolean,
  options: ApplyOptions = {},
): Promise<ApplyOutcome> {
  // Two statements: the read takes its snapshot after the lock is granted.
  const lock = `${checkpointLock(rowName)}; SELECT transaction_id::text AS t, global_position::text AS p, lease_owner,
            (lease_expires_at IS NOT NULL AND lease_expires_at > now()) AS lease_valid
       FROM projections WHERE name = ${lit(rowName)}`;
  const table = (logical: string) => {
    const physical = tables.get(logical);
    if (!physical) throw new Error(`projection ${projection.name} does not own table ${logical}`);
    return `"${physical}"`;
  };
  // The projection's read rides with the lock and the checkpoint (its snapshot is taken after both).
  const read = projection.read?.(events, table) ?? null;
  // (No JIT: every connection of ours has it off, see createDataSource.)
  const head = `${options.prelude ? `${options.prelude}; ` : ''}${lock}${read ? `; ${read}` : ''}`;
  const results = (await client.query(head)) as unknown as Result | Result[];
  const all = Array.isArray(results) ? results : [results];
  const row = all[all.length - (read ? 2 : 1)]?.rows[0];
  if (!row) throw new Error(`projection ${rowName} has no checkpoint row`);
  const current = { transactionId: row.t, globalPosition: row.p };
  if (!sameCheckpoint(current, expected) || (owner !== null && !(row.lease_owner === owner && row.lease_valid))) {
    return { kind: 'lost', checkpoint: current };
  }
  const deferred: string[] = [];
  const after = await projection.handle(events, {
    client,
    rebuilding,
    prepared: options.prepared,
    rows: read ? (all[all.length - 1].rows as unknown as Record<string, unknown>[]) : [],
    defer: (sql) => void deferred.push(sql),
    table,
  });
  const last = events[events.length - 1];
  if (![last.transactionId, last.globalPosition, expected.transactionId, expected.globalPosition].every((v) => DIGITS.test(v)))
    throw new Error('checkpoint is not numeric');
  // Moves the checkpoint only from `expected`; otherwise fails (division by zero) so that COMMIT,
  // sent in the same round trip, does not run.
  const update = `WITH moved AS (
      UPDATE projections SET transaction_id = ${lit(last.transactionId)}::xid8, global_position = ${last.globalPosition},
             last_event_at = ${lit(new Date(last.recordedAt).toISOString())}, updated_at = now()
       WHERE name = ${lit(rowName)} AND transaction_id = ${lit(expected.transactionId)}::xid8 AND global_position = ${expected.globalPosition}
       RETURNING 1)
    SELECT 1 / count(*)::int AS moved FROM moved`;
  try {
    // The deferred writes, the checkpoint and COMMIT in one round trip: a failing statement skips
    // the rest (COMMIT included), and the caller rolls back.
    await client.query(`${deferred.map((sql) => `${sql}; `).join('')}${update}${options.commit ? '; COMMIT' : ''}`);
  } catch (err) {
    if ((err as { code?: string }).code !== DIVISION_BY_ZERO) throw err;
    // Moved under us by someone who did not take the advisory lock: nothing of this batch stays.
    return { kind: 'lost', checkpoint: expected };
  }
  return { kind: 'applied', after: after ?? undefined };
}
