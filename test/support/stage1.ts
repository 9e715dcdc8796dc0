import { ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyCertInclude, ensureFallbackCert, FALLBACK_STEM, renderStage1TlsConf } from '@app/certificates';
import { renderStage1Map } from '@app/nginx';
import { freePort, NGINX_BIN } from './nginx';

export interface TestStage1 {
  dir: string;
  conf: string;
  certDir: string;
  certMapPath: string;
  httpsPort: number;
  httpPort: number;
  statusUrl: string;
  /** CERTS_* variables that point the worker's installer at this nginx. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A Stage 1 (TLS) nginx of the test's own, in the production layout (renderStage1TlsConf): every
 * service host goes to `stage2` (one gateway node), the gateway FQDNs to `gatewayApi`. It starts on
 * the fallback certificate; the worker's certificate installer renders the certificate include.
 * `extra` is appended inside http {} (benchmarks add a plain-HTTP twin and a backend).
 */
export async function startStage1(
  label: string,
  o: { stage2: string; gatewayApi: string; gatewayFqdns: string[]; extra?: string; certDirPlaceholder?: string; workerProcesses?: number },
): Promise<TestStage1> {
  const dir = await mkdtemp(join(tmpdir(), `cgw-stage1-${label}-`));
  const certDir = join(dir, 'certs');
  await mkdir(certDir, { mode: 0o700 });
  const conf = join(dir, 'nginx.conf');
  const routesMapPath = join(dir, 'routes.map');
  const certMapPath = join(dir, 'certs.map');
  const [httpsPort, httpPort, statusPort] = [await freePort(), await freePort(), await freePort()];
  await ensureFallbackCert(certDir);
  await writeFile(
    routesMapPath,
    renderStage1Map([], { domain: 'unused.test', vpnRanges: [], nodes: [{ id: 'default', address: o.stage2 }], defaultNode: 'default' })
      .text,
  );
  await writeFile(certMapPath, emptyCertInclude(FALLBACK_STEM, o.gatewayFqdns, certDir));
  let text = renderStage1TlsConf({
    routesMapPath,
    certMapPath,
    certDir,
    httpsListen: `127.0.0.1:${httpsPort}`,
    httpListen: `127.0.0.1:${httpPort}`,
    publicHttpsPort: httpsPort,
    statusListen: `127.0.0.1:${statusPort}`,
    gatewayApi: o.gatewayApi,
    runDir: dir,
    workerProcesses: o.workerProcesses,
    // The test runs as root: nginx's workers (which read the certificates at the handshake) run as root too.
    user: process.getuid?.() === 0 ? 'root' : undefined,
  });
  if (o.extra) text = text.replace(/}\n$/, `${o.certDirPlaceholder ? o.extra.split(o.certDirPlaceholder).join(certDir) : o.extra}\n}\n`);
  await writeFile(conf, text);
  const prefix = dir + '/';
  const child: ChildProcess = spawn(NGINX_BIN, ['-p', prefix, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const reap = () => child.kill('SIGTERM');
  process.once('exit', reap);
  const statusUrl = `http://127.0.0.1:${statusPort}/collab/certs-hash`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`stage 1 nginx exited: ${stderr}`);
    if (
      await fetch(statusUrl).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`stage 1 nginx did not answer on ${statusUrl}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    dir,
    conf,
    certDir,
    certMapPath,
    httpsPort,
    httpPort,
    statusUrl,
    env: {
      CERTS_DIR: certDir,
      CERTS_NGINX_BIN: NGINX_BIN,
      CERTS_NGINX_PREFIX: prefix,
      CERTS_NGINX_CONF: conf,
      CERTS_MAP_PATH: certMapPath,
      CERTS_STATUS_URL: statusUrl,
    },
    async stop() {
      process.removeListener('exit', reap);
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
