import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { prepareDatabase, poolOf } from '@app/database';
import { Checkpoint, ConcurrencyError, EventStore, IdempotencyConflictError, START } from '@app/event-store';
import { createTestDatabase } from '../support/db';
import { eventually } from '../support/eventually';

describe('EventStore on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let pool: Pool;
  let store: EventStore;

  beforeAll(async () => {
    db = await createTestDatabase('event_store');
    ds = await prepareDatabase({ url: db.url, poolSize: 10, statementTimeoutMs: 10_000, createIfMissing: false, migrate: true });
    pool = poolOf(ds);
    store = new EventStore(pool, { maxBatchEvents: 512, maxInFlight: 2 });
  });

  afterAll(async () => {
    await store.close();
    await ds.destroy();
    await db.drop();
  });

  const stream = () => `test-${randomUUID()}`;
  const ev = (type: string, data: unknown = {}, id?: string) => ({ type, data, id });

  it('appends and reads a stream in order, positions as strings', async () => {
    const s = stream();
    const first = await store.append(s, [ev('a', { n: 1 }), ev('b', { n: 2 })], 'no_stream');
    const second = await store.append(s, [ev('c', { n: 3 })], 1);
    expect(first.nextExpectedVersion).toBe(1);
    expect(second.nextExpectedVersion).toBe(2);
    expect(typeof first.events[0].globalPosition).toBe('string');
    expect(BigInt(second.events[0].globalPosition)).toBeGreaterThan(BigInt(first.events[1].globalPosition));
    const read = await store.readStream(s);
    expect(read.map((e) => [e.type, e.streamVersion, e.data])).toEqual([
      ['a', 0, { n: 1 }],
      ['b', 1, { n: 2 }],
      ['c', 2, { n: 3 }],
    ]);
    expect(read.map((e) => e.eventId)).toEqual([...first.events, ...second.events].map((e) => e.eventId));
  });

  it('raises a typed concurrency error on a wrong expected version and writes nothing', async () => {
    const s = stream();
    await store.append(s, [ev('a')], 'no_stream');
    await expect(store.append(s, [ev('b')], 'no_stream')).rejects.toBeInstanceOf(ConcurrencyError);
    const err = await store.append(s, [ev('b')], 5).catch((e) => e);
    expect(err).toBeInstanceOf(ConcurrencyError);
    expect(err).toMatchObject({ streamId: s, expected: 5, actual: 0, code: 'concurrency_conflict' });
    expect(await store.readStream(s)).toHaveLength(1);
  });

  it('returns the original result for a retried event id and refuses the id with another payload', async () => {
    const s = stream();
    const id = randomUUID();
    const first = await store.append(s, [ev('a', { x: 1, y: [1, 2] }, id)], 'no_stream');
    // Same payload (keys in another order): the original answer, nothing new written.
    const again = await store.append(s, [ev('a', { y: [1, 2], x: 1 }, id)], 'no_stream');
    expect(again.duplicate).toBe(true);
    expect(again.events).toEqual(first.events);
    await expect(store.append(s, [ev('a', { x: 2 }, id)], 'any')).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(store.append(stream(), [ev('a', { x: 1, y: [1, 2] }, id)], 'any')).rejects.toBeInstanceOf(IdempotencyConflictError);
    expect(await store.readStream(s)).toHaveLength(1);
  });

  it('group-commits concurrent appends: one event per id, contiguous versions, identical answers for duplicates', async () => {
    const s = stream();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(s, [ev('tick', { i })], 'any')));
    const versions = results.map((r) => r.nextExpectedVersion).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 200 }, (_, i) => i));

    const id = randomUUID();
    const dupes = await Promise.all(
      Array.from({ length: 50 }, () => store.append(stream(), [ev('once', { k: 1 }, id)], 'any').catch((e) => e)),
    );
    // Different streams with one id: exactly one wins, the rest are conflicts (different payload identity).
    expect(dupes.filter((d) => !(d instanceof Error))).toHaveLength(1);
    const same = stream();
    const id2 = randomUUID();
    const answers = await Promise.all(Array.from({ length: 50 }, () => store.append(same, [ev('once', { k: 1 }, id2)], 'any')));
    expect(new Set(answers.map((a) => a.events[0].globalPosition)).size).toBe(1);
    expect(await store.readStream(same)).toHaveLength(1);
  });

  it('one group commit settles stored duplicates, their conflicting repeats, new and existing streams and versioned appends apart', async () => {
    const [old, fresh, versioned] = [stream(), stream(), stream()];
    const storedId = randomUUID();
    const first = await store.append(old, [ev('w', { n: 0 }, storedId)], 'any');
    await store.append(versioned, [ev('v', {})], 'no_stream');
    // All issued in one turn of the event loop: they share batches (simple and versioned runs).
    const settled = await Promise.allSettled([
      store.append(old, [ev('w', { n: 0 }, storedId)], 'any'), // stored duplicate: original answer
      store.append(old, [ev('w', { n: 9 }, storedId)], 'any'), // same id, other data: 422
      store.append(old, [ev('w', { n: 1 })], 'any'),
      store.append(fresh, [ev('w', { n: 1 })], 'any'),
      store.append(fresh, [ev('w', { n: 2 })], 'any'),
      store.append(versioned, [ev('v', {}), ev('v', {})], 0),
      store.append(versioned, [ev('v', {})], 0), // loses the race: 409
      store.append(old, [ev('w', { n: 2 })], 'any'),
    ]);
    const value = (i: number) => (settled[i] as PromiseFulfilledResult<Awaited<ReturnType<EventStore['append']>>>).value;
    const reason = (i: number) => (settled[i] as PromiseRejectedResult).reason;
    expect(value(0)).toMatchObject({ duplicate: true, events: first.events });
    expect(reason(1)).toBeInstanceOf(IdempotencyConflictError);
    expect(reason(6)).toBeInstanceOf(ConcurrencyError);
    expect((await store.readStream(old)).map((e) => [e.streamVersion, e.data])).toEqual([
      [0, { n: 0 }],
      [1, { n: 1 }],
      [2, { n: 2 }],
    ]);
    expect((await store.readStream(fresh)).map((e) => [e.streamVersion, e.data])).toEqual([
      [0, { n: 1 }],
      [1, { n: 2 }],
    ]);
    expect((await store.readStream(versioned)).map((e) => e.streamVersion)).toEqual([0, 1, 2]);
    expect(value(3).events[0].streamVersion).toBe(0);
    expect(value(7).nextExpectedVersion).toBe(2);
    // Positions follow the order of the calls within a stream.
    expect(BigInt(value(2).events[0].globalPosition)).toBeLessThan(BigInt(value(7).events[0].globalPosition));
  });

  it('a bad append in a batch fails alone', async () => {
    const s = stream();
    const results = await Promise.allSettled([
      store.append(s, [ev('ok', { a: 1 })], 'any'),
      store.append(s, [ev('bad', { a: 'nul\u0000' })], 'any'),
      store.append(s, [ev('ok', { a: 2 })], 'any'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.code).toBe('invalid_event_data');
  });

  it('refuses UPDATE and DELETE on the log', async () => {
    const s = stream();
    await store.append(s, [ev('a')], 'any');
    await expect(pool.query(`UPDATE events SET data = '{}' WHERE stream_id = $1`, [s])).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM events WHERE stream_id = $1`, [s])).rejects.toThrow(/append-only/);
  });

  async function readToEnd(from: Checkpoint): Promise<{ ids: string[]; checkpoint: Checkpoint }> {
    const ids: string[] = [];
    let checkpoint = from;
    for (;;) {
      const page = await store.readAll(checkpoint, 3);
      if (!page.events.length) return { ids, checkpoint };
      ids.push(...page.events.map((e) => e.eventId));
      checkpoint = page.checkpoint;
    }
  }

  it('a catch-up reader never skips an event committed out of position order', async () => {
    const start = (await readToEnd(START)).checkpoint;
    const t1 = new Client({ connectionString: db.url });
    const t2 = new Client({ connectionString: db.url });
    await t1.connect();
    await t2.connect();
    const insert = (c: Client, id: string, s: string) =>
      c.query(`INSERT INTO events (stream_id, stream_version, event_id, event_type, data) VALUES ($1, 0, $2, 'gap-test', '{}')`, [s, id]);
    try {
      const a = randomUUID();
      const b = randomUUID();
      await t1.query('BEGIN');
      await insert(t1, a, stream()); // takes the lower global_position
      await t2.query('BEGIN');
      await insert(t2, b, stream()); // higher position ...
      await t2.query('COMMIT'); // ... committed first

      const seen: string[] = [];
      const poll1 = await readToEnd(start);
      seen.push(...poll1.ids);
      // B is committed but A (lower position) is in flight: B must not be visible yet,
      // or the reader would move its checkpoint past A.
      expect(poll1.ids).not.toContain(b);

      await t1.query('COMMIT');
      // Visibility waits for the oldest transaction in the whole cluster (other test files' too),
      // so poll until both show up, as a projector would.
      let checkpoint = poll1.checkpoint;
      await eventually(
        async () => {
          const poll = await readToEnd(checkpoint);
          seen.push(...poll.ids);
          checkpoint = poll.checkpoint;
          return seen.includes(a) && seen.includes(b);
        },
        10_000,
        20,
        'both events read',
      );
      expect(seen).toEqual(expect.arrayContaining([a, b]));
      expect(seen.filter((x) => x === a || x === b)).toHaveLength(2);

      // Show that a naive `global_position > last` reader would have skipped A.
      const { rows } = await pool.query(
        `SELECT event_id::text, global_position::text FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY global_position`,
        [[a, b]],
      );
      expect(rows.map((r) => r.event_id)).toEqual([a, b]);
    } finally {
      await t1.end();
      await t2.end();
    }
  });

  it('pages through a concurrent writer without losing or repeating events', async () => {
    const start = (await readToEnd(START)).checkpoint;
    const written = new Set<string>();
    let done = false;
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        const r = await Promise.all(Array.from({ length: 10 }, () => store.append(stream(), [ev('load')], 'any')));
        r.forEach((x) => written.add(x.events[0].eventId));
      }
      done = true;
    })();
    const seen: string[] = [];
    let checkpoint = start;
    while (!done || seen.length < written.size) {
      const page = await store.readAll(checkpoint, 7);
      seen.push(...page.events.filter((e) => e.type === 'load').map((e) => e.eventId));
      checkpoint = page.checkpoint;
      if (!page.events.length) await new Promise((r) => setTimeout(r, 2));
    }
    await writer;
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(written);
  });

  it('pages a transaction whose positions cross a power of ten in numeric order (positions are not sorted as text)', async () => {
    const { rows } = await pool.query(
      `SELECT transaction_id::text AS t, global_position::text AS p FROM events e ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
    );
    const start = rows[0] ? { transactionId: rows[0].t, globalPosition: rows[0].p } : { transactionId: '0', globalPosition: '0' };
    // One append of 150 events: one transaction, positions such as 98, 99, 100, 101.
    const stream = `digits-${randomUUID()}`;
    const written = await store.append(
      stream,
      Array.from({ length: 150 }, (_, i) => ({ type: 'test:n', data: { i } })),
    );
    const seen: string[] = [];
    let checkpoint = start;
    // Until the append is visible to the gap-safe reader (other sessions' transactions on a shared
    // server hold the horizon back) and read to the end.
    await eventually(
      async () => {
        const page = await store.readAll(checkpoint, 40);
        seen.push(...page.events.filter((e) => e.streamId === stream).map((e) => e.globalPosition));
        checkpoint = page.checkpoint;
        return seen.length >= 150;
      },
      60_000,
      20,
      'the reader saw all 150 events',
    );
    expect(seen).toEqual(written.events.map((e) => e.globalPosition));
  });
  it('readPages gives the pages readAll gives, each ending where the next begins, and stops at the end', async () => {
    const stream = `pages-${randomUUID()}`;
    const written = await store.append(
      stream,
      Array.from({ length: 95 }, (_, i) => ({ type: 'test:page', data: { i } })),
    );
    // Until the append is visible to the gap-safe reader, then both readers from the start.
    await eventually(async () => (await readToEnd(START)).ids.includes(written.events[94]!.eventId), 60_000, 20, 'the append is visible');
    const byReadAll: { positions: string[]; checkpoint: Checkpoint }[] = [];
    let checkpoint = START;
    for (;;) {
      const page = await store.readAll(checkpoint, 10);
      if (!page.events.length) break;
      byReadAll.push({ positions: page.events.map((e) => e.globalPosition), checkpoint: page.checkpoint });
      checkpoint = page.checkpoint;
    }
    const byReadPages: typeof byReadAll = [];
    for await (const page of store.readPages(START, 10)) {
      byReadPages.push({ positions: page.events.map((e) => e.globalPosition), checkpoint: page.checkpoint });
    }
    expect(byReadPages).toEqual(byReadAll);
    const last = byReadPages[byReadPages.length - 1]!;
    expect(last.checkpoint.globalPosition).toBe(last.positions[last.positions.length - 1]);
    expect(byReadPages.flatMap((p) => p.positions).length).toBeGreaterThanOrEqual(95);
  });
});
