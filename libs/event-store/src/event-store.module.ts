import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DATA_SOURCE } from '@app/database';
import { EventStore } from './event-store';

/** The pg pool under TypeORM's DataSource: the hot path talks to it directly. */
export function poolOf(ds: DataSource): Pool {
  return (ds.driver as unknown as { master: Pool }).master;
}

@Global()
@Module({
  providers: [
    {
      provide: EventStore,
      inject: [DATA_SOURCE, APP_CONFIG],
      useFactory: (ds: DataSource, config: AppConfig) =>
        new EventStore(poolOf(ds), { maxBatchEvents: config.append.maxBatchEvents, maxInFlight: config.append.maxInFlight }),
    },
  ],
  exports: [EventStore],
})
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
