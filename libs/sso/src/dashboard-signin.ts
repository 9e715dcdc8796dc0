import { Controller, Header, HttpCode, Inject, Injectable, Post, Req, UseGuards } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { TokenService } from '@app/auth';
import { AuthenticationError, ForbiddenError, UnavailableError } from '@app/common';
import { RateLimit, RateLimitGuard } from '@app/http';
import { DASHBOARD_CLIENT_ID, decideDashboardRole } from './domain/dashboard';
import { OidcProviderService } from './oidc.provider';
import { USER_DIRECTORY, UserDirectory } from './users';

export interface DashboardToken {
  token: string;
  role: 'operator' | 'viewer';
  expires_in: number;
  user: { id: string; email: string; name: string };
}

/**
 * Dashboard sign-in (docs/sso.md#dashboard-sign-in): the browser ran the code flow (PKCE) as the
 * public client `collab-dashboard` and hands the provider's access token here once; the gateway
 * answers a short-lived platform token of the user's dashboard role and destroys the access
 * token, so the provider's token is worth nothing afterwards.
 */
@Injectable()
export class DashboardSignInService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(OidcProviderService) private readonly oidc: OidcProviderService,
    @Inject(USER_DIRECTORY) private readonly users: UserDirectory,
    @Inject(TokenService) private readonly tokens: TokenService,
  ) {}

  async exchange(authorization: unknown): Promise<DashboardToken> {
    if (!this.config.sso.enabled) throw new UnavailableError('single sign-on is disabled (SSO_ENABLED=false)');
    const value = typeof authorization === 'string' ? /^Bearer ([A-Za-z0-9_-]{20,128})$/.exec(authorization)?.[1] : undefined;
    if (!value) throw new AuthenticationError('send the provider access token as Authorization: Bearer');
    const provider = await this.oidc.ready();
    const found = await provider.AccessToken.find(value);
    if (!found || found.clientId !== DASHBOARD_CLIENT_ID) throw new AuthenticationError('not a current dashboard access token');
    await found.destroy();
    const account = await this.users.find(found.accountId);
    if (!account) throw new AuthenticationError('the signed-in user no longer exists');
    const { rows } = await this.pool.query<{ org_id: string; project_id: string }>(
      `SELECT DISTINCT c.org_id::text, m.project_id::text FROM access_members m
         JOIN access_containers c ON c.project_id = m.project_id AND NOT c.deleted
        WHERE m.user_id = $1`,
      [account.userId],
    );
    const decided = decideDashboardRole(account, this.config.sso.dashboardOperators, rows);
    if (decided.role === 'none') throw new ForbiddenError(decided.reason);
    const ttl = this.config.sso.dashboardTokenTtlS;
    const token =
      decided.role === 'operator'
        ? this.tokens.sign({ sub: account.userId, role: 'operator' }, ttl)
        : this.tokens.sign({ sub: account.userId, role: 'viewer', org: decided.org, projects: decided.projects }, ttl);
    return { token, role: decided.role, expires_in: ttl, user: { id: account.userId, email: account.email, name: account.name } };
  }
}

@ApiTags('sso')
@Controller('sso')
export class DashboardSignInController {
  constructor(@Inject(DashboardSignInService) private readonly signIn: DashboardSignInService) {}

  @Post('dashboard-token')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @UseGuards(RateLimitGuard)
  @RateLimit('anonymous')
  @ApiOperation({ summary: "Trade the dashboard client's provider access token (once) for a short-lived viewer or operator token" })
  exchange(@Req() req: FastifyRequest) {
    return this.signIn.exchange(req.headers.authorization);
  }
}
