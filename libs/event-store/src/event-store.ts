import type { Pool, PoolClient } from 'pg';
import { isSimpleAppend, PendingAppend, prepareEvents, toVersion, writeBatch, writeSimpleBatch } from './append-batch';
import { EventStoreError, InvalidEventDataError, StoreUnavailableError } from './errors';
import { jsonPageSql, pageEnd, parseJsonPage, type RawPage } from './json-page';
import { storeMetrics } from './metrics';
import { SharedTail } from './shared-reader';
import type { AppendResult, Checkpoint, ExpectedVersion, NewEvent, RecordedEvent } from './types';

export interface EventStoreOptions {
  /** Most events written by one group commit. */
  maxBatchEvents: number;
  /** Group commits running at once (each on its own connection). */
  maxInFlight: number;
}

/** SQLSTATEs after which the whole batch is simply tried again. */
const RETRY_BATCH = new Set(['40001', '40P01', '23505']);
/** Data errors (class 22) and constraint errors (23): one append may be to blame; retry each alone. */
const isDataError = (code?: string) => !!code && (code.startsWith('22') || code.startsWith('23'));

/** No SQLSTATE (socket errors), connection exceptions, shutdown, resources: the database is away. */
const isUnavailable = (code?: string) =>
  !code || code.startsWith('08') || code.startsWith('57') || code.startsWith('53') || code === 'ECONNREFUSED';

/** Events the shared tail keeps in memory for followers a little behind the newest read. */
const SHARED_TAIL_EVENTS = 8_000;

const COLUMNS = `global_position::text AS global_position, transaction_id::text AS transaction_id, stream_id,
  stream_version, event_id::text AS event_id, event_type, data, metadata, recorded_at`;

/**
 * PostgreSQL event store (docs/design.md, event store rules 1-3, 5).
 *
 * Appends are group-committed: concurrent callers queue, and each flush writes up to
 * maxBatchEvents events from many callers in one transaction and one commit. A caller's promise
 * settles only after that COMMIT, so an acknowledged event is durable.
 */
export class EventStore {
  private queue: PendingAppend[] = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private drained: (() => void)[] = [];
  private readonly committed = new Set<() => void>();
  private shared?: SharedTail;

  constructor(
    private readonly pool: Pool,
    private readonly options: EventStoreOptions,
  ) {}

