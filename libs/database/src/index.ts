export { createDataSource, ensureDatabase, checkDatabaseSafety } from './data-source';
export type { DatabaseOptions } from './data-source';
export { prepareDatabase } from './prepare';
export type { PrepareOptions } from './prepare';
export { DatabaseModule, DATA_SOURCE } from './database.module';
