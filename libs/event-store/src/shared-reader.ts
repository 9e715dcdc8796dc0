import type { Checkpoint, RecordedEvent } from './types';

type Page = { events: RecordedEvent[]; checkpoint: Checkpoint };
type Read = (after: Checkpoint, limit: number) => Promise<Page>;

const keyOf = (c: Checkpoint) => `${c.transactionId}:${c.globalPosition}`;
const after = (a: Checkpoint, b: Checkpoint) =>
  BigInt(a.transactionId) > BigInt(b.transactionId) ||
  (a.transactionId === b.transactionId && BigInt(a.globalPosition) > BigInt(b.globalPosition));

/**
 * The tail of the log that this process's followers (projectors, the sealer) read, kept once:
 * a contiguous run of events in the gap-safe order, each as parsed once from one catch-up read.
 * A follower whose checkpoint falls inside the run is served from memory; one at its end extends
 * it with a read from the store (concurrent followers at the end share that read); one behind it
 * reads the store by itself until it catches up. The run only ever holds what gap-safe reads
 * returned, appended checkpoint to checkpoint, so it is exactly what a reader of its own would
 * have seen. Followers must not modify the events they are given.
 */
export class SharedTail {
  /** The checkpoint just before events[0]. */
  private start: Checkpoint | null = null;
  private events: RecordedEvent[] = [];
  /** Checkpoint key -> index of the event after it (start -> 0, events[i] -> i + 1). */
  private index = new Map<string, number>();
  /** Index offset: events dropped from the front since the run began. */
  private dropped = 0;
  /** The latest read of the store, shared by followers asking from the same place. */
  private reading: { from: string; limit: number; page: Promise<Page> } | null = null;

  constructor(
    private readonly read: Read,
    private readonly keep: number,
  ) {}

  async readAll(from: Checkpoint, limit: number): Promise<Page> {
    const key = keyOf(from);
    const at = this.index.get(key);
    if (at !== undefined && at - this.dropped < this.events.length)
      return this.cut(this.events.slice(at - this.dropped, at - this.dropped + limit), from);
    // At the end, or not in the run: read the store, sharing a read already under way from the same place.
    let ext = this.reading;
    if (!ext || ext.from !== key || ext.limit < limit) {
      const page = this.read(from, limit);
      const mine = { from: key, limit, page };
      this.reading = ext = mine;
      page.then(
        (p) => {
          if (this.reading === mine) this.reading = null;
          this.take(from, p);
        },
        () => {
          if (this.reading === mine) this.reading = null;
        },
      );
    }
    const page = await ext.page;
    return page.events.length > limit ? this.cut(page.events.slice(0, limit), from) : page;
  }

  /** Keeps a page read from `from`: it extends the run, or starts a new one when it lies ahead of it. */
  private take(from: Checkpoint, page: Page): void {
    if (this.index.has(keyOf(from))) return this.append(from, page);
    const tail = this.tail();
    if (page.events.length && (!tail || after(from, tail))) {
      this.start = from;
      this.events = [];
      this.index = new Map([[keyOf(from), 0]]);
      this.dropped = 0;
      this.append(from, page);
    }
  }

  private tail(): Checkpoint | null {
    const last = this.events[this.events.length - 1];
    return last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : this.start;
  }

  /**
   * Appends a page read from `from` where it continues the run: all of it when `from` is the end,
   * else what lies beyond the end (two reads from the same place, the longer one settling last).
   */
  private append(from: Checkpoint, page: Page): void {
    const tail = this.tail();
    if (!tail) return;
    let fresh = page.events;
    if (keyOf(tail) !== keyOf(from)) {
      if (!this.index.has(keyOf(from))) return;
      const end = keyOf(tail);
      const j = fresh.findIndex((e) => keyOf(e) === end);
      if (j < 0) return;
      fresh = fresh.slice(j + 1);
    }
    for (const e of fresh) {
      this.events.push(e);
      this.index.set(keyOf(e), this.dropped + this.events.length);
    }
    const excess = this.events.length - this.keep;
    if (excess > 0) {
      const gone = this.events.splice(0, excess);
      this.index.delete(keyOf(this.start!));
      for (const e of gone.slice(0, -1)) this.index.delete(keyOf(e));
      const first = gone[gone.length - 1];
      this.start = { transactionId: first.transactionId, globalPosition: first.globalPosition };
      this.dropped += excess;
    }
  }

  private cut(events: RecordedEvent[], from: Checkpoint): Page {
    const last = events[events.length - 1];
    return { events, checkpoint: last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : from };
  }
}
