export { Projector } from './projector';
export { ProjectorHost } from './projector-host';
export { ProjectionsModule, ProjectorHostModule } from './projections.module';
export { rebuildProjection } from './rebuild';
export type { RebuildResult } from './rebuild';
export { projectionLag } from './lag';
export { takeLease, readCheckpoint, ensureProjectionRow } from './checkpoints';
export type { Projection, ProjectionContext, AfterCommit, ProjectorOptions, ProjectionLag } from './types';
