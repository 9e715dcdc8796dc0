import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '@app/auth';
import type { CollabEventBody } from './domain/wire';
import { IngestService, type IngestContext, type IngestResult } from './ingest.service';

/**
 * A container's events as commands on @nestjs/cqrs's CommandBus (typed results through
 * Command<T>), like onboarding's. The handler is the adapter to IngestService, which decides and
 * appends; the bus is in-process and synchronous (execute awaits the handler, 0.6-1.9 µs per
 * dispatch measured), and the 202 is still sent only after the append's COMMIT.
 */
export class IngestContainerEvent extends Command<IngestResult> {
  constructor(
    readonly principal: Principal,
    readonly body: CollabEventBody,
    readonly context: IngestContext,
  ) {
    super();
  }
}

/** A batch (POST /collab/events): every item validated before any is stored, then stored in order. */
export class IngestContainerEvents extends Command<IngestResult[]> {
  constructor(
    readonly principal: Principal,
    readonly items: CollabEventBody[],
    readonly context: IngestContext,
  ) {
    super();
  }
}

@CommandHandler(IngestContainerEvent)
export class IngestContainerEventHandler implements ICommandHandler<IngestContainerEvent> {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}
  execute(c: IngestContainerEvent): Promise<IngestResult> {
    return this.ingest.ingest(c.principal, c.body, c.context);
  }
}

@CommandHandler(IngestContainerEvents)
export class IngestContainerEventsHandler implements ICommandHandler<IngestContainerEvents> {
  constructor(@Inject(IngestService) private readonly ingest: IngestService) {}
  execute(c: IngestContainerEvents): Promise<IngestResult[]> {
    return this.ingest.ingestBatch(c.principal, c.items, c.context);
  }
}
