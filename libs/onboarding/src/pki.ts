import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Pool } from 'pg';

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
  /** PKCS#8 PEM. Never logged: it travels only to the database and into the container's profile. */
  keyPem: string;
  notAfter: Date;
}

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
 * insert wins; every other process, and every restart, loads that one).
 */
export class VpnCa {
  private constructor(
    readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
  ) {}

  get certPem(): string {
    return this.cert.toString('pem');
  }

  static async load(pool: Pool): Promise<VpnCa> {
    let row = (await pool.query(`SELECT cert_pem, key_pkcs8 FROM vpn_ca WHERE id = 1`)).rows[0];
    if (!row) {
      const created = await VpnCa.create();
      await pool.query(`INSERT INTO vpn_ca (id, cert_pem, key_pkcs8) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, [
        created.certPem,
        created.keyPem,
      ]);
      row = (await pool.query(`SELECT cert_pem, key_pkcs8 FROM vpn_ca WHERE id = 1`)).rows[0];
    }
    const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(row.key_pkcs8), ALG, false, ['sign']);
    return new VpnCa(new x509.X509Certificate(row.cert_pem), key as CryptoKey);
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
    return this.issue(`CN=${containerId}`, x509.ExtendedKeyUsage.clientAuth, days, now);
  }

  /** A gateway node's OpenVPN server certificate: CN = its FQDN, TLS server authentication only. */
  issueServer(fqdn: string, days: number, now = new Date()): Promise<IssuedCertificate> {
    return this.issue(`CN=${fqdn}`, x509.ExtendedKeyUsage.serverAuth, days, now);
  }

  private async issue(subject: string, usage: string, days: number, now: Date): Promise<IssuedCertificate> {
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
    return { serial, certPem: cert.toString('pem'), keyPem: toPem(pkcs8, 'PRIVATE KEY'), notAfter };
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

/** The serials a CRL lists and when it expires (to skip a render that would change nothing). */
export function describeCrl(pem: string): { serials: string[]; nextUpdate?: Date } {
  const crl = new x509.X509Crl(x509.PemConverter.decodeFirst(pem));
  return { serials: crl.entries.map((e) => e.serialNumber.toLowerCase()).sort(), nextUpdate: crl.nextUpdate };
}
