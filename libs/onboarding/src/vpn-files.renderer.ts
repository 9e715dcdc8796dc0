import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Pool } from 'pg';
import type { KeySealer } from '@app/secrets';
import { writeFileAtomic } from '@app/common';
import { ccdFileName, nodeDirName, renderCcd } from './domain/vpn-files';
import { parsePool, VpnPool } from './domain/vpn-pool';
import { AUTH_SCRIPT, renderServerConf, SERVER_FILES } from './domain/server-conf';
import { nodeTlsCryptKey } from './tls-crypt';
import { describeCrl, VpnCa } from './pki';

const CRL_VALID_DAYS = 30;
/** Re-sign the CRL once less than half its validity is left, even when nothing changed. */
const CRL_RENEW_MS = (CRL_VALID_DAYS / 2) * 86_400_000;

export interface RenderReport {
  written: number;
  unchanged: number;
  removed: number;
  skipped: { node: string; container: string; reason: string }[];
  crl: 'written' | 'unchanged';
}

/**
 * Renders the OpenVPN server files from the read model, into `dir`:
 *   <node>/ccd/<container-id>   `ifconfig-push <address> <netmask>` for each live container
 *   crl.pem                     the revoked client certificates (one CA for every node)
 *   ca.crt                      the CA the servers trust
 *   <node>/server.crt, .key     the node's OpenVPN server certificate and key (0600)
 *   <node>/server.conf          the node's OpenVPN server config (port from its vpn_endpoint)
 *   <node>/ta.key               the node's tls-crypt key (0600)
 *   <node>/auth-users           `<container-id> <sha256 of its vpn_secret>` per live container (0600)
 *   <node>/clients              `<container-id> <certificate serial>` per live container: the
 *                               supervisor kills a session whose line goes or changes
 *   <node>/vpn-auth.sh          the auth-user-pass-verify script (0755)
 * Every name is checked before it becomes a path (a UUID file in an allow-listed node directory,
 * and the resolved path must stay inside `dir`); a bad row is skipped and reported, never fatal
 * to the others. Writes are atomic and skipped when the bytes are unchanged; ccd files of
 * containers no longer live are removed.
 */
export interface RenderOptions {
  dir: string;
  poolCidr: string;
  proto?: 'udp' | 'tcp-client';
  /** The node used while the pool is empty: its FQDN names its server certificate. */
  defaultNode: { nodeId: string; fqdn: string; vpnEndpoint?: string };
  now?: Date;
}

/** `sealer` opens the node's tls-crypt key (the CA opens the server key it issued). */
export async function renderVpnFiles(db: Pool, ca: VpnCa, sealer: KeySealer, opts: RenderOptions): Promise<RenderReport> {
  const root = resolve(opts.dir);
  const pool = parsePool(opts.poolCidr);
  const report: RenderReport = { written: 0, unchanged: 0, removed: 0, skipped: [], crl: 'unchanged' };
  await mkdir(root, { recursive: true });

  const { rows } = await db.query(
    `SELECT a.gateway_node AS node, a.container_id::text AS id, host(a.address) AS address, v.serial, s.secret_sha256 AS secret
     FROM vpn_addresses a JOIN onboarded_containers c ON c.container_id = a.container_id
     LEFT JOIN vpn_client_certs v ON v.container_id = a.container_id AND v.revoked_at IS NULL
     LEFT JOIN vpn_secrets s ON s.container_id = a.container_id
     WHERE a.released_at IS NULL AND c.deleted_at IS NULL
     ORDER BY a.container_id`,
  );
  const byNode = new Map<string, LiveClient[]>();
  for (const r of rows) byNode.set(r.node, [...(byNode.get(r.node) ?? []), r]);
  const { rows: nodes } = await db.query(`SELECT node_id, fqdn, vpn_endpoint FROM gateway_nodes`);
  const fqdns = new Map<string, string>(nodes.map((n) => [n.node_id, n.fqdn]));
  const endpoints = new Map<string, string>(nodes.map((n) => [n.node_id, n.vpn_endpoint]));
  fqdns.set(opts.defaultNode.nodeId, fqdns.get(opts.defaultNode.nodeId) ?? opts.defaultNode.fqdn);
  endpoints.set(opts.defaultNode.nodeId, endpoints.get(opts.defaultNode.nodeId) ?? opts.defaultNode.vpnEndpoint ?? ':1194');
  for (const id of fqdns.keys()) if (!byNode.has(id)) byNode.set(id, []);
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.isDirectory() && nodeDirName(entry.name) && !byNode.has(entry.name)) byNode.set(entry.name, []);
  }

  report.crl = await writeCrl(db, ca, root, opts.now ?? new Date());
  for (const [node, clients] of byNode) {
    if (!nodeDirName(node)) {
      clients.forEach((c) => report.skipped.push({ node, container: c.id, reason: 'node id is not a safe directory name' }));
      continue;
    }
    const ccd = join(root, node, 'ccd');
    await mkdir(ccd, { recursive: true });
    const fqdn = fqdns.get(node);
    if (fqdn) await writeServerCertificate(db, ca, join(root, node), node, fqdn);
    const live = new Set<string>();
    for (const c of clients) {
      const outcome = await writeCcd(ccd, pool, c);
      if (outcome === 'written' || outcome === 'unchanged') {
        live.add(c.id);
        report[outcome]++;
      } else report.skipped.push({ node, container: c.id, reason: outcome.reason });
    }
    for (const name of await readdir(ccd)) {
      if (ccdFileName(name) && !live.has(name)) {
        await rm(join(ccd, name), { force: true });
        report.removed++;
      }
    }
    // After the ccd files and the CRL: when the supervisor sees a client leave the `clients` list
    // and ends its session, every file that refuses its reconnect is already in place.
    const endpoint = endpoints.get(node);
    if (fqdn && endpoint) {
      await writeServerFiles(db, sealer, join(root, node), node, {
        pool,
        port: Number(endpoint.slice(endpoint.lastIndexOf(':') + 1)) || 1194,
        proto: opts.proto ?? 'udp',
        clients: clients.filter((c) => live.has(c.id)),
      });
    }
  }
  return report;
}

