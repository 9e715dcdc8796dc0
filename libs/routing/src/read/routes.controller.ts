import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { parseInput } from '@app/common';
import { scopeOf } from '@app/health';
import { RoutesHistoryService } from './routes.history';
import { routesDiffQuery, routesQuery } from './routes.query';
import { RoutesReadService } from './routes.service';

const route = {
  type: 'object',
  properties: {
    fqdn: { type: 'string' },
    container_id: { type: 'string', format: 'uuid' },
    org_id: { type: 'string', format: 'uuid' },
    project_id: { type: 'string', format: 'uuid' },
    service: { type: 'string' },
    port: { type: 'integer' },
    is_primary: { type: 'boolean', description: 'also answers on the bare container name' },
    vpn_address: { type: 'string', nullable: true },
    gateway_node: { type: 'string', nullable: true },
    active: { type: 'boolean', description: 'false: withdrawn (container offline or deleted), nginx answers with the offline page' },
    protected: { type: 'boolean' },
    updated_position: { type: 'string', description: 'global position of the event that last changed the route' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};

const atQuery = {
  name: 'at',
  required: false,
  description: 'time travel: the routes as they stood at this log position or ISO 8601 time, folded from the log',
};
const momentUsed = {
  type: 'object',
  description: 'present with ?at=: the position the answer was folded to and when that event was recorded',
  properties: { position: { type: 'string' }, recorded_at: { type: 'string', format: 'date-time', nullable: true } },
};

/** Every route of the routing read model, active and withdrawn; viewers see their org (or projects). */
@ApiTags('dashboard')
@Controller('routes')
@Auth('viewer', 'operator')
export class RoutesController {
  constructor(
    @Inject(RoutesReadService) private readonly routes: RoutesReadService,
    @Inject(RoutesHistoryService) private readonly history: RoutesHistoryService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Routes (active and withdrawn) by FQDN, filtered, by pages (cursor)' })
  @ApiQuery({ name: 'org', required: false, description: 'operators: narrow to one org; viewers: must be their own org' })
  @ApiQuery({ name: 'project', required: false, description: 'one project (UUID)' })
  @ApiQuery({ name: 'container', required: false, description: 'one container (UUID)' })
  @ApiQuery({ name: 'active', required: false, enum: ['true', 'false'], description: 'only active (true) or withdrawn (false) routes' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 200' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiQuery(atQuery)
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: { at: momentUsed, items: { type: 'array', items: route }, next_cursor: { type: 'string', nullable: true } },
    },
  })
  list(@CurrentPrincipal() p: Principal, @Query() query: unknown) {
    const q = parseInput(routesQuery, query);
    return q.at ? this.history.list(scopeOf(p, q.org), { ...q, at: q.at }) : this.routes.list(scopeOf(p, q.org), q);
  }

  @Get('diff')
  @ApiOperation({ summary: 'What changed in the routes between two moments of the log (positions or times)' })
  @ApiQuery({ name: 'from', required: true, description: 'a log position or an ISO 8601 time' })
  @ApiQuery({ name: 'to', required: true, description: 'a log position or an ISO 8601 time' })
  @ApiQuery({ name: 'org', required: false })
  @ApiQuery({ name: 'project', required: false })
  @ApiQuery({ name: 'container', required: false })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        from: momentUsed,
        to: momentUsed,
        added: { type: 'array', items: route },
        removed: { type: 'array', items: route },
        changed: {
          type: 'array',
          items: {
            type: 'object',
            properties: { fqdn: { type: 'string' }, before: route, after: route, fields: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
    },
  })
  diff(@CurrentPrincipal() p: Principal, @Query() query: unknown) {
    const q = parseInput(routesDiffQuery, query);
    return this.history.diff(scopeOf(p, q.org), q);
  }
}
