import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Single sign-on (libs/sso, docs/sso.md):
 * - oidc_payloads: oidc-provider's state (sessions, interactions, codes, tokens, grants), one row
 *   per (model, id) with its expiry; expired rows are never returned and are pruned.
 * - oauth_clients: the per-container OAuth clients (and the gateway's own guard client). Only a
 *   SHA-256 of each secret is kept (the secrets are 256-bit random, so a fast hash suffices).
 * - sso_credentials: a platform user's password as scrypt (mutable and erasable: never in events).
 * - sso_sessions / sso_pending: the protected-service guard's host-scoped sessions and sign-ins
 *   under way (state, PKCE verifier, return path), both keyed by a SHA-256 of the cookie value.
 * - access_users, access_members, access_containers: the `access` projection's read model
 *   ("may user U open container C": two primary-key lookups).
 */
export class SsoTables implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE oidc_payloads (
        model       text NOT NULL,
        id          text NOT NULL,
        payload     jsonb NOT NULL,
        grant_id    text,
        uid         text,
        user_code   text,
        expires_at  timestamptz,
        consumed_at timestamptz,
        PRIMARY KEY (model, id)
      )`);
    await q.query(`CREATE INDEX oidc_payloads_grant_idx ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL`);
    await q.query(`CREATE INDEX oidc_payloads_uid_idx ON oidc_payloads (model, uid) WHERE uid IS NOT NULL`);
    await q.query(`CREATE INDEX oidc_payloads_user_code_idx ON oidc_payloads (model, user_code) WHERE user_code IS NOT NULL`);
    await q.query(`CREATE INDEX oidc_payloads_expires_idx ON oidc_payloads (expires_at)`);
    await q.query(`
      CREATE TABLE oauth_clients (
        client_id      text PRIMARY KEY,
        kind           text NOT NULL CHECK (kind IN ('container', 'guard')),
        container_id   uuid,
        org_id         uuid,
        project_id     uuid,
        secret_sha256  text NOT NULL CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
        redirect_uris  text[] NOT NULL,
        post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
        created_at     timestamptz NOT NULL DEFAULT now(),
        rotated_at     timestamptz,
        deleted_at     timestamptz,
        CHECK ((kind = 'container') = (container_id IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX oauth_clients_container_uq ON oauth_clients (container_id) WHERE deleted_at IS NULL`);
    await q.query(`
      CREATE TABLE sso_credentials (
        user_id     uuid PRIMARY KEY,
        scrypt      text NOT NULL,
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE sso_sessions (
        token_sha256 text PRIMARY KEY,
        host         text NOT NULL,
        user_id      uuid NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        expires_at   timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX sso_sessions_expires_idx ON sso_sessions (expires_at)`);
    await q.query(`
      CREATE TABLE sso_pending (
        state_sha256  text PRIMARY KEY,
        host          text NOT NULL,
        return_path   text NOT NULL,
        code_verifier text NOT NULL,
        nonce         text NOT NULL,
        expires_at    timestamptz NOT NULL,
        consumed_at   timestamptz
      )`);
    await q.query(`CREATE INDEX sso_pending_expires_idx ON sso_pending (expires_at)`);
    await q.query(`
      CREATE TABLE access_users (
        user_id          uuid PRIMARY KEY,
        email            text NOT NULL,
        name             text NOT NULL,
        updated_position bigint NOT NULL
      )`);
    await q.query(`CREATE INDEX access_users_email_idx ON access_users (lower(email))`);
    await q.query(`
      CREATE TABLE access_members (
        project_id       uuid NOT NULL,
        user_id          uuid NOT NULL,
        granted_position bigint NOT NULL,
        PRIMARY KEY (project_id, user_id)
      )`);
    await q.query(`
      CREATE TABLE access_containers (
        container_id     uuid PRIMARY KEY,
        org_id           uuid NOT NULL,
        project_id       uuid NOT NULL,
        deleted          boolean NOT NULL DEFAULT false,
        updated_position bigint NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'access_containers',
      'access_members',
      'access_users',
      'sso_pending',
      'sso_sessions',
      'sso_credentials',
      'oauth_clients',
      'oidc_payloads',
    ]) {
      await q.query(`DROP TABLE ${t}`);
    }
  }
}
