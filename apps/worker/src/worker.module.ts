import { DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { RedisModule } from '@app/redis';
import { EventStoreModule } from '@app/event-store';
import { JOB_HANDLERS, PingHandler } from '@app/jobs';
import { loggerModule, ObservabilityModule } from '@app/observability';
import { NginxModule, NginxRenderHandler } from '@app/nginx';
import { QueueWorker } from './queue-worker';

/** The worker process: BullMQ consumer plus /health and /metrics on its own port. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, ds: DataSource): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        loggerModule(config.logLevel, 'worker'),
        DatabaseModule.forRoot(ds),
        RedisModule.forRoot(config.redis.url, 'worker'),
        EventStoreModule,
        ObservabilityModule,
        NginxModule.forWorker(),
      ],
      providers: [
        { provide: JOB_HANDLERS, inject: [NginxRenderHandler], useFactory: (nginx: NginxRenderHandler) => [new PingHandler(), nginx] },
        QueueWorker,
      ],
    };
  }
}
