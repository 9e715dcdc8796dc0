import { Module } from '@nestjs/common';
import { HealthSweeper } from './health-sweeper';
import { HealthSweepHandler, HealthSweepScheduler } from './health-sweep.job';

/** Worker side: the repeatable `health:sweep` job and its handler (add the handler to JOB_HANDLERS). */
@Module({
  providers: [HealthSweeper, HealthSweepHandler, HealthSweepScheduler],
  exports: [HealthSweeper, HealthSweepHandler],
})
export class HealthWorkerModule {}
