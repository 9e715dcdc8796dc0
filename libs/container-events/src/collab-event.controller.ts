import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { RateLimitGuard } from '@app/http';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { APP_CONFIG, AppConfig } from '@app/config';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { IngestContainerEvents } from './ingest.commands';
import { IngestContext, IngestResult, IngestService } from './ingest.service';
import { collabEventBody } from './domain/wire';

const CORRELATION = /^[A-Za-z0-9._:-]{1,100}$/;

export function contextOf(req: FastifyRequest): IngestContext {
  const c = req.headers['x-correlation-id'];
  return {
    requestId: String(req.id),
    sourceAddress: req.ip,
    correlationId: typeof c === 'string' && CORRELATION.test(c) ? c : undefined,
    receivedAt: new Date().toISOString(),
  };
}

export const resultSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['accepted', 'unchanged'] },
    event_id: { type: 'string', format: 'uuid', nullable: true },
    position: { type: 'string', description: 'global position (int8 as a decimal string)', nullable: true },
  },
};

// POST /collab/event (one event, the watchdogs' path) is a plain Fastify route with these same
// guards: see registerCollabEventRoute.
@ApiTags('container events')
// Guards run in the order applied: the token first (bottom decorator), then its rate limit.
@Controller('collab')
@UseGuards(RateLimitGuard)
@Auth('container')
export class CollabEventController {
  constructor(
    @Inject(IngestService) private readonly ingest: IngestService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  @Post('events')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Post a batch of container events (queued while offline)',
    description:
      'Every item is validated before any is stored; items are then stored in order. Give each an event_id so a retried batch stores nothing twice.',
  })
  @ApiBody({ schema: { type: 'array', items: z.toJSONSchema(collabEventBody, { io: 'input', unrepresentable: 'any' }) as object } })
  @ApiResponse({ status: 202, schema: { type: 'object', properties: { results: { type: 'array', items: resultSchema } } } })
  async postEvents(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ): Promise<{ results: IngestResult[] }> {
    const items = this.ingest.parseBatch(body, this.config.http.batchMaxEvents);
    return { results: await this.commands.execute(new IngestContainerEvents(principal, items, contextOf(req))) };
  }
}
