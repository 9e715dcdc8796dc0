import { randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { EventMetadata, EventStore } from '@app/event-store';
import type { OAuthClientIssuer } from '@app/onboarding';
import {
  clientIdFor,
  clientSetting,
  defaultRedirectUris,
  GUARD_CALLBACK_PATH,
  GUARD_CLIENT_ID,
  hashSecret,
  OAuthClientSetting,
} from './domain/clients';
import { CLIENT_CREATED, CLIENT_DELETED, CLIENT_ROTATED, oauthClientStream } from './domain/events';

/** A 256-bit random secret, shown once (in SETTINGS) and stored as SHA-256. */
const newSecret = () => randomBytes(32).toString('base64url');

/**
 * The per-container OAuth clients: created at registration, given a new secret when the
 * container's token is rotated, deleted with the container (and every code, token and grant
 * issued to them). The row is written first (SETTINGS must work the moment it is handed out),
 * then the event; `oauth_clients` holds the secret's hash, the events never do.
 */
@Injectable()
export class OAuthClientsService implements OAuthClientIssuer, OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  /**
   * The guard's own client: it redeems its codes in-process (see GuardService), so its secret is
   * never used; a random one is stored hashed all the same. Its only registered redirect URI is
   * on the reserved .invalid domain: the host rule in OidcProviderService allows the callback path
   * on platform service hosts.
   */
  async onModuleInit(): Promise<void> {
    if (!this.config.sso.enabled) return;
    await this.pool.query(
      `INSERT INTO oauth_clients (client_id, kind, secret_sha256, redirect_uris) VALUES ($1, 'guard', $2, $3) ON CONFLICT (client_id) DO NOTHING`,
      [GUARD_CLIENT_ID, hashSecret(newSecret()), [`https://guard.invalid${GUARD_CALLBACK_PATH}`]],
    );
  }

  async issue(c: { container_id: string; org_id: string; project_id: string }, metadata: EventMetadata): Promise<OAuthClientSetting[]> {
    if (!this.config.sso.enabled) return [];
    const clientId = clientIdFor(c.container_id);
    const secret = newSecret();
    const origins = { domain: this.config.platformDomain, scheme: this.config.sso.serviceScheme, port: this.config.sso.servicePort };
    const redirectUris = defaultRedirectUris(c.container_id, c.org_id, origins);
    const { rows } = await this.pool.query(
      `INSERT INTO oauth_clients AS o (client_id, kind, container_id, org_id, project_id, secret_sha256, redirect_uris)
       VALUES ($1, 'container', $2, $3, $4, $5, $6)
       ON CONFLICT (client_id) DO UPDATE SET secret_sha256 = EXCLUDED.secret_sha256, rotated_at = now()
         WHERE o.deleted_at IS NULL
       RETURNING (xmax <> 0) AS rotated`,
      [clientId, c.container_id, c.org_id, c.project_id, hashSecret(secret), redirectUris],
    );
    if (!rows[0]) throw new Error(`oauth client ${clientId} was deleted`);
    const event = rows[0].rotated
      ? { type: CLIENT_ROTATED, data: { client_id: clientId, container_id: c.container_id } }
      : {
          type: CLIENT_CREATED,
          data: {
            client_id: clientId,
            container_id: c.container_id,
            org_id: c.org_id,
            project_id: c.project_id,
            redirect_uris: redirectUris,
          },
        };
    await this.store.append(oauthClientStream(clientId), [{ ...event, metadata }], 'any');
    return [clientSetting(clientId, secret, this.config.sso.issuer, redirectUris)];
  }

  async remove(containerId: string, metadata: EventMetadata): Promise<void> {
    const { rows } = await this.pool.query(
      `UPDATE oauth_clients SET deleted_at = now() WHERE container_id = $1 AND deleted_at IS NULL RETURNING client_id`,
      [containerId],
    );
    for (const { client_id } of rows) {
      await this.pool.query(`DELETE FROM oidc_payloads WHERE payload->>'clientId' = $1`, [client_id]);
      await this.store.append(
        oauthClientStream(client_id),
        [{ type: CLIENT_DELETED, data: { client_id, container_id: containerId, reason: 'container-deleted' }, metadata }],
        'any',
      );
    }
  }
}
