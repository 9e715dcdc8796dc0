import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, PeerCertificate } from 'node:tls';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { WebSocket, WebSocketServer } from 'ws';
import { QUEUE_NAME } from '@app/jobs';
import { call } from '../support/http';
import { freePort, startTestNginx, TestNginx } from '../support/nginx';
import { startPebble, TestPebble } from '../support/pebble';
import { eventually, startStack } from '../support/stack';
import { startStage1, TestStage1 } from '../support/stage1';

/**
 * TLS at the edge on real parts: Debian's pebble as the ACME CA and pebble-challtestsrv as the DNS
 * the worker answers DNS-01 through; the worker obtains the gateway certificate at start and an
 * org's wildcard at its first container, installs both into a Stage 1 nginx (TLS, SNI), which
 * proxies to the Stage 2 nginx and on to the "container" (a server on its loopback VPN address).
 * Clients trust pebble's root only; every name resolves to 127.0.0.1 by curl --resolve or SNI.
 */
jest.setTimeout(240_000);
const run = promisify(execFile);

const DOMAIN = 'collab.tls.test';
const GW = 'gateway.collab.tls.test';

describe('TLS at the edge: ACME (pebble) -> worker -> Stage 1 (TLS) -> Stage 2 -> service', () => {
  let pebble: TestPebble;
  let stage2: TestNginx;
  let stage1: TestStage1;
  let stack: Awaited<ReturnType<typeof startStack>>;
  let queue: Queue;
  let backend: Server | undefined;
  let root: string;
  let workerUrl: string;

  beforeAll(async () => {
    pebble = await startPebble('tls');
    stage2 = await startTestNginx('tls2');
    const gatewayPort = await freePort();
    stage1 = await startStage1('tls', { stage2: `127.0.0.1:${stage2.port}`, gatewayApi: `127.0.0.1:${gatewayPort}`, gatewayFqdns: [GW] });
    stack = await startStack('tls_edge', {
      ...stage2.env,
      ...stage1.env,
      ...pebble.env,
      CERTS_ENABLED: 'true',
      CERTS_RETRY_MIN_S: '1',
      CERTS_RETRY_MAX_S: '2',
      PLATFORM_DOMAIN: DOMAIN,
      GATEWAY_DEFAULT_FQDN: GW,
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      VPN_POOL_CIDR: '127.77.0.0/16',
      NGINX_COALESCE_MIN_MS: '50',
      NGINX_COALESCE_MAX_MS: '300',
    });
    await stack.startGateway(gatewayPort);
    await stack.startWorker({ projections: true });
    await stack.worker.listen({ host: '127.0.0.1', port: 0 });
    workerUrl = `http://127.0.0.1:${(stack.worker.getHttpServer().address() as { port: number }).port}`;
    queue = new Queue(QUEUE_NAME, { connection: { url: stack.config.redis.url }, prefix: stack.config.redis.prefix });
    root = await pebble.rootPem();
  });
  afterAll(async () => {
    backend?.close();
    await queue?.close();
    await stack?.close();
    await stage1?.stop();
    await stage2?.stop();
    await pebble?.stop();
  });

  /** The certificate Stage 1 serves for `servername`, verified against pebble's root. */
  const served = (servername: string) =>
    new Promise<PeerCertificate & { authorized: boolean }>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: stage1.httpsPort, servername, ca: root, rejectUnauthorized: false }, () => {
        const cert = s.getPeerCertificate();
        resolve(Object.assign(cert, { authorized: s.authorized }));
        s.end();
      });
      s.on('error', reject);
    });

  /** GET over a fresh TLS connection (a full handshake every time) through Stage 1. */
  const get = (host: string, path = '/') =>
    new Promise<{ status: number; body: string; serial: string; hsts?: string }>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: stage1.httpsPort, servername: host, path, ca: root, agent: false, headers: { host } },
        (res) => {
          const serial = (res.socket as unknown as { getPeerCertificate(): PeerCertificate }).getPeerCertificate().serialNumber;
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body, serial, hsts: res.headers['strict-transport-security'] as string }),
          );
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });

  const curl = async (host: string, path: string, extra: string[] = []) => {
    const caFile = `${stage1.dir}/pebble-root.pem`;
    await import('node:fs/promises').then((fs) => fs.writeFile(caFile, root));
    const { stdout } = await run('curl', [
      '-sS',
      '--cacert',
      caFile,
      '--resolve',
      `${host}:${stage1.httpsPort}:127.0.0.1`,
      '-w',
      '\n%{http_code}',
      ...extra,
      `https://${host}:${stage1.httpsPort}${path}`,
    ]);
    const i = stdout.lastIndexOf('\n');
    return { body: stdout.slice(0, i), status: Number(stdout.slice(i + 1)) };
  };

  let org: string;
  let fqdn: string;
  let registered: { container_id: string; token: string; project_id: string };

  it('serves the gateway FQDN with a pebble certificate at worker start: the seed client fetches its VPN profile over https', async () => {
    const cert = await eventually(
      async () => {
        const c = await served(GW);
        return c.authorized && c.subjectaltname?.includes(`DNS:${GW}`) ? c : null;
      },
      60_000,
      250,
    );
    expect(cert.issuer.CN).toMatch(/Pebble/i);

    org = randomUUID();
    const reg = await call(stack.url, 'POST', '/onboarding/containers', stack.operator(), {
      org_id: org,
      project_id: randomUUID(),
      image_id: 'ubuntu:terminal',
      display_name: 'tls',
    });
    expect(reg.status).toBe(201);
    const vpn = await curl(GW, '/collab/vpn-config', ['-H', `Authorization: ${reg.body.token}`]);
    expect(vpn.status).toBe(200);
    // The seed client's JSON: certificates by file name and the client config (issue 16's contract).
    const client = JSON.parse(vpn.body) as { certificates: Record<string, string>; config: string };
    expect(Object.keys(client.certificates).sort()).toEqual(['ca.crt', 'client.crt', 'client.key', 'ta.key']);
    expect(client.config).toMatch(/^client\b/);
    expect(client.config).toContain('remote ');

    // Plain HTTP is redirected to https on the same host.
    const { stdout } = await run('curl', [
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code} %{redirect_url}',
      '-H',
      `Host: ${GW}`,
      `http://127.0.0.1:${stage1.httpPort}/x?y=1`,
    ]);
    expect(stdout).toBe(`301 https://${GW}:${stage1.httpsPort}/x?y=1`);
    registered = reg.body;
  });

  it("obtains the org's wildcard at its first container; curl --cacert <pebble root> reaches the service through Stage 1 -> Stage 2", async () => {
    const { container_id: id, token, project_id: project } = registered;
    const stream = `certificate-org-${org}`;
    const issued = await eventually(
      async () => (await stack.store.readStream(stream)).find((e) => e.type === 'certificate:issued'),
      60_000,
      250,
    );
    expect(issued.data).toMatchObject({ subject: `org-${org}`, names: [`*.org-${org}.${DOMAIN}`], serial: expect.any(String) });
    // No key material in any event; the key at rest is sealed.
    expect(JSON.stringify(issued)).not.toMatch(/PRIVATE KEY|BEGIN/);
    const { rows } = await stack.pool.query(`SELECT key_sealed FROM certificates WHERE subject = $1`, [`org-${org}`]);
    expect(rows[0].key_sealed).toMatch(/^sealed:v1:test-kek:/);
    expect(rows[0].key_sealed).not.toContain('BEGIN');

    const { rows: addr } = await stack.pool.query(`SELECT host(address) AS a FROM vpn_addresses WHERE container_id = $1`, [id]);
    const port = await freePort();
    backend = createServer((req, res) => res.end(`service of ${req.headers.host} via ${req.headers['x-forwarded-proto'] ?? '-'}`));
    new WebSocketServer({ server: backend }).on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m}`)));
    await new Promise<void>((ok) => backend!.listen(port, addr[0].a, ok));
    const post = (event: object) => stack.post('/collab/event', { event, project_id: project }, token);
    expect((await post({ type: 'user-container:watchdog' })).status).toBe(202);
    expect((await post({ type: 'user-container:map-http-service', name: 'notebook', port })).status).toBe(202);
    fqdn = `uc-${id}--notebook.org-${org}.${DOMAIN}`;

    const res = await eventually(
      async () => {
        const r = await curl(fqdn, '/');
        return r.status === 200 ? r : null;
      },
      60_000,
      200,
    );
    // (Stage 2 sets X-Forwarded-Proto from its own scheme since main's issue-19 change; see the report.)
    expect(res.body.startsWith(`service of ${fqdn} via `)).toBe(true);
    const cert = await served(fqdn);
    expect(cert.authorized).toBe(true);
    expect(cert.subjectaltname).toBe(`DNS:*.org-${org}.${DOMAIN}`);
    expect((await get(fqdn)).hsts).toBe('max-age=63072000');

    // WebSocket upgrade through both stages.
    const ws = new WebSocket(`wss://${fqdn}:${stage1.httpsPort}/`, {
      ca: root,
      lookup: ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
        o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never,
    });
    const echo = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hi'));
      ws.once('message', (m) => resolve(String(m)));
      ws.once('error', reject);
    });
    ws.close();
    expect(echo).toBe('echo:hi');
  });

  it('a renewal swaps the certificate with no failed request during it', async () => {
    const before = (await get(fqdn)).serial;
    let stop = false;
    const failures: string[] = [];
    const serials = new Set<string>();
    let ok = 0;
    const loop = async () => {
      while (!stop) {
        try {
          const r = await get(fqdn);
          if (r.status !== 200) failures.push(`status ${r.status}`);
          else ok++;
          serials.add(r.serial);
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const loops = [loop(), loop(), loop()];
    await queue.add('certificates:ensure', { subject: `org-${org}`, reason: 'test renewal', force: true });
    await eventually(
      async () => (await stack.store.readStream(`certificate-org-${org}`)).some((e) => e.type === 'certificate:renewed'),
      60_000,
      200,
    );
    const after = await eventually(
      async () => {
        const s = (await get(fqdn)).serial;
        return s !== before ? s : null;
      },
      30_000,
      100,
    );
    const okAtSwap = ok;
    await eventually(async () => ok > okAtSwap + 20, 30_000, 50);
    stop = true;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(serials.has(before) && serials.has(after)).toBe(true);
  });

  it('a DNS failure leaves the last good certificate serving, and shows in /metrics and the readiness detail', async () => {
    const servedBefore = (await get(fqdn)).serial;
    await pebble.stopDns();
    try {
      await queue.add('certificates:ensure', { subject: `org-${org}`, reason: 'test dns outage', force: true });
      const failed = await eventually(
        async () => (await stack.store.readStream(`certificate-org-${org}`)).find((e) => e.type === 'certificate:failed'),
        60_000,
        200,
      );
      expect(failed.data).toMatchObject({ subject: `org-${org}`, stage: 'dns', attempt: 1 });
      const r = await get(fqdn);
      expect(r.status).toBe(200);
      expect(r.serial).toBe(servedBefore);

      const metrics = await (await fetch(`${workerUrl}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`certificate_consecutive_failures\\{subject="org-${org}"\\} [1-9]`));
      expect(metrics).toMatch(/certificate_attempts_total\{outcome="failed",stage="dns"\} [1-9]/);
      const ready = await (await fetch(`${workerUrl}/health/ready`)).json();
      const detail = JSON.stringify(ready);
      expect(detail).toContain(`"subject":"org-${org}"`);
      expect(detail).toContain('"stage":"dns"');
    } finally {
      await pebble.startDns();
    }
  });
});
