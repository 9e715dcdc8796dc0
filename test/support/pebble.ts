import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './nginx';

export const PEBBLE_BIN = process.env.TEST_PEBBLE_BIN ?? '/usr/bin/pebble';
export const CHALLTESTSRV_BIN = process.env.TEST_CHALLTESTSRV_BIN ?? '/usr/bin/pebble-challtestsrv';

export interface TestPebble {
  /** https://127.0.0.1:port/dir */
  directoryUrl: string;
  /** PEM of the self-signed certificate of pebble's own HTTPS listener (ACME_CA_BUNDLE). */
  listenerCaPath: string;
  /** http://127.0.0.1:port of pebble-challtestsrv's management API (ACME_DNS_CHALLTESTSRV_URL). */
  challtestsrvUrl: string;
  /** The root pebble signs with (new at every start): what clients of Stage 1 trust. */
  rootPem(): Promise<string>;
  /** Stops / starts pebble-challtestsrv (DNS): an outage of the operator's DNS. */
  stopDns(): Promise<void>;
  startDns(): Promise<void>;
  /** ACME_* variables for the worker. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function spawnLogged(bin: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let log = '';
  child.stdout!.on('data', (d) => (log = (log + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (log = (log + d).slice(-20_000)));
  return { child, log: () => log };
}

async function waitFor(url: string, child: ChildProcess, log: () => string, agent?: Agent): Promise<void> {
  const deadline = Date.now() + 15_000;
  const https = await import('node:https');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      if (url.startsWith('https:')) https.get(url, { agent }, (res) => (res.resume(), resolve(true))).on('error', () => resolve(false));
      else
        fetch(url, { method: 'GET' }).then(
          () => resolve(true),
          () => resolve(false),
        );
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

/**
 * Debian's pebble (ACME server) and pebble-challtestsrv (its DNS) on free loopback ports with a
 * config of this test's own; pebble resolves through challtestsrv only, so nothing reaches real DNS.
 * Validation without sleeps, no nonce rejection, no authorization reuse (every order validates).
 */
export async function startPebble(label: string): Promise<TestPebble> {
  for (const bin of [PEBBLE_BIN, CHALLTESTSRV_BIN])
    if (!existsSync(bin)) throw new Error(`${bin} is missing: install the Debian package "pebble" (scripts/setup.sh test does)`);
  const dir = await mkdtemp(join(tmpdir(), `cgw-pebble-${label}-`));
  const [acmePort, mgmtPort, dnsPort, dnsMgmtPort, httpPort, tlsPort] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => freePort()));
  const cert = join(dir, 'listener.pem');
  const key = join(dir, 'listener.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=pebble test listener',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  const config = join(dir, 'pebble.json');
  await writeFile(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: cert,
        privateKey: key,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const dnsArgs = [
    '-dns01',
    `127.0.0.1:${dnsPort}`,
    '-management',
    `127.0.0.1:${dnsMgmtPort}`,
    '-http01',
    '',
    '-https01',
    '',
    '-tlsalpn01',
    '',
  ];
  let dns = spawnLogged(CHALLTESTSRV_BIN, dnsArgs);
  const challtestsrvUrl = `http://127.0.0.1:${dnsMgmtPort}`;
  await waitFor(challtestsrvUrl, dns.child, dns.log);
  const pebble = spawnLogged(PEBBLE_BIN, ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`], {
    PEBBLE_VA_NOSLEEP: '1',
    PEBBLE_WFE_NONCEREJECT: '0',
    PEBBLE_AUTHZREUSE: '0',
  });
  const agent = new Agent({ ca: execFileSync('cat', [cert]).toString() });
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  await waitFor(directoryUrl, pebble.child, pebble.log, agent);
  const reap = () => {
    pebble.child.kill('SIGKILL');
    dns.child.kill('SIGKILL');
  };
  process.once('exit', reap);
  return {
    directoryUrl,
    listenerCaPath: cert,
    challtestsrvUrl,
    async rootPem() {
      const https = await import('node:https');
      return new Promise<string>((resolve, reject) => {
        https
          .get(`https://127.0.0.1:${mgmtPort}/roots/0`, { agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (body += d));
            res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`roots/0: ${res.statusCode}`))));
          })
          .on('error', reject);
      });
    },
    async stopDns() {
      await stopChild(dns.child);
    },
    async startDns() {
      dns = spawnLogged(CHALLTESTSRV_BIN, dnsArgs);
      await waitFor(challtestsrvUrl, dns.child, dns.log);
    },
    env: {
      ACME_DIRECTORY_URL: directoryUrl,
      ACME_CA_BUNDLE: cert,
      ACME_DNS_CHALLTESTSRV_URL: challtestsrvUrl,
      CERTS_ISSUER: 'acme',
    },
    async stop() {
      process.removeListener('exit', reap);
      agent.destroy();
      await Promise.all([stopChild(pebble.child), stopChild(dns.child)]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
