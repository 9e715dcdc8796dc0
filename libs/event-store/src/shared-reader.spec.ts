import { SharedTail } from './shared-reader';
import type { Checkpoint, RecordedEvent } from './types';

/** A log of n events in gap-safe order and a reader of it that counts its reads. */
function logOf(n: number) {
  const events: RecordedEvent[] = Array.from({ length: n }, (_, i) => ({
    globalPosition: String(i + 1),
    transactionId: String(100 + Math.floor(i / 3)),
    streamId: 's',
    streamVersion: i,
    eventId: `e${i}`,
    type: 't',
    data: { i },
    metadata: {},
    recordedAt: new Date(0),
  }));
  let visible = n;
  const reads: [string, number][] = [];
  const read = async (after: Checkpoint, limit: number) => {
    reads.push([after.globalPosition, limit]);
    const from = events.findIndex((e) => BigInt(e.globalPosition) > BigInt(after.globalPosition));
    const page = from < 0 ? [] : events.slice(from, Math.min(visible, from + limit));
    const last = page[page.length - 1];
    return { events: page, checkpoint: last ? { transactionId: last.transactionId, globalPosition: last.globalPosition } : after };
  };
  return { events, read, reads, show: (k: number) => (visible = k) };
}

const START = { transactionId: '0', globalPosition: '0' };
const positions = (p: { events: RecordedEvent[] }) => p.events.map((e) => Number(e.globalPosition));

describe('SharedTail', () => {
  it('serves followers at the same place from one read, and pages as a reader of its own would', async () => {
    const log = logOf(10);
    const tail = new SharedTail(log.read, 100);
    const [a, b] = await Promise.all([tail.readAll(START, 4), tail.readAll(START, 4)]);
    expect(positions(a)).toEqual([1, 2, 3, 4]);
    expect(b.events).toBe(a.events); // one parse: the same objects
    const a2 = await tail.readAll(a.checkpoint, 4);
    const b2 = await tail.readAll(b.checkpoint, 4);
    expect(positions(b2)).toEqual([5, 6, 7, 8]);
    expect(b2.checkpoint).toEqual(a2.checkpoint);
    expect(log.reads.length).toBe(2);
  });

  it('serves a follower behind the end from memory, with a smaller page', async () => {
    const log = logOf(10);
    const tail = new SharedTail(log.read, 100);
    const a = await tail.readAll(START, 8);
    const b = await tail.readAll(START, 3);
    expect(positions(b)).toEqual([1, 2, 3]);
    const b2 = await tail.readAll(b.checkpoint, 3);
    expect(positions(b2)).toEqual([4, 5, 6]);
    expect(b2.checkpoint).toEqual({ transactionId: '101', globalPosition: '6' });
    expect(log.reads.length).toBe(1);
    expect(positions(await tail.readAll(a.checkpoint, 8))).toEqual([9, 10]);
  });

  it('keeps what two overlapping reads from the same place found, the longer settling last', async () => {
    const log = logOf(10);
    const tail = new SharedTail(log.read, 100);
    const [short, long] = await Promise.all([tail.readAll(START, 2), tail.readAll(START, 6)]);
    expect(positions(short)).toEqual([1, 2]);
    expect(positions(long)).toEqual([1, 2, 3, 4, 5, 6]);
    const reads = log.reads.length;
    expect(positions(await tail.readAll(short.checkpoint, 10))).toEqual([3, 4, 5, 6]);
    expect(log.reads.length).toBe(reads);
  });

  it('reads newly visible events at the end, and lets a follower behind the kept window read by itself', async () => {
    const log = logOf(10);
    log.show(5);
    const tail = new SharedTail(log.read, 3);
    const a = await tail.readAll(START, 10);
    expect(positions(a)).toEqual([1, 2, 3, 4, 5]);
    expect(positions(await tail.readAll(a.checkpoint, 10))).toEqual([]);
    log.show(10);
    expect(positions(await tail.readAll(a.checkpoint, 10))).toEqual([6, 7, 8, 9, 10]);
    // Only the last 3 are kept: a follower at 2 reads the store.
    const reads = log.reads.length;
    const behind = await tail.readAll({ transactionId: '100', globalPosition: '2' }, 4);
    expect(positions(behind)).toEqual([3, 4, 5, 6]);
    expect(log.reads.length).toBe(reads + 1);
    // ...and one inside the kept window is served from memory.
    expect(positions(await tail.readAll({ transactionId: '102', globalPosition: '8' }, 4))).toEqual([9, 10]);
    expect(log.reads.length).toBe(reads + 1);
  });
});
