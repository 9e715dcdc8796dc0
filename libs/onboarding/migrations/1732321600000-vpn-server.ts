import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The real OpenVPN server per gateway node (issue 16).
 *
 * vpn_client_certs keeps every certificate a container ever had (a renewal revokes the old one,
 * which must stay listed in the CRL): the primary key moves to the serial, and a partial unique
 * index keeps one live certificate per container. vpn_secrets holds the SHA-256 of each
 * container's `vpn_secret` (SETTINGS; the OpenVPN password), replaced with every token version.
 * vpn_tls_crypt_keys holds each node's tls-crypt key (first insert wins).
 */
export class VpnServerTables implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE vpn_client_certs DROP CONSTRAINT vpn_client_certs_pkey`);
    await q.query(`ALTER TABLE vpn_client_certs ADD PRIMARY KEY (serial)`);
    await q.query(`CREATE UNIQUE INDEX vpn_client_certs_live_uq ON vpn_client_certs (container_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX vpn_client_certs_container_idx ON vpn_client_certs (container_id)`);
    await q.query(`
      CREATE TABLE vpn_secrets (
        container_id  uuid PRIMARY KEY,
        token_version integer NOT NULL,
        secret_sha256 text NOT NULL CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE vpn_tls_crypt_keys (
        gateway_node text PRIMARY KEY,
        key_text     text NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE vpn_tls_crypt_keys, vpn_secrets`);
    await q.query(`DROP INDEX vpn_client_certs_container_idx, vpn_client_certs_live_uq`);
    await q.query(
      `DELETE FROM vpn_client_certs a USING vpn_client_certs b WHERE a.container_id = b.container_id AND a.issued_at < b.issued_at`,
    );
    await q.query(`ALTER TABLE vpn_client_certs DROP CONSTRAINT vpn_client_certs_pkey`);
    await q.query(`ALTER TABLE vpn_client_certs ADD PRIMARY KEY (container_id)`);
  }
}
