import type { Pool } from 'pg';

/** oidc-provider's adapter contract (v9), as far as this file implements it. */
export interface OidcAdapter {
  upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void>;
  find(id: string): Promise<Record<string, unknown> | undefined>;
  findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined>;
  findByUid(uid: string): Promise<Record<string, unknown> | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/**
 * Clients are read from `oauth_clients` (created at onboarding, secrets kept as SHA-256 only; the
 * provider compares through Client.prototype.compareClientSecret, see oidc.provider.ts).
 */
async function findClient(pool: Pool, id: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await pool.query(
    `SELECT client_id, kind, container_id::text AS container_id, org_id::text AS org_id, secret_sha256, redirect_uris, post_logout_redirect_uris
       FROM oauth_clients WHERE client_id = $1 AND deleted_at IS NULL`,
    [id],
  );
  const c = rows[0];
  if (!c) return undefined;
  return {
    client_id: c.client_id,
    client_secret: c.secret_sha256,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    collab_kind: c.kind,
    ...(c.container_id ? { collab_container_id: c.container_id, collab_org_id: c.org_id } : {}),
  };
}

/**
 * The provider's state in one PostgreSQL table keyed by (model, id), with its expiry: sessions,
 * interactions, authorization codes, tokens and grants survive restarts and are shared by every
 * gateway process. An expired row is never returned (and is pruned by `pruneExpired`).
 */
export function postgresAdapter(pool: Pool): (model: string) => OidcAdapter {
  // A factory, not a class: oidc-provider tells constructors by `instanceof Function`, which fails
  // across realms (jest's vm context); factories are the other form it accepts.
  class PostgresOidcAdapter implements OidcAdapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: Record<string, unknown>, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed through oauth_clients');
      await pool.query(
        `INSERT INTO oidc_payloads (model, id, payload, grant_id, uid, user_code, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE now() + make_interval(secs => $7::int) END)
         ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, uid = EXCLUDED.uid,
           user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
        [
          this.model,
          id,
          JSON.stringify(payload),
          payload.grantId ?? null,
          payload.uid ?? null,
          payload.userCode ?? null,
          expiresIn ?? null,
        ],
      );
    }

    async find(id: string): Promise<Record<string, unknown> | undefined> {
      if (this.model === 'Client') return findClient(pool, id);
      return this.one(`model = $1 AND id = $2`, [this.model, id]);
    }

    findByUserCode(userCode: string) {
      return this.one(`model = $1 AND user_code = $2`, [this.model, userCode]);
    }

    findByUid(uid: string) {
      return this.one(`model = $1 AND uid = $2`, [this.model, uid]);
    }

    async consume(id: string): Promise<void> {
      await pool.query(`UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2`, [this.model, id]);
    }

    async destroy(id: string): Promise<void> {
      await pool.query(`DELETE FROM oidc_payloads WHERE model = $1 AND id = $2`, [this.model, id]);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await pool.query(`DELETE FROM oidc_payloads WHERE grant_id = $1`, [grantId]);
    }

    private async one(where: string, params: unknown[]): Promise<Record<string, unknown> | undefined> {
      const { rows } = await pool.query(
        `SELECT payload, extract(epoch FROM consumed_at)::bigint AS consumed FROM oidc_payloads
          WHERE ${where} AND (expires_at IS NULL OR expires_at > now())`,
        params,
      );
      if (!rows[0]) return undefined;
      return rows[0].consumed === null ? rows[0].payload : { ...rows[0].payload, consumed: Number(rows[0].consumed) };
    }
  }
  return (model: string) => new PostgresOidcAdapter(model);
}

/** Deletes expired provider state and guard sign-ins; sessions past their expiry too. */
export async function pruneExpired(pool: Pool): Promise<number> {
  const a = await pool.query(`DELETE FROM oidc_payloads WHERE expires_at < now() - interval '1 minute'`);
  const b = await pool.query(`DELETE FROM sso_pending WHERE expires_at < now() - interval '1 minute'`);
  const c = await pool.query(`DELETE FROM sso_sessions WHERE expires_at < now() - interval '1 minute'`);
  return (a.rowCount ?? 0) + (b.rowCount ?? 0) + (c.rowCount ?? 0);
}
