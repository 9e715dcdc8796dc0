import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { collectDefaultMetrics, register } from 'prom-client';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { ReadinessChecks } from './readiness';

let defaultsCollected = false;

/** /metrics (Prometheus) and /health/{live,ready} (Terminus); libs add readiness checks through ReadinessChecks. */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [ReadinessChecks],
  exports: [ReadinessChecks],
})
export class ObservabilityModule {
  constructor() {
    if (!defaultsCollected) {
      collectDefaultMetrics({ register });
      defaultsCollected = true;
    }
  }
}
