// Before any spec: say plainly what is missing instead of failing in a hundred places.
'use strict';
const net = require('node:net');
const { ensureDashboardBuilt } = require('./dashboard-build');

function reachable(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

module.exports = async () => {
  const missing = [];
  if (!(await reachable('127.0.0.1', 5432))) missing.push('PostgreSQL on 127.0.0.1:5432 (start it: pg_ctlcluster <version> main start)');
  if (!(await reachable('127.0.0.1', 6379))) missing.push('Redis on 127.0.0.1:6379 (start it: redis-server --daemonize yes)');
  if (missing.length) throw new Error(`The integration tests need:\n  ${missing.join('\n  ')}\n(.ci/run starts both.)`);
  // The browser tests drive the built page: build it when a source is newer than the build.
  ensureDashboardBuilt();
};
