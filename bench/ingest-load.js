#!/usr/bin/env node
// Short load run against a running gateway: many containers (distinct tokens) posting watchdogs.
// usage: node bench/ingest-load.js [--url http://127.0.0.1:3000] [--connections 64] [--seconds 10] [--containers 1000]
// Tokens are minted with the same keys the gateway uses (JWT_KEYS, or the development key in DATA_DIR).
'use strict';
const { parseArgs } = require('node:util');
const { randomUUID } = require('node:crypto');
const autocannon = require('autocannon');
const { loadConfig } = require('../dist/libs/config/src');
const { tokenServiceFor } = require('../dist/libs/auth/src');

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    connections: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
    containers: { type: 'string', default: '1000' },
  },
});
const tokens = tokenServiceFor(loadConfig());
const org = randomUUID();
const containers = Array.from({ length: Number(values.containers) }, () => {
  const project = randomUUID();
  return { project, token: tokens.sign({ sub: randomUUID(), role: 'container', org, project }, 3600) };
});
const system = {
  cpu: { usage: '0.40, 0.43 ', count: '2', threads_per_core: '1', model: 'AMD EPYC' },
  memory: { free: 23665, total: 24105 },
  disk: { size: '252G', usage: '23.00%' },
  network: { ping_time: ' ms' },
  graphic: { cards: '' },
};
let i = 0;
const instance = autocannon(
  {
    url: `${values.url}/collab/event`,
    connections: Number(values.connections),
    duration: Number(values.seconds),
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const c = containers[i++ % containers.length];
          return {
            ...req,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${c.token}` },
            body: JSON.stringify({ event: { type: 'user-container:watchdog', system }, project_id: c.project }),
          };
        },
      },
    ],
  },
  (err, r) => {
    if (err) throw err;
    const ok = r['2xx'];
    console.log(JSON.stringify({
      connections: r.connections,
      seconds: r.duration,
      accepted_per_s: Math.round(ok / r.duration),
      non2xx: r.non2xx,
      errors: r.errors,
      latency_ms: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
    }));
  },
);
process.on('SIGINT', () => instance.stop());
