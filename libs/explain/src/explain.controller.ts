import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { parseInput } from '@app/common';
import { scopeOf } from '@app/health';
import { explainQuery } from './explain.query';
import { ExplainService } from './explain.service';

/** "Why does this URL answer what it answers?", scoped like the other read APIs. */
@ApiTags('dashboard')
@Controller('routes')
@Auth('viewer', 'operator')
export class ExplainController {
  constructor(@Inject(ExplainService) private readonly explainer: ExplainService) {}

  @Get('explain')
  @ApiOperation({
    summary: 'Explain a URL: the chain from host to container, mapping, projection, render, VPN and access, and one verdict',
  })
  @ApiQuery({ name: 'url', required: false, description: 'an http(s) URL of a service (or give fqdn)' })
  @ApiQuery({ name: 'fqdn', required: false, description: 'a service host name (or give url)' })
  @ApiQuery({ name: 'user', required: false, description: 'a user id: is this user let through a protected route?' })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: {
        host: { type: 'string' },
        code: { type: 'string', description: 'served, container_offline, not_projected, render_failed, no_such_service, ...' },
        verdict: { type: 'string' },
        chain: { type: 'object', description: 'the facts the verdict was drawn from' },
      },
    },
  })
  explain(@CurrentPrincipal() p: Principal, @Query() query: unknown) {
    const q = parseInput(explainQuery, query);
    return this.explainer.explain(scopeOf(p), q.host, q.user);
  }
}
