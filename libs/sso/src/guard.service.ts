import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { ForbiddenError, UnavailableError, ValidationError } from '@app/common';
import { GUARD_CALLBACK_PATH, GUARD_CLIENT_ID } from './domain/clients';
import { hostCookie, parseCookies, parseServiceHost, safeReturnPath, serviceOrigin, ServiceHost } from './domain/hosts';
import { OidcProviderService, PLATFORM_SCOPES } from './oidc.provider';

export const SESSION_COOKIE = 'collab_sso';
export const STATE_COOKIE = 'collab_sso_state';
const PENDING_TTL_S = 600;
const CACHE_MAX = 50_000;

const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');
const token = () => randomBytes(32).toString('base64url');
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

export type CheckResult =
  { status: 401; redirect: string } | { status: 403 } | { status: 200; user: { id: string; email: string; name: string } };

/**
 * The protected-service guard behind nginx auth_request. Sessions are per host: the cookie is
 * host-only and its row names the host, so a session of one service never opens another. A check
 * is one query over primary keys (session, user, container, membership); its answer is reused for
 * at most SSO_CHECK_CACHE_MS, which bounds how long a revocation takes.
 */
@Injectable()
export class GuardService {
  private readonly cache = new Map<string, { at: number; result: CheckResult }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(OidcProviderService) private readonly oidc: OidcProviderService,
  ) {}

  /** Every guard answer starts here: with SSO off, protected routes are closed (nginx answers 500), never open. */
  private host(value: unknown): ServiceHost {
    if (!this.config.sso.enabled) throw new UnavailableError('single sign-on is disabled (SSO_ENABLED=false)');
    const host = parseServiceHost(value, this.config.platformDomain);
    if (!host) throw ValidationError.of('host', 'is not a service host of this platform');
    return host;
  }

  private origin(host: string): string {
    return serviceOrigin(host, { scheme: this.config.sso.serviceScheme, port: this.config.sso.servicePort });
  }

  private cookie(name: string, value: string, path: string, maxAgeS: number): string {
    return hostCookie(name, value, { path, maxAgeS, secure: this.config.sso.serviceScheme === 'https' });
  }

  async check(hostHeader: unknown, cookieHeader: unknown, originalUri: unknown): Promise<CheckResult> {
    const host = this.host(hostHeader);
    const rd = safeReturnPath(originalUri) ?? '/';
    const signIn: CheckResult = { status: 401, redirect: `${this.origin(host.host)}/.collab-sso/start?rd=${encodeURIComponent(rd)}` };
    const session = parseCookies(cookieHeader).get(SESSION_COOKIE);
    if (!session || !TOKEN_RE.test(session)) return signIn;
    const key = `${sha256(session)}|${host.host}`;
    const cached = this.cache.get(key);
    const now = Date.now();
    if (cached && now - cached.at < this.config.sso.checkCacheMs) return cached.result.status === 401 ? signIn : cached.result;
    const { rows } = await this.pool.query(
      `SELECT u.user_id::text AS id, u.email, u.name,
              EXISTS (SELECT 1 FROM access_containers c JOIN access_members m ON m.project_id = c.project_id AND m.user_id = s.user_id
                       WHERE c.container_id = $3 AND NOT c.deleted) AS member
         FROM sso_sessions s JOIN access_users u ON u.user_id = s.user_id
        WHERE s.token_sha256 = $1 AND s.host = $2 AND s.expires_at > now()`,
      [sha256(session), host.host, host.containerId],
    );
    const r = rows[0];
    const result: CheckResult = !r
      ? signIn
      : r.member
        ? { status: 200, user: { id: r.id, email: r.email, name: r.name } }
        : { status: 403 };
    if (this.config.sso.checkCacheMs > 0) {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(key, { at: now, result });
    }
    return result;
  }

  /** Starts a sign-in for a service host: a pending row (state, PKCE verifier, return path) and a host-only state cookie. */
  async start(hostHeader: unknown, rd: unknown): Promise<{ location: string; setCookie: string }> {
    const host = this.host(hostHeader);
    const returnPath = safeReturnPath(rd);
    if (!returnPath) throw ValidationError.of('rd', 'must be a path on this host (starting with a single "/")');
    const state = token();
    const verifier = token();
    const nonce = token();
    await this.pool.query(
      `INSERT INTO sso_pending (state_sha256, host, return_path, code_verifier, nonce, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
      [sha256(state), host.host, returnPath, verifier, nonce, PENDING_TTL_S],
    );
    const params = new URLSearchParams({
      client_id: GUARD_CLIENT_ID,
      response_type: 'code',
      scope: PLATFORM_SCOPES,
      redirect_uri: this.origin(host.host) + GUARD_CALLBACK_PATH,
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    return {
      location: `${this.config.sso.issuer}/auth?${params}`,
      setCookie: this.cookie(STATE_COOKIE, state, '/.collab-sso/', PENDING_TTL_S),
    };
  }

  /** Ends this host's session (only this host's: other services and the provider's session stay). */
  async logout(hostHeader: unknown, cookieHeader: unknown, rd: unknown): Promise<{ location: string; setCookie: string }> {
    const host = this.host(hostHeader);
    const returnPath = rd === undefined ? '/' : safeReturnPath(rd);
    if (!returnPath) throw ValidationError.of('rd', 'must be a path on this host (starting with a single "/")');
    const session = parseCookies(cookieHeader).get(SESSION_COOKIE);
    if (session && TOKEN_RE.test(session)) {
      await this.pool.query(`DELETE FROM sso_sessions WHERE token_sha256 = $1 AND host = $2`, [sha256(session), host.host]);
      this.cache.delete(`${sha256(session)}|${host.host}`);
    }
    return { location: this.origin(host.host) + returnPath, setCookie: this.cookie(SESSION_COOKIE, '', '/', 0) };
  }

  /**
   * The provider sent the browser back with a code. The state must equal this browser's state
   * cookie (CSRF) and name a pending sign-in of this host, used once. The code is redeemed
   * in-process (the gateway is the provider): it must be the guard's, for this callback URL,
   * with this sign-in's PKCE verifier and nonce, and unused.
   */
  async callback(
    hostHeader: unknown,
    cookieHeader: unknown,
    query: Record<string, unknown>,
  ): Promise<{ location: string; setCookies: string[] }> {
    const host = this.host(hostHeader);
    const state = typeof query.state === 'string' ? query.state : '';
    const cookieState = parseCookies(cookieHeader).get(STATE_COOKIE) ?? '';
    if (!TOKEN_RE.test(state) || !TOKEN_RE.test(cookieState) || !timingSafeEqual(Buffer.from(state), Buffer.from(cookieState))) {
      throw ForbiddenError.of('state', "does not match this browser's sign-in");
    }
    const { rows } = await this.pool.query(
      `UPDATE sso_pending SET consumed_at = now()
        WHERE state_sha256 = $1 AND host = $2 AND consumed_at IS NULL AND expires_at > now()
        RETURNING return_path, code_verifier, nonce`,
      [sha256(state), host.host],
    );
    const pending = rows[0];
    if (!pending) throw ForbiddenError.of('state', 'is unknown, used or expired');
    if (typeof query.error === 'string') throw ForbiddenError.of('error', 'the sign-in was not completed');
    const codeValue = typeof query.code === 'string' && query.code.length <= 512 ? query.code : '';
    const code = codeValue ? await (await this.oidc.ready()).AuthorizationCode.find(codeValue) : undefined;
    const challenge = createHash('sha256').update(pending.code_verifier).digest('base64url');
    if (
      !code ||
      code.consumed ||
      code.clientId !== GUARD_CLIENT_ID ||
      code.redirectUri !== this.origin(host.host) + GUARD_CALLBACK_PATH ||
      code.codeChallengeMethod !== 'S256' ||
      code.codeChallenge !== challenge ||
      code.nonce !== pending.nonce
    ) {
      throw ForbiddenError.of('code', 'is not valid for this sign-in');
    }
    await code.consume();
    const session = token();
    await this.pool.query(
      `INSERT INTO sso_sessions (token_sha256, host, user_id, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [sha256(session), host.host, code.accountId, this.config.sso.sessionTtlS],
    );
    return {
      location: this.origin(host.host) + pending.return_path,
      setCookies: [
        this.cookie(SESSION_COOKIE, session, '/', this.config.sso.sessionTtlS),
        this.cookie(STATE_COOKIE, '', '/.collab-sso/', 0),
      ],
    };
  }
}
