/** Positions and transaction ids are int8/xid8 in Postgres: carried as decimal strings, never JS numbers. */
export type Position = string;

/** Metadata recorded with every event; the server fills in what it knows. */
export interface EventMetadata {
  correlation_id?: string;
  causation_id?: string;
  actor?: { type: string; id: string };
  source_address?: string;
  /** Server time the request was received (ISO 8601); client clocks never govern. */
  received_at?: string;
  [key: string]: unknown;
}

export interface NewEvent<Type extends string = string, Data = unknown> {
  /** Caller-chosen id makes a retried append idempotent; generated when absent. */
  id?: string;
  type: Type;
  data: Data;
  metadata?: EventMetadata;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> {
  globalPosition: Position;
  transactionId: string;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: Type;
  data: Data;
  /** Whole from readStream; the pages folds read (readAll, readPages, readUpTo) carry `received_at` only (jsonPageSql). */
  metadata: EventMetadata;
  recordedAt: Date;
}

/** `no_stream`: the stream must not exist; `any`: no check; a number: the stream's current version. */
export type ExpectedVersion = number | 'any' | 'no_stream';

export interface AppendResult {
  streamId: string;
  /** The stream's version after this append (the last event's version). */
  nextExpectedVersion: number;
  events: { eventId: string; globalPosition: Position; streamVersion: number }[];
  /** True when every event id was already stored with the same payload: nothing new was written. */
  duplicate: boolean;
}

/** Where a catch-up reader stands: the last (transaction_id, global_position) it has processed. */
export interface Checkpoint {
  transactionId: string;
  globalPosition: Position;
}

export const START: Checkpoint = { transactionId: '0', globalPosition: '0' };
