export { loadConfig, ConfigError, DEFAULT_CONTAINER_IMAGES, isVpnEndpoint, cidrProblem } from './config';
export type { AppConfig } from './config';
export { ConfigModule, APP_CONFIG } from './config.module';
