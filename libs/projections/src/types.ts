import type { Pool, PoolClient } from 'pg';
import type { RecordedEvent } from '@app/event-store';

/**
 * What a projection handler gets with each batch: the transaction its writes share with the
 * checkpoint, and the physical name of each table it owns (the live table, or a fresh copy during
 * a rebuild). Handlers must write through `table()` and keep no state between batches: the tables
 * are the state, so a takeover or a swapped-in rebuild continues from them.
 */
export interface ProjectionContext {
  client: PoolClient;
  /** Quoted physical name of one of the projection's tables. */
  table(logical: string): string;
  /** True while rebuilding into fresh tables: side effects must not be prepared. */
  rebuilding: boolean;
  /** What the projection's `prepare` returned for this batch, when the projector called it. */
  prepared?: unknown;
  /** The rows of the projection's `read` statement for this batch; empty when it read nothing. */
  rows: Record<string, unknown>[];
  /**
   * Queues a write (literal SQL, no parameters) sent with the checkpoint update, in the batch's
   * last round trip instead of one of its own. It must not be a statement whose result the
   * handler needs; an error in it fails the batch as an error of `handle` would.
   */
  defer(sql: string): void;
}

/** Runs after the batch's transaction committed (never during a rebuild). */
export type AfterCommit = () => Promise<void> | void;

/**
 * A projection: one handler for the committed events, in the style of an @nestjs/cqrs
 * IEventHandler, but fed in batches from the store with a transaction (the in-process bus is
 * fire-and-forget). Live updates and rebuilds run this same code.
 */
export interface Projection {
  readonly name: string;
  /** The tables it owns, rebuilt and swapped together. */
  readonly tables: readonly string[];
  /**
   * The event types it takes, when it takes few: `handle` must change nothing for any other type.
   * A live batch without any of them then costs no transaction (Projector.step).
   */
  readonly eventTypes?: ReadonlySet<string>;
  /**
   * A read-only statement (literal SQL, no parameters) for the rows `handle` needs, sent in the
   * batch's first round trip, after the checkpoint lock: `handle` finds them in `ctx.rows`. Null
   * when the batch needs none. Each round trip costs a batch ~50-70 µs of Node's CPU and ~30 µs
   * of its backend's on this machine kind, and waits for both to be scheduled (issue 18).
   */
  read?(events: RecordedEvent[], table: (logical: string) => string): string | null;
  /** Applies a batch (in log order); may return work to do once the batch is committed. */
  handle(events: RecordedEvent[], ctx: ProjectionContext): Promise<AfterCommit | void>;
  /**
   * Read-only work for a batch done before its transaction begins (outside it, so that a slow
   * read does not hold back the visibility horizon of every reader of the log); handed to
   * `handle` as `ctx.prepared`. `handle` must still be right without it (rebuilds skip it).
   */
  prepare?(events: RecordedEvent[], db: Pool): Promise<unknown>;
}

export interface ProjectorOptions {
  /** Who holds the lease (process and instance). */
  owner: string;
  batchSize: number;
  pollMs: number;
  /**
   * Following the log closely: after a non-empty batch the next read starts once batchWindowMs has
   * passed since the last one began, after an empty read it waits busyPollMs, doubling with each
   * further empty read up to `pollMs`. Unset: always `pollMs` (batching followers, e.g. the sealer).
   */
  busyPollMs?: number;
  /**
   * With busyPollMs, the least time from one read of the log to the next while events keep
   * coming: a batch then gathers what committed over that window. Each batch has fixed costs
   * (round trips, the checkpoint row, planning its statements), so under load this trades at most
   * this much lag for fewer, larger batches. 0 or unset: read again as soon as a batch is applied.
   */
  batchWindowMs?: number;
  leaseMs: number;
}

export interface ProjectionLag {
  projection: string;
  checkpoint: { transaction_id: string; global_position: string };
  head_position: string | null;
  events_behind: number;
  seconds_behind: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  active_here: boolean;
}
