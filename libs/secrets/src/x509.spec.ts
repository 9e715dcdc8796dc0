import 'reflect-metadata';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { createCa, DAY_MS, issueLeaf, loadCa } from './x509';

describe('X.509 (the VPN CA and the development CA)', () => {
  it('a CA: self-signed, CA:TRUE with path length 0, certificate and CRL signing; its PKCS#8 key loads for signing', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const { certPem, keyPem } = await createCa({ name: 'CN=test CA', days: 365, now });
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe('CN=test CA');
    expect(cert.issuer).toBe('CN=test CA');
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(Date.parse(cert.validFrom)).toBe(now.getTime() - 60_000);
    expect(Date.parse(cert.validTo)).toBe(now.getTime() + 365 * DAY_MS);
    const parsed = new x509.X509Certificate(certPem);
    expect(parsed.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, pathLength: 0, critical: true });
    expect(parsed.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(createPrivateKey(keyPem).asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('a leaf signed by the CA: not a CA, the one extended key usage, the DNS names when given', async () => {
    const created = await createCa({ name: 'CN=test CA', days: 365 });
    const ca = await loadCa(created.certPem, created.keyPem);
    const caCert = new X509Certificate(created.certPem);
    const now = new Date('2026-01-01T00:00:00Z');

    const server = await issueLeaf(ca, {
      subject: 'CN=a.example.test',
      usage: 'serverAuth',
      days: 90,
      dnsNames: ['a.example.test', '*.b.example.test'],
      now,
    });
    const s = new X509Certificate(server.certPem);
    expect(s.verify(caCert.publicKey)).toBe(true);
    expect(s.checkIssued(caCert)).toBe(true);
    expect(s.ca).toBe(false);
    expect(s.serialNumber.toLowerCase()).toBe(server.serial);
    expect(server.serial).toMatch(/^[1-7][0-9a-f]{31}$/);
    expect(s.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(s.subjectAltName).toBe('DNS:a.example.test, DNS:*.b.example.test');
    expect(server.notAfter.getTime()).toBe(now.getTime() + 90 * DAY_MS);
    expect(s.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);

    const client = new X509Certificate((await issueLeaf(ca, { subject: 'CN=c1', usage: 'clientAuth', days: 1 })).certPem);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(client.subjectAltName).toBeUndefined();
  });
});
