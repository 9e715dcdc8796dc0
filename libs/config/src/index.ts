export { loadConfig, ConfigError } from './config';
export type { AppConfig, NginxConfig } from './config';
export { ConfigModule, APP_CONFIG } from './config.module';
