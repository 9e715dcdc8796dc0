import { Global, Module } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@app/database';
import { OAUTH_CLIENTS } from '@app/onboarding';
import { AccessController } from './access.controller';
import { AccessProjection } from './access.projection';
import { AccessService } from './access.service';
import { GuardController } from './guard.controller';
import { GuardService } from './guard.service';
import { OAuthClientsService } from './oauth-clients.service';
import { OidcProviderService } from './oidc.provider';
import { PlatformUserDirectory, USER_DIRECTORY } from './users';
import { SignInThrottle } from './sign-in-throttle';
import { DashboardSignInController, DashboardSignInService } from './dashboard-signin';

/** The `access` projection alone, for the process that runs the projectors (the worker by default). */
@Module({ providers: [AccessProjection] })
export class AccessProjectionModule {}

/**
 * Single sign-on: the OpenID provider (/oidc), the protected-service guard (/sso/check and the
 * sign-in on each service host), users and project access as events, the `access` projection,
 * and the per-container OAuth clients that onboarding puts into SETTINGS (OAUTH_CLIENTS).
 */
@Global()
@Module({
  imports: [AccessProjectionModule],
  controllers: [GuardController, AccessController, DashboardSignInController],
  providers: [
    { provide: USER_DIRECTORY, inject: [PG_POOL], useFactory: (pool: Pool) => new PlatformUserDirectory(pool) },
    OidcProviderService,
    SignInThrottle,
    GuardService,
    AccessService,
    DashboardSignInService,
    OAuthClientsService,
    { provide: OAUTH_CLIENTS, useExisting: OAuthClientsService },
  ],
  exports: [OAUTH_CLIENTS, AccessService],
})
export class SsoModule {}
