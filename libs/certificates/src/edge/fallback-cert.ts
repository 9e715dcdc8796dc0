import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { writeFileAtomic } from '@app/common';
import { DAY_MS, ECDSA_SHA256, newKeyPair, newSerial, privateKeyPem } from '@app/secrets';

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
  const keys = await newKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: 'CN=collab-gateway no certificate yet',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 10 * 365 * DAY_MS),
    keys,
    signingAlgorithm: ECDSA_SHA256,
  });
  await writeFileAtomic(key, await privateKeyPem(keys.privateKey), 0o600);
  await writeFileAtomic(crt, cert.toString('pem'), 0o644);
}
