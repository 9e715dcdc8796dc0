#!/usr/bin/env node
// Runs the gateway and the worker side by side (what `npm start` does after building).
// Output is prefixed per process; if either exits, the other is stopped and the exit code passed on.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'apps');
const procs = [
  ['gateway', path.join(dist, 'gateway', 'src', 'main.js')],
  ['worker', path.join(dist, 'worker', 'src', 'main.js')],
].map(([name, file]) => {
  const child = spawn(process.execPath, ['--enable-source-maps', file], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) process.stdout.write(`${name.padEnd(7)} | ${line}\n`);
    });
  }
  return { name, child };
});

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const { child } of procs) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 10_000).unref();
  Promise.all(procs.map(({ child }) => child.exitCode !== null || new Promise((r) => child.on('exit', r)))).then(() => process.exit(code));
}
for (const { name, child } of procs) {
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${signal ?? code}); stopping`);
    stop(code ?? 1);
  });
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
