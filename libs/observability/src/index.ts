export { ObservabilityModule } from './observability.module';
export { loggerModule } from './logger';
export { ReadinessChecks } from './readiness';
export type { ReadinessCheck } from './readiness';
