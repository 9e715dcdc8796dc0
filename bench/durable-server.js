#!/usr/bin/env node
// The durable ceiling for the ingest path (issue 18): bare Fastify, the same JWT check as
// bench/bare-server.js, and a group commit: the requests of one event-loop turn become one
// multi-row INSERT into a plain table with a unique event id, and each gets its 202 after that
// statement's COMMIT. No validation, no streams, no versions, no rate limit, no projector.
'use strict';
const { randomUUID } = require('node:crypto');
const { setImmediate } = require('node:timers');
const fastify = require('fastify');
const { Pool } = require('pg');
const { loadConfig } = require('../dist/libs/config/src');
const { tokenCheck } = require('./lib/token-check');

const config = loadConfig();
const check = tokenCheck(config);
const port = Number(process.env.BARE_PORT ?? 3101);
const MAX_IN_FLIGHT = Number(process.env.APPEND_MAX_IN_FLIGHT ?? 2);
const pool = new Pool({ connectionString: config.database.url, max: MAX_IN_FLIGHT + 1 });

let queue = [];
let scheduled = false;
let inFlight = 0;

function schedule() {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    pump();
  });
}

function pump() {
  while (queue.length && inFlight < MAX_IN_FLIGHT) {
    const batch = queue.splice(0, 512);
    inFlight++;
    pool
      .query(
        `INSERT INTO bench_minimal_events (event_id, stream_id, data)
         SELECT i, s, d FROM json_to_recordset($1::json) AS x(i uuid, s text, d jsonb) RETURNING id`,
        [JSON.stringify(batch.map((p) => ({ i: p.id, s: p.stream, d: p.data })))],
      )
      .then(
        (r) => batch.forEach((p, k) => p.reply.code(202).send({ status: 'accepted', event_id: p.id, position: r.rows[k].id })),
        (err) => batch.forEach((p) => p.reply.code(503).send({ status: 'failed', detail: err.message })),
      )
      .finally(() => {
        inFlight--;
        if (queue.length) pump();
      });
  }
}

const app = fastify({ bodyLimit: 65536 });
app.post('/collab/event', (req, reply) => {
  let principal;
  try {
    principal = check(req.headers.authorization);
  } catch {
    return reply.code(401).send({ status: 'unauthenticated' });
  }
  const body = req.body ?? {};
  queue.push({ id: body.event_id ?? randomUUID(), stream: `watchdog-${principal.subject}`, data: body.event ?? null, reply });
  schedule();
  return reply;
});
app.get('/health/live', (_req, reply) => reply.send({ status: 'ok' }));

pool
  .query(
    `CREATE TABLE IF NOT EXISTS bench_minimal_events (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id uuid NOT NULL UNIQUE,
       stream_id text NOT NULL, data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())`,
  )
  .then(() => app.listen({ host: '127.0.0.1', port }))
  .then(() => console.log(`minimal durable ingest on http://127.0.0.1:${port}`));
