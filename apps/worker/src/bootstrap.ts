import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '@app/config';
import { createProcess } from '@app/http';
import { WorkerModule } from './worker.module';

/** Builds the worker (database prepared and migrated), ready to listen. Used by main and by tests. */
export function createWorker(config: AppConfig): Promise<NestFastifyApplication> {
  return createProcess(config, {
    role: 'worker',
    module: (ds) => WorkerModule.forRoot(config, ds),
    // The worker serves /health and /metrics only.
    bodyLimitBytes: 1024,
    trustProxy: false,
    maxPoolSize: 5,
  });
}