  append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion = 'any'): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('event store is closed'));
    if (!events.length) return Promise.reject(new RangeError('append needs at least one event'));
    if (typeof expectedVersion === 'number' && !(Number.isSafeInteger(expectedVersion) && expectedVersion >= -1)) {
      return Promise.reject(new RangeError(`invalid expected version ${expectedVersion}`));
    }
    const { prepared, callerIds } = prepareEvents(events);
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, expected: expectedVersion, events: prepared, callerIds, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Calls `listener` after each group commit of this process that wrote events (a wake-up hint for
   * projectors; they still read from the log). Returns the unsubscribe function.
   */
  onCommitted(listener: () => void): () => void {
    this.committed.add(listener);
    return () => this.committed.delete(listener);
  }

  /** Reads one stream in version order. */
  async readStream(streamId: string, fromVersion = 0, limit = 10_000): Promise<RecordedEvent[]> {
    const { rows } = await this.pool.query(
      `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2
       ORDER BY stream_version LIMIT $3`,
      [streamId, fromVersion, limit],
    );
    return rows.map(toRecorded);
  }

  /**
   * Reads committed events after `after`, in (transaction_id, global_position) order, stopping short
   * of any transaction still in flight: rows of a transaction that may yet commit below the
   * returned checkpoint are never visible, so a reader that resumes from it can never skip one
   * (docs/design.md, rule 2).
   */
  async readAll(
    after: Checkpoint,
    limit = 1_000,
    client?: Pool | PoolClient,
  ): Promise<{ events: RecordedEvent[]; checkpoint: Checkpoint }> {
    const raw = await this.readPage(after, limit, client);
    return { events: parseJsonPage(raw.page), checkpoint: pageEnd(raw, after) };
  }

  /**
   * readAll's pages from `after` to the end of what is visible, for bulk readers (rebuilds): the
   * next page is asked for as soon as this one arrives, so PostgreSQL builds it while this one is
   * applied, and parsed as soon as it arrives, while the caller waits for PostgreSQL to apply this
   * one (parsing it when the caller asked for it left Node and PostgreSQL taking turns: replay of
   * 1,000,000 events, health 43,213-47,367 -> 59,385-61,684/s, routing 59,525 -> 71,005/s, both in
   * one pass 41,042-47,621 -> 48,537-52,578/s). Each page is read on its own connection from the pool.
   */
  async *readPages(after: Checkpoint, limit: number): AsyncGenerator<{ events: RecordedEvent[]; checkpoint: Checkpoint }> {
    const parsed = (raw: RawPage) => ({ raw, events: raw.n ? parseJsonPage(raw.page) : [] });
    let next = this.readPage(after, limit).then(parsed);
    for (;;) {
      const { raw, events } = await next;
      if (!raw.n) return;
      // A page with events ends at its last one.
      const checkpoint = pageEnd(raw, after);
      next = this.readPage(checkpoint, limit).then(parsed);
      // Settled by the next turn of the loop, or dropped when the caller stops early.
      next.catch(() => undefined);
      yield { events, checkpoint };
    }
  }

  private async readPage(after: Checkpoint, limit: number, client?: Pool | PoolClient): Promise<RawPage> {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`invalid page size ${limit}`);
    const { rows } = await (client ?? this.pool).query<RawPage>({
      // Prepared once per connection and page size: planning it (over every day partition) cost
      // five times its execution. The page size is part of the text so that the generic plan
      // knows it (a LIMIT parameter is costed as a tenth of the table). The page travels as one
      // JSON document (see jsonPageSql): parsing rows one by one, their timestamps with them, was
      // the largest part of a projector's own CPU.
      name: `event-store-read-all-${limit}`,
      text: jsonPageSql(
        `(transaction_id, global_position) > ($1::xid8, $2::bigint) AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
        String(limit),
      ),
      values: [after.transactionId, after.globalPosition],
    });
    return rows[0]!;
  }

  /**
   * readAll for this process's followers of the log (projectors, the sealer): the same pages, but
   * followers at the same place share one read and one parse (see SharedTail). The events are
   * shared between followers: read them, never modify them.
   */
  readAllShared(after: Checkpoint, limit = 1_000): Promise<{ events: RecordedEvent[]; checkpoint: Checkpoint }> {
    this.shared ??= new SharedTail((from, n) => this.readAll(from, n), SHARED_TAIL_EVENTS);
    return this.shared.readAll(after, limit);
  }

  /** The newest committed position and its time (for lag reporting); null on an empty log. */
  async head(): Promise<{ globalPosition: string; recordedAt: Date } | null> {
    const { rows } = await this.pool.query(
      `SELECT global_position::text AS p, recorded_at FROM events ORDER BY global_position DESC LIMIT 1`,
    );
    return rows[0] ? { globalPosition: rows[0].p, recordedAt: rows[0].recorded_at } : null;
  }

  /** Stops taking appends and waits for every queued one to settle. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.queue.length && !this.inFlight) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let every request that arrived in this turn of the event loop join the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length && this.inFlight < this.options.maxInFlight) {
      const batch = this.take();
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length) this.pump();
        else if (!this.inFlight) this.drained.splice(0).forEach((fn) => fn());
      });
    }
  }

  /** The next batch: a run of appends of one kind (simple or not), at most maxBatchEvents events. */
  private take(): PendingAppend[] {
    let n = 0;
    let i = 0;
    const simple = isSimpleAppend(this.queue[0]);
    while (
      i < this.queue.length &&
      (i === 0 || (n + this.queue[i].events.length <= this.options.maxBatchEvents && isSimpleAppend(this.queue[i]) === simple))
    ) {
      n += this.queue[i].events.length;
      i++;
    }
    return this.queue.splice(0, i);
  }

  private async flush(batch: PendingAppend[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const started = process.hrtime.bigint();
      try {
        const written = await this.transaction(batch);
        storeMetrics.appended.inc(written);
        storeMetrics.batches.observe(written);
        storeMetrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
        if (written)
          for (const fn of this.committed)
            try {
              fn();
            } catch {
              /* a hint only */
            }
        return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        storeMetrics.failures.inc({ reason: code ?? 'connection' });
        if (RETRY_BATCH.has(code ?? '') && attempt < 4) continue;
        if (batch.length > 1 && isDataError(code)) {
          // Isolate the offending append: the others must not fail with it.
          for (const one of batch) await this.flush([one]);
          return;
        }
        const error =
          err instanceof EventStoreError
            ? err
            : code?.startsWith('22')
              ? new InvalidEventDataError(err)
              : isUnavailable(code)
                ? new StoreUnavailableError(err)
                : err;
        for (const a of batch) a.reject(error);
        return;
      }
    }
  }

  /** Runs one group commit; returns how many events it wrote. */
  private async transaction(batch: PendingAppend[]): Promise<number> {
    if (batch.every(isSimpleAppend)) return (await writeSimpleBatch(this.pool, batch))();
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      let settle: () => number;
      try {
        settle = await writeBatch(client, batch);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
      await client.query('COMMIT');
      return settle();
    } catch (err) {
      broken ||= !(err as { code?: string }).code;
      throw err;
    } finally {
      // A connection that failed mid-transaction is discarded, not returned to the pool.
      client.release(broken ? true : undefined);
    }
  }
}

/** An `events` row as selected by the reads. */
interface EventRow {
  global_position: string;
  transaction_id: string;
  stream_id: string;
  stream_version: string | number;
  event_id: string;
  event_type: string;
  data: unknown;
  metadata: RecordedEvent['metadata'];
  recorded_at: Date;
}

function toRecorded(r: EventRow): RecordedEvent {
  return {
    globalPosition: r.global_position,
    transactionId: r.transaction_id,
    streamId: r.stream_id,
    streamVersion: toVersion(r.stream_version),
    eventId: r.event_id,
    type: r.event_type,
    data: r.data,
    metadata: r.metadata,
    recordedAt: r.recorded_at,
  };
}
