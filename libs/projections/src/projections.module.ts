import { Global, Module } from '@nestjs/common';
import { ProjectorHost } from './projector-host';
import { ProjectionsController } from './projections.controller';

/** The projector host and the operators' lag/rebuild endpoints. Read-model libs register into it. */
@Global()
@Module({
  controllers: [ProjectionsController],
  providers: [ProjectorHost],
  exports: [ProjectorHost],
})
export class ProjectionsModule {}
