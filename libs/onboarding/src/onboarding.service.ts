import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Pool } from 'pg';
import { z } from 'zod';
import { APP_CONFIG, AppConfig } from '@app/config';
import { containerStream } from '@app/container-events';
import { PG_POOL } from '@app/database';
import { hasControlCharacters, NotFoundError, parseInput, UUID_RE, ValidationError } from '@app/common';
import { ConcurrencyError, EventStore } from '@app/event-store';
import { TokenService } from '@app/auth';
import { CERTIFICATE_REVOKED, VPN_ADDRESS_RELEASED } from './domain/events';
import { decideLifecycle, evolveLifecycle, initialLifecycle, LifecycleCommand, LifecycleState } from './domain/lifecycle';
import { placeContainer } from './domain/pool';
import { buildSettings, ContainerSettings, dockerRunCommand } from './domain/settings';
import { gatewayAddress, parsePool } from './domain/vpn-pool';
import { GatewayPoolService } from './gateway-pool.service';
import { ContainerTokenFeed } from './token-feed';
import { VPN_FILES_CHANGED, VpnFilesChangedListener } from './vpn-files-changed';
import { OAUTH_CLIENTS, OAuthClientIssuer } from './oauth-clients';
import { NIL_UUID } from './domain/project';
import { ProjectsService } from './projects.service';
import type { Actor } from './actor';

const MAX_ATTEMPTS = 5;

const uuid = z.string().regex(UUID_RE, 'must be a lower-case UUID');
const id = uuid.refine((v) => v !== NIL_UUID, 'must not be the nil UUID');
const displayName = z
  .string()
  .min(1, 'must not be empty')
  .max(100, 'must be at most 100 characters')
  .refine((v) => !hasControlCharacters(v), 'must not contain control characters');
export const registerBody = z.strictObject({ org_id: id, project_id: id, image_id: z.string().max(130), display_name: displayName });
export const deleteBody = z
  .strictObject({
    reason: z
      .string()
      .max(200)
      .regex(/^[\x20-\x7e]*$/, 'printable ASCII only')
      .optional(),
  })
  .optional();

export interface Onboarded {
  container_id: string;
  org_id: string;
  project_id: string;
  gateway_node: string;
  token: string;
  token_version: number;
  token_expires_at: string;
  settings: string;
  settings_decoded: ContainerSettings;
  docker_run: string;
}

