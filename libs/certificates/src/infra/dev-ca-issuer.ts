import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { CertificateIssuer, Obtained } from './issuer';

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

const pem = (der: ArrayBuffer, label: string) => x509.PemConverter.encode(der, label);
function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x10;
  return b.toString('hex');
}

/**
 * The development CA: created once in `<DATA_DIR>/dev-ca/` (ca.pem, ca.key, mode 0600), so a
 * restart keeps every certificate it issued valid and `curl --cacert .data/dev-ca/ca.pem` (or -k)
 * works. It issues what ACME would (the same names, 90 days), with no rate limits.
 */
export class DevCaIssuer implements CertificateIssuer {
  readonly account = 'dev-ca';
  readonly budgeted = false;

  private constructor(
    private readonly cert: x509.X509Certificate,
    private readonly key: webcrypto.CryptoKey,
  ) {}

  static caPath = (dataDir: string) => join(dataDir, 'dev-ca', 'ca.pem');

  static async load(dataDir: string): Promise<DevCaIssuer> {
    const dir = join(dataDir, 'dev-ca');
    const certPath = join(dir, 'ca.pem');
    const keyPath = join(dir, 'ca.key');
    if (!existsSync(certPath) || !existsSync(keyPath)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
      const now = Date.now();
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(),
        name: 'CN=collab-gateway development CA',
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 10 * 365 * DAY),
        keys,
        signingAlgorithm: SIGN,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      writeFileSync(keyPath, pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'), { mode: 0o600, flag: 'wx' });
      writeFileSync(certPath, cert.toString('pem'), { mode: 0o644 });
    }
    const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(readFileSync(keyPath, 'utf8')), ALG, false, [
      'sign',
    ]);
    return new DevCaIssuer(new x509.X509Certificate(readFileSync(certPath, 'utf8')), key as webcrypto.CryptoKey);
  }

  get caPem(): string {
    return this.cert.toString('pem');
  }

  async obtain(names: string[], days = 90): Promise<Obtained> {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const now = Date.now();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${names[0]}`,
      issuer: this.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + days * DAY),
      publicKey: keys.publicKey,
      signingKey: this.key,
      signingAlgorithm: SIGN,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return {
      chainPem: leaf.toString('pem') + '\n' + this.cert.toString('pem') + '\n',
      keyPem: pem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
    };
  }
}
