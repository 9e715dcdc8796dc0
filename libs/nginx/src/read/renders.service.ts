import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import type { Role } from '@app/auth';
import { PG_POOL } from '@app/database';
import { RenderState, renderStateFor } from '../domain/render-state';

/** Reads nginx_render_state (written by the render job after every attempt) for dashboards. */
@Injectable()
export class RenderStateReader {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async lastRenders(role: Role): Promise<RenderState[]> {
    const { rows } = await this.pool.query<RenderState>(
      `SELECT node, stage, last_attempt_at, last_outcome, last_success_at, config_hash, routes, skipped_rows, skipped_sample,
              failed_stage, last_error, duration_ms
         FROM nginx_render_state ORDER BY node`,
    );
    return rows.map((r) => renderStateFor(role, r));
  }
}
