import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_STAGE2_MAP, renderStage2Conf } from '@app/nginx';
import { eventually, StopWaiting } from './eventually';

export const NGINX_BIN = process.env.TEST_NGINX_BIN ?? '/usr/sbin/nginx';
/** Debian's lua-nginx-module (libnginx-mod-http-lua), which live routes need. */
export const LUA_MODULE = '/usr/lib/nginx/modules/ngx_http_lua_module.so';

/** The master and every process whose parent it is (workers, and old workers still draining after a reload). */
export function nginxProcesses(masterPid: number): { pid: number; rssKb: number }[] {
  const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  const out: { pid: number; rssKb: number }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (pid === masterPid || ppid === masterPid) out.push({ pid, rssKb: rss(pid) });
    } catch {
      // exited while we looked
    }
  }
  return out;
}

export interface TestNginx {
  dir: string;
  conf: string;
  mapPath: string;
  /** http://127.0.0.1:port of the Stage 2 proxy. */
  url: string;
  port: number;
  statusUrl: string;
  /** NGINX_* variables for loadConfig/testEnv that point the render job at this nginx. */
  env: Record<string, string>;
  /** Live routes: the route channel's unix socket (startTestNginx with `live: true`). */
  socket?: string;
  /** The nginx processes (master and workers): pid -> RSS in kB, from /proc. */
  processes(): { pid: number; rssKb: number }[];
  /** Stops nginx (QUIT, so workers finish) and starts it again on the same ports and files. */
  restart(): Promise<void>;
  /** Stops nginx and keeps its files (a render may still be writing there); stop() removes them. */
  halt(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * A Stage 2 nginx of the test's own: its prefix, config (the production layout from
 * renderStage2Conf), pid, logs and temp files under a temp dir, on free loopback ports, in the
 * foreground as the test's child. VPN range 127.0.0.0/8 so test servers stand in for containers.
 * `gateway` (host:port) is where protected routes ask (auth_request) and sign in.
 */
export async function startTestNginx(
  label: string,
  options: {
    gateway?: string;
    live?: boolean;
    /** for load (bench): more than the conf's own */
    workerConnections?: number;
    /** the map file nginx starts from (default: no routes) */
    map?: string;
  } = {},
): Promise<TestNginx> {
  const dir = await mkdtemp(join(tmpdir(), `cgw-nginx-${label}-`));
  const conf = join(dir, 'nginx.conf');
  const mapPath = join(dir, 'routes.map');
  const [port, statusPort] = [await freePort(), await freePort()];
  const socket = options.live ? join(dir, 'routes.sock') : undefined;
  if (options.live && !existsSync(LUA_MODULE)) {
    throw new Error(`live routes need lua-nginx-module: ${LUA_MODULE} is missing (apt-get install -y libnginx-mod-http-lua)`);
  }
  await writeFile(mapPath, options.map ?? EMPTY_STAGE2_MAP);
  await writeFile(
    conf,
    renderStage2Conf({
      mapPath,
      listen: `127.0.0.1:${port}`,
      statusListen: `127.0.0.1:${statusPort}`,
      runDir: dir,
      gateway: options.gateway,
      live: socket ? { socket } : undefined,
    }).replace(/worker_connections \d+;/, (m) => (options.workerConnections ? `worker_connections ${options.workerConnections};` : m)),
  );
  const prefix = dir + '/';
  const statusUrl = `http://127.0.0.1:${statusPort}/collab/routes-hash`;
  let child: ChildProcess;
  let exited: Promise<void>;
  // If the test process dies without stop(), don't leave an nginx behind.
  const reap = () => child.kill('SIGTERM');
  process.once('exit', reap);
  const launch = async () => {
    child = spawn(NGINX_BIN, ['-p', prefix, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    exited = new Promise<void>((r) => child.once('exit', () => r()));
    await eventually(
      () => {
        if (child.exitCode !== null) throw new StopWaiting(`nginx exited: ${stderr}`);
        return fetch(statusUrl).then(
          (r) => r.ok,
          () => false,
        );
      },
      10_000,
      50,
      () => `nginx answering on ${statusUrl} (${stderr})`,
    );
  };
  const halt = async () => {
    if (child.exitCode === null) {
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    }
  };
  await launch();
  return {
    dir,
    conf,
    mapPath,
    port,
    url: `http://127.0.0.1:${port}`,
    statusUrl,
    env: {
      NGINX_BIN,
      NGINX_PREFIX: prefix,
      NGINX_CONF: conf,
      NGINX_MAP_PATH: mapPath,
      NGINX_STATUS_URL: statusUrl,
      NGINX_VPN_RANGES: '127.0.0.0/8',
      NGINX_COMMAND_TIMEOUT_MS: '10000',
      NGINX_CONFIRM_TIMEOUT_MS: '5000',
      ...(socket ? { NGINX_ROUTES_SOCKET: socket } : {}),
    },
    socket,
    processes: () => nginxProcesses(child.pid!),
    async restart() {
      await halt();
      await launch();
    },
    halt,
    async stop() {
      process.removeListener('exit', reap);
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** GET through the proxy with the given Host, on a fresh connection (no pooled keep-alive). */
export function viaNginx(n: TestNginx, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: n.port, path, agent: false, headers: { host, connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
