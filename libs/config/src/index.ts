export { loadConfig, ConfigError, DEFAULT_CONTAINER_IMAGES, isVpnEndpoint, cidrProblem, jwksProblem } from './config';
export type { AppConfig, NginxConfig } from './config';
export { ConfigModule, APP_CONFIG } from './config.module';
export { productionSecrets, envFileLines } from './secrets';
export type { CertificatesConfig } from './certificates-config';
