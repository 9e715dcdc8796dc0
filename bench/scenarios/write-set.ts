import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { prepareDatabase, poolOf } from '@app/database';
import { EventStore } from '@app/event-store';
import { createTestDatabase } from '../../test/support/db';
import { cpuOf } from '../lib/cpu';
import type { BenchContext, Row } from '../lib/context';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { WATCHDOG_SYSTEM } = require('../lib/watchdog-system') as { WATCHDOG_SYSTEM: Record<string, unknown> };

interface Watchdog {
  id: string;
  stream: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

function watchdog(container: { id: string; org: string; project: string }): Watchdog {
  return {
    id: randomUUID(),
    stream: `watchdog-${container.id}`,
    data: { container_id: container.id, org_id: container.org, project_id: container.project, system: WATCHDOG_SYSTEM },
    metadata: {
      correlation_id: randomUUID(),
      request_id: randomUUID(),
      actor: { type: 'container', id: container.id },
      source_address: '127.0.0.1',
      received_at: new Date().toISOString(),
    },
  };
}

const rowsJson = (batch: Watchdog[]) =>
  JSON.stringify(batch.map((e) => ({ s: e.stream, i: e.id, t: 'user-container:watchdog', d: e.data, m: e.metadata })));

/**
 * What PostgreSQL spends per event on the append's write set, without Node, HTTP or a projector
 * beside it: the same watchdogs written in batches of 19 (the gateway's group-commit size in the
 * ingest scenario) on two connections, by
 * - the event store (EventStore.append: the stream head moved, the `event_keys` row, the four
 *   indexes of `events`, the idempotency check by event id);
 * - the same rows into `events` alone (no stream head, `event_keys` trigger disabled, no check);
 * - a plain table with a unique event id, data and metadata (what the minimal durable ingest
 *   writes, with the metadata the gateway adds).
 * Each variant runs twice, alternating, on a database of its own; the lower of its two runs is
 * printed. A measure of what changing the event-store rules for watchdogs could buy (issue 18).
 */
export async function writeSetScenario(ctx: BenchContext): Promise<Row[]> {
  const events = ctx.quick ? 9_500 : 38_000;
  const db = await createTestDatabase('bench_writeset');
  const ds = await prepareDatabase({ url: db.url, poolSize: 2, statementTimeoutMs: 60_000, createIfMissing: false, migrate: true });
  const pool = poolOf(ds);
  try {
    await pool.query(
      `CREATE TABLE bench_plain_events (id bigserial PRIMARY KEY, event_id uuid UNIQUE NOT NULL, stream_id text NOT NULL, data jsonb NOT NULL, metadata jsonb NOT NULL)`,
    );
    const store = new EventStore(pool, { maxBatchEvents: 19, maxInFlight: 2 });
    const containers = Array.from({ length: 5_000 }, () => ({ id: randomUUID(), org: randomUUID(), project: randomUUID() }));
    // `bare`: written with the `event_keys` trigger disabled (the rows go into `events` alone).
    const variants: { name: string; bare?: boolean; write: (batch: Watchdog[]) => Promise<unknown> }[] = [
      {
        name: 'the event store (stream head, event_keys, four indexes, idempotency check)',
        write: (batch) =>
          Promise.all(
            batch.map((e) => store.append(e.stream, [{ id: e.id, type: 'user-container:watchdog', data: e.data, metadata: e.metadata }])),
          ),
      },
      {
        name: 'events alone (no stream head, no event_keys, no check; four indexes)',
        bare: true,
        write: (batch) =>
          pool.query(
            `INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
             SELECT s, 0, i, t, d, m FROM jsonb_to_recordset($1::jsonb) AS x(s text, i uuid, t text, d jsonb, m jsonb)`,
            [rowsJson(batch)],
          ),
      },
      {
        name: 'a plain table (unique event id, data, metadata)',
        write: (batch) =>
          pool.query(
            `INSERT INTO bench_plain_events (event_id, stream_id, data, metadata)
             SELECT i, s, d, m FROM jsonb_to_recordset($1::jsonb) AS x(s text, i uuid, t text, d jsonb, m jsonb)`,
            [rowsJson(batch)],
          ),
      },
    ];
    const best = new Map<string, { us: number; wal: number; rate: number }>();
    for (let round = 0; round < 2; round++) {
      for (const v of variants) {
        if (v.bare) await pool.query('ALTER TABLE events DISABLE TRIGGER events_keys');
        try {
          const m = await measure(pool, events, v.write, containers);
          const prev = best.get(v.name);
          if (!prev || m.us < prev.us) best.set(v.name, m);
        } finally {
          if (v.bare) await pool.query('ALTER TABLE events ENABLE TRIGGER events_keys');
        }
      }
    }
    await store.close();
    const [ours, alone, plain] = variants.map((v) => best.get(v.name)!);
    return [
      {
        scenario: `append's write set, PostgreSQL alone (${events.toLocaleString('en')} watchdogs in batches of 19)`,
        figure: 'PostgreSQL CPU and WAL per event: event store / events alone / plain table',
        value:
          `${ours.us.toFixed(1)} / ${alone.us.toFixed(1)} / ${plain.us.toFixed(1)} µs, ` +
          `${Math.round(ours.wal)} / ${Math.round(alone.wal)} / ${Math.round(plain.wal)} bytes of WAL`,
        target: 'printed',
        met: null,
        data: Object.fromEntries(variants.map((v) => [v.name, best.get(v.name)])),
      },
    ];
  } finally {
    await ds.destroy();
    await db.drop();
  }
}

async function measure(
  pool: Pool,
  events: number,
  write: (batch: Watchdog[]) => Promise<unknown>,
  containers: { id: string; org: string; project: string }[],
): Promise<{ us: number; wal: number; rate: number }> {
  const lsn = (await pool.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l;
  let next = 0;
  const { seconds, postgres } = await cpuOf(pool, () =>
    Promise.all(
      [0, 1].map(async () => {
        while (next < events) {
          const batch = Array.from({ length: 19 }, () => watchdog(containers[next++ % containers.length]));
          await write(batch);
        }
      }),
    ),
  );
  const wal = Number((await pool.query<{ d: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d', [lsn])).rows[0].d);
  return { us: (postgres * 1e6) / next, wal: wal / next, rate: next / seconds };
}
