import { Inject, Module, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ProjectorHost } from '@app/projections';
import { HealthChangesHub } from './health-changes.hub';
import { HealthProjection } from './health.projection';
import { DashboardController } from './read/dashboard.controller';
import { DashboardService } from './read/dashboard.service';
import { ContainerHistoryService } from './read/container-history';

/**
 * The health projection, registered with the projector host of whichever process imports this
 * (the worker in the default topology; a gateway that runs projectors too), and the hub its
 * changes are published through.
 */
@Module({
  providers: [HealthChangesHub],
  exports: [HealthChangesHub],
})
export class HealthProjectionModule implements OnModuleInit {
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

/** Gateway side: the health projection and the dashboard API over its read model. */
@Module({
  imports: [HealthProjectionModule],
  controllers: [DashboardController],
  providers: [DashboardService, ContainerHistoryService],
  exports: [DashboardService, ContainerHistoryService, HealthProjectionModule],
})
export class HealthModule {}
