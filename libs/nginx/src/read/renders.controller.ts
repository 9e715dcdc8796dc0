import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { Auth, CurrentPrincipal, Principal } from '@app/auth';
import { DATA_SOURCE } from '@app/database';
import { poolOf } from '@app/event-store';
import { RenderState, renderStateFor } from '../domain/render-state';

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
    skipped_sample: { type: 'array', items: { type: 'object', properties: { fqdn: { type: 'string' }, reason: { type: 'string' } } }, description: 'operators only' },
    failed_stage: { type: 'string', nullable: true, description: 'operators only' },
    last_error: { type: 'string', nullable: true, description: 'operators only' },
  },
};

/** The state of the last nginx render per node (nginx_render_state, written by the render job). */
@ApiTags('dashboard')
@Controller('nginx')
@Auth('viewer', 'operator')
export class RendersController {
  private readonly pool: Pool;

  constructor(@Inject(DATA_SOURCE) ds: DataSource) {
    this.pool = poolOf(ds);
  }

  @Get('renders')
  @ApiOperation({ summary: 'The last nginx render of every node (viewers: outcome and times only)' })
  @ApiOkResponse({ schema: { type: 'object', properties: { items: { type: 'array', items: renderState } } } })
  async renders(@CurrentPrincipal() p: Principal) {
    const { rows } = await this.pool.query<RenderState>(
      `SELECT node, stage, last_attempt_at, last_outcome, last_success_at, config_hash, routes, skipped_rows, skipped_sample,
              failed_stage, last_error, duration_ms
         FROM nginx_render_state ORDER BY node`,
    );
    return { items: rows.map((r) => renderStateFor(p.role, r)) };
  }
}
