export { OnboardingModule } from './onboarding.module';
export { OnboardingService } from './onboarding.service';
export { ProjectsService } from './projects.service';
export { NIL_UUID, PROJECT_REGISTERED, projectStream } from './domain/project';
export { GatewayPoolService } from './gateway-pool.service';
export { VpnService } from './vpn.service';
export { ContainerTokenFeed } from './token-feed';
export { VpnCa, describeCrl, VPN_SEALED_COLUMNS } from './pki';
export { VPN_FILES_CHANGED } from './vpn-files-changed';
export { OAUTH_CLIENTS } from './oauth-clients';
export type { OAuthClientIssuer } from './oauth-clients';
export { metadataOf } from './request-metadata';
export type { VpnFilesChangedListener } from './vpn-files-changed';
export * from './domain/events';
export { placeContainer } from './domain/pool';
export { buildSettings, dockerRunCommand } from './domain/settings';
export type { ContainerSettings } from './domain/settings';
export { parsePool, addressAt, netmask, gatewayAddress, isPoolHost } from './domain/vpn-pool';
export { renderCcd, ccdFileName, nodeDirName, renderClientProfile } from './domain/vpn-files';
export { renderVpnFiles } from './vpn-files.renderer';
export type { RenderReport } from './vpn-files.renderer';
export { VpnRenderHandler, VPN_RENDER_JOB } from './vpn-render.handler';
export { VpnFilesQueue, VpnRenderScheduler } from './vpn-files.queue';
export { renderServerConf, VPN_DEVICE, SERVER_FILES, AUTH_SCRIPT, formatStaticKey } from './domain/server-conf';
export { renderClientJson, CLIENT_FILES } from './domain/vpn-files';
export type { ProfileParts } from './domain/vpn-files';
export {
  RegisterContainer,
  RotateContainerToken,
  DeleteContainer,
  RegisterGatewayNode,
  DrainGatewayNode,
  DescribeContainer,
  ListGatewayNodes,
} from './onboarding.commands';
