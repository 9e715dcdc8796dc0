// A realistic event log, fast: INSERT ... SELECT generate_series inside PostgreSQL.
// Every container: registered, token-issued, vpn-address-assigned, http-service-mapped (its
// container- stream), then a watchdog every 15 s (its watchdog- stream), all containers
// interleaved in time as a live fleet would be, one unhealthy report in 400.
//
//   node -r ./test/support/ts-register.js bench/seed-log.ts [--events 1000000] [--containers 1000]
//        [--replay [--batch N] [--only health|routing|both]] [--storage] [--database-url URL] [--keep]
//
// Without --database-url it creates a cgw_test_ database (dropped at the end unless --keep).
// --replay rebuilds health and routing from the log (the `ops replay` code) and reports events/s;
// `--events 0 --database-url URL --replay` replays a log seeded before with --keep (A/B runs).
// --storage measures bytes per container per day of a full day of watchdogs, before and after
// the retention policy compacts it. The result is one JSON document on stdout.
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import { AppConfig, loadConfig } from '@app/config';
import { prepareDatabase, poolOf } from '@app/database';
import { EventStore, START } from '@app/event-store';
import { rebuildProjections, REBUILD_PAGE_EVENTS, Projector } from '@app/projections';
import { AuditKeys, compactWatchdogs, ensurePartitions, SealProjection, utcDay, verifyChain } from '@app/audit';
import { replayableProjections } from '../apps/ops/src/commands/replay.command';
import { createTestDatabase } from '../test/support/db';
import { cpuOf } from './lib/cpu';

export interface SeedOptions {
  containers: number;
  /** Watchdogs per container. */
  watchdogs: number;
  /** Seconds between two watchdogs of a container. */
  intervalS: number;
  /** Time of the first event (ms). */
  start: number;
  /** Watchdog rounds per INSERT (one transaction each). */
  roundsPerChunk?: number;
}

