export { createDataSource, ensureDatabase, checkDatabaseSafety } from './data-source';
export { isDatabaseUnavailable } from './unavailable';
export type { DatabaseOptions } from './data-source';
export { prepareDatabase } from './prepare';
export type { PrepareOptions } from './prepare';
export { DatabaseModule, DATA_SOURCE } from './database.module';
export { PG_POOL, poolOf, withTransaction, Rollback } from './pool';
