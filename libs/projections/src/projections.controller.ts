import { Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { RateLimit, RateLimitGuard } from '@app/http';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Auth } from '@app/auth';
import { ValidationError } from '@app/common';
import { ProjectorHost } from './projector-host';

const NAME = /^[a-z][a-z0-9-]{0,40}$/;

@ApiTags('projections')
@Controller('projections')
@UseGuards(RateLimitGuard)
@RateLimit('write')
@Auth('operator')
export class ProjectionsController {
  constructor(@Inject(ProjectorHost) private readonly host: ProjectorHost) {}

  @Get()
  @ApiOperation({ summary: 'Each projection: checkpoint, lease holder, and lag (events and seconds behind the head)' })
  @ApiResponse({ status: 200, description: 'One entry per projection; latency percentiles when this process is the active projector' })
  async lag() {
    return { projections: await this.host.lag() };
  }

  @Post(':name/rebuild')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rebuild a projection from the whole log into fresh tables, then swap them in',
    description: 'The live tables keep serving meanwhile; no side effects (nginx renders) are fired by the replay.',
  })
  @ApiParam({ name: 'name', example: 'routing' })
  async rebuild(@Param('name') name: string) {
    if (!NAME.test(name)) throw ValidationError.of('name', `must match ${NAME}`);
    return this.host.rebuild(name);
  }
}
