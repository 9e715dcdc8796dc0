import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Checkpoint, EventStore, RecordedEvent } from '@app/event-store';
import { applyInTransaction, ensureProjectionRow, readCheckpoint, releaseLease, takeLease } from './checkpoints';
import { projectionMetrics } from './metrics';
import type { Projection, ProjectorOptions } from './types';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long a projector may read past its stored checkpoint through batches it had nothing to do with. */
export const SKIPPED_CHECKPOINT_MS = 1_000;

/**
 * Drives one projection from the store: while it holds the projection's lease, it reads committed
 * events in the gap-safe order (EventStore.readAll), hands each batch to the projection and commits
 * the writes with the checkpoint. Between batches it sleeps `pollMs`, or less when this process
 * appended (EventStore.onCommitted).
 */
export class Projector {
  private readonly logger: Logger;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** Set when this process committed events since the last read. */
  private dirty = false;
  private unsubscribe?: () => void;
  /** The stored checkpoint (what the next write expects), null when it must be read again. */
  private checkpoint: Checkpoint | null = null;
  /**
   * Where reading goes on: past the stored checkpoint by the batches that held none of the
   * projection's event types (Projection.eventTypes), which need no transaction. `skipped` is the
   * last event of those, `skippedAt` when the first of them was read.
   */
  private readFrom: Checkpoint | null = null;
  private skipped: RecordedEvent | null = null;
  private skippedAt = 0;
  private leaseHeld = false;
  private rowReady = false;
  private leaseRenewedAt = 0;
  /** Recent event latencies (ms, recorded -> projected) for the lag report. */
  private readonly latencies: number[] = [];
  private latencyNext = 0;
  /** Recent batches: [read ms, apply+commit ms, events]. */
  private readonly timings: [number, number, number][] = [];
  private emptyReads = 0;
  /** When the last read of the log began (performance.now()): the batch window counts from it. */
  private readAt = 0;
  /** Empty reads since the last non-empty batch (busyPollMs backs off with them). */
  private idleReads = Infinity;

  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    readonly projection: Projection,
    private readonly options: ProjectorOptions,
  ) {
    this.logger = new Logger(`projection:${projection.name}`);
  }

  get holdsLease(): boolean {
    return this.leaseHeld;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.ensureRow();
    this.running = true;
    this.unsubscribe = this.store.onCommitted(() => {
      this.dirty = true;
      this.wake?.();
    });
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
    if (this.leaseHeld) await releaseLease(this.pool, this.projection.name, this.options.owner).catch(() => undefined);
    this.leaseHeld = false;
    projectionMetrics.leaseHeld.set({ projection: this.projection.name }, 0);
  }

  private async ensureRow(): Promise<void> {
    if (this.rowReady) return;
    await ensureProjectionRow(this.pool, this.projection.name);
    this.rowReady = true;
  }

  /** Renews (or takes) the lease when due; returns whether this instance may project. */
  async ensureLease(): Promise<boolean> {
    await this.ensureRow();
    const now = Date.now();
    if (this.leaseHeld && now - this.leaseRenewedAt < this.options.leaseMs / 3) return true;
    const held = await takeLease(this.pool, this.projection.name, this.options.owner, this.options.leaseMs);
    if (held && !this.leaseHeld) {
      this.checkpoint = null; // someone else may have moved it while we did not hold the lease
      this.logger.log(`took the lease as ${this.options.owner}`);
    }
    this.leaseHeld = held;
    this.leaseRenewedAt = now;
    projectionMetrics.leaseHeld.set({ projection: this.projection.name }, held ? 1 : 0);
    return held;
  }

  /**
   * One batch: returns how many events were read and applied or skipped (0 when caught up or not
   * the lease holder). A batch without any of the projection's event types opens no transaction:
   * the read goes on past the stored checkpoint, which follows with the next batch applied, or on
   * its own once SKIPPED_CHECKPOINT_MS passed or the log is read to its end (so that lag reports
   * and readiness stay true). A successor that starts from the stored checkpoint reads those
   * batches again, and they change nothing again.
   */
  async step(): Promise<number> {
    if (!(await this.ensureLease())) return 0;
    if (!this.checkpoint) {
      this.checkpoint = await readCheckpoint(this.pool, this.projection.name);
      this.readFrom = this.checkpoint;
      this.skipped = null;
    }
    const t0 = (this.readAt = performance.now());
    const { events, checkpoint } = await this.store.readAllShared(this.readFrom!, this.options.batchSize);
    if (!events.length) {
      this.emptyReads++;
      if (this.skipped) await this.apply([this.skipped], this.readFrom!, t0, true);
      return 0;
    }
    const types = this.projection.eventTypes;
    if (types && !events.some((e) => types.has(e.type))) {
      if (!this.skipped) this.skippedAt = t0;
      this.skipped = events[events.length - 1];
      this.readFrom = checkpoint;
      this.observe(events);
      if (t0 - this.skippedAt >= SKIPPED_CHECKPOINT_MS) await this.apply([this.skipped], checkpoint, t0, true);
      return events.length;
    }
    return this.apply(events, checkpoint, t0);
  }

  /**
   * Applies `events` (read from readFrom, ending at `checkpoint`) and moves the stored checkpoint in
   * one transaction. `skipped`: only writes the checkpoint past the skipped batches (`events` is
   * their last event), which were counted and observed when read.
   */
  private async apply(events: RecordedEvent[], checkpoint: Checkpoint, t0: number, skipped = false): Promise<number> {
    const prepared = skipped ? undefined : await this.projection.prepare?.(events, this.pool);
    const t1 = performance.now();
    const client = await this.pool.connect();
    let broken = false;
    // The server may end this session while we hold it (see below): an 'error' event, not a crash.
    const onError = () => (broken = true);
    client.on('error', onError);
    try {
      // A holder that hangs mid-batch (stopped VM, stuck event loop) would keep the checkpoint row
      // locked and block the take-over; Postgres ends such a session after one lease period.
      const prelude = `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1000, Math.floor(this.options.leaseMs))}`;
      const outcome = await applyInTransaction(
        client,
        this.projection.name,
        this.projection,
        new Map(this.projection.tables.map((t) => [t, t])),
        this.checkpoint!,
        events,
        this.options.owner,
        false,
        { prelude, commit: true, prepared },
      ).catch(async (err) => {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      });
      if (outcome.kind === 'lost') {
        await client.query('ROLLBACK');
        this.checkpoint = outcome.checkpoint;
        this.readFrom = outcome.checkpoint;
        this.skipped = null;
        return 0;
      }
      this.checkpoint = this.readFrom = checkpoint;
      this.skipped = null;
      if (skipped) return 0;
      this.observe(events);
      this.timings.push([t1 - t0, performance.now() - t1, events.length]);
      if (this.timings.length > 5000) this.timings.shift();
      if (outcome.after) {
        await Promise.resolve(outcome.after()).catch((err) => this.logger.warn(`after-commit failed: ${(err as Error).message}`));
      }
      return events.length;
    } catch (err) {
      broken ||= !(err as { code?: string }).code;
      this.checkpoint = this.readFrom = null;
      this.skipped = null;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken ? true : undefined);
    }
  }

  /** Runs batches until caught up (tests, rebuild hand-over). */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.step();
      total += n;
      if (n === 0) return total;
    }
  }

  latencyPercentiles(): { p50_ms: number | null; p99_ms: number | null; samples: number } {
    const s = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))] * 10) / 10 : null);
    return { p50_ms: at(0.5), p99_ms: at(0.99), samples: s.length };
  }

  /** Median read and write time of recent batches and their median size (for tuning). */
  batchTimings(): { read_ms: number | null; write_ms: number | null; events: number | null; batches: number; empty_reads: number } {
    const med = (i: 0 | 1 | 2) => {
      const v = this.timings.map((t) => t[i]).sort((a, b) => a - b);
      return v.length ? Math.round(v[Math.floor(v.length / 2)] * 10) / 10 : null;
    };
    return { read_ms: med(0), write_ms: med(1), events: med(2), batches: this.timings.length, empty_reads: this.emptyReads };
  }

  resetLatencies(): void {
    this.timings.length = 0;
    this.emptyReads = 0;
    this.latencies.length = 0;
    this.latencyNext = 0;
  }

  private observe(events: RecordedEvent[]): void {
    const now = Date.now();
    const name = this.projection.name;
    projectionMetrics.batchEvents.observe({ projection: name }, events.length);
    for (const e of events) {
      const ms = Math.max(0, now - new Date(e.recordedAt).getTime());
      projectionMetrics.latency.observe({ projection: name }, ms / 1000);
      if (this.latencies.length < 20_000) this.latencies.push(ms);
      else this.latencies[this.latencyNext++ % 20_000] = ms;
    }
  }

  /**
   * How long to wait before the next read. Busy (windowed: a non-empty batch while following the
   * log closely): what committed while this batch was applied is already waiting (the appends of
   * another process wake nobody here), so read again once the batch window since the last read
   * has passed (at once when applying took longer) rather than a poll period later. After empty
   * reads wait busyPollMs, doubling up to pollMs. An append of this process (dirty) ends any wait
   * but the window's.
   */
  private nextWait(windowed: boolean): number {
    const { busyPollMs, batchWindowMs, pollMs, leaseMs } = this.options;
    if (windowed) return (batchWindowMs ?? 0) - (performance.now() - this.readAt);
    if (!this.leaseHeld) return Math.max(pollMs, leaseMs / 3);
    if (this.dirty) return 0;
    if (busyPollMs === undefined) return pollMs;
    return Math.min(pollMs, busyPollMs * 2 ** Math.min(this.idleReads - 1, 16));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let applied = 0;
      this.dirty = false;
      try {
        applied = await this.step();
        failures = 0;
      } catch (err) {
        failures++;
        this.logger.error(`batch failed (${failures} in a row): ${(err as Error).message}`);
        await sleep(Math.min(30_000, 100 * 2 ** Math.min(failures, 8)));
        continue;
      }
      this.idleReads = applied > 0 ? 0 : this.idleReads + 1;
      if (applied >= this.options.batchSize || !this.running) continue;
      const windowed = this.leaseHeld && this.options.busyPollMs !== undefined && applied > 0;
      const wait = this.nextWait(windowed);
      if (wait <= 0) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          if (windowed && this.running) return;
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
