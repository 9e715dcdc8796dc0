export { ObservabilityModule } from './observability.module';
export { loggerModule } from './logger';
