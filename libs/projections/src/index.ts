export { Projector, SKIPPED_CHECKPOINT_MS } from './projector';
export { ProjectorHost } from './projector-host';
export { ProjectionHandler } from './projection-handler';
export { ProjectionsModule, ProjectorHostModule } from './projections.module';
export { rebuildProjection, rebuildProjections, REBUILD_PAGE_EVENTS } from './rebuild';
export type { RebuildResult, RebuildOptions } from './rebuild';
export { projectionLag, projectionsBehindSeconds } from './lag';
export { takeLease, readCheckpoint, ensureProjectionRow, ensureLeaseRow, sqlLiteral } from './checkpoints';
export type { Projection, ProjectionContext, AfterCommit, ProjectorOptions, ProjectionLag } from './types';
