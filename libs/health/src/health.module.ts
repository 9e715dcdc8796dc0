import { Inject, Module, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ProjectorHost } from '@app/projections';
import { HealthChangesHub } from './health-changes.hub';
import { HealthProjection } from './health.projection';
import { DashboardController } from './read/dashboard.controller';
import { DashboardService } from './read/dashboard.service';

/** Gateway side: the health projection (registered with the projector host) and the dashboard API. */
@Module({
  controllers: [DashboardController],
  providers: [HealthChangesHub, DashboardService],
  exports: [DashboardService, HealthChangesHub],
})
export class HealthModule implements OnModuleInit {
  constructor(
    @Inject(ProjectorHost) private readonly host: ProjectorHost,
    @Inject(HealthChangesHub) private readonly hub: HealthChangesHub,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.host.register(
      new HealthProjection({
        bucketS: this.config.health.historyBucketS,
        retentionH: this.config.health.historyRetentionH,
        onChanges: (changes) => this.hub.publish(changes),
      }),
    );
  }
}
