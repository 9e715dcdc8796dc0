// Stage 1 over TLS, measured on a real nginx (2 cores, load generators on the same machine):
// - `nginx -t` and install (swap + reload + confirm) with N org certificates, for both layouts:
//   `map` (one server, `ssl_certificate $collab_cert` chosen by a map on SNI) and `server-blocks`
//   (one server {} per org certificate);
// - full TLS handshakes/s (a new connection per request, SNI of a random org) and keep-alive
//   request latency through Stage 1, against the same proxy over plain HTTP.
// Run: node -r ./test/support/ts-register.js bench/stage1-tls.ts [certs=10000] [seconds=5] [layouts=map,server-blocks]
// The N certificates are copies of one ECDSA P-256 certificate under N names (nginx parses each file).
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertificateInstaller, CertLayout, FALLBACK_STEM, renderCertInclude, stage1ServerBody } from '@app/certificates';
import { NginxControl } from '@app/nginx';
import { freePort, NGINX_BIN } from '../test/support/nginx';
import { startStage1 } from '../test/support/stage1';

const run = promisify(execFile);
const DOMAIN = 'collab.bench.test';
const since = (t: number) => Math.round(performance.now() - t);

async function rssMiB(pidFile: string): Promise<number> {
  const master = (await readFile(pidFile, 'utf8')).trim();
  const { stdout } = await run('ps', ['-o', 'rss=', '--ppid', master, '-p', master]);
  return Math.round(
    stdout
      .split('\n')
      .filter(Boolean)
      .reduce((a, l) => a + Number(l.trim()), 0) / 1024,
  );
}

/** Full handshakes per second: `concurrency` loops, each a new TLS connection (SNI `names[i]`) closed at once. */
async function handshakes(port: number, names: string[], seconds: number, concurrency = 16): Promise<number> {
  let n = 0;
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const one = (servername: string) =>
    new Promise<void>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, session: undefined }, () => {
        n++;
        s.destroy();
        resolve();
      });
      s.on('error', () => (errors++, resolve()));
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) await one(names[Math.floor(Math.random() * names.length)]);
    }),
  );
  if (errors) console.error(`  ${errors} handshake errors`);
  return Math.round(n / seconds);
}

async function wrk(url: string, host: string, seconds: number, close = false): Promise<{ rps: number; p50: string; p99: string }> {
  const args = ['-t2', '-c32', `-d${seconds}s`, '--latency', '-H', `Host: ${host}`, ...(close ? ['-H', 'Connection: close'] : []), url];
  const { stdout } = await run('wrk', args);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
  return { rps: Math.round(rps), p50: /50%\s+(\S+)/.exec(stdout)?.[1] ?? '?', p99: /99%\s+(\S+)/.exec(stdout)?.[1] ?? '?' };
}

