#!/usr/bin/env node
// Posts watchdogs for many containers (one token each) at a running gateway; prints autocannon's summary as JSON.
// usage: node bench/watchdog-load.js <url> <tokens.json: [{token, project}]> [connections=64] [seconds=15] [rate=0 (unlimited), overall req/s] [batch=1]
// batch > 1 posts arrays of that many watchdogs to /collab/events (a container's queued events).
// Every event carries its own event_id, as the container script sends one.
'use strict';
const { readFileSync } = require('node:fs');
const { randomUUID } = require('node:crypto');
const autocannon = require('autocannon');

const [url, file, connections = '64', seconds = '15', rate = '0', batchArg = '1'] = process.argv.slice(2);
const batch = Number(batchArg);
const containers = JSON.parse(readFileSync(file, 'utf8'));
const system = {
  cpu: { usage: '0.40, 0.43 ', count: '2', threads_per_core: '1', model: 'AMD EPYC' },
  memory: { free: 23665, total: 24105 },
  disk: { size: '252G', usage: '23.00%' },
  network: { ping_time: ' ms' },
  graphic: { cards: '' },
};
const watchdog = (c) => ({ event: { type: 'user-container:watchdog', system }, project_id: c.project, event_id: randomUUID() });
let i = 0;
const opts = {
  url: `${url}${batch > 1 ? '/collab/events' : '/collab/event'}`,
  connections: Number(connections),
  duration: Number(seconds),
  requests: [
    {
      method: 'POST',
      setupRequest: (req) => {
        const c = containers[i++ % containers.length];
        const body = batch > 1 ? Array.from({ length: batch }, () => watchdog(c)) : watchdog(c);
        return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` }, body: JSON.stringify(body) };
      },
    },
  ],
};
if (Number(rate) > 0) opts.overallRate = Number(rate);
const cpu0 = process.cpuUsage();
autocannon(opts, (err, r) => {
  if (err) throw err;
  const cpu = process.cpuUsage(cpu0);
  const perS = r['2xx'] / r.duration;
  process.stdout.write(
    JSON.stringify({
      accepted_per_s: Math.round(perS),
      events_per_s: Math.round(perS * batch),
      accepted: r['2xx'],
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      latency_ms: { p50: r.latency.p50, p99: r.latency.p99 },
      // the load generator's own CPU over the run (issue 18's budget per event)
      cpu_s: (cpu.user + cpu.system) / 1e6,
    }) + '\n',
  );
});