/** A version-4-shaped UUID from an md5 (deterministic per seed and index). */
const uuidOf = (expr: string) => `(overlay(overlay(md5(${expr}) placing '4' from 13) placing '8' from 17)::uuid)`;
const ISO = (col: string) => `to_char((${col}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Inserts the log; returns how many events it wrote. Creates the day partitions it needs. */
export async function seedLog(pool: Pool, o: SeedOptions): Promise<number> {
  const end = o.start + (o.watchdogs + 10) * o.intervalS * 1000;
  await ensurePartitions(pool, utcDay(o.start), utcDay(end + 86_400_000));
  const containers = `SELECT i, ${uuidOf(`'c' || i`)} AS id, ${uuidOf(`'o' || (i % 7)`)} AS org, ${uuidOf(`'p' || (i % 31)`)} AS project
                        FROM generate_series(0, $1::int - 1) i`;
  const t0 = new Date(o.start);
  await pool.query(
    `WITH c AS (${containers})
     INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata, recorded_at)
     SELECT 'container-' || c.id, x.v, gen_random_uuid(), x.t, x.d,
            jsonb_build_object('actor', x.actor, 'received_at', ${ISO(`$2::timestamptz + (x.v || ' s')::interval`)}, 'correlation_id', gen_random_uuid()),
            $2::timestamptz + (x.v || ' s')::interval
       FROM c, LATERAL (VALUES
         (0, 'user-container:registered', jsonb_build_object('container_id', c.id, 'org_id', c.org, 'project_id', c.project, 'image_id', 'ubuntu:terminal', 'display_name', 'terminal ' || c.i, 'gateway_node', 'default'), jsonb_build_object('type', 'operator', 'id', 'platform')),
         (1, 'user-container:token-issued', jsonb_build_object('container_id', c.id, 'token_version', 1, 'kid', 'dev', 'expires_at', '2027-01-01T00:00:00Z'), jsonb_build_object('type', 'operator', 'id', 'platform')),
         (2, 'user-container:vpn-address-assigned', jsonb_build_object('container_id', c.id, 'org_id', c.org, 'project_id', c.project, 'gateway_node', 'default', 'address', '172.16.' || (2 + c.i / 250) || '.' || (2 + c.i % 250)), jsonb_build_object('type', 'container', 'id', c.id)),
         (3, 'user-container:http-service-mapped', jsonb_build_object('container_id', c.id, 'org_id', c.org, 'project_id', c.project, 'name', 'terminal', 'port', 7681), jsonb_build_object('type', 'container', 'id', c.id))
       ) AS x(v, t, d, actor)
      ORDER BY x.v, c.i`,
    [o.containers, t0],
  );
  await pool.query(`INSERT INTO event_streams (stream_id, version) SELECT 'container-' || id, 3 FROM (${containers}) c`, [o.containers]);
  const chunk = o.roundsPerChunk ?? Math.max(1, Math.floor(50_000 / o.containers));
  for (let from = 0; from < o.watchdogs; from += chunk) {
    const to = Math.min(o.watchdogs, from + chunk);
    await pool.query(
      `WITH c AS (${containers})
       INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata, recorded_at)
       SELECT 'watchdog-' || c.id, n, gen_random_uuid(), 'user-container:watchdog',
              jsonb_build_object('container_id', c.id, 'org_id', c.org, 'project_id', c.project,
                'system', jsonb_build_object(
                  'cpu', jsonb_build_object('usage', (0.1 + (n % 17) / 20.0)::text || ', 0.43 ', 'count', '4', 'model', 'Intel(R) Xeon(R) CPU @ 2.20GHz', 'threads_per_core', '2'),
                  'memory', jsonb_build_object('free', (1024 + n % 512)::text, 'total', '8192'),
                  'disk', jsonb_build_object('size', '252G', 'usage', '23.00%'),
                  'network', jsonb_build_object('ping_time', 'rtt min/avg/max/mdev = 0.041/0.052/0.063/0.010 ms'),
                  'graphic', jsonb_build_object('cards', '')),
                'services', jsonb_build_array(jsonb_build_object('name', 'terminal', 'healthy', (n + c.i) % 400 <> 0))),
              jsonb_build_object('actor', jsonb_build_object('type', 'container', 'id', c.id), 'source_address', '172.16.' || (2 + c.i / 250) || '.' || (2 + c.i % 250),
                'received_at', ${ISO('t')}, 'correlation_id', gen_random_uuid(), 'request_id', gen_random_uuid()),
              t
         FROM generate_series($2::int, $3::int - 1) n, c,
              LATERAL (SELECT $4::timestamptz + make_interval(secs => 10 + n * $5::int + (c.i % $5::int))) AS at(t)
        ORDER BY n, c.i`,
      [o.containers, from, to, t0, o.intervalS],
    );
  }
  await pool.query(`INSERT INTO event_streams (stream_id, version) SELECT 'watchdog-' || id, $2::int - 1 FROM (${containers}) c`, [
    o.containers,
    o.watchdogs,
  ]);
  return o.containers * (4 + o.watchdogs);
}

/**
 * Waits until all `events` are visible to the gap-safe reader: other sessions' open transactions
 * on a shared server hold the horizon back.
 */
export async function waitUntilVisible(pool: Pool, events: number): Promise<void> {
  const visible = async () =>
    (await pool.query(`SELECT count(*)::int AS n FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`)).rows[0].n;
  while ((await visible()) < events) await new Promise((r) => setTimeout(r, 200));
}

/** A pass over the log: how many events, how long, and the CPU seconds of this process (Node) and of the database's backends. */
export interface Measured {
  name: string;
  events: number;
  seconds: number;
  cpu_s: { node: number; postgres: number };
}

/** A store the bench only reads through (no appends, so no group commit to size). */
const readerStore = (pool: Pool) => new EventStore(pool, { maxBatchEvents: 1, maxInFlight: 1 });

/** `ops replay`'s code on the seeded log: health, routing, and both from one pass; how long each took. */
export async function measureReplays(pool: Pool, config: AppConfig, pageEvents = REBUILD_PAGE_EVENTS, only?: string): Promise<Measured[]> {
  const store = readerStore(pool);
  const projections = replayableProjections(config);
  const out = [];
  for (const [key, name, list] of [
    ['health', 'health', [projections.health]],
    ['routing', 'routing', [projections.routing]],
    ['both', 'health + routing in one pass', [projections.health, projections.routing]],
  ] as const) {
    if (only && only !== key) continue;
    const { result, seconds, node, postgres } = await cpuOf(pool, () => rebuildProjections(pool, store, [...list], pageEvents));
    out.push({ name, events: result[0].events, seconds, cpu_s: { node, postgres } });
  }
  return out;
}

/**
 * What any replay of this log costs at least, measured beside it: the log read alone through the
 * replays' own path (EventStore.readPages, JSON pages parsed, nothing applied)...
 */
export async function measureLogRead(pool: Pool, pageEvents = REBUILD_PAGE_EVENTS): Promise<Measured> {
  const store = readerStore(pool);
  const { result, seconds, node, postgres } = await cpuOf(pool, async () => {
    let n = 0;
    for await (const page of store.readPages(START, pageEvents)) n += page.events.length;
    return n;
  });
  return { name: 'read', events: result, seconds, cpu_s: { node, postgres } };
}

/** ...and PostgreSQL alone rendering every event's columns as text in one backend (jsonb's text output is most of it), nothing sent. */
export async function measureLogRender(pool: Pool): Promise<{ events: number; seconds: number }> {
  const t = performance.now();
  // The sum makes PostgreSQL render every column (an expression nothing reads is not evaluated).
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n, sum(length(global_position::text) + length(transaction_id::text) + length(stream_id) + length(event_id::text)
              + length(event_type) + length(data::text) + length(metadata::text) + length(recorded_at::text)) AS bytes
       FROM events WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
  );
  return { events: rows[0]!.n, seconds: (performance.now() - t) / 1000 };
}

async function main(): Promise<void> {
  Logger.overrideLogger(false); // stdout is the JSON result
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '1000000' },
      containers: { type: 'string', default: '1000' },
      replay: { type: 'boolean' },
      storage: { type: 'boolean' },
      'database-url': { type: 'string' },
      keep: { type: 'boolean' },
      batch: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const containers = Number(values.containers);
  const db = values['database-url'] ? null : await createTestDatabase('seedlog');
  const url = values['database-url'] ?? db!.url;
  const ds = await prepareDatabase({ url, poolSize: 6, statementTimeoutMs: 600_000, createIfMissing: false, migrate: true });
  const pool = poolOf(ds);
  const out: Record<string, unknown> = { database: url.replace(/\/\/[^@]*@/, '//') };
  try {
    if (values.storage) {
      out.storage = await measureStorage(pool, Math.min(containers, 100));
    } else {
      if (Number(values.events) > 0) {
        const watchdogs = Math.ceil(Number(values.events) / containers) - 4;
        const t = performance.now();
        const events = await seedLog(pool, { containers, watchdogs, intervalS: 15, start: Date.now() - (watchdogs * 15 + 600) * 1000 });
        out.seeded = { events, containers, seconds: +((performance.now() - t) / 1000).toFixed(1) };
        await waitUntilVisible(pool, events);
      }
      if (values.replay) {
        const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
        const replay: Record<string, unknown> = {};
        for (const r of await measureReplays(pool, config, values.batch ? Number(values.batch) : REBUILD_PAGE_EVENTS, values.only)) {
          replay[r.name] = { events: r.events, seconds: +r.seconds.toFixed(2), events_per_s: Math.round(r.events / r.seconds) };
        }
        out.replay = replay;
        out.ceilings = Object.fromEntries(
          Object.entries({ read: await measureLogRead(pool), render: await measureLogRender(pool) }).map(([k, r]) => [
            k,
            { seconds: +r.seconds.toFixed(2), events_per_s: Math.round(r.events / r.seconds) },
          ]),
        );
      }
    }
  } finally {
    await ds.destroy();
    if (db && !values.keep) await db.drop();
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

/** One full day of watchdogs (5,760 per container) in a past partition, sealed, then compacted. */
async function measureStorage(pool: Pool, containers: number): Promise<Record<string, unknown>> {
  const day = utcDay(Date.now() - 3 * 86_400_000);
  const start = Date.parse(`${day}T00:00:00Z`);
  await seedLog(pool, { containers, watchdogs: 5_760 - 10, intervalS: 15, start });
  const keys = AuditKeys.forConfig({ dataDir: '.data/bench', audit: { signingKeyPem: undefined } as never });
  const store = readerStore(pool);
  const sealer = new Projector(pool, store, new SealProjection(keys, { checkpointEvery: 10_000, checkpointIntervalS: 60 }), {
    owner: 'bench',
    batchSize: 5_000,
    pollMs: 20,
    leaseMs: 30_000,
  });
  await sealer.start();
  while (
    (
      await pool.query(
        `SELECT count(*)::int AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM audit_seals s WHERE s.global_position = e.global_position)`,
      )
    ).rows[0].n
  ) {
    await new Promise((r) => setTimeout(r, 500));
  }
  await sealer.stop();
  const partition = `events_p${day.replace(/-/g, '')}`;
  await pool.query(`VACUUM ANALYZE "${partition}"`);
  await pool.query(`VACUUM ANALYZE event_keys`);
  await pool.query(`VACUUM ANALYZE audit_seals`);
  const size = async () => {
    const r = (
      await pool.query(
        `SELECT pg_total_relation_size($1::regclass)::bigint AS part, pg_total_relation_size('event_keys')::bigint AS keys,
              pg_total_relation_size('audit_seals')::bigint AS seals, pg_total_relation_size('watchdog_summaries')::bigint AS summaries`,
        [partition],
      )
    ).rows[0];
    const total = Number(r.part) + Number(r.keys) + Number(r.seals) + Number(r.summaries);
    return {
      events_partition: Number(r.part),
      event_keys: Number(r.keys),
      audit_seals: Number(r.seals),
      watchdog_summaries: Number(r.summaries),
      per_container_day: Math.round(total / containers),
    };
  };
  const before = await size();
  const compacted = await compactWatchdogs(pool, keys, { retentionDays: 1, keepAfterSilenceMs: 30_000, vacuumFull: true });
  // Steady state: the dead row versions compaction leaves in these two hot tables are reused by
  // the next seals and keys; VACUUM FULL shows that size here without waiting for them.
  await pool.query(`VACUUM FULL event_keys`);
  await pool.query(`VACUUM FULL audit_seals`);
  const after = await size();
  const verify = await verifyChain(pool, keys);
  return { containers, day, watchdogs_per_container: 5_760, before, after, compacted, verify_ok: verify.ok };
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
