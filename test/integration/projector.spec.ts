import { randomUUID } from 'node:crypto';
import { Client, Pool } from 'pg';
import { DataSource } from 'typeorm';
import { prepareDatabase, poolOf } from '@app/database';
import { EventStore, RecordedEvent } from '@app/event-store';
import { ensureProjectionRow, Projection, ProjectionContext, Projector, projectionLag, SKIPPED_CHECKPOINT_MS } from '@app/projections';
import { createTestDatabase } from '../support/db';
import { eventually } from '../support/eventually';

/** Counts how many times each event (of `eventTypes`, when given) was applied: exactly-once means every count is 1. */
class CountingProjection implements Projection {
  readonly tables = ['applied_test'] as const;
  /** When set, called in the middle of a batch (after the writes, before the checkpoint). */
  midBatch?: (events: RecordedEvent[]) => Promise<void>;
  constructor(
    readonly name: string,
    readonly eventTypes?: ReadonlySet<string>,
  ) {}

  async handle(events: RecordedEvent[], ctx: ProjectionContext): Promise<void> {
    const types = this.eventTypes;
    await ctx.client.query(
      `INSERT INTO ${ctx.table('applied_test')} (event_id, n) SELECT unnest($1::uuid[]), 1
       ON CONFLICT (event_id) DO UPDATE SET n = ${ctx.table('applied_test')}.n + 1`,
      [events.filter((e) => !types || types.has(e.type)).map((e) => e.eventId)],
    );
    await this.midBatch?.(events);
  }
}

jest.setTimeout(30_000);

