#!/usr/bin/env node
// The least projection a health read model needs (issue 18), beside the minimal durable ingest
// (bench/durable-server.js): it keeps one row per container current with its newest beat. One
// statement per batch, all in PostgreSQL (no event reaches Node): read up to BATCH new rows of
// bench_minimal_events past the checkpoint, upsert each container's newest beat and its count,
// and move the checkpoint, in one implicit transaction. Like the worker, it reads again at once
// after a full batch and otherwise every WINDOW_MS. No gap safety, no samples, no audit chain, no
// routing: a lower bound on what keeping a read model current per beat costs, not an equal. The
// table keeps room on its pages (fillfactor 50, as container_health does) so updates stay HOT.
'use strict';
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');
const { Client } = require('pg');
const { loadConfig } = require('../dist/libs/config/src');

const config = loadConfig();
const port = Number(process.env.BARE_PORT ?? 3103);
const BATCH = 1000;
const WINDOW_MS = Number(process.env.PROJECTION_BATCH_WINDOW_MS ?? 20);

// bench_minimal_events is bench/durable-server.js's, which runs before this starts.
const SETUP = `
CREATE TABLE IF NOT EXISTS bench_minimal_health (
  stream_id text PRIMARY KEY, last_id bigint NOT NULL, last_at timestamptz NOT NULL, data jsonb NOT NULL, beats bigint NOT NULL)
  WITH (fillfactor = 50);
CREATE TABLE IF NOT EXISTS bench_minimal_checkpoint (one boolean PRIMARY KEY DEFAULT true CHECK (one), position bigint NOT NULL);
INSERT INTO bench_minimal_checkpoint (position) SELECT coalesce(max(id), 0) FROM bench_minimal_events
  ON CONFLICT (one) DO UPDATE SET position = excluded.position;`;

const STEP = `
WITH cp AS (SELECT position FROM bench_minimal_checkpoint),
batch AS (
  SELECT e.id, e.stream_id, e.data, e.recorded_at FROM bench_minimal_events e, cp
   WHERE e.id > cp.position ORDER BY e.id LIMIT ${BATCH}
), latest AS (
  SELECT DISTINCT ON (stream_id) stream_id, id, data, recorded_at, count(*) OVER (PARTITION BY stream_id) AS n
    FROM batch ORDER BY stream_id, id DESC
), up AS (
  INSERT INTO bench_minimal_health AS h (stream_id, last_id, last_at, data, beats)
  SELECT stream_id, id, recorded_at, data, n FROM latest
  ON CONFLICT (stream_id) DO UPDATE SET last_id = excluded.last_id, last_at = excluded.last_at, data = excluded.data,
    beats = h.beats + excluded.beats
), moved AS (
  UPDATE bench_minimal_checkpoint SET position = (SELECT max(id) FROM batch) WHERE EXISTS (SELECT 1 FROM batch)
)
SELECT count(*)::int AS n FROM batch`;

let stopping = false;

async function main() {
  const pg = new Client({ connectionString: config.database.url, application_name: 'bench-minimal-projector' });
  await pg.connect();
  await pg.query(SETUP);
  http
    .createServer((_req, res) => res.end('{"status":"ok"}'))
    .listen(port, '127.0.0.1', () => console.log(`minimal projector, health on http://127.0.0.1:${port}`));
  while (!stopping) {
    const { rows } = await pg.query({ name: 'step', text: STEP });
    if (rows[0].n < BATCH) await sleep(WINDOW_MS);
  }
  await pg.end();
}

process.on('SIGTERM', () => (stopping = true));
process.on('SIGINT', () => (stopping = true));
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
