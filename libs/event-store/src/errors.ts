/** Errors the store raises; each carries a stable code that the HTTP layer maps (libs/http). */
export abstract class EventStoreError extends Error {
  abstract readonly code: string;
}

export class ConcurrencyError extends EventStoreError {
  readonly code = 'concurrency_conflict';
  constructor(
    readonly streamId: string,
    readonly expected: number | 'any' | 'no_stream',
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected version ${expected}, actual ${actual}`);
    this.name = 'ConcurrencyError';
  }
}

/** The same event id was already stored with a different stream, type or data. */
export class IdempotencyConflictError extends EventStoreError {
  readonly code = 'event_id_conflict';
  constructor(readonly eventId: string) {
    super(`event ${eventId} was already recorded with a different payload`);
    this.name = 'IdempotencyConflictError';
  }
}

/** The database could not be reached or failed; the append's outcome is unknown or negative. */
export class StoreUnavailableError extends EventStoreError {
  readonly code = 'store_unavailable';
  constructor(cause: unknown) {
    super(`event store unavailable: ${(cause as Error)?.message ?? cause}`);
    this.name = 'StoreUnavailableError';
    this.cause = cause;
  }
}

/** PostgreSQL refused the event's data (for example a \u0000 in a jsonb string). */
export class InvalidEventDataError extends EventStoreError {
  readonly code = 'invalid_event_data';
  constructor(cause: unknown) {
    super(`event data refused by the store: ${(cause as Error)?.message ?? cause}`);
    this.name = 'InvalidEventDataError';
  }
}
