import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { RenderStateReader } from './renders.service';

const renderState = {
  type: 'object',
  properties: {
    node: { type: 'string' },
    stage: { type: 'string', enum: ['stage1', 'stage2'] },
    last_attempt_at: { type: 'string', format: 'date-time' },
    last_outcome: { type: 'string', enum: ['swapped', 'unchanged', 'failed'] },
    last_success_at: { type: 'string', format: 'date-time', nullable: true },
    routes: { type: 'integer', description: 'operators only: routes in the config nginx serves after the last success' },
    skipped_rows: { type: 'integer', description: 'operators only: rows refused by the render checks' },
    duration_ms: { type: 'integer' },
    config_hash: { type: 'string', nullable: true, description: 'operators only' },
    skipped_sample: {
      type: 'array',
      items: { type: 'object', properties: { fqdn: { type: 'string' }, reason: { type: 'string' } } },
      description: 'operators only',
    },
    failed_stage: { type: 'string', nullable: true, description: 'operators only' },
    last_error: { type: 'string', nullable: true, description: 'operators only' },
  },
};

/** The state of the last nginx render per node (nginx_render_state, written by the render job). */
@ApiTags('dashboard')
@Controller('nginx')
@Auth('viewer', 'operator')
export class RendersController {
  constructor(@Inject(RenderStateReader) private readonly renders: RenderStateReader) {}

  @Get('renders')
  @ApiOperation({ summary: 'The last nginx render of every node (viewers: outcome and times only)' })
  @ApiOkResponse({ schema: { type: 'object', properties: { items: { type: 'array', items: renderState } } } })
  async list(@CurrentPrincipal() p: Principal) {
    return { items: await this.renders.lastRenders(p.role) };
  }
}
