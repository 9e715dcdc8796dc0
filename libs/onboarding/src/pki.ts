import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Pool } from 'pg';
import { contextOf, type KeySealer, type SealedColumn } from '@app/secrets';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const CA_NAME = 'CN=collab-gateway VPN CA';
const DAY = 86_400_000;

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

const toPem = (der: ArrayBuffer, label: string) => x509.PemConverter.encode(der, label);

/** A positive 16-byte serial as lower-case hex (RFC 5280: at most 20 octets, positive). */
function newSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x10;
  return b.toString('hex');
}

/**
 * The gateway's VPN certificate authority: created once and kept in vpn_ca (the first process to
 * insert wins; every other process, and every restart, loads that one). Its private key, and the
 * keys of the certificates it issues, are stored sealed: the KeySealer it was loaded with seals
 * and opens them.
 */
export class VpnCa {
  private constructor(
    readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
    private readonly sealer: KeySealer,
  ) {}

  get certPem(): string {
    return this.cert.toString('pem');
  }

  static async load(pool: Pool, sealer: KeySealer): Promise<VpnCa> {
    let row = (await pool.query(`SELECT cert_pem, key_pkcs8 FROM vpn_ca WHERE id = 1`)).rows[0];
    if (!row) {
      const created = await VpnCa.create();
      await pool.query(`INSERT INTO vpn_ca (id, cert_pem, key_pkcs8) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, [
        created.certPem,
        await sealer.seal(created.keyPem, contextOf('vpn_ca', 1)),
      ]);
      row = (await pool.query(`SELECT cert_pem, key_pkcs8 FROM vpn_ca WHERE id = 1`)).rows[0];
    }
    const pem = await openPem(sealer, row.key_pkcs8, contextOf('vpn_ca', 1));
    const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), ALG, false, ['sign']);
    return new VpnCa(new x509.X509Certificate(row.cert_pem), key as CryptoKey, sealer);
  }

  /** The PEM of a key this CA issued (`table`: vpn_client_certs or vpn_server_certs), from its stored form. */
  openKey(table: 'vpn_client_certs' | 'vpn_server_certs', serial: string, stored: string): Promise<string> {
    return openPem(this.sealer, stored, contextOf(table, serial));
  }

  private static async create(): Promise<{ certPem: string; keyPem: string }> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerial(),
      name: CA_NAME,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 20 * 365 * DAY),
      keys,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    return { certPem: cert.toString('pem'), keyPem: toPem(pkcs8, 'PRIVATE KEY') };
  }

  /** A client certificate for one container: CN = container id, TLS client authentication only. */
  issueClient(containerId: string, days: number, now = new Date()): Promise<IssuedCertificate> {
    return this.issue('vpn_client_certs', `CN=${containerId}`, x509.ExtendedKeyUsage.clientAuth, days, now);
  }

  /** A gateway node's OpenVPN server certificate: CN = its FQDN, TLS server authentication only. */
  issueServer(fqdn: string, days: number, now = new Date()): Promise<IssuedCertificate> {
    return this.issue('vpn_server_certs', `CN=${fqdn}`, x509.ExtendedKeyUsage.serverAuth, days, now);
  }

  private async issue(table: string, subject: string, usage: string, days: number, now: Date): Promise<IssuedCertificate> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
    const serial = newSerial();
    const notAfter = new Date(now.getTime() + days * DAY);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject,
      issuer: this.cert.subject,
      notBefore: new Date(now.getTime() - 60_000),
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.key,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
    const sealedKey = await this.sealer.seal(toPem(pkcs8, 'PRIVATE KEY'), contextOf(table, serial));
    return { serial, certPem: cert.toString('pem'), sealedKey, notAfter };
  }

  /** A CRL of the given serials (hex), valid for `validDays`; the worker renews it well before. */
  async crl(revoked: { serial: string; revokedAt: Date }[], validDays: number, now = new Date()): Promise<string> {
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.cert.subject,
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + validDays * DAY),
      signingKey: this.key,
      signingAlgorithm: SIGN,
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(this.cert)],
      entries: revoked.map((r) => ({
        serialNumber: r.serial,
        revocationDate: r.revokedAt,
        reason: x509.X509CrlReason.cessationOfOperation,
      })),
    });
    // OpenSSL and OpenVPN read the label "X509 CRL", not the library's "CRL".
    return toPem(crl.rawData, 'X509 CRL');
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
