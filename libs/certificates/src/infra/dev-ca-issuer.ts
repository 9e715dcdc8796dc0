import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, issueLeaf, loadCa, type SigningCa } from '@app/secrets';
import type { CertificateIssuer, Obtained } from './issuer';

/**
 * The development CA: created once in `<DATA_DIR>/dev-ca/` (ca.pem, ca.key, mode 0600), so a
 * restart keeps every certificate it issued valid and `curl --cacert .data/dev-ca/ca.pem` (or -k)
 * works. It issues what ACME would (the same names, 90 days), with no rate limits.
 */
export class DevCaIssuer implements CertificateIssuer {
  readonly account = 'dev-ca';
  readonly budgeted = false;

  private constructor(private readonly ca: SigningCa) {}

  static caPath = (dataDir: string) => join(dataDir, 'dev-ca', 'ca.pem');

  static async load(dataDir: string): Promise<DevCaIssuer> {
    const dir = join(dataDir, 'dev-ca');
    const certPath = join(dir, 'ca.pem');
    const keyPath = join(dir, 'ca.key');
    if (!existsSync(certPath) || !existsSync(keyPath)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const created = await createCa({ name: 'CN=collab-gateway development CA', days: 10 * 365 });
      writeFileSync(keyPath, created.keyPem, { mode: 0o600, flag: 'wx' });
      writeFileSync(certPath, created.certPem, { mode: 0o644 });
    }
    return new DevCaIssuer(await loadCa(readFileSync(certPath, 'utf8'), readFileSync(keyPath, 'utf8')));
  }

  get caPem(): string {
    return this.ca.cert.toString('pem');
  }

  async obtain(names: string[], days = 90): Promise<Obtained> {
    const leaf = await issueLeaf(this.ca, { subject: `CN=${names[0]}`, usage: 'serverAuth', days, dnsNames: names });
    return { chainPem: leaf.certPem + '\n' + this.caPem + '\n', keyPem: leaf.keyPem };
  }
}
