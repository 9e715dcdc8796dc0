import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { Pool } from 'pg';
import {
  contextOf,
  createCa,
  DAY_MS,
  ECDSA_SHA256,
  issueLeaf,
  loadCa,
  pemOf,
  type KeySealer,
  type SealedColumn,
  type SigningCa,
} from '@app/secrets';

const CA_NAME = 'CN=collab-gateway VPN CA';

export interface IssuedCertificate {
  serial: string;
  certPem: string;
  /**
   * The PKCS#8 PEM private key, sealed (libs/secrets) for the row `<table>:<serial>`: stored as is;
   * `VpnCa.openKey` gives the PEM back where it must be used (a profile, the server's key file).
   */
  sealedKey: string;
  notAfter: Date;
}

/** The columns of private keys this lib keeps sealed (resealed at start: plaintext rows of before, old KEKs). */
export const VPN_SEALED_COLUMNS: SealedColumn[] = [
  { table: 'vpn_ca', id: 'id', column: 'key_pkcs8' },
  { table: 'vpn_client_certs', id: 'serial', column: 'key_pkcs8' },
  { table: 'vpn_server_certs', id: 'serial', column: 'key_pkcs8' },
  // Each node's OpenVPN tls-crypt key (tls-crypt.ts).
  { table: 'vpn_tls_crypt_keys', id: 'gateway_node', column: 'key_text' },
];

/**
 * The gateway's VPN certificate authority: created once and kept in vpn_ca (the first process to
 * insert wins; every other process, and every restart, loads that one). Its private key, and the
 * keys of the certificates it issues, are stored sealed: the KeySealer it was loaded with seals
 * and opens them.
 */
export class VpnCa {
  private constructor(
    private readonly ca: SigningCa,
    private readonly sealer: KeySealer,
  ) {}

  get cert(): x509.X509Certificate {
    return this.ca.cert;
  }

  get certPem(): string {
    return this.ca.cert.toString('pem');
  }

  static async load(pool: Pool, sealer: KeySealer): Promise<VpnCa> {
    let row = (await pool.query(`SELECT cert_pem, key_pkcs8 FROM vpn_ca WHERE id = 1`)).rows[0];
    if (!row) {
      const created = await createCa({ name: CA_NAME, days: 20 * 365 });
      await pool.query(`INSERT INTO vpn_ca (id, cert_pem, key_pkcs8) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, [
        created.certPem,
        await sealer.seal(created.keyPem, contextOf('vpn_ca', 1)),
      ]);
      row = (await pool.query(`SELECT cert_pem, key_pkcs8 FROM vpn_ca WHERE id = 1`)).rows[0];
    }
    return new VpnCa(await loadCa(row.cert_pem, await openPem(sealer, row.key_pkcs8, contextOf('vpn_ca', 1))), sealer);
  }

  /** The PEM of a key this CA issued (`table`: vpn_client_certs or vpn_server_certs), from its stored form. */
  openKey(table: 'vpn_client_certs' | 'vpn_server_certs', serial: string, stored: string): Promise<string> {
    return openPem(this.sealer, stored, contextOf(table, serial));
  }

  /** A client certificate for one container: CN = container id, TLS client authentication only. */
  issueClient(containerId: string, days: number, now = new Date()): Promise<IssuedCertificate> {
    return this.issue('vpn_client_certs', `CN=${containerId}`, 'clientAuth', days, now);
  }

  /** A gateway node's OpenVPN server certificate: CN = its FQDN, TLS server authentication only. */
  issueServer(fqdn: string, days: number, now = new Date()): Promise<IssuedCertificate> {
    return this.issue('vpn_server_certs', `CN=${fqdn}`, 'serverAuth', days, now);
  }

  private async issue(
    table: string,
    subject: string,
    usage: 'clientAuth' | 'serverAuth',
    days: number,
    now: Date,
  ): Promise<IssuedCertificate> {
    const leaf = await issueLeaf(this.ca, { subject, usage, days, now });
    const sealedKey = await this.sealer.seal(leaf.keyPem, contextOf(table, leaf.serial));
    return { serial: leaf.serial, certPem: leaf.certPem, sealedKey, notAfter: leaf.notAfter };
  }

  /** A CRL of the given serials (hex), valid for `validDays`; the worker renews it well before. */
  async crl(revoked: { serial: string; revokedAt: Date }[], validDays: number, now = new Date()): Promise<string> {
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.cert.subject,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + validDays * DAY_MS),
      signingKey: this.ca.key,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(this.cert)],
      entries: revoked.map((r) => ({
        serialNumber: r.serial,
        revocationDate: r.revokedAt,
        reason: x509.X509CrlReason.cessationOfOperation,
      })),
    });
    // OpenSSL and OpenVPN read the label "X509 CRL", not the library's "CRL".
    return pemOf(crl.rawData, 'X509 CRL');
  }
}

/** A stored key: sealed, or (a row from before sealing, until the start-up step reseals it) the PEM itself. */
function openPem(sealer: KeySealer, stored: string, context: string): Promise<string> {
  return stored.startsWith('-----BEGIN') ? Promise.resolve(stored) : sealer.open(stored, context);
}

/** The serials a CRL lists and when it expires (to skip a render that would change nothing). */
export function describeCrl(pem: string): { serials: string[]; nextUpdate?: Date } {
  const crl = new x509.X509Crl(x509.PemConverter.decodeFirst(pem));
  return { serials: crl.entries.map((e) => e.serialNumber.toLowerCase()).sort(), nextUpdate: crl.nextUpdate };
}
