#!/usr/bin/env node
// Short load run against a running gateway: many containers (distinct tokens) posting watchdogs.
// usage: node bench/ingest-load.js [--url http://127.0.0.1:3000] [--connections 64] [--seconds 10] [--containers 1000]
// Mints the tokens with the keys the gateway uses (JWT_KEYS, or the development key in DATA_DIR),
// then runs the load generator (bench/watchdog-load.js) in its own process.
// The gateway must accept unregistered containers for this (AUTH_ALLOW_UNREGISTERED_CONTAINERS=true).
'use strict';
const { execFileSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
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
const dir = mkdtempSync(path.join(tmpdir(), 'ingest-load-'));
try {
  const file = path.join(dir, 'tokens.json');
  writeFileSync(file, JSON.stringify(containers));
  const out = execFileSync(process.execPath, [path.join(__dirname, 'watchdog-load.js'), values.url, file, values.connections, values.seconds], { encoding: 'utf8' });
  process.stdout.write(JSON.stringify({ connections: Number(values.connections), seconds: Number(values.seconds), ...JSON.parse(out) }) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
