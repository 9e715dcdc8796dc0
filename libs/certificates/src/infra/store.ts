import type { Pool } from 'pg';
import { contextOf, type SealedColumn } from '@app/secrets';
import type { OrderRecord } from '../domain/budget';
import type { CertificateFacts } from '../domain/certificate';

/**
 * The columns of private keys this lib keeps sealed (libs/secrets' KeySealer, under the one KEK):
 * the ACME account keys and the certificates' keys. A key is sealed for its row, `<table>:<id>`,
 * so start-up resealing and `ops reseal-keys` (resealColumn) re-wrap them with the rest.
 */
export const CERTIFICATE_SEALED_COLUMNS: SealedColumn[] = [
  { table: 'acme_accounts', id: 'directory_url', column: 'key_sealed' },
  { table: 'certificates', id: 'subject', column: 'key_sealed' },
];

/** The context a certificate's private key is sealed for: its row in `certificates`. */
export const certificateKeyContext = (subject: string) => contextOf('certificates', subject);
/** The context an ACME account key is sealed for: its row in `acme_accounts`. */
export const acmeAccountKeyContext = (directoryUrl: string) => contextOf('acme_accounts', directoryUrl);

/** The SQL of the certificates lib: orders (the budget), the last good certificates, per-subject status. */
export class CertificateStore {
  constructor(private readonly pool: Pool) {}

  async recentOrders(account: string, since: Date): Promise<OrderRecord[]> {
    const { rows } = await this.pool.query(
      `SELECT created_at, names, registered_domain, kind, outcome, failed_names FROM acme_orders WHERE account = $1 AND created_at > $2`,
      [account, since],
    );
    return rows.map((r) => ({
      at: r.created_at,
      names: r.names,
      registeredDomain: r.registered_domain,
      kind: r.kind,
      outcome: r.outcome,
      failedNames: r.failed_names,
    }));
  }

  async openOrder(o: {
    account: string;
    subject: string;
    names: string[];
    kind: string;
    registeredDomain: string;
    at: Date;
  }): Promise<string> {
    const { rows } = await this.pool.query(
      `INSERT INTO acme_orders (account, subject, names, kind, registered_domain, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [o.account, o.subject, o.names, o.kind, o.registeredDomain, o.at],
    );
    return String(rows[0].id);
  }

  async closeOrder(id: string, outcome: 'valid' | 'invalid', failedNames: string[] = []): Promise<void> {
    await this.pool.query(`UPDATE acme_orders SET outcome = $2, failed_names = $3, finished_at = now() WHERE id = $1`, [
      id,
      outcome,
      failedNames,
    ]);
  }

  async saveCertificate(f: CertificateFacts, chainPem: string, keySealed: string, account: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO certificates (subject, names, serial, fingerprint, not_before, not_after, chain_pem, key_sealed, issuer, account, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
       ON CONFLICT (subject) DO UPDATE SET names = EXCLUDED.names, serial = EXCLUDED.serial, fingerprint = EXCLUDED.fingerprint,
         not_before = EXCLUDED.not_before, not_after = EXCLUDED.not_after, chain_pem = EXCLUDED.chain_pem,
         key_sealed = EXCLUDED.key_sealed, issuer = EXCLUDED.issuer, account = EXCLUDED.account, updated_at = now()`,
      [f.subject, f.names, f.serial, f.fingerprint_sha256, f.not_before, f.not_after, chainPem, keySealed, f.issuer, account],
    );
  }

  async certificates(): Promise<{ subject: string; names: string[]; fingerprint: string; chain_pem: string; key_sealed: string }[]> {
    const { rows } = await this.pool.query(`SELECT subject, names, fingerprint, chain_pem, key_sealed FROM certificates ORDER BY subject`);
    return rows;
  }

  async setStatus(s: {
    subject: string;
    names: string[];
    outcome: string;
    at: Date;
    stage?: string | null;
    error?: string | null;
    failures: number;
    retryAt?: string | null;
    notAfter?: string | null;
  }): Promise<void> {
    await this.pool.query(
      `INSERT INTO certificate_status AS s (subject, names, last_outcome, last_attempt_at, failed_stage, last_error, failures, retry_at, not_after)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (subject) DO UPDATE SET names = EXCLUDED.names, last_outcome = EXCLUDED.last_outcome,
         last_attempt_at = EXCLUDED.last_attempt_at, failed_stage = EXCLUDED.failed_stage, last_error = EXCLUDED.last_error,
         failures = EXCLUDED.failures, retry_at = EXCLUDED.retry_at, not_after = COALESCE(EXCLUDED.not_after, s.not_after)`,
      [s.subject, s.names, s.outcome, s.at, s.stage ?? null, s.error ?? null, s.failures, s.retryAt ?? null, s.notAfter ?? null],
    );
  }

  async statuses(): Promise<
    {
      subject: string;
      last_outcome: string;
      failed_stage: string | null;
      last_error: string | null;
      failures: number;
      retry_at: Date | null;
      not_after: Date | null;
    }[]
  > {
    const { rows } = await this.pool.query(
      `SELECT s.subject, s.last_outcome, s.last_attempt_at, s.failed_stage, s.last_error, s.failures, s.retry_at, c.not_after
         FROM certificate_status s LEFT JOIN certificates c USING (subject) ORDER BY s.subject`,
    );
    return rows;
  }

  /** Orgs that need a wildcard: seen registering by the projection, or routed (containers admitted without registration). */
  async orgs(): Promise<string[]> {
    const { rows } = await this.pool.query(
      `SELECT org_id::text AS org FROM certificate_orgs
        UNION SELECT DISTINCT org_id::text FROM routing_containers WHERE org_id IS NOT NULL AND NOT deleted`,
    );
    return rows.map((r) => r.org);
  }

  async gatewayFqdns(defaultFqdn: string, extra: string[]): Promise<string[]> {
    const { rows } = await this.pool.query(`SELECT fqdn FROM gateway_nodes`);
    return [defaultFqdn, ...extra, ...rows.map((r) => r.fqdn as string)];
  }
}
