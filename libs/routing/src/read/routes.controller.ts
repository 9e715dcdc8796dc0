import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { parseInput } from '@app/common';
import { scopeOf } from '@app/health';
import { routesQuery } from './routes.query';
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

/** Every route of the routing read model, active and withdrawn; viewers see their org (or projects). */
@ApiTags('dashboard')
@Controller('routes')
@Auth('viewer', 'operator')
export class RoutesController {
  constructor(@Inject(RoutesReadService) private readonly routes: RoutesReadService) {}

  @Get()
  @ApiOperation({ summary: 'Routes (active and withdrawn) by FQDN, filtered, by pages (cursor)' })
  @ApiQuery({ name: 'org', required: false, description: 'operators: narrow to one org; viewers: must be their own org' })
  @ApiQuery({ name: 'project', required: false, description: 'one project (UUID)' })
  @ApiQuery({ name: 'container', required: false, description: 'one container (UUID)' })
  @ApiQuery({ name: 'active', required: false, enum: ['true', 'false'], description: 'only active (true) or withdrawn (false) routes' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 200' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page' })
  @ApiOkResponse({
    schema: { type: 'object', properties: { items: { type: 'array', items: route }, next_cursor: { type: 'string', nullable: true } } },
  })
  list(@CurrentPrincipal() p: Principal, @Query() query: unknown) {
    const q = parseInput(routesQuery, query);
    return this.routes.list(scopeOf(p, q.org), q);
  }
}
