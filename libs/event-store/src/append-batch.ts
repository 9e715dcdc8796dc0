import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { ConcurrencyError, IdempotencyConflictError } from './errors';
import { jsonEqual } from './json';
import type { AppendResult, EventMetadata, ExpectedVersion, NewEvent } from './types';

/** One caller's append, waiting in the group-commit queue. */
export interface PendingAppend {
  streamId: string;
  expected: ExpectedVersion;
  events: PreparedEvent[];
  /** True when any id came from the caller (only those can already exist). */
  callerIds: boolean;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

export interface PreparedEvent {
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadata;
  /** For caller-supplied ids only: the data as jsonb will hold it, for the idempotency comparison. */
  normalized?: unknown;
}

export function prepareEvents(events: NewEvent[]): { prepared: PreparedEvent[]; callerIds: boolean } {
  let callerIds = false;
  const prepared = events.map((e): PreparedEvent => {
    const data = e.data ?? null;
    if (!e.id) return { id: randomUUID(), type: e.type, data, metadata: e.metadata ?? {} };
    callerIds = true;
    return { id: e.id, type: e.type, data, metadata: e.metadata ?? {}, normalized: JSON.parse(JSON.stringify(data)) };
  });
  return { prepared, callerIds };
}

interface StoredIdentity {
  streamId: string;
  type: string;
  data: unknown;
  globalPosition: string;
  streamVersion: number;
}

type Outcome =
  | { kind: 'append'; append: PendingAppend; firstVersion: number }
  | { kind: 'duplicate'; append: PendingAppend; of: Map<string, StoredIdentity> | PendingAppend }
  | { kind: 'error'; append: PendingAppend; error: Error };

export function toVersion(v: string | number): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`stream version ${v} is beyond the safe integer range`);
  return n;
}

/**
 * Writes a batch of appends in one transaction on `client` (already in BEGIN): one statement locks
 * (creating when new) every stream row, one looks up caller-supplied ids, one inserts all accepted
 * events and moves the stream versions. Per-append failures (expected version, id conflict) reject
 * only that append. Returns the settle functions to call after COMMIT succeeds.
 */
export async function writeBatch(client: PoolClient, batch: PendingAppend[]): Promise<() => number> {
  const streamIds = [...new Set(batch.map((a) => a.streamId))].sort();
  const locked = await client.query<{ stream_id: string; version: string }>(
    `INSERT INTO event_streams (stream_id) SELECT unnest($1::text[])
     ON CONFLICT (stream_id) DO UPDATE SET updated_at = now()
     RETURNING stream_id, version`,
    [streamIds],
  );
  const current = new Map(locked.rows.map((r) => [r.stream_id, toVersion(r.version)]));

  const stored = new Map<string, StoredIdentity>();
  const callerIds = batch.filter((a) => a.callerIds).flatMap((a) => a.events.map((e) => e.id));
  if (callerIds.length) {
    const found = await client.query(
      // event_keys holds the unique ids (the partitioned events table cannot); its position and
      // time find the row in its partition.
      `SELECT e.event_id, e.stream_id, e.event_type, e.data, e.global_position::text AS global_position, e.stream_version
       FROM event_keys k JOIN events e ON e.global_position = k.global_position AND e.recorded_at = k.recorded_at
       WHERE k.event_id = ANY($1::uuid[])`,
      [callerIds],
    );
    for (const r of found.rows) {
      stored.set(r.event_id, {
        streamId: r.stream_id,
        type: r.event_type,
        data: r.data,
        globalPosition: r.global_position,
        streamVersion: toVersion(r.stream_version),
      });
    }
  }

  const inBatch = new Map<string, { append: PendingAppend; event: PreparedEvent }>();
  const outcomes: Outcome[] = [];
  for (const append of batch) {
    const outcome = decideAppend(append, current, stored, inBatch);
    outcomes.push(outcome);
    if (outcome.kind === 'append') {
      current.set(append.streamId, outcome.firstVersion + append.events.length - 1);
      for (const event of append.events) inBatch.set(event.id, { append, event });
    }
  }

  const accepted = outcomes.filter((o): o is Extract<Outcome, { kind: 'append' }> => o.kind === 'append');
  const positions = new Map<string, string>();
  if (accepted.length) {
    // One JSON document for all rows: cheaper than escaping six text[] parameters element by
    // element, and json_to_recordset keeps the order, so positions follow the batch order.
    const rows: { s: string; v: number; i: string; t: string; d: unknown; m: EventMetadata }[] = [];
    for (const o of accepted) {
      o.append.events.forEach((e, i) => rows.push({ s: o.append.streamId, v: o.firstVersion + i, i: e.id, t: e.type, d: e.data, m: e.metadata }));
    }
    const touched = [...new Set(accepted.map((o) => o.append.streamId))];
    const inserted = await client.query<{ event_id: string; global_position: string }>(
      `WITH ins AS (
         INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
         SELECT s, v, i, t, coalesce(d, 'null'::jsonb), coalesce(m, '{}'::jsonb)
         FROM json_to_recordset($1::json) AS x(s text, v bigint, i uuid, t text, d jsonb, m jsonb)
         RETURNING event_id, global_position
       ), moved AS (
         UPDATE event_streams es SET version = u.version, updated_at = now()
         FROM unnest($2::text[], $3::bigint[]) AS u(stream_id, version)
         WHERE es.stream_id = u.stream_id
       )
       SELECT event_id::text, global_position::text FROM ins`,
      [JSON.stringify(rows), touched, touched.map((s) => current.get(s))],
    );
    for (const r of inserted.rows) positions.set(r.event_id, r.global_position);
  }

  return () => {
    const results = new Map<PendingAppend, AppendResult>();
    for (const o of outcomes) {
      if (o.kind === 'append') {
        const events = o.append.events.map((e, i) => ({
          eventId: e.id,
          globalPosition: positions.get(e.id)!,
          streamVersion: o.firstVersion + i,
        }));
        const result = { streamId: o.append.streamId, nextExpectedVersion: events[events.length - 1].streamVersion, events, duplicate: false };
        results.set(o.append, result);
        o.append.resolve(result);
      } else if (o.kind === 'duplicate') {
        const original =
          o.of instanceof Map
            ? storedResult(o.append, o.of)
            : { ...(results.get(o.of) as AppendResult), duplicate: true };
        o.append.resolve(original);
      } else {
        o.append.reject(o.error);
      }
    }
    return positions.size;
  };
}

