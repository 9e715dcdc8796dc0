import { Controller, Get, Header, Inject, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Pool } from 'pg';
import { Auth } from '@app/auth';
import { NotFoundError, parseInput } from '@app/common';
import { PG_POOL } from '@app/database';
import { containerTimeline, exportNdjson, searchEvents } from './audit-query';
import { auditQuery, containerIdParam, exportQuery } from './domain/filters';

const item = {
  type: 'object',
  properties: {
    position: { type: 'string', description: 'global position (int8 as a decimal string)' },
    recorded_at: { type: 'string', format: 'date-time' },
    stream_id: { type: 'string' },
    event_id: { type: 'string', format: 'uuid' },
    type: { type: 'string', example: 'user-container:http-service-mapped' },
    actor: { type: 'string', nullable: true, example: 'operator:alice', description: 'metadata.actor as type:id' },
    container_id: { type: 'string', nullable: true },
    org_id: { type: 'string', nullable: true },
    project_id: { type: 'string', nullable: true },
    data: { type: 'object' },
    metadata: { type: 'object', description: 'correlation_id, request_id, actor, source_address, received_at' },
  },
};
const filters = [
  { name: 'container', required: false, description: 'container UUID (its container- and watchdog- streams)' },
  { name: 'project', required: false, description: 'project UUID (data.project_id)' },
  { name: 'org', required: false, description: 'org UUID (data.org_id)' },
  { name: 'type', required: false, description: 'event types, comma-separated' },
  { name: 'actor', required: false, description: 'type:id (operator:alice) or the id alone' },
  { name: 'from', required: false, description: 'recorded at or after (ISO 8601)' },
  { name: 'to', required: false, description: 'recorded before (ISO 8601)' },
];

/** The operators' audit API: what happened, when, and who did it (libs/audit). */
@ApiTags('audit')
@Controller('audit')
@Auth('operator')
export class AuditController {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  @Get('events')
  @ApiOperation({ summary: 'Events by container, project, org, type, actor and time, in log order, by pages (cursor)' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { items: { type: 'array', items: item }, next_cursor: { type: 'string', nullable: true } } },
  })
  async events(@Query() query: unknown) {
    return searchEvents(this.pool, parseInput(auditQuery, query));
  }

  @Get('events/export')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Every matching event as NDJSON (one item per line), streamed',
    description: 'Read in keyset pages as the client consumes them: constant memory for millions of events.',
  })
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({ description: 'one JSON object per line, as the items of GET /audit/events', schema: item })
  exportEvents(@Query() query: unknown): StreamableFile {
    const f = parseInput(exportQuery, query);
    return new StreamableFile(exportNdjson(this.pool, f), { type: 'application/x-ndjson' });
  }

  @Get('containers/:id/timeline')
  @ApiOperation({
    summary: "A container's state changes with a one-line summary each",
    description:
      'Created, tokens, VPN address, services mapped and unmapped, health transitions and lapses, deletion. Raw watchdogs only where they changed health.',
  })
  @ApiParam({ name: 'id', description: 'container UUID' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        container_id: { type: 'string' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              position: { type: 'string' },
              recorded_at: { type: 'string', format: 'date-time' },
              type: { type: 'string' },
              actor: { type: 'string', nullable: true },
              summary: { type: 'string', example: 'service terminal mapped to port 7681 by container:…' },
              data: { type: 'object' },
            },
          },
        },
      },
    },
  })
  async timeline(@Param() params: unknown) {
    const { id } = parseInput(containerIdParam, params);
    const timeline = await containerTimeline(this.pool, id);
    if (!timeline) throw new NotFoundError(`no events for container ${id}`, [{ field: 'id', message: 'no events for this container' }]);
    return timeline;
  }
}
for (const f of filters) {
  ApiQuery(f)(AuditController.prototype, 'events', Object.getOwnPropertyDescriptor(AuditController.prototype, 'events')!);
  ApiQuery(f)(AuditController.prototype, 'exportEvents', Object.getOwnPropertyDescriptor(AuditController.prototype, 'exportEvents')!);
}
