import { Global, Module } from '@nestjs/common';
import { ProjectorHost } from './projector-host';
import { ProjectionsController } from './projections.controller';

/**
 * The projector host alone: read-model libs register their projections into it, and it runs them
 * when PROJECTIONS_ENABLED. The worker imports this (it has no authenticated HTTP API).
 */
@Global()
@Module({
  providers: [ProjectorHost],
  exports: [ProjectorHost],
})
export class ProjectorHostModule {}

/** The host plus the operators' lag/rebuild endpoints (the gateway). */
@Module({
  imports: [ProjectorHostModule],
  controllers: [ProjectionsController],
})
export class ProjectionsModule {}
