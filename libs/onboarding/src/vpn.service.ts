import { createHash } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { KeySealer } from '@app/secrets';
import { PG_POOL, withTransaction } from '@app/database';
import { NotFoundError, UnavailableError, AuthenticationError } from '@app/common';
import { EventMetadata, EventStore } from '@app/event-store';
import { CERTIFICATE_ISSUED, CERTIFICATE_REVOKED, VPN_ADDRESS_ASSIGNED, VPN_ADDRESS_RELEASED } from './domain/events';
import { evolveLifecycle, initialLifecycle } from './domain/lifecycle';
import { addressAt, intToIp, ipToInt, parsePool, VpnPool } from './domain/vpn-pool';
import { ProfileParts } from './domain/vpn-files';
import { nodeTlsCryptKey } from './tls-crypt';
import { IssuedCertificate, VpnCa } from './pki';
import { containerStream } from '@app/container-events';
import { VPN_FILES_CHANGED, VpnFilesChangedListener } from './vpn-files-changed';

interface Credentials {
  node: string;
  address: string;
  hostIndex: number;
  serial: string;
  certPem: string;
  /** As stored: sealed. */
  sealedKey: string;
  notAfter: Date;
  org: string;
  project: string;
}

/** A stable event id for a fact, so recording it again after a crash stores nothing twice. */
const factId = (...parts: string[]) => {
  const h = createHash('sha256').update(parts.join('|')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/**
 * GET /collab/vpn-config: one address and one client certificate per container, handed out once
 * and the same on every later call. Allocation runs in one transaction under the node's pool lock
 * row (vpn_pool_locks); the (node, address) primary key is the guard that no address is held
 * twice. The transaction commits address and certificate together or neither (an exhausted pool
 * leaves nothing behind); the events are then recorded with ids derived from the facts, so a call
 * after a crash between the two records them without duplicating.
 *
 * An address handed out from another pool (VPN_POOL_CIDR changed since) is given up at the
 * container's next call for one of the current pool, and the change recorded (released, then
 * assigned): renders skip addresses outside the VPN ranges, so the old one would never be routed.
 */
@Injectable()
export class VpnService {
  private readonly addresses: VpnPool;
  private ca?: Promise<VpnCa>;
  private readonly tlsKeys = new Map<string, Promise<string>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(KeySealer) private readonly sealer: KeySealer,
    @Optional() @Inject(VPN_FILES_CHANGED) private readonly changed?: VpnFilesChangedListener,
  ) {
    this.addresses = parsePool(config.vpn.poolCidr);
  }

  authority(): Promise<VpnCa> {
    this.ca ??= VpnCa.load(this.pool, this.sealer).catch((err) => {
      this.ca = undefined;
      throw err;
    });
    return this.ca;
  }

  /**
   * The container's profile parts (address, certificate, node keys): the controller renders them
   * as the seed's JSON or as an inline profile. A certificate within VPN_CLIENT_CERT_RENEW_DAYS of
   * its end is replaced here (the old one revoked in the same transaction, so it joins the CRL).
   */
  async profile(
    containerId: string,
    metadata: EventMetadata,
    now = new Date(),
  ): Promise<{ parts: ProfileParts; address: string; serial: string }> {
    const ca = await this.authority();
    let creds = await this.existing(containerId);
    let superseded: string | undefined;
    if (!creds || !this.inPool(creds)) {
      // Key generation and signing happen before the transaction: the pool lock is held for SQL only.
      // An address outside the current pool moves; the certificate stays (renewed at a later call if due).
      const fresh = creds ? undefined : await ca.issueClient(containerId, this.config.vpn.clientCertDays, now);
      creds = await this.allocate(containerId, fresh);
    } else if (creds.notAfter.getTime() - now.getTime() < this.config.vpn.clientCertRenewDays * 86_400_000) {
      superseded = creds.serial;
      creds = await this.renew(containerId, creds.serial, await ca.issueClient(containerId, this.config.vpn.clientCertDays, now));
    }
    const recorded = await this.record(containerId, creds, metadata, superseded);
    if (recorded) {
      // Answer once the node has the container's ccd file (bounded): its first connection then succeeds.
      const reason = `vpn credentials of ${containerId}`;
      const wait = this.config.vpn.configRenderWaitMs;
      if (wait > 0 && this.changed?.vpnFilesRendered) await this.changed.vpnFilesRendered(reason, wait).catch(() => false);
      else void this.changed?.vpnFilesChanged(reason).catch(() => undefined);
    }
    const node = await this.nodeOf(creds.node);
    const parts: ProfileParts = {
      endpoint: node.endpoint,
      serverName: node.fqdn,
      proto: this.config.vpn.proto,
      caPem: ca.certPem,
      certPem: creds.certPem,
      keyPem: await ca.openKey('vpn_client_certs', creds.serial, creds.sealedKey),
      tlsCryptKey: await this.tlsCryptKey(creds.node),
    };
    return { parts, address: creds.address, serial: creds.serial };
  }

  /** Replaces the live certificate `old` by `fresh`; a concurrent renewal that won is kept instead. */
  private async renew(containerId: string, old: string, fresh: IssuedCertificate): Promise<Credentials> {
    await withTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE vpn_client_certs SET revoked_at = now() WHERE container_id = $1 AND serial = $2 AND revoked_at IS NULL`,
        [containerId, old],
      );
      if (rowCount)
        await client.query(
          `INSERT INTO vpn_client_certs (container_id, serial, cert_pem, key_pkcs8, not_after) VALUES ($1, $2, $3, $4, $5)`,
          [containerId, fresh.serial, fresh.certPem, fresh.sealedKey, fresh.notAfter],
        );
    });
    const creds = await this.existing(containerId);
    if (!creds) throw new AuthenticationError('token revoked: the container was deleted');
    return creds;
  }

  /** Whether an allocation row is one of the current pool's (its address is network + its index). */
  private inPool(c: Pick<Credentials, 'address' | 'hostIndex'>): boolean {
    const { firstHost, lastHost, network } = this.addresses;
    return c.hostIndex >= firstHost && c.hostIndex <= lastHost && ipToInt(c.address) === network + c.hostIndex;
  }

  private async existing(containerId: string, client: Pool | PoolClient = this.pool): Promise<Credentials | undefined> {
    const { rows } = await client.query(
      `SELECT a.gateway_node, host(a.address) AS address, a.host_index, v.serial, v.cert_pem, v.key_pkcs8, v.not_after, c.org_id, c.project_id
       FROM vpn_addresses a
       JOIN vpn_client_certs v ON v.container_id = a.container_id AND v.revoked_at IS NULL
       JOIN onboarded_containers c ON c.container_id = a.container_id AND c.deleted_at IS NULL
       WHERE a.container_id = $1 AND a.released_at IS NULL`,
      [containerId],
    );
    const r = rows[0];
    return (
      r && {
        node: r.gateway_node,
        address: r.address,
        hostIndex: r.host_index,
        serial: r.serial,
        certPem: r.cert_pem,
        sealedKey: r.key_pkcs8,
        notAfter: r.not_after,
        org: r.org_id,
        project: r.project_id,
      }
    );
  }

  /** `fresh`: the certificate to store when the container has none yet (none when only the address moves). */
  private async allocate(containerId: string, fresh?: IssuedCertificate): Promise<Credentials> {
    const creds = await withTransaction(this.pool, async (client) => {
      const { rows: found } = await client.query(
        `SELECT gateway_node, deleted_at IS NOT NULL AS deleted FROM onboarded_containers WHERE container_id = $1 FOR SHARE`,
        [containerId],
      );
      if (!found[0]) throw new NotFoundError('container is not onboarded');
      if (found[0].deleted) throw new AuthenticationError('token revoked: the container was deleted');
      const node: string = found[0].gateway_node;
      await client.query(`INSERT INTO vpn_pool_locks (gateway_node) VALUES ($1) ON CONFLICT DO NOTHING`, [node]);
      await client.query(`SELECT 1 FROM vpn_pool_locks WHERE gateway_node = $1 FOR UPDATE`, [node]);
      // Rows of another pool: never handed out again from this one, so they leave the table (the
      // container's own live one too: it gets an address of this pool below).
      await client.query(
        `DELETE FROM vpn_addresses WHERE gateway_node = $1 AND (released_at IS NOT NULL OR container_id = $2) AND NOT (${this.ofPool('$3')})`,
        [node, containerId, intToIp(this.addresses.network)],
      );
      const { rows: held } = await client.query(`SELECT 1 FROM vpn_addresses WHERE container_id = $1 AND released_at IS NULL`, [
        containerId,
      ]);
      if (!held.length) await this.takeAddress(client, node, containerId);
      if (fresh) {
        await client.query(
          `INSERT INTO vpn_client_certs (container_id, serial, cert_pem, key_pkcs8, not_after) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (container_id) WHERE revoked_at IS NULL DO NOTHING`,
          [containerId, fresh.serial, fresh.certPem, fresh.sealedKey, fresh.notAfter],
        );
      }
      return this.existing(containerId, client);
    });
    if (!creds) throw new Error(`vpn credentials of ${containerId} vanished`);
    return creds;
  }

  /** SQL: the row is one of the current pool's (`network` is the parameter holding its network address). */
  private ofPool(network: string): string {
    const { firstHost, lastHost } = this.addresses;
    return `host_index BETWEEN ${firstHost} AND ${lastHost} AND address = ${network}::inet + host_index`;
  }

  /** The lowest address never used on the node, else the one longest out of quarantine. */
  private async takeAddress(client: PoolClient, node: string, containerId: string): Promise<void> {
    const { firstHost, lastHost, network } = this.addresses;
    // A live row of an older pool may hold an address of this one under another index.
    const { rows: gap } = await client.query(
      `SELECT s.i FROM (SELECT $2::int AS i UNION ALL SELECT host_index + 1 FROM vpn_addresses WHERE gateway_node = $1) s
       WHERE s.i BETWEEN $2 AND $3
         AND NOT EXISTS (SELECT 1 FROM vpn_addresses b WHERE b.gateway_node = $1 AND b.host_index = s.i)
         AND NOT EXISTS (SELECT 1 FROM vpn_addresses b WHERE b.gateway_node = $1 AND b.address = $4::inet + s.i)
       ORDER BY s.i LIMIT 1`,
      [node, firstHost, lastHost, intToIp(network)],
    );
    if (gap[0]) {
      const i: number = gap[0].i;
      await client.query(`INSERT INTO vpn_addresses (gateway_node, host_index, address, container_id) VALUES ($1, $2, $3, $4)`, [
        node,
        i,
        addressAt(this.addresses, i),
        containerId,
      ]);
      return;
    }
    const { rowCount } = await client.query(
      `UPDATE vpn_addresses SET container_id = $2, assigned_at = now(), released_at = NULL
       WHERE (gateway_node, host_index) = (
         SELECT gateway_node, host_index FROM vpn_addresses
         WHERE gateway_node = $1 AND released_at < now() - make_interval(secs => $3) AND ${this.ofPool('$4')}
         ORDER BY released_at LIMIT 1)`,
      [node, containerId, this.config.vpn.addressQuarantineS, intToIp(network)],
    );
    if (!rowCount) throw new UnavailableError(`the VPN address pool of gateway node ${node} is exhausted`);
  }

  /** Records the assignment and the certificate in the container's stream unless it already tells them. */
  private async record(containerId: string, c: Credentials, metadata: EventMetadata, superseded?: string): Promise<boolean> {
    const state = (await this.store.readStream(containerStream(containerId))).reduce(evolveLifecycle, initialLifecycle());
    // Deleted meanwhile: its trigger released and revoked both, and the deletion recorded that.
    if (state.deleted) throw new AuthenticationError('token revoked: the container was deleted');
    const events = [];
    if (state.address && state.address !== c.address) {
      // The address moved to the current pool: the old one is given up first.
      events.push({
        id: factId(VPN_ADDRESS_RELEASED, containerId, state.address, String(state.version)),
        type: VPN_ADDRESS_RELEASED,
        data: { container_id: containerId, address: state.address, reason: 'outside-pool' },
        metadata,
      });
    }
    if (state.address !== c.address) {
      events.push({
        id: factId(VPN_ADDRESS_ASSIGNED, containerId, c.node, c.address),
        type: VPN_ADDRESS_ASSIGNED,
        data: { container_id: containerId, org_id: c.org, project_id: c.project, gateway_node: c.node, address: c.address },
        metadata,
      });
    }
    if (superseded && state.certificate?.serial === superseded && !state.certificate.revoked) {
      events.push({
        id: factId(CERTIFICATE_REVOKED, superseded),
        type: CERTIFICATE_REVOKED,
        data: { container_id: containerId, serial: superseded, reason: 'superseded' },
        metadata,
      });
    }
    if (state.certificate?.serial !== c.serial) {
      events.push({
        id: factId(CERTIFICATE_ISSUED, c.serial),
        type: CERTIFICATE_ISSUED,
        data: { container_id: containerId, serial: c.serial, not_after: c.notAfter.toISOString() },
        metadata,
      });
    }
    if (!events.length) return false;
    await this.store.append(containerStream(containerId), events, 'any');
    return true;
  }

  /** A node's tls-crypt key never changes once created: read once per process. */
  private tlsCryptKey(node: string): Promise<string> {
    let key = this.tlsKeys.get(node);
    if (!key) {
      key = nodeTlsCryptKey(this.pool, this.sealer, node).catch((err) => {
        this.tlsKeys.delete(node);
        throw err;
      });
      this.tlsKeys.set(node, key);
    }
    return key;
  }

  private async nodeOf(node: string): Promise<{ endpoint: string; fqdn: string }> {
    const { rows } = await this.pool.query(`SELECT vpn_endpoint, fqdn FROM gateway_nodes WHERE node_id = $1`, [node]);
    const fallback = this.config.onboarding.defaultNode;
    return { endpoint: rows[0]?.vpn_endpoint ?? fallback.vpnEndpoint, fqdn: rows[0]?.fqdn ?? fallback.fqdn };
  }
}
