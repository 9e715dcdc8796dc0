import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { NotFoundError, ValidationError } from '@app/common';
import { STATUSES } from '../domain/health';
import { encodeCursor, ListQuery } from './queries';
import { Scope, scopeSql } from './scope';
import { CONTAINER_ROUTES, type ContainerRoutes } from './container-routes';

const CONTAINER_COLUMNS = `h.container_id, h.org_id, h.project_id, h.gateway_node, h.display_name, h.status, h.deleted,
  h.last_watchdog_at, h.status_since, h.stats, h.services, h.watchdogs::int AS watchdogs, h.created_at, h.updated_at`;
const MAX_SAMPLES = 5_000;

/** The dashboards' queries on the health and routing read models, always within a scope. */
@Injectable()
export class DashboardService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CONTAINER_ROUTES) private readonly routes: ContainerRoutes,
  ) {}

  async list(scope: Scope, q: ListQuery) {
    const where: string[] = [];
    const params: unknown[] = [];
    scopeSql(scope, 'h', where, params);
    if (!q.include_deleted) where.push('NOT h.deleted');
    if (q.status) {
      params.push(q.status);
      where.push(`h.status = ANY($${params.length}::text[])`);
    }
    if (q.project) {
      params.push(q.project);
      where.push(`h.project_id = $${params.length}::uuid`);
    }
    if (q.cursor) {
      params.push(q.cursor);
      where.push(`h.container_id > $${params.length}::uuid`);
    }
    params.push(q.limit + 1);
    const { rows } = await this.pool.query(
      `SELECT ${CONTAINER_COLUMNS} FROM container_health h
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY h.container_id LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > q.limit;
    const items = rows.slice(0, q.limit);
    return { items, next_cursor: more ? encodeCursor(items[items.length - 1].container_id) : null };
  }

  async summary(scope: Scope, project?: string) {
    const where = ['NOT h.deleted'];
    const params: unknown[] = [];
    scopeSql(scope, 'h', where, params);
    if (project) {
      params.push(project);
      where.push(`h.project_id = $${params.length}::uuid`);
    }
    const { rows } = await this.pool.query(
      `SELECT h.status, count(*)::int AS n FROM container_health h WHERE ${where.join(' AND ')} GROUP BY h.status`,
      params,
    );
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<(typeof STATUSES)[number], number>;
    for (const r of rows) counts[r.status as keyof typeof counts] = r.n;
    return { counts, total: rows.reduce((n, r) => n + r.n, 0) };
  }

  async one(scope: Scope, containerId: string) {
    const where = ['h.container_id = $1::uuid'];
    const params: unknown[] = [containerId];
    scopeSql(scope, 'h', where, params);
    const { rows } = await this.pool.query(`SELECT ${CONTAINER_COLUMNS} FROM container_health h WHERE ${where.join(' AND ')}`, params);
    // Out of scope and absent look the same: a viewer learns nothing about other orgs' ids.
    if (!rows[0]) throw new NotFoundError(`no container ${containerId}`, [{ field: 'id', message: 'no such container' }]);
    const routes = await this.routes.of(containerId);
    const readiness = new Map<string, { healthy: boolean; message?: string }>(
      (rows[0].services as { name: string; healthy: boolean; message?: string }[]).map((s) => [s.name, s]),
    );
    const names = [...new Set([...routes.map((r) => r.service), ...readiness.keys()])];
    const services = names.map((name) => {
      const route = routes.find((r) => r.service === name);
      const ready = readiness.get(name);
      return {
        name,
        port: route?.port ?? null,
        mapped: !!route,
        healthy: ready?.healthy ?? null,
        message: ready?.message ?? null,
        fqdn: route?.fqdn ?? null,
      };
    });
    return { ...rows[0], services, readiness: rows[0].services, routes };
  }

  async stats(scope: Scope, containerId: string, from?: Date, to?: Date) {
    await this.one(scope, containerId);
    const end = to ?? new Date();
    const start = from ?? new Date(end.getTime() - 3_600_000);
    if (start >= end) throw ValidationError.of('from', 'must be before to');
    const bucketS = this.config.health.historyBucketS;
    const { rows } = await this.pool.query(
      `SELECT bucket, samples,
              CASE WHEN load1_n > 0 THEN (load1_sum / load1_n)::float8 END AS load1,
              CASE WHEN mem_used_n > 0 THEN (mem_used_sum / mem_used_n)::float8 END AS mem_used_ratio,
              CASE WHEN disk_used_n > 0 THEN (disk_used_sum / disk_used_n)::float8 END AS disk_used_ratio,
              CASE WHEN ping_ms_n > 0 THEN (ping_ms_sum / ping_ms_n)::float8 END AS ping_ms
         FROM container_health_samples
        WHERE container_id = $1 AND bucket >= $2 AND bucket < $3
        ORDER BY bucket LIMIT ${MAX_SAMPLES}`,
      [containerId, new Date(start.getTime() - (start.getTime() % (bucketS * 1000))), end],
    );
    return { container_id: containerId, from: start.toISOString(), to: end.toISOString(), bucket_s: bucketS, samples: rows };
  }
}
