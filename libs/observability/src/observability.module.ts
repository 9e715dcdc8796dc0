import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { collectDefaultMetrics, register } from 'prom-client';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';

let defaultsCollected = false;

/** /metrics (Prometheus) and /health/{live,ready} (Terminus). */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
})
export class ObservabilityModule {
  constructor() {
    if (!defaultsCollected) {
      collectDefaultMetrics({ register });
      defaultsCollected = true;
    }
  }
}
