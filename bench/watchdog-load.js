#!/usr/bin/env node
// Posts watchdogs for many containers (one token each) at a running gateway; prints a summary as JSON.
// usage: node bench/watchdog-load.js <url> <tokens.json: [{token, project}]> [connections=64] [seconds=15] [rate=0 (unlimited), overall req/s] [batch=1]
// batch > 1 posts arrays of that many watchdogs to /collab/events (a container's queued events).
// Every event carries its own event_id, as the container script sends one.
//
// rate = 0: closed loop, as fast as the server answers (autocannon, `connections` requests in flight).
// rate > 0: open loop, requests sent evenly over time (one every 1/rate s, on up to `connections`
// keep-alive sockets, undici), as a fleet posts; latency counts from when each request was due, so a
// server that falls behind shows it. (autocannon's own rate limit sends each connection's quota
// for the second at once and then waits for the next second: 5,000 events/s became a burst of
// 5,000 at the start of every second, and the projection lag measured that burst, not the rate.)
'use strict';
const { readFileSync } = require('node:fs');
const { randomUUID } = require('node:crypto');
const { Pool } = require('undici');
const { performance } = require('node:perf_hooks');
const autocannon = require('autocannon');
const { WATCHDOG_SYSTEM: system } = require('./lib/watchdog-system');

const [url, file, connections = '64', seconds = '15', rate = '0', batchArg = '1'] = process.argv.slice(2);
const batch = Number(batchArg);
const containers = JSON.parse(readFileSync(file, 'utf8'));
const watchdog = (c) => ({ event: { type: 'user-container:watchdog', system }, project_id: c.project, event_id: randomUUID() });
const target = `${url}${batch > 1 ? '/collab/events' : '/collab/event'}`;
let i = 0;
/** The next request: a container in turn, its token, one watchdog or a batch of them. */
function nextRequest() {
  const c = containers[i++ % containers.length];
  const body = batch > 1 ? Array.from({ length: batch }, () => watchdog(c)) : watchdog(c);
  return { headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` }, body: JSON.stringify(body) };
}

const cpu0 = process.cpuUsage();
function report(r) {
  const cpu = process.cpuUsage(cpu0);
  const perS = r.ok / r.duration;
  process.stdout.write(
    JSON.stringify({
      accepted_per_s: Math.round(perS),
      events_per_s: Math.round(perS * batch),
      accepted: r.ok,
      events: r.ok * batch,
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      latency_ms: { p50: r.p50, p99: r.p99 },
      // the load generator's own CPU over the run (issue 18's budget per event)
      cpu_s: (cpu.user + cpu.system) / 1e6,
    }) + '\n',
  );
}

if (Number(rate) > 0) paced(Number(rate), Number(connections), Number(seconds));
else {
  const opts = {
    url: target,
    connections: Number(connections),
    duration: Number(seconds),
    requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, ...nextRequest() }) }],
  };
  autocannon(opts, (err, r) => {
    if (err) throw err;
    report({
      ok: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      duration: r.duration,
      p50: r.latency.p50,
      p99: r.latency.p99,
    });
  });
}

/** Open loop: request k (from 0) is due at k / rate s; every tick (2 ms) sends what is due. */
function paced(perS, sockets, durationS) {
  const u = new URL(target);
  const pool = new Pool(u.origin, { connections: sockets, pipelining: 1, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const total = Math.round(perS * durationS);
  const latencies = [];
  const r = { ok: 0, non2xx: 0, errors: 0, timeouts: 0, duration: durationS };
  let sent = 0;
  let settled = 0;
  const t0 = performance.now();
  const done = () => {
    if (++settled < total) return;
    void pool.close();
    // Over the time it took: a server that falls behind answers the last requests after durationS.
    r.duration = Math.max(durationS, (performance.now() - t0) / 1000);
    latencies.sort((a, b) => a - b);
    const at = (q) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]) : 0);
    report({ ...r, p50: at(0.5), p99: at(0.99) });
  };
  const send = (dueAt) => {
    const { headers, body } = nextRequest();
    pool.request({ path: u.pathname, method: 'POST', headers, body }).then(
      async (res) => {
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) r.ok++;
        else r.non2xx++;
        latencies.push(performance.now() - dueAt);
        done();
      },
      (err) => {
        if (/TIMEOUT/.test(err.code ?? '')) r.timeouts++;
        else r.errors++;
        done();
      },
    );
  };
  const tick = () => {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * perS) + 1);
    while (sent < due) send(t0 + (sent++ * 1000) / perS);
    if (sent < total) setTimeout(tick, 2);
  };
  tick();
}
