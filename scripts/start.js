#!/usr/bin/env node
// `npm start` after the build: runs the gateway and the worker side by side, and, for a local
// development setup, a Stage 2 nginx under DATA_DIR/nginx that the worker renders into.
// Output is prefixed per process; if one exits, the others are stopped and its exit code passed on.
// On a terminal in development the processes' JSON logs are printed short and readable (pino-pretty,
// Nest's start-up chatter left out), and once both answer a summary says where everything is;
// in production, when the output is not a terminal, or with LOG_FORMAT=json, the JSON lines as they are.
// Ctrl-C (SIGINT) or SIGTERM stops gateway, worker and nginx.
'use strict';
/* global fetch */
const { spawn, execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { NODE_FLAGS } = require('./node-flags');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist', 'apps');
const env = { ...process.env };
const procs = [];
const pretty = Boolean(process.stdout.isTTY) && env.NODE_ENV !== 'production' && env.LOG_FORMAT !== 'json';
// Nest's start-up lines (one per module and route: ~140) that bury what a newcomer needs.
const CHATTER = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);
const format = pretty
  ? require('pino-pretty').prettyFactory({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,name,context',
      messageFormat: '{if context}[{context}] {end}{msg}',
    })
  : null;

/** One output line of a child: as it is, or (on a terminal) pino's JSON made short and readable. */
function show(name, line) {
  if (format && line.startsWith('{')) {
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = null;
    }
    if (entry && typeof entry.level === 'number') {
      if (entry.level <= 30 && CHATTER.has(entry.context) && env.LOG_LEVEL !== 'debug') return;
      line = format(entry).trimEnd();
    }
  }
  process.stdout.write(`${name.padEnd(7)} | ${line}\n`);
}

