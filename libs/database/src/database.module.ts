import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PG_POOL, poolOf } from './pool';

export const DATA_SOURCE = Symbol('DATA_SOURCE');

/**
 * Shares one initialised TypeORM DataSource (and its pg pool). The process entry point creates,
 * migrates and checks it before Nest starts (see prepareDatabase), so modules get a ready pool.
 * Application code injects PG_POOL (the pg pool) and writes SQL; withTransaction for transactions.
 */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  static forRoot(ds: DataSource): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: DATA_SOURCE, useValue: ds },
        { provide: PG_POOL, useValue: poolOf(ds) },
      ],
      exports: [DATA_SOURCE, PG_POOL],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
