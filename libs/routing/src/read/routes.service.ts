import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { PG_POOL } from '@app/database';
import { Scope, scopeSql } from '@app/health';
import { encodeRoutesCursor, RoutesQuery } from './routes.query';

/** Reads the routing read model (`routes`) for dashboards, always within a token's scope. */
@Injectable()
export class RoutesReadService {
  constructor(@Inject(PG_POOL) private readonly pool: Pool) {}

  async list(scope: Scope, q: RoutesQuery) {
    const where: string[] = [];
    const params: unknown[] = [];
    scopeSql(scope, 'r', where, params);
    const eq = (column: string, value: unknown, cast: string) => {
      params.push(value);
      where.push(`r.${column} = $${params.length}::${cast}`);
    };
    if (q.project) eq('project_id', q.project, 'uuid');
    if (q.container) eq('container_id', q.container, 'uuid');
    if (q.active !== undefined) eq('active', q.active, 'boolean');
    if (q.cursor) {
      params.push(q.cursor);
      where.push(`r.fqdn > $${params.length}::text`);
    }
    params.push(q.limit + 1);
    const { rows } = await this.pool.query(
      `SELECT r.fqdn, r.container_id, r.org_id, r.project_id, r.service, r.port, r.is_primary, host(r.vpn_address) AS vpn_address,
              r.gateway_node, r.active, r.protected, r.updated_position::text AS updated_position, r.updated_at
         FROM routes r ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY r.fqdn LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > q.limit;
    const items = rows.slice(0, q.limit);
    return { items, next_cursor: more ? encodeRoutesCursor(items[items.length - 1].fqdn) : null };
  }
}
