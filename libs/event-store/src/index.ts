export { EventStore } from './event-store';
export type { EventStoreOptions } from './event-store';
export { EventStoreModule } from './event-store.module';
export { ConcurrencyError, IdempotencyConflictError, StoreUnavailableError, EventStoreError, InvalidEventDataError } from './errors';
export { START } from './types';
export type { AppendResult, Checkpoint, EventMetadata, ExpectedVersion, NewEvent, Position, RecordedEvent } from './types';
export { readUpTo, positionAt, recordedAtOf, resolveMoment } from './history';
export type { HistoryFilter } from './history';