async function measure(layout: CertLayout, count: number, seconds: number) {
  const [backendPort, plainPort, staticPort] = [await freePort(), await freePort(), await freePort()];
  // A backend, a plain-HTTP twin of the TLS server, and a TLS twin whose certificate is fixed (loaded at
  // configuration time): the per-handshake cost of `ssl_certificate $variable` is the difference.
  const extra =
    `    server {\n        listen 127.0.0.1:${backendPort};\n        location / { return 200 "ok\\n"; }\n    }\n` +
    `    server {\n        listen 127.0.0.1:${plainPort};\n${stage1ServerBody().replace(/^/gm, '    ')}    }\n` +
    `    server {\n        listen 127.0.0.1:${staticPort} ssl;\n        ssl_certificate CERTDIR/fallback.crt;\n        ssl_certificate_key CERTDIR/fallback.key;\n` +
    `${stage1ServerBody().replace(/^/gm, '    ')}    }\n`;
  const stage1 = await startStage1(`bench-${layout}`, {
    stage2: `127.0.0.1:${backendPort}`,
    gatewayApi: `127.0.0.1:${backendPort}`,
    gatewayFqdns: [`gateway.${DOMAIN}`],
    extra,
    certDirPlaceholder: 'CERTDIR',
  });
  try {
    // Every org gets the same key pair (the figures are nginx's, not the crypto's): the fallback startStage1 wrote.
    const [crt, key] = [join(stage1.certDir, `${FALLBACK_STEM}.crt`), join(stage1.certDir, `${FALLBACK_STEM}.key`)];
    const [chainPem, keyPem] = [await readFile(crt, 'utf8'), await readFile(key, 'utf8')];
    const certs = Array.from({ length: count }, () => {
      const org = randomUUID();
      return { subject: `org-${org}`, names: [`*.org-${org}.${DOMAIN}`], fingerprint: randomBytes(8).toString('hex') };
    });
    for (const c of certs) {
      const stem = `${c.subject}-${c.fingerprint}`;
      await copyFile(crt, join(stage1.certDir, `${stem}.crt`));
      await copyFile(key, join(stage1.certDir, `${stem}.key`));
    }
    const httpsListen = `127.0.0.1:${stage1.httpsPort}`;
    const control = new NginxControl({
      bin: NGINX_BIN,
      prefix: stage1.env.CERTS_NGINX_PREFIX,
      conf: stage1.conf,
      mapPath: stage1.certMapPath,
      reloadCmd: [NGINX_BIN, '-p', stage1.env.CERTS_NGINX_PREFIX, '-c', stage1.conf, '-s', 'reload'],
      statusUrl: stage1.statusUrl,
      commandTimeoutMs: 600_000,
      confirmTimeoutMs: 600_000,
    });
    // nginx -t alone on a candidate with every certificate.
    const candidate = join(stage1.dir, 'candidate.map');
    const include = renderCertInclude({
      certs: certs.map((c) => ({ subject: c.subject, names: c.names, stem: `${c.subject}-${c.fingerprint}` })),
      defaultStem: 'fallback',
      gatewayFqdns: [`gateway.${DOMAIN}`],
      certDir: stage1.certDir,
      layout,
      listen: httpsListen,
      serverBody: stage1ServerBody(),
    });
    await writeFile(candidate, include.text);
    let t = performance.now();
    await control.test(candidate);
    const testMs = since(t);
    // The installer's whole swap: render, nginx -t, rename, reload, confirm the served hash.
    const installer = new CertificateInstaller(
      { certDir: stage1.certDir, mapPath: stage1.certMapPath, layout, httpsListen, gatewayFqdns: async () => [`gateway.${DOMAIN}`] },
      control,
    );
    t = performance.now();
    await installer.install(certs.map((c) => ({ ...c, chainPem, keyPem })));
    const installMs = since(t);
    // A second reload of the same config (what a renewal costs beyond writing two files).
    t = performance.now();
    await control.reload();
    await control.confirm(include.hash === '' ? '' : (await (await fetch(stage1.statusUrl)).text()).trim());
    const reloadMs = since(t);
    await new Promise((r) => setTimeout(r, 1500));
    const rss = await rssMiB(join(stage1.dir, 'nginx.pid'));
    const names = certs.slice(0, 1000).map((c) => `x.${c.names[0].slice(2)}`);
    const hs = await handshakes(stage1.httpsPort, names, seconds);
    const host = names[0];
    const tlsKeepAlive = await wrk(`https://127.0.0.1:${stage1.httpsPort}/`, host, seconds);
    // wrk (no SNI, so the default certificate): one full handshake per request.
    const tlsNewConn = await wrk(`https://127.0.0.1:${stage1.httpsPort}/`, host, seconds, true);
    const staticCertNewConn = await wrk(`https://127.0.0.1:${staticPort}/`, host, seconds, true);
    return {
      layout,
      certs: count,
      nginx_t_ms: testMs,
      install_ms: installMs,
      reload_ms: reloadMs,
      rss_mib: rss,
      node_sni_handshakes_per_s: hs,
      tlsKeepAlive,
      tlsNewConn,
      staticCertNewConn,
      plainPort,
      stage1,
    };
  } catch (err) {
    await stage1.stop();
    throw err;
  }
}

async function main() {
  const count = Number(process.argv[2] ?? 10_000);
  const seconds = Number(process.argv[3] ?? 5);
  const rows = [];
  const layouts = (process.argv[4] ?? 'map,server-blocks').split(',') as CertLayout[];
  for (const layout of layouts) {
    const r = await measure(layout, count, seconds);
    const host = `x.org-${randomUUID()}.${DOMAIN}`;
    const plainKeepAlive = await wrk(`http://127.0.0.1:${r.plainPort}/`, host, seconds);
    const plainNewConn = await wrk(`http://127.0.0.1:${r.plainPort}/`, host, seconds, true);
    await r.stage1.stop();
    const { stage1: _s, plainPort: _p, ...row } = r;
    rows.push({ ...row, plainKeepAlive, plainNewConn });
    console.log(JSON.stringify(rows[rows.length - 1]));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
