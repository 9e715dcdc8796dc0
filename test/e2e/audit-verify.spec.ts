import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { prepareDatabase, poolOf } from '@app/database';
import { EventStore } from '@app/event-store';
import { containerStream, WATCHDOG, watchdogStream } from '@app/container-events';
import { verifyChain, type AuditKeys } from '@app/audit';
import { createTestDatabase } from '../support/db';
import { newSigningKey, ops, sealAll } from '../support/audit';

jest.setTimeout(180_000);

/** The hash chain: sealed by the sealer, checked by `verify`, tampered with by plain SQL. */
describe('audit verify', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let pool: Pool;
  let store: EventStore;
  let keys: AuditKeys;
  let env: Record<string, string>;

  /** Runs `sql` with the append-only trigger lifted, as a tamperer with database access would. */
  const tamper = async (sql: string, params: unknown[] = []) => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL collab.allow_event_rewrite = 'on'`);
      const r = await c.query(sql, params);
      await c.query('COMMIT');
      return r;
    } finally {
      c.release();
    }
  };
  const nth = async (n: number) =>
    (
      await pool.query(
        `SELECT global_position::text AS p, transaction_id::text AS tx, event_id::text AS id, data FROM events ORDER BY transaction_id, global_position OFFSET $1 LIMIT 1`,
        [n],
      )
    ).rows[0];

  beforeAll(async () => {
    db = await createTestDatabase('audit_verify');
    ds = await prepareDatabase({ url: db.url, poolSize: 8, statementTimeoutMs: 30_000, createIfMissing: false, migrate: true });
    pool = poolOf(ds);
    store = new EventStore(pool, { maxBatchEvents: 64, maxInFlight: 2 });
    const key = newSigningKey();
    keys = key.keys;
    env = { DATABASE_URL: db.url, AUDIT_SIGNING_KEY: key.pem, REDIS_PREFIX: `cgw-test-verify-${process.pid}` };
    // 2,000 events of 20 containers from concurrent appenders (many transactions, interleaved).
    const containers = Array.from({ length: 20 }, () => ({ id: randomUUID(), org: randomUUID(), project: randomUUID() }));
    for (let round = 0; round < 100; round++) {
      await Promise.all(
        containers.map((c, i) =>
          round === 0
            ? store.append(containerStream(c.id), [
                {
                  type: 'user-container:http-service-mapped',
                  data: { container_id: c.id, org_id: c.org, project_id: c.project, name: 'terminal', port: 7681 + i },
                },
              ])
            : store.append(watchdogStream(c.id), [
                {
                  type: WATCHDOG,
                  data: { container_id: c.id, org_id: c.org, project_id: c.project, system: { cpu: { usage: `${round / 100}` } } },
                  metadata: { received_at: new Date().toISOString() },
                },
              ]),
        ),
      );
    }
    // A checkpoint at the end of every sealed batch (at least 700 events each here).
    await sealAll(pool, store, keys, 1);
  });

  afterAll(async () => {
    await store?.close();
    await ds?.destroy();
    await db?.drop();
  });

  it('passes on the untouched log, with signed checkpoints along the chain', async () => {
    const r = await verifyChain(pool, keys);
    expect(r).toMatchObject({ ok: true, problem: null, sealed: 2_000, events_checked: 2_000, compacted: 0, not_yet_sealed: 0 });
    expect(r.checkpoints).toBeGreaterThanOrEqual(3);
    expect(r).toMatchObject({ unsigned_tail: 0, last_checkpoint: { seq: '2000' } });
    const cli = await ops(['verify', '--json'], env);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, sealed: 2_000 });
  });

  it('names the event an UPDATE altered (and the CLI exits 1); restoring it makes the chain whole again', async () => {
    const victim = await nth(700);
    await tamper(`UPDATE events SET data = jsonb_set(data, '{system,cpu,usage}', '"9.99"') WHERE global_position = $1`, [victim.p]);
    const r = await verifyChain(pool, keys);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ kind: 'altered', position: victim.p, event_id: victim.id });
    const cli = await ops(['verify'], env);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`FAILED: altered: event at position ${victim.p} (${victim.id})`);

    await tamper(`UPDATE events SET data = $2 WHERE global_position = $1`, [victim.p, victim.data]);
    expect((await verifyChain(pool, keys)).ok).toBe(true);
  });

  it('catches a tamperer who also rewrites the seal: the chain of links breaks', async () => {
    const victim = await nth(1_200);
    const original = (await pool.query(`SELECT hash FROM audit_seals WHERE global_position = $1`, [victim.p])).rows[0].hash;
    await tamper(`UPDATE events SET data = jsonb_set(data, '{system,cpu,usage}', '"0"') WHERE global_position = $1`, [victim.p]);
    await pool.query(
      `UPDATE audit_seals s SET hash = sha256(convert_to(audit_canonical(e), 'UTF8')) FROM events e WHERE e.global_position = s.global_position AND s.global_position = $1`,
      [victim.p],
    );
    expect((await verifyChain(pool, keys)).problem).toMatchObject({ kind: 'chain-broken', position: victim.p });
    await pool.query(`UPDATE audit_seals SET hash = $2 WHERE global_position = $1`, [victim.p, original]);
    await tamper(`UPDATE events SET data = $2 WHERE global_position = $1`, [victim.p, victim.data]);
    expect((await verifyChain(pool, keys)).ok).toBe(true);
  });

  it('names an event INSERTed into sealed history, and one written past its stream head', async () => {
    const earlier = await nth(500);
    const id = randomUUID();
    const forged = (
      await pool.query(
        `INSERT INTO events (transaction_id, stream_id, stream_version, event_id, event_type, data)
       VALUES ($1::xid8, $2, 0, $3, 'user-container:deleted', '{}') RETURNING global_position::text AS p`,
        [earlier.tx, `container-${randomUUID()}`, id],
      )
    ).rows[0].p;
    let r = await verifyChain(pool, keys);
    expect(r.problem).toMatchObject({ kind: 'inserted', position: forged, event_id: id });
    expect((await ops(['verify', '--json'], env)).code).toBe(1);
    await tamper(`DELETE FROM events WHERE global_position = $1`, [forged]);
    await pool.query(`DELETE FROM event_keys WHERE event_id = $1`, [id]);
    expect((await verifyChain(pool, keys)).ok).toBe(true);

    // At the head, in a transaction of its own: not in sealed history, but beyond what the store wrote.
    const stream = (await pool.query(`SELECT stream_id, version FROM event_streams ORDER BY stream_id LIMIT 1`)).rows[0];
    const id2 = randomUUID();
    const late = (
      await pool.query(
        `INSERT INTO events (stream_id, stream_version, event_id, event_type, data) VALUES ($1, $2, $3, 'user-container:deleted', '{}') RETURNING global_position::text AS p`,
        [stream.stream_id, Number(stream.version) + 1, id2],
      )
    ).rows[0].p;
    r = await verifyChain(pool, keys);
    expect(r.problem).toMatchObject({ kind: 'inserted', position: late, event_id: id2 });
    await tamper(`DELETE FROM events WHERE global_position = $1`, [late]);
    await pool.query(`DELETE FROM event_keys WHERE event_id = $1`, [id2]);
    expect((await verifyChain(pool, keys)).ok).toBe(true);
  });

  it('names the first event a DELETE removed', async () => {
    const first = await nth(300);
    const second = await nth(900);
    await tamper(`DELETE FROM events WHERE global_position = ANY($1::bigint[])`, [[second.p, first.p]]);
    const r = await verifyChain(pool, keys);
    expect(r.problem).toMatchObject({ kind: 'deleted', position: first.p, event_id: first.id });
    const cli = await ops(['verify', '--json'], env);
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout).problem).toMatchObject({ kind: 'deleted', position: first.p });
  });

  it('refuses a checkpoint signed by another key, and reports bad usage and an unreachable database by exit code', async () => {
    const other = newSigningKey().keys;
    expect((await verifyChain(pool, other)).problem).toMatchObject({ kind: 'checkpoint-invalid' });
    expect((await ops(['verify', '--bogus'], env)).code).toBe(2);
    const away = await ops(['verify'], { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    expect(away.code).toBe(3);
    expect(away.stderr).toMatch(/cannot connect/);
  });
});