describe('Projector on PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let pool: Pool;
  let store: EventStore;
  const opts = (owner: string) => ({ owner, batchSize: 5, pollMs: 10, leaseMs: 600 });

  beforeAll(async () => {
    db = await createTestDatabase('projector');
    ds = await prepareDatabase({ url: db.url, poolSize: 12, statementTimeoutMs: 10_000, createIfMissing: false, migrate: true });
    pool = poolOf(ds);
    store = new EventStore(pool, { maxBatchEvents: 512, maxInFlight: 2 });
    await pool.query(`CREATE TABLE applied_test (event_id uuid PRIMARY KEY, n integer NOT NULL)`);
  });

  afterAll(async () => {
    await store.close();
    await ds.destroy();
    await db.drop();
  });

  beforeEach(async () => {
    await pool.query(`TRUNCATE applied_test`);
    await pool.query(`DELETE FROM projections`);
  });

  const appendSome = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await store.append(`s-${randomUUID()}`, [{ type: 't', data: { i } }])).events[0].eventId);
    return ids;
  };
  const counts = async () => (await pool.query(`SELECT event_id::text AS id, n FROM applied_test`)).rows as { id: string; n: number }[];
  const allEventIds = async () => (await pool.query(`SELECT event_id::text AS id FROM events`)).rows.map((r) => r.id as string);
  /**
   * catchUp stops when nothing is visible yet; visibility waits for the oldest transaction in the
   * whole cluster (other test files' too), so repeat until every committed event was seen.
   */
  const catchUpFully = async (p: Projector) => {
    await eventually(
      async () => {
        await p.catchUp();
        return (await counts()).length >= (await allEventIds()).length;
      },
      10_000,
      50,
      'every committed event applied',
    );
  };

  it('applies events committed out of position order around a batch exactly once', async () => {
    const projection = new CountingProjection('counting-gap');
    const projector = new Projector(pool, store, projection, opts('a'));
    await appendSome(7);
    const t1 = new Client({ connectionString: db.url });
    const t2 = new Client({ connectionString: db.url });
    await t1.connect();
    await t2.connect();
    const insert = (c: Client, id: string) =>
      c.query(`INSERT INTO events (stream_id, stream_version, event_id, event_type, data) VALUES ($1, 0, $2, 'gap', '{}')`, [
        `gap-${id}`,
        id,
      ]);
    try {
      const a = randomUUID();
      const b = randomUUID();
      await t1.query('BEGIN');
      await insert(t1, a); // lower global_position, committed last
      await t2.query('BEGIN');
      await insert(t2, b);
      await t2.query('COMMIT');
      await appendSome(3);
      await projector.catchUp(); // batches of 5 stop short of the in-flight transaction
      expect((await counts()).map((c) => c.id)).not.toContain(b);
      await t1.query('COMMIT');
      await appendSome(4);
      await catchUpFully(projector);
    } finally {
      await t1.end();
      await t2.end();
    }
    const c = await counts();
    expect(c.map((x) => x.id).sort()).toEqual((await allEventIds()).sort());
    expect(c.every((x) => x.n === 1)).toBe(true);
    const lag = await projectionLag(pool, 'counting-gap', true);
    expect(lag).toMatchObject({ events_behind: 0, seconds_behind: 0 });
    await projector.stop();
  });

  it('a checkpoint moved mid-batch by a writer without the checkpoint lock: the batch commits nothing', async () => {
    const projection = new CountingProjection('counting-moved');
    const projector = new Projector(pool, store, projection, opts('a'));
    await appendSome(3);
    await catchUpFully(projector);
    await pool.query(`TRUNCATE applied_test`);
    const ids = await appendSome(3);
    const { rows } = await pool.query(`SELECT transaction_id::text AS t, global_position::text AS p FROM events WHERE event_id = $1`, [
      ids[0],
    ]);
    projection.midBatch = async () => {
      projection.midBatch = undefined;
      // Another writer (an older release: no advisory lock) moves the checkpoint past the first event.
      await pool.query(`UPDATE projections SET transaction_id = $1::xid8, global_position = $2 WHERE name = 'counting-moved'`, [
        rows[0].t,
        rows[0].p,
      ]);
    };
    expect(await projector.step()).toBe(0); // lost: its writes rolled back
    expect(await counts()).toEqual([]);
    // The next steps find the checkpoint moved, take it, and go on from there.
    await eventually(
      async () => (await projector.catchUp(), (await counts()).length >= 2),
      10_000,
      50,
      'the events after the moved checkpoint applied',
    );
    expect((await counts()).map((c) => c.id).sort()).toEqual(ids.slice(1).sort());
    expect((await counts()).every((c) => c.n === 1)).toBe(true);
    await projector.stop();
  });

  it('a projector killed mid-batch double-applies nothing: its batch rolls back and the next holder resumes', async () => {
    await appendSome(23);
    const projection = new CountingProjection('counting-kill');
    const a = new Projector(pool, store, projection, opts('a'));
    await a.step(); // one committed batch
    let stuck!: () => void;
    let hung = false;
    // The second batch hangs after its writes, like a process frozen mid-batch.
    projection.midBatch = () => {
      projection.midBatch = undefined;
      hung = true;
      return new Promise<void>((r) => (stuck = r));
    };
    const aStep = a.step().catch((e: Error) => e);
    await eventually(() => hung, 10_000, 5);

    // Another process's projector: it cannot take the lease until the holder's lease expired and
    // Postgres ended the frozen session (idle_in_transaction_session_timeout), rolling it back.
    const b = new Projector(pool, store, new CountingProjection('counting-kill'), opts('b'));
    let applied = 0;
    await eventually(
      async () => {
        applied += await b.step().catch(() => 0);
        return (await counts()).length === (await allEventIds()).length;
      },
      10_000,
      50,
      'the second projector applied every event',
    );
    stuck();
    const aResult = await aStep;
    expect(aResult).toBeInstanceOf(Error); // its connection was terminated: nothing of it committed
    expect(b.holdsLease).toBe(true);
    // The old holder wakes up and tries again: it no longer holds the lease and applies nothing.
    expect(await a.step()).toBe(0);
    await appendSome(6);
    await catchUpFully(b);
    const c = await counts();
    expect(c.map((x) => x.id).sort()).toEqual((await allEventIds()).sort());
    expect(c.filter((x) => x.n !== 1)).toEqual([]);
    expect(applied).toBeGreaterThan(0);
    await b.stop();
    await a.stop();
  });

  it('one active projector per projection: a second instance waits while the lease is renewed', async () => {
    await appendSome(12);
    const one = new Projector(pool, store, new CountingProjection('counting-lease'), opts('one'));
    const two = new Projector(pool, store, new CountingProjection('counting-lease'), opts('two'));
    await one.start();
    await two.start();
    const until = Date.now() + 1500;
    while (Date.now() < until) {
      await appendSome(2);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect([one.holdsLease, two.holdsLease].filter(Boolean)).toHaveLength(1);
    const holder = one.holdsLease ? one : two;
    const other = holder === one ? two : one;
    await holder.stop(); // releases the lease; the other takes over
    await appendSome(3);
    await eventually(async () => (await counts()).length >= (await allEventIds()).length, 5_000, 50, 'the other instance caught up');
    expect(other.holdsLease).toBe(true);
    await other.stop();
    const c = await counts();
    expect(c.length).toBe((await allEventIds()).length);
    expect(c.every((x) => x.n === 1)).toBe(true);
  });
  it("a batch without any of the projection's event types opens no transaction; the checkpoint follows after SKIPPED_CHECKPOINT_MS, with the next batch applied, or at the end of the log", async () => {
    const name = 'counting-typed';
    // Start at the end of what earlier tests appended, once all of it is visible to the gap-safe read.
    await eventually(
      async () =>
        (await pool.query(`SELECT count(*) FILTER (WHERE transaction_id >= pg_snapshot_xmin(pg_current_snapshot()))::int AS n FROM events`))
          .rows[0].n === 0,
      10_000,
      50,
      'earlier events visible',
    );
    await pool.query(
      `INSERT INTO projections (name, transaction_id, global_position)
       SELECT $1, coalesce(max(transaction_id::text::numeric), 0)::text::xid8, coalesce(max(global_position), 0) FROM events`,
      [name],
    );
    const projection = new CountingProjection(name, new Set(['wanted']));
    const projector = new Projector(pool, store, projection, { ...opts('t'), leaseMs: 60_000 });
    const stored = async () => (await pool.query(`SELECT global_position::text AS p FROM projections WHERE name = $1`, [name])).rows[0].p;
    const append = async (types: string[]) => {
      const positions: string[] = [];
      for (const type of types) positions.push((await store.append(`s-${randomUUID()}`, [{ type, data: {} }])).events[0].globalPosition);
      await eventually(
        async () =>
          (
            await pool.query(
              `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::numeric > max(transaction_id::text::numeric) AS v FROM events`,
            )
          ).rows[0].v,
        10_000,
        20,
        'appended events visible',
      );
      return positions;
    };
    const start = await stored();

    const others = await append(Array(10).fill('t'));
    expect(await projector.step()).toBe(5);
    expect(await stored()).toBe(start); // read past, no transaction
    await new Promise((r) => setTimeout(r, SKIPPED_CHECKPOINT_MS + 50));
    expect(await projector.step()).toBe(5);
    expect(await stored()).toBe(others[9]); // a second after the first skipped batch: written

    const mixed = await append(['t', 't', 't', 'wanted', 't', 't']);
    expect(await projector.step()).toBe(5); // holds 'wanted': applied with its checkpoint
    expect(await stored()).toBe(mixed[4]);
    expect(await projector.step()).toBe(1); // skipped
    expect(await stored()).toBe(mixed[4]);
    expect(await projector.step()).toBe(0); // the end of the log: the skipped batch's checkpoint is written
    expect(await stored()).toBe(mixed[5]);
    expect(await counts()).toEqual([
      { id: (await pool.query(`SELECT event_id::text AS id FROM events WHERE event_type = 'wanted'`)).rows[0].id, n: 1 },
    ]);

    // A successor starts from the stored checkpoint: what was skipped and not yet written is read again, and changes nothing.
    const tail = await append(['t', 't']);
    expect(await projector.step()).toBe(2);
    await projector.stop();
    const successor = new Projector(pool, store, projection, { ...opts('u'), leaseMs: 60_000 });
    await pool.query(`UPDATE projections SET lease_owner = NULL WHERE name = $1`, [name]);
    expect(await successor.catchUp()).toBe(2);
    expect(await stored()).toBe(tail[1]);
    expect((await counts()).map((c) => c.n)).toEqual([1]);
    await successor.stop();
  });

  it('under load, reads at most once per batch window, and still applies every event once', async () => {
    const projection = new CountingProjection('counting-window');
    const windowMs = 150;
    const projector = new Projector(pool, store, projection, { ...opts('w'), batchSize: 1000, busyPollMs: 5, batchWindowMs: windowMs });
    await projector.start();
    // An event every ~10 ms for 1.2 s: without the window each would come in a batch of its own.
    const started = performance.now();
    let appended = 0;
    while (performance.now() - started < 1_200) {
      await appendSome(1);
      appended++;
      await new Promise((r) => setTimeout(r, 10));
    }
    const elapsed = performance.now() - started;
    await eventually(async () => (await counts()).length >= (await allEventIds()).length, 10_000, 50, 'every event applied');
    await projector.stop();
    expect((await counts()).every((c) => c.n === 1)).toBe(true);
    const { batches } = projector.batchTimings();
    // Non-empty batches start at least a window apart (a slow machine only makes them fewer).
    expect(batches).toBeLessThanOrEqual(Math.ceil((elapsed + 2_000) / windowMs));
    expect(batches).toBeLessThan(appended / 3);
  });
});

