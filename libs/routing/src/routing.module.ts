import { Inject, Module, OnModuleInit, Optional } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ROUTES_CHANGED, type RoutesChangedListener } from '@app/jobs';
import { ProjectorHost } from '@app/projections';
import { RoutingProjection } from './routing.projection';
import { RoutesController } from './read/routes.controller';
import { RoutesReadService } from './read/routes.service';

/**
 * Registers the routing projection (the nginx side's ROUTES_CHANGED listener is optional) and the
 * dashboards' read API on its routes (GET /routes).
 */
@Module({ controllers: [RoutesController], providers: [RoutesReadService] })
export class RoutingModule implements OnModuleInit {
  constructor(
    @Inject(ProjectorHost) private readonly host: ProjectorHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(ROUTES_CHANGED) private readonly listener?: RoutesChangedListener,
  ) {}

  onModuleInit(): void {
    this.host.register(
      new RoutingProjection({
        domain: this.config.platformDomain,
        restoreWatchdogs: this.config.health.routesRestoreWatchdogs,
        listener: this.listener ?? null,
      }),
    );
  }
}
