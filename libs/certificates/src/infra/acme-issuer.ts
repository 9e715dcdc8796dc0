import { Agent } from 'node:https';
import * as acme from 'acme-client';
import type { Pool } from 'pg';
import type { KeySealer } from '@app/secrets';
import type { Dns01Provider } from './dns-provider';
import { IssueError, type CertificateIssuer, type Obtained } from './issuer';
import { acmeAccountKeyContext } from './store';

export interface AcmeOptions {
  directoryUrl: string;
  email?: string;
  /** PEM of extra roots to trust for the directory's HTTPS (a private CA, pebble). */
  caBundlePem?: string;
  /** Wait after publishing the TXT records before asking the CA to validate (DNS propagation). */
  propagationWaitMs: number;
}

/**
 * ACME (RFC 8555) through acme-client, DNS-01 only (wildcards need it). The account key is created
 * once per directory and kept sealed (libs/secrets) in acme_accounts. Every step names its stage, so a failure
 * event says whether DNS, the order, a validation or the finalisation failed.
 */
export class AcmeIssuer implements CertificateIssuer {
  readonly budgeted = true;

  constructor(
    private readonly pool: Pool,
    private readonly sealer: KeySealer,
    private readonly dns: Dns01Provider,
    private readonly o: AcmeOptions,
  ) {
    // acme-client's HTTP calls go through its own axios instance (one directory per process).
    if (o.caBundlePem) acme.axios.defaults.httpsAgent = new Agent({ ca: o.caBundlePem });
  }

  get account(): string {
    return this.o.directoryUrl;
  }

  async obtain(names: string[]): Promise<Obtained> {
    const client = await this.client();
    const order = await client.createOrder({ identifiers: names.map((value) => ({ type: 'dns', value })) }).catch(fail('order'));
    const authzs = await client.getAuthorizations(order).catch(fail('order'));
    const published: { record: string; value: string }[] = [];
    try {
      const pending: { name: string; challenge: acme.Authorization['challenges'][number] }[] = [];
      for (const authz of authzs) {
        if (authz.status === 'valid') continue;
        const challenge = authz.challenges.find((c) => c.type === 'dns-01');
        const name = authz.identifier.value;
        if (!challenge) throw new IssueError('order', `no dns-01 challenge offered for ${name}`);
        const value = await client.getChallengeKeyAuthorization(challenge).catch(fail('order'));
        const record = `_acme-challenge.${name}`;
        await this.dns.setTxt(record, value).catch(fail('dns'));
        published.push({ record, value });
        pending.push({ name: authz.wildcard ? `*.${name}` : name, challenge });
      }
      if (pending.length && this.o.propagationWaitMs > 0) await new Promise((r) => setTimeout(r, this.o.propagationWaitMs));
      for (const { name, challenge } of pending) {
        try {
          await client.completeChallenge(challenge);
          await client.waitForValidStatus(challenge);
        } catch (err) {
          throw new IssueError('validation', `${name}: ${(err as Error).message}`, [name]);
        }
      }
    } finally {
      for (const p of published) await this.dns.clearTxt(p.record, p.value).catch(() => undefined);
    }
    const key = await acme.crypto.createPrivateEcdsaKey('P-256');
    const [, csr] = await acme.crypto.createCsr({ altNames: names }, key);
    const finalized = await client.finalizeOrder(order, csr).catch(fail('finalize'));
    const chainPem = await client.getCertificate(finalized).catch(fail('finalize'));
    return { chainPem, keyPem: key.toString() };
  }

  private async client(): Promise<acme.Client> {
    const dir = this.o.directoryUrl;
    const context = acmeAccountKeyContext(dir);
    let row = (await this.pool.query(`SELECT key_sealed, account_url FROM acme_accounts WHERE directory_url = $1`, [dir])).rows[0];
    if (!row) {
      const key = await acme.crypto.createPrivateEcdsaKey('P-256');
      // The first process to insert wins; everyone uses that key.
      await this.pool.query(`INSERT INTO acme_accounts (directory_url, key_sealed) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
        dir,
        await this.sealer.seal(key, context),
      ]);
      row = (await this.pool.query(`SELECT key_sealed, account_url FROM acme_accounts WHERE directory_url = $1`, [dir])).rows[0];
    }
    const accountKey = await this.sealer.openBytes(row.key_sealed, context);
    const client = new acme.Client({ directoryUrl: dir, accountKey, accountUrl: row.account_url ?? undefined });
    if (!row.account_url) {
      await client
        .createAccount({ termsOfServiceAgreed: true, ...(this.o.email ? { contact: [`mailto:${this.o.email}`] } : {}) })
        .catch(fail('account'));
      await this.pool.query(`UPDATE acme_accounts SET account_url = $2 WHERE directory_url = $1`, [dir, client.getAccountUrl()]);
    }
    return client;
  }
}

const fail =
  (stage: IssueError['stage']) =>
  (err: unknown): never => {
    if (err instanceof IssueError) throw err;
    throw new IssueError(stage, (err as Error).message);
  };
