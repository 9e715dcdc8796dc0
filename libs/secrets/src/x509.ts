import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Building and signing X.509 certificates, the one place for it: the VPN CA (libs/onboarding) and
 * the development CA of Stage 1 certificates (libs/certificates) create their CA and sign leaves
 * here. Pure (no I/O, no Nest): callers store the PEMs where they keep them (sealed, or files).
 * ECDSA P-256 keys, ECDSA with SHA-256 signatures, PKCS#8 PEM private keys.
 */
x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const DAY_MS = 86_400_000;
/** Certificates start a minute in the past, for clocks slightly behind. */
const BACKDATE_MS = 60_000;

/** A CA that signs: its certificate and its private key (imported for signing only). */
export interface SigningCa {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

export interface IssuedLeaf {
  serial: string;
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  notAfter: Date;
}

export const pemOf = (der: ArrayBuffer, label: string): string => x509.PemConverter.encode(der, label);

/** A positive 16-byte serial as lower-case hex (RFC 5280: at most 20 octets, positive). */
export function newSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x10;
  return b.toString('hex');
}

export async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pemOf(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** A CA's certificate and PKCS#8 PEM key, ready to sign (the key is not extractable). */
export async function loadCa(certPem: string, keyPem: string): Promise<SigningCa> {
  const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), EC_P256, false, ['sign']);
  return { cert: new x509.X509Certificate(certPem), key: key as CryptoKey };
}

/** A self-signed CA certificate (no intermediates below it: path length 0) and its new key. */
export async function createCa(o: { name: string; days: number; now?: Date }): Promise<{ certPem: string; keyPem: string }> {
  const keys = await newKeyPair();
  const now = (o.now ?? new Date()).getTime();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: o.name,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + o.days * DAY_MS),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * An end-entity certificate signed by `ca` for a new key: not a CA, digital signature only, TLS
 * client or server authentication only (`usage`), DNS names as subject alternative names when
 * given, valid `days` from `now`.
 */
export async function issueLeaf(
  ca: SigningCa,
  o: { subject: string; usage: 'clientAuth' | 'serverAuth'; days: number; dnsNames?: string[]; now?: Date },
): Promise<IssuedLeaf> {
  const keys = await newKeyPair();
  const serial = newSerial();
  const now = (o.now ?? new Date()).getTime();
  const notAfter = new Date(now + o.days * DAY_MS);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: o.subject,
    issuer: ca.cert.subject,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage[o.usage]]),
      ...(o.dnsNames ? [new x509.SubjectAlternativeNameExtension(o.dnsNames.map((value) => ({ type: 'dns' as const, value })))] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { serial, certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey), notAfter };
}
