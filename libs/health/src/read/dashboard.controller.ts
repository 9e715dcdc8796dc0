import { Controller, Get, Inject, Param, Query, Sse, type MessageEvent } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import { filter, interval, map, merge, Observable, takeUntil } from 'rxjs';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { parseInput } from '@app/common';
import { STATUSES } from '../domain/health';
import { HealthChangesHub } from '../health-changes.hub';
import { ContainerHistoryService } from './container-history';
import { DashboardService } from './dashboard.service';
import { containerIdParam, containerQuery, listQuery, statsQuery, streamQuery, summaryQuery } from './queries';
import { inScope, scopeOf } from './scope';

const container = {
  type: 'object',
  properties: {
    container_id: { type: 'string', format: 'uuid' },
    org_id: { type: 'string', format: 'uuid' },
    project_id: { type: 'string', format: 'uuid' },
    gateway_node: { type: 'string', nullable: true },
    display_name: { type: 'string', nullable: true },
    status: { type: 'string', enum: [...STATUSES] },
    deleted: { type: 'boolean' },
    last_watchdog_at: { type: 'string', format: 'date-time', nullable: true, description: 'server time of the newest watchdog' },
    status_since: { type: 'string', format: 'date-time' },
    stats: { type: 'object', nullable: true, description: 'parsed stats of the newest watchdog (null where a stat did not parse)' },
    services: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, healthy: { type: 'boolean' }, message: { type: 'string' } } },
    },
    watchdogs: { type: 'integer' },
  },
};
const orgQuery = { name: 'org', required: false, description: 'operators: narrow to one org; viewers: must be their own org' };
const projectQuery = { name: 'project', required: false, description: 'one project (UUID)' };

/** Dashboards' read API: viewer tokens see their org (or their projects); operators see all. */
@ApiTags('dashboard')
@Controller('containers')
@Auth('viewer', 'operator')
export class DashboardController {
  constructor(
    @Inject(DashboardService) private readonly dashboard: DashboardService,
    @Inject(HealthChangesHub) private readonly hub: HealthChangesHub,
    @Inject(ContainerHistoryService) private readonly history: ContainerHistoryService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List containers with their health, filtered, by pages (cursor)' })
  @ApiQuery({ name: 'status', required: false, description: `comma-separated: ${STATUSES.join(', ')}` })
  @ApiQuery(projectQuery)
  @ApiQuery(orgQuery)
  @ApiQuery({ name: 'include_deleted', required: false, enum: ['true', 'false'] })
  @ApiQuery({ name: 'limit', required: false, description: '1-500, default 50' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { items: { type: 'array', items: container }, next_cursor: { type: 'string', nullable: true } } },
  })
  list(@CurrentPrincipal() p: Principal, @Query() query: unknown) {
    const q = parseInput(listQuery, query);
    return this.dashboard.list(scopeOf(p, q.org), q);
  }

  @Get('summary')
  @ApiOperation({ summary: 'Counts of (not deleted) containers by status' })
  @ApiQuery(projectQuery)
  @ApiQuery(orgQuery)
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        counts: { type: 'object', properties: Object.fromEntries(STATUSES.map((s) => [s, { type: 'integer' }])) },
        total: { type: 'integer' },
      },
    },
  })
  summary(@CurrentPrincipal() p: Principal, @Query() query: unknown) {
    const q = parseInput(summaryQuery, query);
    return this.dashboard.summary(scopeOf(p, q.org), q.project);
  }

  @Sse('events')
  @ApiOperation({
    summary: "Server-Sent Events: health status changes, within the token's scope",
    description:
      'Each `health` event carries {container_id, org_id, project_id, from, to, at, position}; a `ping` event every 15 s keeps proxies from closing the stream.',
  })
  @ApiProduces('text/event-stream')
  @ApiQuery(projectQuery)
  @ApiQuery(orgQuery)
  @ApiQuery({ name: 'status', required: false, description: 'only changes to these statuses (comma-separated)' })
  events(@CurrentPrincipal() p: Principal, @Query() query: unknown): Observable<MessageEvent> {
    const q = parseInput(streamQuery, query);
    const scope = scopeOf(p, q.org);
    const changes = this.hub.changes.pipe(
      filter((c) => inScope(scope, c) && (!q.project || c.project_id === q.project) && (!q.status || q.status.includes(c.to))),
      map((c): MessageEvent => ({ type: 'health', id: c.position, data: c })),
    );
    return merge(changes, interval(15_000).pipe(map((): MessageEvent => ({ type: 'ping', data: {} })))).pipe(takeUntil(this.hub.closing));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One container: health, per-service readiness and its routes' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiQuery({
    name: 'at',
    required: false,
    description: 'time travel: the container as it stood at this log position or ISO 8601 time, folded from its streams',
  })
  @ApiOkResponse({
    schema: { ...container, properties: { ...container.properties, routes: { type: 'array', items: { type: 'object' } } } },
  })
  one(@CurrentPrincipal() p: Principal, @Param() params: unknown, @Query() query: unknown) {
    const { id } = parseInput(containerIdParam, params);
    const { at } = parseInput(containerQuery, query);
    return at ? this.history.at(scopeOf(p), id, at) : this.dashboard.one(scopeOf(p), id);
  }

  @Get(':id/stats')
  @ApiOperation({ summary: "A container's stats history (downsampled buckets) for a time range (default: the last hour)" })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { bucket_s: { type: 'integer' }, samples: { type: 'array', items: { type: 'object' } } } },
  })
  stats(@CurrentPrincipal() p: Principal, @Param() params: unknown, @Query() query: unknown) {
    const { id } = parseInput(containerIdParam, params);
    const q = parseInput(statsQuery, query);
    return this.dashboard.stats(scopeOf(p), id, q.from, q.to);
  }
}
