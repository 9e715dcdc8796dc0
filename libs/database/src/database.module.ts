import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';

export const DATA_SOURCE = Symbol('DATA_SOURCE');

/**
 * Shares one initialised TypeORM DataSource (and its pg pool). The process entry point creates,
 * migrates and checks it before Nest starts (see prepareDatabase), so modules get a ready pool.
 */
@Global()
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DATA_SOURCE) private readonly ds: DataSource) {}

  static forRoot(ds: DataSource): DynamicModule {
    return { module: DatabaseModule, providers: [{ provide: DATA_SOURCE, useValue: ds }], exports: [DATA_SOURCE] };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
