import { createHash } from 'node:crypto';
import { KeySealer } from '@app/secrets';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { DATA_SOURCE, poolOf } from '@app/database';
import { VpnCa } from '@app/onboarding';
import { createGateway } from '../../apps/gateway/src/bootstrap';
import { startTestGateway, TestGateway } from '../support/gateway';
import { call, onboard, operatorToken } from '../support/onboarding';

const run = promisify(execFile);
const section = (profile: string, tag: string) => new RegExp(`<${tag}>\\n([\\s\\S]*?)\\n</${tag}>`).exec(profile)![1] + '\n';

/** `openssl verify`; resolves to its exit status and output instead of throwing. */
async function verify(dir: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await run('openssl', ['verify', ...args], { cwd: dir });
    return { ok: true, out: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const ipInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);

// Heavy on a shared 2-core machine: 200 registrations and profiles take seconds.
jest.setTimeout(60_000);

describe('GET /collab/vpn-config (HTTP, real Postgres, openssl)', () => {
  let g: TestGateway;
  let op: string;
  let dir: string;

  beforeAll(async () => {
    // 200 registrations by one operator within a minute: the write budget (test/security/write-limits.spec.ts) is not what this file tests.
    g = await startTestGateway('vpn', { AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false', RATE_LIMIT_WRITE_MAX: '100000' });
    op = operatorToken(g);
    dir = mkdtempSync(join(tmpdir(), 'cgw-vpn-'));
  });
  afterAll(async () => {
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const vpnConfig = (token: string) =>
    call(g.url, 'GET', '/collab/vpn-config', token, undefined, { accept: 'application/x-openvpn-profile' });

  it('answers an OpenVPN profile whose certificate openssl accepts, then rejects once revoked (CRL)', async () => {
    const c = await onboard(g, op);
    const res = await vpnConfig(c.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/x-openvpn-profile/);
    expect(res.text).toMatch(/^client\ndev tun\nproto udp\nremote gateway\.collab\.localhost 1194\n/);
    expect(res.text).toContain('<tls-crypt>\n#\n# 2048 bit OpenVPN static key');
    expect(res.text).toContain('<key>\n-----BEGIN PRIVATE KEY-----');
    writeFileSync(join(dir, 'ca.pem'), section(res.text, 'ca'));
    writeFileSync(join(dir, 'cert.pem'), section(res.text, 'cert'));
    writeFileSync(join(dir, 'key.pem'), section(res.text, 'key'));

    const ok = await verify(dir, ['-CAfile', 'ca.pem', '-purpose', 'sslclient', 'cert.pem']);
    expect(ok.out).toContain('cert.pem: OK');
    const { stdout: subject } = await run('openssl', ['x509', '-in', 'cert.pem', '-noout', '-subject'], { cwd: dir });
    expect(subject.trim()).toBe(`subject=CN = ${c.container_id}`);
    // The key in the profile is the certificate's key.
    const { stdout: certPub } = await run('openssl', ['x509', '-in', 'cert.pem', '-noout', '-pubkey'], { cwd: dir });
    const { stdout: keyPub } = await run('openssl', ['pkey', '-in', 'key.pem', '-pubout'], { cwd: dir });
    expect(keyPub).toBe(certPub);

    const ca = await VpnCa.load(g.pool, g.app.get(KeySealer));
    writeFileSync(join(dir, 'empty.crl'), await ca.crl([], 7));
    expect((await verify(dir, ['-CAfile', 'ca.pem', '-CRLfile', 'empty.crl', '-crl_check', 'cert.pem'])).ok).toBe(true);

    // Same address and certificate on every later call.
    const again = await vpnConfig(c.token);
    expect(section(again.text, 'cert')).toBe(section(res.text, 'cert'));
    const described = (await call(g.url, 'GET', `/onboarding/containers/${c.container_id}`, op)).body;
    expect(described.vpn_address).toBe('172.16.0.2');
    const events = await g.events(`container-${c.container_id}`);
    expect(events.map((e) => e.event_type)).toEqual([
      'user-container:registered',
      'user-container:token-issued',
      'user-container:vpn-address-assigned',
      'user-container:certificate-issued',
    ]);
    expect(events[2].data).toEqual({
      container_id: c.container_id,
      org_id: c.org_id,
      project_id: c.project_id,
      gateway_node: 'default',
      address: '172.16.0.2',
    });
    expect(events[3].data.serial).toBe(described.certificate_serial);
    // The private key is never in the log.
    const { rows } = await g.pool.query(
      `SELECT count(*)::int AS n FROM events WHERE data::text LIKE '%PRIVATE KEY%' OR metadata::text LIKE '%PRIVATE KEY%'`,
    );
    expect(rows[0].n).toBe(0);

    expect((await call(g.url, 'DELETE', `/onboarding/containers/${c.container_id}`, op)).status).toBe(200);
    const revoked = await g.pool.query(`SELECT serial, revoked_at FROM vpn_client_certs WHERE revoked_at IS NOT NULL`);
    expect(revoked.rows.map((r) => r.serial)).toEqual([described.certificate_serial]);
    writeFileSync(
      join(dir, 'revoked.crl'),
      await ca.crl(
        revoked.rows.map((r) => ({ serial: r.serial, revokedAt: r.revoked_at })),
        7,
      ),
    );
    const refused = await verify(dir, ['-CAfile', 'ca.pem', '-CRLfile', 'revoked.crl', '-crl_check', 'cert.pem']);
    expect(refused.ok).toBe(false);
    expect(refused.out).toContain('certificate revoked');
    const tail = (await g.events(`container-${c.container_id}`)).slice(-3);
    expect(tail.map((e) => [e.event_type, e.data])).toEqual([
      ['user-container:deleted', { container_id: c.container_id, org_id: c.org_id, project_id: c.project_id }],
      ['user-container:vpn-address-released', { container_id: c.container_id, address: '172.16.0.2' }],
      [
        'user-container:certificate-revoked',
        { container_id: c.container_id, serial: described.certificate_serial, reason: 'container-deleted' },
      ],
    ]);
    expect((await vpnConfig(c.token)).status).toBe(401);
  });

  it('gives 200 containers calling at once 200 distinct valid addresses', async () => {
    const containers = await Promise.all(Array.from({ length: 200 }, () => onboard(g, op)));
    const answers = await Promise.all(containers.map((c) => vpnConfig(c.token)));
    expect(
      answers
        .filter((a) => a.status !== 200)
        .map((a) => a.text)
        .slice(0, 3),
    ).toEqual([]);
    expect(answers.map((a) => a.status)).toEqual(containers.map(() => 200));
    const { rows } = await g.pool.query(
      `SELECT container_id::text, host(address) AS address FROM vpn_addresses WHERE released_at IS NULL AND container_id = ANY($1::uuid[])`,
      [containers.map((c) => c.container_id)],
    );
    expect(rows).toHaveLength(200);
    const addresses = rows.map((r) => r.address);
    expect(new Set(addresses).size).toBe(200);
    const net = ipInt('172.16.0.0');
    for (const a of addresses) {
      const i = ipInt(a) - net;
      expect(i).toBeGreaterThanOrEqual(2);
      expect(i).toBeLessThanOrEqual(65534);
    }
    const serials = await g.pool.query(
      `SELECT count(DISTINCT serial)::int AS n FROM vpn_client_certs WHERE container_id = ANY($1::uuid[])`,
      [containers.map((c) => c.container_id)],
    );
    expect(serials.rows[0].n).toBe(200);
  });

  it('gives one container calling 50 times at once one address and one certificate', async () => {
    const c = await onboard(g, op);
    const answers = await Promise.all(Array.from({ length: 50 }, () => vpnConfig(c.token)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(new Set(answers.map((a) => section(a.text, 'cert'))).size).toBe(1);
    const { rows } = await g.pool.query(`SELECT count(*)::int AS n FROM vpn_addresses WHERE container_id = $1`, [c.container_id]);
    expect(rows[0].n).toBe(1);
    const types = (await g.events(`container-${c.container_id}`)).map((e) => e.event_type);
    expect(types.filter((t) => t === 'user-container:vpn-address-assigned')).toHaveLength(1);
    expect(types.filter((t) => t === 'user-container:certificate-issued')).toHaveLength(1);
  });

  it('keeps the CA across a restart', async () => {
    const before = (await VpnCa.load(g.pool, g.app.get(KeySealer))).certPem;
    const other: NestFastifyApplication = await createGateway(g.config);
    try {
      const ca = await VpnCa.load(poolOf(other.get<DataSource>(DATA_SOURCE)), other.get(KeySealer));
      expect(ca.certPem).toBe(before);
    } finally {
      await other.close();
    }
  });
});

describe('the seed contract: JSON by default, vpn_secret, renewal near expiry', () => {
  let g: TestGateway;
  let op: string;

  beforeAll(async () => {
    g = await startTestGateway('vpn_json', { AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false' });
    op = operatorToken(g);
  });
  afterAll(() => g.close());

  it('answers {certificates: {name: PEM}, config} to the seed client (token without a scheme, no Accept)', async () => {
    const c = await onboard(g, op);
    const res = await fetch(`${g.url}/collab/vpn-config`, { headers: { authorization: c.token } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { certificates: Record<string, string>; config: string };
    expect(Object.keys(body).sort()).toEqual(['certificates', 'config']);
    expect(Object.keys(body.certificates).sort()).toEqual(['ca.crt', 'client.crt', 'client.key', 'ta.key']);
    expect(body.certificates['client.key']).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
    expect(body.config).toContain('\nremote GATEWAY_FQDN 1194\n');
    expect(body.config).not.toContain('BEGIN');
    // JSON asked for by name, or anything else, is JSON too; only the profile type gets the profile.
    for (const accept of ['application/json', '*/*', 'text/html']) {
      const r = await fetch(`${g.url}/collab/vpn-config`, { headers: { authorization: c.token, accept } });
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    }
  });

  it('puts a per-container vpn_secret in SETTINGS, stores only its SHA-256, and replaces it with the token', async () => {
    const c = await onboard(g, op);
    const secret: string = c.settings_decoded.vpn_secret;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const stored = async () =>
      (await g.pool.query(`SELECT token_version, secret_sha256 FROM vpn_secrets WHERE container_id = $1`, [c.container_id])).rows[0];
    expect(await stored()).toEqual({ token_version: 1, secret_sha256: createHash('sha256').update(secret).digest('hex') });
    const { rows } = await g.pool.query(`SELECT count(*)::int AS n FROM events WHERE data::text LIKE '%' || $1 || '%'`, [secret]);
    expect(rows[0].n).toBe(0);
    const rotated = (await call(g.url, 'POST', `/onboarding/containers/${c.container_id}/token`, op)).body;
    const next: string = rotated.settings_decoded.vpn_secret;
    expect(next).not.toBe(secret);
    expect(await stored()).toEqual({ token_version: 2, secret_sha256: createHash('sha256').update(next).digest('hex') });
  });

  it('re-issues a certificate near its end at vpn-config and revokes the old one (CRL), once', async () => {
    const c = await onboard(g, op);
    const first = await call(g.url, 'GET', '/collab/vpn-config', c.token);
    const serial = (await g.pool.query(`SELECT serial FROM vpn_client_certs WHERE container_id = $1`, [c.container_id])).rows[0].serial;
    // Unchanged while far from its end.
    expect((await call(g.url, 'GET', '/collab/vpn-config', c.token)).body.certificates['client.crt']).toBe(
      first.body.certificates['client.crt'],
    );
    await g.pool.query(`UPDATE vpn_client_certs SET not_after = now() + interval '2 days' WHERE serial = $1`, [serial]);
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(g.url, 'GET', '/collab/vpn-config', c.token)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const certs = (
      await g.pool.query(`SELECT serial, revoked_at FROM vpn_client_certs WHERE container_id = $1 ORDER BY issued_at`, [c.container_id])
    ).rows;
    expect(certs).toHaveLength(2);
    expect(certs[0]).toMatchObject({ serial });
    expect(certs[0].revoked_at).not.toBeNull();
    expect(certs[1].revoked_at).toBeNull();
    expect(new Set(answers.map((a) => a.body.certificates['client.crt'])).size).toBe(1);
    expect(answers[0].body.certificates['client.crt']).not.toBe(first.body.certificates['client.crt']);
    const events = (await g.events(`container-${c.container_id}`)).map((e) => [e.event_type, e.data.serial, e.data.reason]);
    expect(events.slice(-2)).toEqual([
      ['user-container:certificate-revoked', serial, 'superseded'],
      ['user-container:certificate-issued', certs[1].serial, undefined],
    ]);
  });
});

describe('an exhausted VPN pool', () => {
  let g: TestGateway;
  let op: string;

  beforeAll(async () => {
    // /29: .0 network, .1 gateway, .7 broadcast: five addresses for containers.
    g = await startTestGateway('vpn_small', {
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      VPN_POOL_CIDR: '10.9.0.0/29',
      VPN_ADDRESS_QUARANTINE_S: '2',
    });
    op = operatorToken(g);
  });
  afterAll(() => g.close());

  it('answers 503 with nothing half-issued, and reuses a released address only after the quarantine', async () => {
    const containers = await Promise.all(Array.from({ length: 6 }, () => onboard(g, op)));
    const answers = await Promise.all(containers.map((c) => call(g.url, 'GET', '/collab/vpn-config', c.token)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 503]);
    const { rows } = await g.pool.query(`SELECT host(address) AS a FROM vpn_addresses ORDER BY host_index`);
    expect(rows.map((r) => r.a)).toEqual(['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);

    const loser = containers[answers.findIndex((a) => a.status === 503)];
    expect(answers.find((a) => a.status === 503)!.body.code).toBe('unavailable');
    const certs = await g.pool.query(`SELECT count(*)::int AS n FROM vpn_client_certs WHERE container_id = $1`, [loser.container_id]);
    expect(certs.rows[0].n).toBe(0);
    expect((await g.events(`container-${loser.container_id}`)).map((e) => e.event_type)).toEqual([
      'user-container:registered',
      'user-container:token-issued',
    ]);

    const winner = containers.find((c) => c !== loser)!;
    const address = (await call(g.url, 'GET', `/onboarding/containers/${winner.container_id}`, op)).body.vpn_address;
    await call(g.url, 'DELETE', `/onboarding/containers/${winner.container_id}`, op);
    expect((await call(g.url, 'GET', '/collab/vpn-config', loser.token)).status).toBe(503);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await call(g.url, 'GET', '/collab/vpn-config', loser.token)).status).toBe(200);
    expect((await call(g.url, 'GET', `/onboarding/containers/${loser.container_id}`, op)).body.vpn_address).toBe(address);
  });
});