describe('projectionLag on PostgreSQL', () => {
  it('counts what is behind by the index, never by a sequential scan of the log', async () => {
    // A database of its own, used through one connection only: the scans counted below are this
    // test's alone (another backend's pending statistics could be flushed in between).
    const own = await createTestDatabase('projection-lag');
    await (
      await prepareDatabase({ url: own.url, poolSize: 1, statementTimeoutMs: 10_000, createIfMissing: false, migrate: true })
    ).destroy();
    const one = new Pool({ connectionString: own.url, max: 1 });
    const store = new EventStore(one, { maxBatchEvents: 512, maxInFlight: 1 });
    const seqScansOfEvents = async () => {
      await one.query('SELECT pg_stat_force_next_flush()');
      await one.query('SELECT 1'); // the backend went idle in between: flushed
      const { rows } = await one.query(
        `SELECT coalesce(sum(seq_scan), 0)::int AS n FROM pg_stat_user_tables
          WHERE relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'events'::regclass)`,
      );
      return rows[0].n as number;
    };
    try {
      for (let i = 0; i < 300; i++) await store.append(`s-${randomUUID()}`, [{ type: 't', data: { i } }]);
      await ensureProjectionRow(one, 'counting-lag'); // checkpoint at the start: everything is behind
      const before = await seqScansOfEvents();
      const lag = await projectionLag(one, 'counting-lag', false);
      expect(await seqScansOfEvents()).toBe(before);
      expect(lag?.events_behind).toBe(300);
    } finally {
      await store.close();
      await one.end();
      await own.drop();
    }
  });
});
