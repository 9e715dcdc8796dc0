import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { SealedSecrets } from '@app/secrets';
import { redirectUriAllowed, RedirectPolicy, secretMatches, ServiceOrigins } from './domain/clients';
import { nativePlain, requireEsm } from './infra/esm';
import { postgresAdapter, pruneExpired } from './infra/oidc-adapter';
import { providerKeys, type ProviderKeys } from './signing-keys';
import { USER_DIRECTORY, UserDirectory } from './users';
import { registerInteractionRoutes } from './interaction.routes';
import type { GrantEntity, OidcProvider } from './oidc-types';
import { logoutSource, postLogoutSuccessSource, providerCsp } from './provider-pages';
import { DASHBOARD_CLIENT_ID, dashboardRedirectUri } from './domain/dashboard';
import { findUnsafeInForm, RateLimiter, sendProblem } from '@app/http';
import { SignInThrottle } from './sign-in-throttle';
import { ValidationError } from '@app/common';

/** oidc-provider's own body limit (lib/shared/selective_body.js). */
const FORM_LIMIT = 56 * 1024;

export type { AuthorizationCodeEntity, OidcProvider } from './oidc-types';

const ownToken = async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) => token.clientId === client.clientId;

export const OIDC_MOUNT = '/oidc';
export const INTERACTION_PATH = '/sso/interaction';
/** The scopes every platform client gets without a consent screen (the platform owns all clients). */
export const PLATFORM_SCOPES = 'openid email profile';
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * The OpenID provider (oidc-provider 9, certified), mounted on the gateway's Fastify instance under
 * /oidc. Its state lives in PostgreSQL (oidc_payloads), its clients in oauth_clients with hashed
 * secrets, its users behind the UserDirectory interface. Sessions here are the provider's own (on
 * the gateway's host), separate from the platform's JWTs and from the guard's per-host sessions.
 */