interface LiveClient {
  id: string;
  address: string;
  serial: string | null;
  secret: string | null;
}

async function writeIfChanged(target: string, content: string, mode?: number): Promise<void> {
  if ((await readFile(target, 'utf8').catch(() => null)) !== content) await writeFileAtomic(target, content, mode);
}

/** server.conf, the tls-crypt key, the auth script and the per-client lists the script and the supervisor read. */
async function writeServerFiles(
  db: Pool,
  sealer: KeySealer,
  nodeDir: string,
  node: string,
  p: { pool: VpnPool; port: number; proto: 'udp' | 'tcp-client'; clients: LiveClient[] },
): Promise<void> {
  await writeIfChanged(join(nodeDir, SERVER_FILES.tlsCrypt), await nodeTlsCryptKey(db, sealer, node), 0o600);
  await writeIfChanged(join(nodeDir, SERVER_FILES.authScript), AUTH_SCRIPT, 0o755);
  const hex = /^[0-9a-f]+$/;
  const users = p.clients.filter((c) => c.secret && hex.test(c.secret)).map((c) => `${c.id} ${c.secret}\n`);
  await writeIfChanged(join(nodeDir, SERVER_FILES.authUsers), users.join(''), 0o600);
  const serials = p.clients.filter((c) => c.serial && hex.test(c.serial)).map((c) => `${c.id} ${c.serial}\n`);
  await writeIfChanged(join(nodeDir, SERVER_FILES.clients), serials.join(''));
  // Last: a supervisor that sees server.conf finds every file it names.
  await writeIfChanged(join(nodeDir, SERVER_FILES.conf), renderServerConf({ pool: p.pool, port: p.port, proto: p.proto }));
}

async function writeCcd(
  ccd: string,
  pool: VpnPool,
  c: { id: string; address: string },
): Promise<'written' | 'unchanged' | { reason: string }> {
  const name = ccdFileName(c.id);
  if (!name) return { reason: 'container id is not a UUID' };
  const target = join(ccd, name);
  if (dirname(resolve(target)) !== resolve(ccd)) return { reason: 'path escapes the ccd directory' };
  let content: string;
  try {
    content = renderCcd(pool, c.address);
  } catch (err) {
    return { reason: (err as Error).message };
  }
  if ((await readFile(target, 'utf8').catch(() => null)) === content) return 'unchanged';
  await writeFileAtomic(target, content);
  return 'written';
}

async function writeCrl(db: Pool, ca: VpnCa, root: string, now: Date): Promise<'written' | 'unchanged'> {
  const caFile = join(root, 'ca.crt');
  if ((await readFile(caFile, 'utf8').catch(() => null)) !== ca.certPem) await writeFileAtomic(caFile, ca.certPem);
  const { rows } = await db.query(`SELECT serial, revoked_at FROM vpn_client_certs WHERE revoked_at IS NOT NULL ORDER BY serial`);
  const target = join(root, 'crl.pem');
  const current = await readFile(target, 'utf8').catch(() => null);
  if (current) {
    try {
      const d = describeCrl(current);
      const same = d.serials.join() === rows.map((r) => r.serial.toLowerCase()).join();
      if (same && d.nextUpdate && d.nextUpdate.getTime() - now.getTime() > CRL_RENEW_MS) return 'unchanged';
    } catch {
      /* unreadable: write a good one */
    }
  }
  await writeFileAtomic(
    target,
    await ca.crl(
      rows.map((r) => ({ serial: r.serial, revokedAt: r.revoked_at })),
      CRL_VALID_DAYS,
      now,
    ),
  );
  return 'written';
}

/** The node's server certificate: issued once (first insert wins), written when it differs. */
async function writeServerCertificate(db: Pool, ca: VpnCa, nodeDir: string, node: string, fqdn: string): Promise<void> {
  let row = (await db.query(`SELECT serial, cert_pem, key_pkcs8 FROM vpn_server_certs WHERE gateway_node = $1`, [node])).rows[0];
  if (!row) {
    const issued = await ca.issueServer(fqdn, 825);
    await db.query(
      `INSERT INTO vpn_server_certs (gateway_node, fqdn, serial, cert_pem, key_pkcs8, not_after) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (gateway_node) DO NOTHING`,
      [node, fqdn, issued.serial, issued.certPem, issued.sealedKey, issued.notAfter],
    );
    row = (await db.query(`SELECT serial, cert_pem, key_pkcs8 FROM vpn_server_certs WHERE gateway_node = $1`, [node])).rows[0];
  }
  const cert = join(nodeDir, 'server.crt');
  const key = join(nodeDir, 'server.key');
  if ((await readFile(cert, 'utf8').catch(() => null)) !== row.cert_pem) await writeFileAtomic(cert, row.cert_pem);
  // The OpenVPN server reads its key from a file (mode 0600 in the worker's volume); the database keeps it sealed.
  const keyPem = await ca.openKey('vpn_server_certs', row.serial, row.key_pkcs8);
  if ((await readFile(key, 'utf8').catch(() => null)) !== keyPem) await writeFileAtomic(key, keyPem, 0o600);
}
