import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { writeFileAtomic } from '@app/common';

x509.cryptoProvider.set(webcrypto as never);

export const FALLBACK_STEM = 'fallback';

/**
 * A self-signed certificate that a Stage 1 nginx can start with and serve for names no issued
 * certificate covers yet (browsers refuse it, which is right: there is nothing valid to show).
 * Written once into the certificate directory; never replaced.
 */
export async function ensureFallbackCert(certDir: string): Promise<void> {
  const crt = join(certDir, `${FALLBACK_STEM}.crt`);
  const key = join(certDir, `${FALLBACK_STEM}.key`);
  if (existsSync(crt) && existsSync(key)) return;
  const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex').replace(/^./, '1'),
    name: 'CN=collab-gateway no certificate yet',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * 86_400_000),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  await writeFileAtomic(key, x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), 0o600);
  await writeFileAtomic(crt, cert.toString('pem'), 0o644);
}