@Injectable()
export class OidcProviderService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('sso:provider');
  private instance?: Promise<OidcProvider>;
  private pruner?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(SealedSecrets) private readonly secrets: SealedSecrets,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(SignInThrottle) private readonly throttle: SignInThrottle,
    @Inject(RateLimiter) private readonly limiter: RateLimiter,
  ) {}

  /**
   * Built on first use (the first /oidc request, sign-in or guard callback): loading oidc-provider
   * and generating the provider's keys (once per database, kept sealed) cost a few hundred
   * milliseconds that a gateway nobody signs in to (most test files) should not pay at start.
   */
  ready(): Promise<OidcProvider> {
    if (!this.config.sso.enabled) return Promise.reject(new Error('the OpenID provider is off (SSO_ENABLED=false)'));
    this.instance ??= providerKeys(this.config, this.secrets)
      .then((keys) => this.create(keys))
      .catch((err) => {
        this.instance = undefined;
        throw err;
      });
    return this.instance;
  }

  get origins(): ServiceOrigins {
    return { domain: this.config.platformDomain, scheme: this.config.sso.serviceScheme, port: this.config.sso.servicePort };
  }

  onModuleInit(): void {
    if (!this.config.sso.enabled) return;
    // A Nest context without an HTTP server (some tests) has nothing to mount the provider on.
    const http = this.adapterHost.httpAdapter;
    if (http) this.mount(http.getInstance<FastifyInstance>());
    this.pruner = setInterval(
      () => void pruneExpired(this.pool).catch((err) => this.logger.warn(`prune failed: ${(err as Error).message}`)),
      PRUNE_EVERY_MS,
    );
    this.pruner.unref();
  }

  onApplicationShutdown(): void {
    if (this.pruner) clearInterval(this.pruner);
  }

  private create(keys: ProviderKeys): OidcProvider {
    const { default: Provider } = requireEsm<{ default: new (issuer: string, conf: Record<string, unknown>) => OidcProvider }>(
      'oidc-provider',
    );
    const users = this.users;
    const provider = new Provider(
      this.config.sso.issuer,
      nativePlain({
        adapter: postgresAdapter(this.pool),
        jwks: keys.jwks,
        cookies: {
          keys: keys.cookieKeys,
          long: { signed: true, httpOnly: true, sameSite: 'lax' },
          short: { signed: true, httpOnly: true, sameSite: 'lax' },
        },
        // The dashboard: a public client (no secret; PKCE, which oidc-provider requires of public clients), redirected to the gateway's own /dashboard/.
        clients: [
          {
            client_id: DASHBOARD_CLIENT_ID,
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code'],
            response_types: ['code'],
            redirect_uris: [dashboardRedirectUri(this.config.sso.issuer)],
            post_logout_redirect_uris: [dashboardRedirectUri(this.config.sso.issuer)],
          },
        ],
        // Browsers' cross-origin calls: only a public client's (the dashboard) from its own redirect origin, and
        // userinfo from a client's redirect origin (oidc-provider's default rule, made explicit).
        clientBasedCORS(ctx: { oidc: { route: string } }, origin: string, client: { clientAuthMethod: string; redirectUris: string[] }) {
          if (ctx.oidc.route !== 'userinfo' && client.clientAuthMethod !== 'none') return false;
          return client.redirectUris.some((uri) => URL.canParse(uri) && new URL(uri).origin === origin);
        },
        async findAccount(_ctx: unknown, sub: string) {
          const a = await users.find(sub);
          if (!a) return undefined;
          return { accountId: a.userId, claims: async () => ({ sub: a.userId, email: a.email, email_verified: true, name: a.name }) };
        },
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        // The granted scopes' claims go into the ID token too (apps that never call userinfo still see who signed in).
        conformIdTokenClaims: false,
        scopes: ['openid', 'email', 'profile', 'offline_access'],
        // 'none' is for the dashboard's public client only (static; container clients are registered with a secret).
        // Secrets are stored hashed: no method that needs the clear secret as a key (client_secret_jwt, HS*).
        clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
        enabledJWA: {
          clientAuthSigningAlgValues: ['RS256', 'ES256'],
          idTokenSigningAlgValues: ['RS256'],
          requestObjectSigningAlgValues: ['RS256', 'ES256'],
          userinfoSigningAlgValues: ['RS256'],
          introspectionSigningAlgValues: ['RS256'],
          authorizationSigningAlgValues: ['RS256'],
        },
        extraClientMetadata: { properties: ['collab_kind', 'collab_container_id', 'collab_org_id'] },
        features: {
          devInteractions: { enabled: false },
          // A client may introspect and revoke its own tokens only (the defaults let any confidential
          // client read any token: one container's app would learn about another's users).
          revocation: { enabled: true, allowedPolicy: ownToken },
          introspection: { enabled: true, allowedPolicy: ownToken },
          userinfo: { enabled: true },
          rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
        },
        interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${INTERACTION_PATH}/${interaction.uid}` },
        // The platform owns every client: the platform scopes are granted without a consent screen.
        async loadExistingGrant(ctx: {
          oidc: {
            client: { clientId: string };
            session: { accountId: string; grantIdFor(id: string): string | undefined };
            result?: { consent?: { grantId?: string } };
            provider: OidcProvider & { Grant: { find(id: string): Promise<GrantEntity | undefined> } };
          };
        }) {
          const { client, session, provider: p } = ctx.oidc;
          const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
          if (existing) {
            const found = await p.Grant.find(existing);
            if (found) return found;
          }
          const grant = new p.Grant({ accountId: session.accountId, clientId: client.clientId });
          for (const s of PLATFORM_SCOPES.split(' ')) grant.addOIDCScope(s);
          await grant.save();
          return grant;
        },
        ttl: {
          AccessToken: 3600,
          AuthorizationCode: 60,
          IdToken: 3600,
          RefreshToken: 8 * 3600,
          Interaction: 600,
          Session: this.config.sso.sessionTtlS,
          Grant: this.config.sso.sessionTtlS,
        },
        renderError(ctx: { type: string; body: string }, out: Record<string, string>) {
          ctx.type = 'application/json';
          ctx.body = JSON.stringify({ error: out.error, error_description: out.error_description });
        },
      }),
    );
    provider.proxy = this.config.http.trustProxy;
    this.harden(provider);
    provider.on('server_error', (_ctx, err) => this.logger.error(`provider error: ${(err as Error).stack ?? String(err)}`));
    return provider;
  }

  /**
   * Two documented extension points of the Client model (node-oidc-provider #631): secrets are
   * compared against their SHA-256, and redirect URIs are locked to hosts (a container's own
   * FQDNs, which gain services after the client is created; the guard's callback on any platform
   * service host) in addition to the registered list.
   */
  private harden(provider: OidcProvider): void {
    const proto = provider.Client.prototype;
    const origins = this.origins;
    proto.compareClientSecret = function compareClientSecret(this: { clientSecret: string }, actual: string) {
      return Promise.resolve(secretMatches(this.clientSecret, actual));
    };
    const registered = proto.redirectUriAllowed as (this: unknown, uri: string) => boolean;
    proto.redirectUriAllowed = function redirectUriAllowedByHost(this: Record<string, string>, uri: string) {
      if (registered.call(this, uri)) return true;
      const policy: RedirectPolicy | null =
        this.collab_kind === 'guard'
          ? { kind: 'guard' }
          : this.collab_kind === 'container' && this.collab_container_id && this.collab_org_id
            ? { kind: 'container', containerId: this.collab_container_id, orgId: this.collab_org_id }
            : null;
      return policy !== null && redirectUriAllowed(policy, uri, origins);
    };
  }

  /**
   * Mounts the provider's Node callback at /oidc inside its own Fastify scope: the app's JSON-only
   * body parsing is replaced there by a parser that leaves the stream alone (the provider reads
   * form bodies itself), and the reply is hijacked so Fastify writes nothing after it.
   */
  private mount(fastify: FastifyInstance): void {
    let callback: ReturnType<OidcProvider['callback']> | undefined;
    const issuer = new URL(this.config.sso.issuer);
    const o = this.origins;
    const csp = providerCsp(`${o.scheme}://*.${o.domain}${o.port ? `:${o.port}` : ''}`);
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      // Discovery and keys are read by every client and cached; everything else counts per source address.
      if (!/^\/oidc\/(\.well-known\/|jwks$)/.test(req.url.split('?')[0])) {
        try {
          await this.limiter.enforce('anonymous', `ip:${req.ip}`, reply, 'source');
        } catch (err) {
          return sendProblem(err, req, reply, this.logger);
        }
      }
      // Form bodies were read here (to refuse NUL and bad UTF-8 before the provider queries with them);
      // the provider takes the text from req.body.
      if (typeof req.body === 'string') {
        const problem = findUnsafeInForm(req.body);
        if (problem) return sendProblem(ValidationError.of(problem.field, problem.message), req, reply, this.logger);
      }
      callback ??= (await this.ready()).callback();
      reply.hijack();
      const raw = req.raw as IncomingMessage & { originalUrl?: string; body?: string };
      if (typeof req.body === 'string') raw.body = req.body;
      raw.originalUrl = raw.url;
      raw.url = raw.url!.slice(OIDC_MOUNT.length) || '/';
      // The provider builds its endpoints' URLs (discovery, redirects) from the request's host: make
      // that the configured issuer's, whatever Host or X-Forwarded-* the client sent.
      raw.headers.host = issuer.host;
      if (this.config.http.trustProxy) {
        raw.headers['x-forwarded-host'] = issuer.host;
        raw.headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1);
      }
      const res = reply.raw;
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('content-security-policy', csp);
      res.setHeader('referrer-policy', 'no-referrer');
      res.setHeader('x-frame-options', 'DENY');
      // Tokens, codes and sessions: never cached (the provider's discovery and JWKS set their own).
      res.setHeader('cache-control', 'no-store');
      callback(raw, res);
    };
    void fastify.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: FORM_LIMIT },
        (_req: unknown, body: string | Buffer, done: (err: null, body: string) => void) => done(null, body.toString()),
      );
      scope.addContentTypeParser('*', (_req: unknown, _payload: unknown, done: (err: null) => void) => done(null));
      scope.all(OIDC_MOUNT, handler);
      scope.all(`${OIDC_MOUNT}/*`, handler);
    });
    void fastify.register(async (scope) => registerInteractionRoutes(scope, () => this.ready(), this.users, this.throttle, this.limiter));
  }
}