function decideAppend(
  append: PendingAppend,
  current: Map<string, number>,
  stored: Map<string, StoredIdentity>,
  inBatch: Map<string, { append: PendingAppend; event: PreparedEvent }>,
): Outcome {
  if (append.callerIds) {
    const seenStored = append.events.filter((e) => stored.has(e.id));
    const seenBatch = append.events.filter((e) => inBatch.has(e.id));
    if (seenStored.length || seenBatch.length) {
      const sameAsStored = (e: PreparedEvent) => {
        const s = stored.get(e.id);
        return !!s && s.streamId === append.streamId && s.type === e.type && jsonEqual(s.data, e.normalized);
      };
      if (seenStored.length === append.events.length && append.events.every(sameAsStored)) {
        return { kind: 'duplicate', append, of: stored };
      }
      const leader = seenBatch.length ? inBatch.get(seenBatch[0].id)!.append : undefined;
      if (
        leader &&
        seenBatch.length === append.events.length &&
        leader.streamId === append.streamId &&
        leader.events.length === append.events.length &&
        append.events.every((e, i) => e.id === leader.events[i].id && e.type === leader.events[i].type && jsonEqual(e.normalized, leader.events[i].normalized))
      ) {
        return { kind: 'duplicate', append, of: leader };
      }
      return { kind: 'error', append, error: new IdempotencyConflictError((seenStored[0] ?? seenBatch[0]).id) };
    }
  }
  const actual = current.get(append.streamId)!;
  const ok =
    append.expected === 'any' ||
    (append.expected === 'no_stream' ? actual === -1 : append.expected === actual);
  if (!ok) return { kind: 'error', append, error: new ConcurrencyError(append.streamId, append.expected, actual) };
  return { kind: 'append', append, firstVersion: actual + 1 };
}

function storedResult(append: PendingAppend, stored: Map<string, StoredIdentity>): AppendResult {
  const events = append.events.map((e) => {
    const s = stored.get(e.id)!;
    return { eventId: e.id, globalPosition: s.globalPosition, streamVersion: s.streamVersion };
  });
  return { streamId: append.streamId, nextExpectedVersion: events[events.length - 1].streamVersion, events, duplicate: true };
}
