#!/usr/bin/env node
// `npm start` after the build: runs the gateway and the worker side by side, and, for a local
// development setup, a Stage 2 nginx under DATA_DIR/nginx that the worker renders into.
// Output is prefixed per process; if one exits, the others are stopped and its exit code passed on.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist', 'apps');
const env = { ...process.env };
const procs = [];

function run(name, cmd, args, extraEnv = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...extraEnv } });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) process.stdout.write(`${name.padEnd(7)} | ${line}\n`);
    });
  }
  procs.push({ name, child });
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`${name} exited (${signal ?? code}); stopping`);
    stop(code ?? 1);
  });
}

function findNginx() {
  for (const candidate of [env.NGINX_BIN, '/usr/sbin/nginx']) if (candidate && existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * A development nginx, unless the environment already points the worker at one (NGINX_CONF) or
 * turns rendering off. VPN addresses then come from a loopback pool, so a local process can stand
 * in for a container; production settings leave all of this alone.
 */
function devNginx() {
  if (env.NODE_ENV === 'production' || env.NGINX_CONF || env.NGINX_RENDER_ENABLED === 'false') return;
  const bin = findNginx();
  if (!bin) {
    console.log('start   | nginx not found: routes will not be rendered (apt-get install -y nginx to get them)');
    env.NGINX_RENDER_ENABLED = 'false';
    return;
  }
  const { renderStage2Conf, EMPTY_STAGE2_MAP } = require(path.join(root, 'dist/libs/nginx/src'));
  const dir = path.resolve(root, env.DATA_DIR || '.data', 'nginx');
  mkdirSync(dir, { recursive: true });
  const port = env.DEV_NGINX_PORT || '8080';
  const statusPort = env.DEV_NGINX_STATUS_PORT || '8081';
  const conf = path.join(dir, 'nginx.conf');
  const mapPath = path.join(dir, 'routes.map');
  // Protected routes ask the gateway (auth_request) and sign in through it; browsers reach services on this port.
  const gateway = `${env.HTTP_HOST && env.HTTP_HOST !== '0.0.0.0' ? env.HTTP_HOST : '127.0.0.1'}:${env.HTTP_PORT || '3000'}`;
  writeFileSync(
    conf,
    renderStage2Conf({ mapPath, listen: `127.0.0.1:${port}`, statusListen: `127.0.0.1:${statusPort}`, runDir: dir, gateway }),
  );
  if (!env.SSO_SERVICE_SCHEME) Object.assign(env, { SSO_SERVICE_SCHEME: 'http', SSO_SERVICE_PORT: env.SSO_SERVICE_PORT || port });
  if (!existsSync(mapPath)) writeFileSync(mapPath, EMPTY_STAGE2_MAP);
  Object.assign(env, {
    NGINX_BIN: bin,
    NGINX_PREFIX: `${dir}/`,
    NGINX_CONF: conf,
    NGINX_MAP_PATH: mapPath,
    NGINX_STATUS_URL: `http://127.0.0.1:${statusPort}/collab/routes-hash`,
    NGINX_RELOAD_CMD: `${bin} -p ${dir}/ -c ${conf} -e ${dir}/error.log -s reload`,
  });
  if (!env.VPN_POOL_CIDR) {
    env.VPN_POOL_CIDR = '127.77.0.0/16';
    env.NGINX_VPN_RANGES = env.NGINX_VPN_RANGES || '127.77.0.0/16';
  }
  const loopback = env.VPN_POOL_CIDR.startsWith('127.');
  console.log(
    `start   | development nginx on http://127.0.0.1:${port} (config in ${dir}); VPN addresses from ${env.VPN_POOL_CIDR}` +
      (loopback ? ' (a loopback pool: no VPN in development; the gateway node image runs the real OpenVPN server)' : ''),
  );
  run('nginx', bin, ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;']);
}

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const { child } of procs)
    if (child.exitCode === null) child.kill(child === procs.find((p) => p.name === 'nginx')?.child ? 'SIGQUIT' : 'SIGTERM');
  setTimeout(() => process.exit(code), 10_000).unref();
  Promise.all(procs.map(({ child }) => child.exitCode !== null || new Promise((r) => child.on('exit', r)))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

devNginx();
// The production topology: the gateway ingests and serves the read API; the worker runs the
// projectors (PROJECTIONS_ENABLED decides per process).
run('gateway', process.execPath, ['--enable-source-maps', path.join(dist, 'gateway', 'src', 'main.js')], { PROJECTIONS_ENABLED: 'false' });
run('worker', process.execPath, ['--enable-source-maps', path.join(dist, 'worker', 'src', 'main.js')], { PROJECTIONS_ENABLED: 'true' });
