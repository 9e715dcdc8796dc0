import { Global, Module } from '@nestjs/common';
import { TOKEN_VERSIONS } from '@app/auth';
import { GatewayPoolService } from './gateway-pool.service';
import { ONBOARDING_HANDLERS } from './onboarding.commands';
import { OnboardingController } from './onboarding.controller';
import { OnboardingService } from './onboarding.service';
import { ProjectsService } from './projects.service';
import { ContainerTokenFeed } from './token-feed';
import { VpnConfigController } from './vpn-config.controller';
import { VpnService } from './vpn.service';
import { VPN_FILES_CHANGED } from './vpn-files-changed';
import { VpnFilesQueue } from './vpn-files.queue';

/**
 * The gateway side of onboarding: the API, the VPN profile endpoint, and the in-memory token
 * versions that the JWT strategy checks. Global so that AuthModule's JwtStrategy sees TOKEN_VERSIONS.
 */
@Global()
@Module({
  controllers: [OnboardingController, VpnConfigController],
  providers: [
    OnboardingService,
    ProjectsService,
    GatewayPoolService,
    VpnService,
    ContainerTokenFeed,
    { provide: TOKEN_VERSIONS, useExisting: ContainerTokenFeed },
    VpnFilesQueue,
    { provide: VPN_FILES_CHANGED, useExisting: VpnFilesQueue },
    ...ONBOARDING_HANDLERS,
  ],
  exports: [TOKEN_VERSIONS, ContainerTokenFeed, OnboardingService, ProjectsService, VpnService],
})
export class OnboardingModule {}
