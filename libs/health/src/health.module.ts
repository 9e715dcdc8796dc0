import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { HealthChangesHub } from './health-changes.hub';
import { HealthProjection } from './health.projection';
import { DashboardController } from './read/dashboard.controller';
import { DashboardService } from './read/dashboard.service';
import { ContainerHistoryService } from './read/container-history';

/**
 * The health projection (a projection handler the projector host of whichever process imports
 * this discovers: the worker in the default topology; a gateway that runs projectors too), and
 * the hub its changes are published through.
 */
@Module({
  providers: [
    HealthChangesHub,
    {
      provide: HealthProjection,
      inject: [APP_CONFIG, HealthChangesHub],
      useFactory: (config: AppConfig, hub: HealthChangesHub) =>
        new HealthProjection({
          bucketS: config.health.historyBucketS,
          retentionH: config.health.historyRetentionH,
          onChanges: (changes) => hub.publish(changes),
        }),
    },
  ],
  exports: [HealthChangesHub],
})
export class HealthProjectionModule {}

/** Gateway side: the health projection and the dashboard API over its read model. */
@Module({
  imports: [HealthProjectionModule],
  controllers: [DashboardController],
  providers: [DashboardService, ContainerHistoryService],
  exports: [DashboardService, ContainerHistoryService, HealthProjectionModule],
})
export class HealthModule {}
