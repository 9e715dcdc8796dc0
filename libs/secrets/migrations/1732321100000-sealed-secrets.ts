import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Named private keys and secrets, sealed (envelope encryption, libs/secrets): the OpenID
 * provider's signing keys and cookie keys, ACME keys, and the KEK canary that lets a process with a
 * wrong key-encryption key refuse to start. The VPN tables keep their columns; their values are
 * sealed in place at start (plaintext rows from before this migration included).
 */
export class SealedSecretsTable implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sealed_secrets (
        name       text PRIMARY KEY,
        value      text NOT NULL CHECK (value LIKE 'sealed:v1:%'),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sealed_secrets`);
  }
}
