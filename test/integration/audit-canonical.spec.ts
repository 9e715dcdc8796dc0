import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { prepareDatabase, poolOf } from '@app/database';
import { createTestDatabase } from '../support/db';

/**
 * audit_canonical() is what every seal's hash is taken over, so its text must never change: the
 * text-built function (migration AuditCanonicalText) against the jsonb object the chain was first
 * defined with (AuditChain), on values that need escaping, reordering or number formatting.
 */
const REFERENCE = `jsonb_build_object(
  'position', e.global_position, 'tx', e.transaction_id::text, 'stream', e.stream_id,
  'version', e.stream_version, 'id', e.event_id, 'type', e.event_type, 'data', e.data,
  'metadata', e.metadata,
  'recorded_at', to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text`;

describe('audit_canonical', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ds: DataSource;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('audit_canonical');
    ds = await prepareDatabase({ url: db.url, poolSize: 2, statementTimeoutMs: 10_000, createIfMissing: false, migrate: true });
    pool = poolOf(ds);
  });

  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  // Written as SQL text, so numbers keep the spelling jsonb keeps (1.50, 1E+2 -> 100, big integers).
  const hostile: { stream: string; type: string; data: string; metadata: string }[] = [
    { stream: 'watchdog-1', type: 'user-container:watchdog', data: '{"b": 1, "a": 2, "aa": [], "zzz": {}}', metadata: '{}' },
    {
      stream: 'quote"back\\slash',
      type: 'type "with" \\ and \t tab',
      data: String.raw`{"s": "line\nbreak \"q\" \\ \u0001 \u001f </script> é 日本 😀", "k\"ey": null, "t": true, "f": false}`,
      metadata: String.raw`{"received_at": "2026-11-29T00:00:00.000Z", "actor": {"id": "x\ty", "type": "container"}}`,
    },
    {
      stream: 'ünïcødé-stream',
      type: 'ops:note',
      data: '{"n": [1.50, -0, 1E+2, 12345678901234567890123, 0.000001, -3.25e-10], "nested": [[{"x": [[]]}]]}',
      metadata: '{"long key that sorts last": 1, "a": 2}',
    },
    { stream: 's', type: 't', data: '"just a string"', metadata: '[1, "two", null]' },
    { stream: 's2', type: 't', data: '42', metadata: '{}' },
  ];

  it('writes for every event the text jsonb_build_object gave', async () => {
    for (const [i, h] of hostile.entries()) {
      await pool.query(
        `INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata, recorded_at)
         VALUES ($1, 0, $2, $3, $4::jsonb, $5::jsonb, now() - make_interval(secs => $6::float8 / 7))`,
        [h.stream, randomUUID(), h.type, h.data, h.metadata, i],
      );
    }
    const { rows } = await pool.query<{ now: string; before: string }>(
      `SELECT audit_canonical(e) AS now, ${REFERENCE} AS before FROM events e ORDER BY global_position`,
    );
    expect(rows).toHaveLength(hostile.length);
    for (const r of rows) {
      expect(r.now).toBe(r.before);
      // Valid JSON whose keys stand in jsonb's order.
      expect(Object.keys(JSON.parse(r.now))).toEqual([
        'id',
        'tx',
        'data',
        'type',
        'stream',
        'version',
        'metadata',
        'position',
        'recorded_at',
      ]);
    }
    expect(rows[2]!.now).toContain('"n": [1.50, 0, 100, 12345678901234567890123, 0.000001, -0.000000000325]');
    expect(rows[2]!.now).toContain('"metadata": {"a": 2, "long key that sorts last": 1}');
  });
});
