import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * TLS at the edge (libs/certificates). The facts (issued, renewed, failed) are events in the store;
 * these tables hold what the events must not: the certificates with their sealed private keys
 * (the last good one per subject, replaced only by a newer good one), the ACME account key, the
 * orders placed (the rate-limit budget counts them), each subject's current status, and the orgs
 * the certificates projection has seen.
 */
export class CertificatesTables implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE acme_accounts (
        directory_url text PRIMARY KEY,
        key_sealed    text NOT NULL,
        account_url   text,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE acme_orders (
        id                bigserial PRIMARY KEY,
        account           text NOT NULL,
        subject           text NOT NULL,
        names             text[] NOT NULL,
        kind              text NOT NULL CHECK (kind IN ('issue', 'renew')),
        registered_domain text NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now(),
        outcome           text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'valid', 'invalid')),
        failed_names      text[] NOT NULL DEFAULT '{}',
        finished_at       timestamptz
      )`);
    await q.query(`CREATE INDEX acme_orders_account_time ON acme_orders (account, created_at)`);
    await q.query(`
      CREATE TABLE certificates (
        subject     text PRIMARY KEY,
        names       text[] NOT NULL,
        serial      text NOT NULL,
        fingerprint text NOT NULL,
        not_before  timestamptz NOT NULL,
        not_after   timestamptz NOT NULL,
        chain_pem   text NOT NULL,
        -- the private key, sealed (libs/secrets' KeySealer under KEY_ENCRYPTION_KEYS, bound to the row: certificates:<subject>)
        key_sealed  text NOT NULL,
        issuer      text NOT NULL,
        account     text NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE certificate_status (
        subject         text PRIMARY KEY,
        names           text[] NOT NULL,
        last_outcome    text NOT NULL,
        last_attempt_at timestamptz NOT NULL,
        failed_stage    text,
        last_error      text,
        failures        integer NOT NULL DEFAULT 0,
        retry_at        timestamptz,
        not_after       timestamptz
      )`);
    await q.query(`
      CREATE TABLE certificate_orgs (
        org_id         uuid PRIMARY KEY,
        first_position bigint NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE certificate_orgs, certificate_status, certificates, acme_orders, acme_accounts`);
  }
}
