import { Inject, Injectable } from '@nestjs/common';
import { ForbiddenError, parseInput, ValidationError } from '@app/common';
import { ConcurrencyError, EventMetadata, EventStore } from '@app/event-store';
import type { Principal } from '@app/auth';
import { collabEventBody, type CollabEventBody } from './domain/wire';
import { containerStream, ContainerRef, WATCHDOG, watchdogStream } from './domain/events';
import { ContainerCommand, decide, evolve, initialState } from './domain/container';

export interface IngestContext {
  requestId: string;
  sourceAddress: string;
  correlationId?: string;
  /** Server receive time, ISO 8601. */
  receivedAt: string;
}

/** `accepted`: stored now or by an earlier try with the same event_id; `unchanged`: nothing to store. */
export interface IngestResult {
  status: 'accepted' | 'unchanged';
  event_id: string | null;
  position: string | null;
}

const MAX_DECIDE_ATTEMPTS = 5;

/**
 * The ingest use case: validated wire events from a container become stored events.
 * Identity comes from the token alone; the body may only repeat it.
 */
@Injectable()
export class IngestService {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  parse(body: unknown, prefix = ''): CollabEventBody {
    return parseInput(collabEventBody, body, prefix);
  }

  parseBatch(body: unknown, max: number): CollabEventBody[] {
    if (!Array.isArray(body)) throw ValidationError.of('body', 'must be an array of events');
    if (body.length === 0) throw ValidationError.of('body', 'must hold at least one event');
    if (body.length > max) throw ValidationError.of('body', `must hold at most ${max} events`);
    return body.map((item, i) => this.parse(item, `[${i}]`));
  }

  async ingest(principal: Principal, body: CollabEventBody, ctx: IngestContext, prefix = ''): Promise<IngestResult> {
    const ref = refOf(principal);
    assertOwnProject(ref, body, prefix);
    const metadata: EventMetadata = {
      correlation_id: ctx.correlationId ?? ctx.requestId,
      request_id: ctx.requestId,
      actor: { type: 'container', id: ref.container_id },
      source_address: ctx.sourceAddress,
      received_at: ctx.receivedAt,
    };
    const e = body.event;
    if (e.type === 'user-container:watchdog') {
      const result = await this.store.append(
        watchdogStream(ref.container_id),
        [{ id: body.event_id, type: WATCHDOG, data: { ...ref, system: e.system ?? {}, services: e.services }, metadata }],
        'any',
      );
      return { status: 'accepted', event_id: result.events[0].eventId, position: result.events[0].globalPosition };
    }
    const cmd: ContainerCommand =
      e.type === 'user-container:map-http-service'
        ? { type: 'map-http-service', ref, name: e.name, port: e.port, protected: e.protected }
        : { type: 'unmap-http-service', ref, name: e.name };
    return this.handle(cmd, body.event_id, metadata);
  }

  /**
   * A container's queued events, in order. Runs of watchdogs are appended together (each its own
   * idempotent single-event append, so they share a group commit instead of waiting for one commit
   * each); a mapping waits for the watchdogs before it and is decided on its own. The first
   * failure fails the request (what was stored before it stays stored: a retry with the same
   * event_ids stores nothing twice).
   */
  async ingestBatch(principal: Principal, items: CollabEventBody[], ctx: IngestContext): Promise<IngestResult[]> {
    const ref = refOf(principal);
    items.forEach((item, i) => assertOwnProject(ref, item, `[${i}]`));
    const results: IngestResult[] = new Array(items.length);
    let pending: Promise<void>[] = [];
    for (let i = 0; i < items.length; i++) {
      const prefix = `[${i}]`;
      if (items[i].event.type === 'user-container:watchdog') {
        pending.push(this.ingest(principal, items[i], ctx, prefix).then((r) => void (results[i] = r)));
        continue;
      }
      await Promise.all(pending);
      pending = [];
      results[i] = await this.ingest(principal, items[i], ctx, prefix);
    }
    await Promise.all(pending);
    return results;
  }

  /** Load -> evolve -> decide -> append with the expected version; a lost race is decided again. */
  private async handle(cmd: ContainerCommand, eventId: string | undefined, metadata: EventMetadata): Promise<IngestResult> {
    const stream = containerStream(cmd.ref.container_id);
    for (let attempt = 1; ; attempt++) {
      const state = (await this.store.readStream(stream)).reduce(evolve, initialState());
      const events = decide(cmd, state);
      if (!events.length) {
        const current = state.services[cmd.name];
        // A retry of the command that made the current state gets the answer it got then.
        if (current && eventId && current.eventId === eventId) {
          return { status: 'accepted', event_id: current.eventId, position: current.position };
        }
        return { status: 'unchanged', event_id: current?.eventId ?? null, position: current?.position ?? null };
      }
      try {
        const result = await this.store.append(
          stream,
          events.map((ev, i) => ({ ...ev, id: i === 0 ? eventId : undefined, metadata })),
          state.version === -1 ? 'no_stream' : state.version,
        );
        return { status: 'accepted', event_id: result.events[0].eventId, position: result.events[0].globalPosition };
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < MAX_DECIDE_ATTEMPTS) continue;
        throw err;
      }
    }
  }
}

function assertOwnProject(ref: ContainerRef, body: CollabEventBody, prefix: string): void {
  if (body.project_id !== ref.project_id) {
    throw ForbiddenError.of(`${prefix ? prefix + '.' : ''}project_id`, "does not match the token's project");
  }
}

function refOf(p: Principal): ContainerRef {
  return { container_id: p.subject, org_id: p.orgId!, project_id: p.projectId! };
}
