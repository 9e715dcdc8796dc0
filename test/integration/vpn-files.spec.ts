import { KeySealer } from '@app/secrets';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { VpnRenderHandler } from '@app/onboarding';
import { createWorker } from '../../apps/worker/src/bootstrap';
import { startTestGateway, TestGateway } from '../support/gateway';
import { call, onboard, operatorToken } from '../support/onboarding';
import { eventually } from '../support/eventually';

const run = promisify(execFile);
const job = {} as Job<{ reason: string }>;

// Heavy on a shared 2-core machine: 200 registrations and profiles take seconds.
jest.setTimeout(60_000);

describe('the worker renders the VPN server files from the read model', () => {
  let g: TestGateway;
  let op: string;
  let root: string;
  let dir: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'cgw-vpnfiles-'));
    dir = join(root, 'deep', 'openvpn');
    g = await startTestGateway('vpn_files', {
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      VPN_FILES_DIR: dir,
      VPN_RENDER_RECONCILE_S: '3600',
    });
    op = operatorToken(g);
  });
  afterAll(async () => {
    await g.close();
    rmSync(root, { recursive: true, force: true });
  });

  const ccdDir = () => join(dir, 'default', 'ccd');
  const live = async () =>
    (
      await g.pool.query(
        `SELECT container_id::text AS id, host(address) AS address FROM vpn_addresses WHERE released_at IS NULL ORDER BY 1`,
      )
    ).rows;

  it('writes one ccd file per live container (queued by the gateway), matching the read model, and a CRL', async () => {
    const worker: NestFastifyApplication = await createWorker(g.config);
    await worker.init();
    try {
      const containers = await Promise.all(Array.from({ length: 5 }, () => onboard(g, op)));
      for (const c of containers) expect((await call(g.url, 'GET', '/collab/vpn-config', c.token)).status).toBe(200);
      // The gateway queued a render; the worker app took it from Redis.
      await eventually(() => existsSync(ccdDir()) && readdirSync(ccdDir()).length === 5 && existsSync(join(dir, 'crl.pem')));
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      // The rest of this file runs the handler itself, without a worker racing it.
      await worker.close();
    }
    const rows = await live();
    expect(readdirSync(ccdDir()).sort()).toEqual(rows.map((r) => r.id));
    for (const r of rows) expect(readFileSync(join(ccdDir(), r.id), 'utf8')).toBe(`ifconfig-push ${r.address} 255.255.0.0\n`);

    const again = await new VpnRenderHandler(g.pool, g.config, g.app.get(KeySealer)).handle(job);
    expect(again).toMatchObject({ written: 0, unchanged: 5, removed: 0, skipped: [], crl: 'unchanged' });

    // The node's OpenVPN server certificate, from the same CA, for TLS server use; its key 0600.
    const server = join(dir, 'default', 'server.crt');
    const ok = await run('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), '-purpose', 'sslserver', server]);
    expect(ok.stdout).toContain(': OK');
    expect((await run('openssl', ['x509', '-in', server, '-noout', '-subject'])).stdout.trim()).toBe(
      'subject=CN = gateway.collab.localhost',
    );
    expect(statSync(join(dir, 'default', 'server.key')).mode & 0o777).toBe(0o600);
    const { stdout: certPub } = await run('openssl', ['x509', '-in', server, '-noout', '-pubkey']);
    const { stdout: keyPub } = await run('openssl', ['pkey', '-in', join(dir, 'default', 'server.key'), '-pubout']);
    expect(keyPub).toBe(certPub);
  });

  it('removes the ccd file of a deleted container and revokes its certificate in the CRL', async () => {
    const c = await onboard(g, op);
    const profile = (await call(g.url, 'GET', '/collab/vpn-config', c.token, undefined, { accept: 'application/x-openvpn-profile' })).text;
    expect((await new VpnRenderHandler(g.pool, g.config, g.app.get(KeySealer)).handle(job)).written).toBe(1);
    writeFileSync(join(root, 'cert.pem'), /<cert>\n([\s\S]*?)\n<\/cert>/.exec(profile)![1] + '\n');
    await call(g.url, 'DELETE', `/onboarding/containers/${c.container_id}`, op);
    const report = await new VpnRenderHandler(g.pool, g.config, g.app.get(KeySealer)).handle(job);
    expect(report.removed).toBe(1);
    expect(report.crl).toBe('written');
    expect(readdirSync(ccdDir()).sort()).toEqual((await live()).map((r) => r.id));
    const verdict = await run('openssl', [
      'verify',
      '-CAfile',
      join(dir, 'ca.crt'),
      '-CRLfile',
      join(dir, 'crl.pem'),
      '-crl_check',
      join(root, 'cert.pem'),
    ]).then(
      () => 'accepted',
      (e) => String(e.stdout) + String(e.stderr),
    );
    expect(verdict).toContain('certificate revoked');
  });

  it('never turns a hostile node id, container id or address into a path or a line', async () => {
    const outside = resolve(dir, '..', 'evil');
    const org = randomUUID();
    const insert = async (node: string, address: string, index: number) => {
      const id = randomUUID();
      await g.pool.query(
        `INSERT INTO onboarded_containers (container_id, org_id, project_id, image_id, display_name, gateway_node, registered_at)
         VALUES ($1, $2, $2, 'ubuntu:terminal', 'x', $3, now())`,
        [id, org, node],
      );
      await g.pool.query(`INSERT INTO vpn_addresses (gateway_node, host_index, address, container_id) VALUES ($1, $2, $3, $4)`, [
        node,
        index,
        address,
        id,
      ]);
      return id;
    };
    await insert('../evil', '172.16.9.9', 2313);
    await insert('default\nx', '172.16.9.10', 2314);
    const offPool = await insert('default', '10.0.0.5', 60000);
    // Files the renderer did not write: a stray name is left alone, a stale container file removed.
    writeFileSync(join(ccdDir(), 'README'), 'hands off');
    const stale = randomUUID();
    writeFileSync(join(ccdDir(), stale), 'ifconfig-push 172.16.1.1 255.255.0.0\n');
    mkdirSync(join(dir, 'Not_A_Node'), { recursive: true });

    const report = await new VpnRenderHandler(g.pool, g.config, g.app.get(KeySealer)).handle(job);
    expect(report.skipped.map((s) => s.reason).sort()).toEqual(
      [
        '"10.0.0.5" is not a host of the pool'.replace(/^/, 'ccd: '),
        'node id is not a safe directory name',
        'node id is not a safe directory name',
      ].sort(),
    );
    expect(existsSync(outside)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['Not_A_Node', 'ca.crt', 'crl.pem', 'default']);
    expect(existsSync(join(ccdDir(), offPool))).toBe(false);
    expect(existsSync(join(ccdDir(), stale))).toBe(false);
    expect(readFileSync(join(ccdDir(), 'README'), 'utf8')).toBe('hands off');
  });
});
