import { Global, Module } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ROUTES_CHANGED, type RoutesChangedListener } from '@app/jobs';
import { PG_POOL } from '@app/database';
import { CONTAINER_ROUTES, type ContainerRoutes } from '@app/health';
import { readContainerRoutes } from './read/routes.reader';
import { RoutingProjection } from './routing.projection';
import { RoutesController } from './read/routes.controller';
import { RoutesReadService } from './read/routes.service';
import { RoutesHistoryService } from './read/routes.history';

/**
 * The routing projection (a projection handler the projector host of the process that imports
 * this discovers: the worker in the default topology); the nginx side's ROUTES_CHANGED listener is
 * optional.
 */
@Module({
  providers: [
    {
      provide: RoutingProjection,
      inject: [APP_CONFIG, { token: ROUTES_CHANGED, optional: true }],
      useFactory: (config: AppConfig, listener?: RoutesChangedListener) =>
        new RoutingProjection({
          domain: config.platformDomain,
          restoreWatchdogs: config.health.routesRestoreWatchdogs,
          listener: listener ?? null,
        }),
    },
  ],
})
export class RoutingProjectionModule {}

/**
 * Gateway side: the routing projection, the dashboards' read API on its routes (GET /routes), and
 * the container page's routes for health's dashboard API (CONTAINER_ROUTES, global: health cannot
 * import routing).
 */
@Global()
@Module({
  imports: [RoutingProjectionModule],
  controllers: [RoutesController],
  providers: [
    RoutesReadService,
    RoutesHistoryService,
    {
      provide: CONTAINER_ROUTES,
      inject: [PG_POOL, RoutesHistoryService],
      useFactory: (pool: Pool, history: RoutesHistoryService): ContainerRoutes => ({
        of: (id) => readContainerRoutes(pool, id),
        at: (id, position) => history.routesAt(position, id),
      }),
    },
  ],
  exports: [CONTAINER_ROUTES, RoutesHistoryService],
})
export class RoutingModule {}
