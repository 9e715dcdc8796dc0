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
  private extending: { from: string; limit: number; page: Promise<Page> } | null = null;

  constructor(
    private readonly read: Read,
    private readonly keep: number,
  ) {}

  async readAll(from: Checkpoint, limit: number): Promise<Page> {
    const at = this.index.get(keyOf(from));
    if (at === undefined) return this.restart(from, limit);
    const i = at - this.dropped;
    if (i < this.events.length) return this.slice(i, limit, from);
    // At the end: extend it, sharing a read already under way from the same place.
    const key = keyOf(from);
    if (!this.extending || this.extending.from !== key || this.extending.limit < limit) {
      const page = this.read(from, limit);
      const ext = { from: key, limit, page };
      this.extending = ext;
      page.then(
        (p) => {
          if (this.extending === ext) this.extending = null;
          this.append(from, p);
        },
        () => {
          if (this.extending === ext) this.extending = null;
        },
      );
    }
    const page = await this.extending.page;
    return page.events.length > limit ? this.cut(page.events.slice(0, limit), from) : page;
  }

  /** A checkpoint the run does not hold: read by itself; start a new run when it is ahead. */
  private async restart(from: Checkpoint, limit: number): Promise<Page> {
    const page = await this.read(from, limit);
    const tail = this.tail();
    if (page.events.length && (!tail || after(from, tail))) {
      this.start = from;
      this.events = [];
      this.index = new Map([[keyOf(from), 0]]);
      this.dropped = 0;
      this.extending = null;
      this.append(from, page);
    }
    return page;
  }

  private tail(): Checkpoint | null {
    const last = this.events[this.events.length - 1];
    return last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : this.start;
  }

  /** Appends a page read from `from`, if it still continues the run there. */
  private append(from: Checkpoint, page: Page): void {
    const tail = this.tail();
    if (!tail || keyOf(tail) !== keyOf(from)) return;
    for (const e of page.events) {
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

  private slice(i: number, limit: number, from: Checkpoint): Page {
    return this.cut(this.events.slice(i, i + limit), from);
  }

  private cut(events: RecordedEvent[], from: Checkpoint): Page {
    const last = events[events.length - 1];
    return { events, checkpoint: last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : from };
  }
}
