import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ProjectorHost } from './projector-host';
import { ProjectionsController } from './projections.controller';

/**
 * The projector host alone: it discovers the read-model libs' projection handlers and runs them
 * when PROJECTIONS_ENABLED. The worker imports this (it has no authenticated HTTP API).
 */
@Global()
@Module({
  imports: [DiscoveryModule],
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