/** The onboarding use cases: load the container stream, decide, append with the expected version. */
@Injectable()
export class OnboardingService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(GatewayPoolService) private readonly nodes: GatewayPoolService,
    @Inject(ContainerTokenFeed) private readonly feed: ContainerTokenFeed,
    @Inject(ProjectsService) private readonly projects: ProjectsService,
    @Optional() @Inject(VPN_FILES_CHANGED) private readonly vpnFiles?: VpnFilesChangedListener,
    @Optional() @Inject(OAUTH_CLIENTS) private readonly oauthClients?: OAuthClientIssuer,
  ) {}

  async register(body: unknown, actor: Actor): Promise<Onboarded> {
    const input = parseInput(registerBody, body);
    const imageRef = this.config.onboarding.images[input.image_id];
    if (!imageRef) throw ValidationError.of('image_id', `must be one of ${Object.keys(this.config.onboarding.images).join(', ')}`);
    // A project belongs to one org: the first registration binds it, another org is refused (409, project_id).
    await this.projects.bind(input.project_id, input.org_id, actor.metadata);
    const nodeId = placeContainer(await this.nodes.loads(), this.config.onboarding.defaultNode.nodeId);
    const containerId = randomUUID();
    const container = {
      container_id: containerId,
      org_id: input.org_id,
      project_id: input.project_id,
      image_id: input.image_id,
      display_name: input.display_name,
      gateway_node: nodeId,
    };
    const issued = await this.handle(containerId, actor, (token) => ({ type: 'register', container, token }));
    return this.onboarded(issued.state, issued.token!, imageRef, actor);
  }

  async rotate(containerId: string, actor: Actor): Promise<Onboarded> {
    const issued = await this.handle(containerId, actor, (token) => ({ type: 'rotate-token', token }));
    return this.onboarded(issued.state, issued.token!, this.config.onboarding.images[issued.state.registered!.image_id], actor);
  }

  async remove(containerId: string, body: unknown, actor: Actor): Promise<{ container_id: string; status: 'deleted' }> {
    const input = parseInput(deleteBody, body) ?? {};
    const { rows } = await this.pool.query(
      `SELECT (SELECT host(address) FROM vpn_addresses WHERE container_id = $1 AND released_at IS NULL) AS address,
              (SELECT serial FROM vpn_client_certs WHERE container_id = $1 AND revoked_at IS NULL) AS serial`,
      [containerId],
    );
    await this.handle(containerId, actor, () => ({
      type: 'delete',
      reason: input.reason,
      address: rows[0].address ?? undefined,
      serial: rows[0].serial ?? undefined,
    }));
    await this.recordLateRelease(containerId, rows[0].address, rows[0].serial, actor);
    await this.oauthClients?.remove(containerId, actor.metadata);
    // Its ccd file goes and its certificate joins the CRL (the periodic render repairs a lost request).
    await this.vpnFiles?.vpnFilesChanged(`container ${containerId} deleted`).catch(() => undefined);
    return { container_id: containerId, status: 'deleted' };
  }

  /**
   * A first /collab/vpn-config may commit its allocation between our read of the tables and the
   * deletion: the deletion's trigger released and revoked it anyway; record that in the stream too.
   */
  private async recordLateRelease(containerId: string, address: string | null, serial: string | null, actor: Actor): Promise<void> {
    const { rows } = await this.pool.query(
      `SELECT (SELECT host(address) FROM vpn_addresses WHERE container_id = $1 ORDER BY released_at DESC NULLS FIRST LIMIT 1) AS address,
              (SELECT serial FROM vpn_client_certs WHERE container_id = $1 ORDER BY issued_at DESC LIMIT 1) AS serial`,
      [containerId],
    );
    const late = [];
    if (rows[0].address && rows[0].address !== address)
      late.push({ type: VPN_ADDRESS_RELEASED, data: { container_id: containerId, address: rows[0].address } });
    if (rows[0].serial && rows[0].serial !== serial)
      late.push({ type: CERTIFICATE_REVOKED, data: { container_id: containerId, serial: rows[0].serial, reason: 'container-deleted' } });
    if (late.length)
      await this.store.append(
        containerStream(containerId),
        late.map((e) => ({ ...e, metadata: actor.metadata })),
        'any',
      );
  }

  async describe(containerId: string): Promise<Record<string, unknown>> {
    const { rows } = await this.pool.query(
      `SELECT c.container_id, c.org_id, c.project_id, c.image_id, c.display_name, c.gateway_node, c.token_version,
              c.registered_at, c.deleted_at, host(a.address) AS vpn_address, v.serial AS certificate_serial
       FROM onboarded_containers c
       LEFT JOIN vpn_addresses a ON a.container_id = c.container_id AND a.released_at IS NULL
       LEFT JOIN vpn_client_certs v ON v.container_id = c.container_id AND v.revoked_at IS NULL
       WHERE c.container_id = $1`,
      [containerId],
    );
    if (!rows[0]) throw new NotFoundError('container not found');
    return rows[0];
  }

  /**
   * Load -> evolve -> decide -> append. A token, when the command issues one, is signed for the
   * version the decision gives it; a lost race decides (and signs) again.
   */
  private async handle(
    containerId: string,
    actor: Actor,
    command: (token: { kid: string; expiresAt: string }) => LifecycleCommand,
  ): Promise<{ state: LifecycleState; token?: { value: string; version: number; expiresAt: string } }> {
    const stream = containerStream(containerId);
    for (let attempt = 1; ; attempt++) {
      const state = (await this.store.readStream(stream)).reduce(evolveLifecycle, initialLifecycle());
      const ttl = this.config.jwt.containerTokenTtlS;
      const expiresAt = new Date(Math.floor(Date.now() / 1000 + ttl) * 1000).toISOString();
      const events = decideLifecycle(command({ kid: this.tokens.keys.activeKid ?? '', expiresAt }), state);
      const next = events.reduce((s, e, i) => evolveLifecycle(s, { ...e, streamVersion: state.version + 1 + i }), state);
      // A process without the private key (a verify-only gateway node) refuses before anything is stored.
      if (!next.deleted && next.tokenVersion !== state.tokenVersion) void this.tokens.keys.signer;
      try {
        await this.store.append(
          stream,
          events.map((e) => ({ ...e, metadata: actor.metadata })),
          state.version === -1 ? 'no_stream' : state.version,
        );
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < MAX_ATTEMPTS) continue;
        throw err;
      }
      if (next.deleted) {
        this.feed.apply(containerId, next.tokenVersion, true);
        return { state: next };
      }
      if (next.tokenVersion === state.tokenVersion) return { state: next };
      this.feed.apply(containerId, next.tokenVersion, false);
      const c = next.registered!;
      const value = this.tokens.sign(
        { sub: containerId, role: 'container', org: c.org_id, project: c.project_id, tv: next.tokenVersion },
        ttl,
      );
      return { state: next, token: { value, version: next.tokenVersion, expiresAt } };
    }
  }

  /**
   * A fresh vpn_secret for this token version (16 random bytes, base64url): only its SHA-256 is
   * stored, and a newer token version's secret is never replaced by an older one. The worker
   * renders the hashes for the node's auth-user-pass-verify script.
   */
  private async newVpnSecret(containerId: string, tokenVersion: number): Promise<string> {
    const secret = randomBytes(16).toString('base64url');
    await this.pool.query(
      `INSERT INTO vpn_secrets (container_id, token_version, secret_sha256) VALUES ($1, $2, $3)
       ON CONFLICT (container_id) DO UPDATE SET token_version = excluded.token_version, secret_sha256 = excluded.secret_sha256, updated_at = now()
       WHERE vpn_secrets.token_version <= excluded.token_version`,
      [containerId, tokenVersion, createHash('sha256').update(secret).digest('hex')],
    );
    void this.vpnFiles?.vpnFilesChanged(`vpn secret of ${containerId}`).catch(() => undefined);
    return secret;
  }

  private async onboarded(
    state: LifecycleState,
    token: { value: string; version: number; expiresAt: string },
    imageRef: string,
    actor: Actor,
  ): Promise<Onboarded> {
    const c = state.registered!;
    // A new SETTINGS carries new client secrets too (they are shown once, stored hashed).
    const oauthClients = (await this.oauthClients?.issue(c, actor.metadata)) ?? [];
    const node = await this.nodes.endpointOf(c.gateway_node);
    const vpnSecret = await this.newVpnSecret(c.container_id, token.version);
    const { settings, encoded } = buildSettings({
      gateway_fqdn: node.fqdn,
      token: token.value,
      token_expires_at: token.expiresAt,
      user_container_id: c.container_id,
      project_id: c.project_id,
      org_id: c.org_id,
      image_id: c.image_id,
      vpn_endpoint: node.vpnEndpoint,
      gateway_vpn_address: gatewayAddress(parsePool(this.config.vpn.poolCidr)),
      domain: this.config.platformDomain,
      oauth_clients: oauthClients,
      vpn_secret: vpnSecret,
    });
    return {
      container_id: c.container_id,
      org_id: c.org_id,
      project_id: c.project_id,
      gateway_node: c.gateway_node,
      token: token.value,
      token_version: token.version,
      token_expires_at: token.expiresAt,
      settings: encoded,
      settings_decoded: settings,
      docker_run: dockerRunCommand(c.container_id, encoded, imageRef),
    };
  }
}