function run(name, cmd, args, extraEnv = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...extraEnv } });
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) show(name, line);
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
 * turns rendering off. VPN addresses come from a loopback pool, so a local process can stand in for
 * a container: with or without nginx, so the pool never changes under registered containers (a
 * container holding an address of another pool is moved at its next vpn-config). Production
 * settings leave all of this alone. The setup step (scripts/setup.sh, npm's prestart) installs nginx.
 */
function devNginx() {
  if (env.NODE_ENV === 'production' || env.NGINX_CONF) return;
  if (!env.VPN_POOL_CIDR) {
    env.VPN_POOL_CIDR = '127.77.0.0/16';
    env.NGINX_VPN_RANGES = env.NGINX_VPN_RANGES || '127.77.0.0/16';
  }
  if (env.NGINX_RENDER_ENABLED === 'false') return;
  const bin = findNginx();
  if (!bin) {
    console.log(
      'start   | WARNING: nginx not found: routes will not be served (npm start installs it unless SETUP_SKIP=1; apt-get install -y nginx)',
    );
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
  // Live routes (docs/nginx.md): route changes reach nginx through its shared dict, no reloads; the
  // channel is a unix socket beside the config. Without Debian's lua module, every change reloads.
  const socket = path.join(dir, 'routes.sock');
  const live =
    !env.NGINX_ROUTES_SOCKET && existsSync('/usr/lib/nginx/modules/ngx_http_lua_module.so') && /^\/[A-Za-z0-9._/-]{1,100}$/.test(socket)
      ? { socket }
      : undefined;
  writeFileSync(
    conf,
    renderStage2Conf({ mapPath, listen: `127.0.0.1:${port}`, statusListen: `127.0.0.1:${statusPort}`, runDir: dir, gateway, live }),
  );
  if (live) env.NGINX_ROUTES_SOCKET = socket;
  else console.log('start   | nginx has no lua module (apt-get install -y libnginx-mod-http-lua): every route change reloads nginx');
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
  nginxUrl = `http://127.0.0.1:${port}`;
  const loopback = env.VPN_POOL_CIDR.startsWith('127.');
  console.log(
    `start   | development nginx on http://127.0.0.1:${port} (config in ${dir}); VPN addresses from ${env.VPN_POOL_CIDR}` +
      (loopback ? ' (a loopback pool: no VPN in development; the gateway node image runs the real OpenVPN server)' : ''),
  );
  run('nginx', bin, ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;']);
}

// --- TLS at the edge (issue 17): a development Stage 1 nginx on HTTPS in front of the Stage 2 one. ---
/**
 * Stage 1 over TLS, unless production, or the environment points the worker at its own Stage 1
 * (CERTS_NGINX_CONF), or turns certificates off. The worker issues the gateway certificate and each
 * org's wildcard from a development CA created once in DATA_DIR/dev-ca (the same jobs that use ACME
 * in production), and installs them here; `curl --cacert .data/dev-ca/ca.pem` (or -k) trusts them.
 */
function devStage1() {
  if (env.NODE_ENV === 'production' || env.CERTS_NGINX_CONF || env.CERTS_ENABLED === 'false' || env.NGINX_RENDER_ENABLED === 'false')
    return;
  const bin = env.NGINX_BIN;
  const { renderStage1TlsConf, emptyCertInclude, ensureFallbackCert, FALLBACK_STEM } = require(
    path.join(root, 'dist/libs/certificates/src'),
  );
  const { renderStage1Map } = require(path.join(root, 'dist/libs/nginx/src'));
  const dir = path.resolve(root, env.DATA_DIR || '.data', 'nginx-stage1');
  const certDir = path.join(dir, 'certs');
  mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const httpsPort = env.DEV_STAGE1_HTTPS_PORT || '8443';
  const httpPort = env.DEV_STAGE1_HTTP_PORT || '8088';
  const statusPort = env.DEV_STAGE1_STATUS_PORT || '8444';
  const conf = path.join(dir, 'nginx.conf');
  const routesMapPath = path.join(dir, 'routes.map');
  const certMapPath = path.join(dir, 'certs.map');
  const gatewayFqdn = env.GATEWAY_DEFAULT_FQDN || 'gateway.collab.localhost';
  const gatewayApi = `${env.HTTP_HOST && env.HTTP_HOST !== '0.0.0.0' ? env.HTTP_HOST : '127.0.0.1'}:${env.HTTP_PORT || '3000'}`;
  // One gateway node: every service host goes to the development Stage 2 nginx.
  const stage2 = `127.0.0.1:${env.DEV_NGINX_PORT || '8080'}`;
  const nodes = [{ id: 'default', address: stage2 }];
  writeFileSync(routesMapPath, renderStage1Map([], { domain: 'unused.localhost', vpnRanges: [], nodes, defaultNode: 'default' }).text);
  if (!existsSync(certMapPath)) writeFileSync(certMapPath, emptyCertInclude(FALLBACK_STEM, [gatewayFqdn], certDir));
  writeFileSync(
    conf,
    renderStage1TlsConf({
      routesMapPath,
      certMapPath,
      certDir,
      httpsListen: `127.0.0.1:${httpsPort}`,
      httpListen: `127.0.0.1:${httpPort}`,
      publicHttpsPort: Number(httpsPort),
      statusListen: `127.0.0.1:${statusPort}`,
      gatewayApi,
      runDir: dir,
      // nginx reads the certificates in its workers (at the handshake); as root they would run as nobody.
      user: process.getuid && process.getuid() === 0 ? 'root' : undefined,
    }),
  );
  Object.assign(env, {
    CERTS_ENABLED: env.CERTS_ENABLED || 'true',
    CERTS_DIR: certDir,
    CERTS_MAP_PATH: certMapPath,
    CERTS_NGINX_BIN: bin,
    CERTS_NGINX_PREFIX: `${dir}/`,
    CERTS_NGINX_CONF: conf,
    CERTS_STATUS_URL: `http://127.0.0.1:${statusPort}/collab/certs-hash`,
    CERTS_RELOAD_CMD: `${bin} -p ${dir}/ -c ${conf} -e ${dir}/error.log -s reload`,
  });
  console.log(
    `start   | development Stage 1 (TLS) on https://127.0.0.1:${httpsPort} (http :${httpPort} redirects), certificates from ` +
      `${path.resolve(root, env.DATA_DIR || '.data', 'dev-ca', 'ca.pem')}; try curl -k --resolve ${gatewayFqdn}:${httpsPort}:127.0.0.1 https://${gatewayFqdn}:${httpsPort}/health/live`,
  );
  // nginx starts on a self-signed fallback (the worker writes the same, once); the worker installs the issued ones.
  ensureFallbackCert(certDir).then(
    () => stopping || run('stage1', bin, ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log'), '-g', 'daemon off;']),
    (err) => {
      console.error(`start   | Stage 1 fallback certificate: ${err.message}`);
      stop(1);
    },
  );
}
// --- end of TLS at the edge ---

let nginxUrl = null;

/** Once gateway and worker answer: the few lines a newcomer needs, apart from the logs. */
async function announce() {
  const host = env.HTTP_HOST && env.HTTP_HOST !== '0.0.0.0' ? env.HTTP_HOST : '127.0.0.1';
  const gateway = `http://${host}:${env.HTTP_PORT || '3000'}`;
  const worker = `http://${host}:${env.WORKER_HTTP_PORT || '3001'}`;
  const up = (url) =>
    fetch(url).then(
      (r) => r.ok,
      () => false,
    );
  while (!stopping && !((await up(`${gateway}/health/live`)) && (await up(`${worker}/health/live`))))
    await new Promise((r) => setTimeout(r, 250));
  if (stopping) return;
  const lines = [
    `gateway    ${gateway}   (OpenAPI ${gateway}/docs)`,
    `dashboard  ${gateway}/dashboard/`,
    nginxUrl ? `nginx      ${nginxUrl}   (routes as Host: <service fqdn>)` : 'nginx      not started: routes are not served',
    `worker     ${worker}/health/ready`,
    `VPN pool   ${env.VPN_POOL_CIDR || '172.16.0.0/16'}`,
    'stop       Ctrl-C (gateway, worker and nginx stop together)',
  ];
  const bold = pretty ? (t) => `\x1b[1m${t}\x1b[0m` : (t) => t;
  process.stdout.write(`start   | ${bold('ready:')}\n${lines.map((l) => `start   |   ${bold(l)}`).join('\n')}\n`);
}

/**
 * What this script set for gateway and worker beyond the shell's environment (the development
 * nginx, Stage 1 and VPN pool settings: paths and ports, no secrets), as KEY=value lines in
 * DATA_DIR/dev.env, so `npm run ops` in another shell sees the same node (libs/config readDevEnv).
 */
function writeDevEnv() {
  if (env.NODE_ENV === 'production') return;
  const lines = Object.keys(env)
    .filter((k) => env[k] !== process.env[k] && /^[A-Z0-9_]+$/.test(k) && !/\n/.test(env[k]))
    .sort()
    .map((k) => `${k}=${env[k]}\n`);
  const dir = path.resolve(root, env.DATA_DIR || '.data');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'dev.env'), `# written by npm start (scripts/start.js): the settings it derived\n${lines.join('')}`, {
    mode: 0o600,
  });
}

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const { child } of procs)
    if (child.exitCode === null)
      child.kill(['nginx', 'stage1'].includes(procs.find((p) => p.child === child)?.name) ? 'SIGQUIT' : 'SIGTERM');
  setTimeout(() => process.exit(code), 10_000).unref();
  Promise.all(procs.map(({ child }) => child.exitCode !== null || new Promise((r) => child.on('exit', r)))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

devNginx();
devStage1();
writeDevEnv();
// The production topology: the gateway ingests and serves the read API; the worker runs the
// projectors (PROJECTIONS_ENABLED decides per process).
run('gateway', process.execPath, [...NODE_FLAGS, path.join(dist, 'gateway', 'src', 'main.js')], { PROJECTIONS_ENABLED: 'false' });
run('worker', process.execPath, [...NODE_FLAGS, path.join(dist, 'worker', 'src', 'main.js')], { PROJECTIONS_ENABLED: 'true' });
void announce();
