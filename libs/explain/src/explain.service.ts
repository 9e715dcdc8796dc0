import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { containerStream, SERVICE_MAPPED } from '@app/container-events';
import { PG_POOL } from '@app/database';
import { inScope, type Scope } from '@app/health';
import { parseServiceHost, userMayOpen } from '@app/sso';
import { explainVerdict, type ExplainFacts } from './domain/verdict';

/** Counting further than this to say how far the routing projection trails is not worth the scan. */
const BEHIND_CAP = 100_000;

const iso = (v: Date | string | null | undefined) => (v ? new Date(v).toISOString() : null);

/**
 * Walks the chain behind one service host: container, health, the mapping event, the routing
 * projection's checkpoint, the route row, the node's last render and (given a user) access, all
 * from the log and the read models, and gives one verdict (domain/verdict.ts).
 */
@Injectable()
export class ExplainService {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async explain(scope: Scope, host: string, userId?: string) {
    const facts = await this.gather(scope, host, userId);
    return { host, ...explainVerdict(facts), chain: facts };
  }

  async gather(scope: Scope, host: string, userId?: string): Promise<ExplainFacts> {
    const domain = this.config.platformDomain;
    const parsed = parseServiceHost(host, domain);
    const facts: ExplainFacts = {
      host,
      parsed: parsed
        ? { containerId: parsed.containerId, orgId: parsed.orgId, ...(parsed.service ? { service: parsed.service } : {}) }
        : null,
      domain,
      container: null,
      services: [],
      route: null,
      mapping: null,
      withdrawn_at: null,
      projection: null,
      render: null,
      access: null,
    };
    if (!parsed) return facts;
    const id = parsed.containerId;
    const service = parsed.service ?? null;

    const health = await this.pool.query(
      `SELECT org_id::text, project_id::text, status, status_since, deleted, last_watchdog_at FROM container_health WHERE container_id = $1`,
      [id],
    );
    const c = health.rows[0];
    // Out of scope reads as unknown: a viewer learns nothing about other orgs' containers.
    if (!c || !inScope(scope, c)) return facts;
    facts.container = { ...c, status_since: iso(c.status_since)!, last_watchdog_at: iso(c.last_watchdog_at) };

    const [state, route, mapping, projection] = await Promise.all([
      this.pool.query(`SELECT services, withdrawn_at FROM routing_containers WHERE container_id = $1`, [id]),
      this.pool.query(
        `SELECT fqdn, service, port, active, protected, host(vpn_address) AS vpn_address, gateway_node,
                updated_position::text AS updated_position, updated_at
           FROM routes WHERE container_id = $1 AND ((service = $2) OR ($2::text IS NULL AND is_primary))`,
        [id, service],
      ),
      this.pool.query(
        `SELECT global_position::text AS position, recorded_at, metadata->'actor' AS actor, (data->>'port')::int AS port
           FROM events WHERE stream_id = $1 AND event_type = $2 AND ($3::text IS NULL OR data->>'name' = $3)
          ORDER BY stream_version DESC LIMIT 1`,
        [containerStream(id), SERVICE_MAPPED, service],
      ),
      this.pool.query(`SELECT global_position::text AS position FROM projections WHERE name = 'routing'`),
    ]);
    facts.services = ((state.rows[0]?.services ?? []) as { name: string }[]).map((s) => s.name);
    facts.withdrawn_at = iso(state.rows[0]?.withdrawn_at);
    const r = route.rows[0];
    if (r) facts.route = { ...r, updated_at: iso(r.updated_at)! };
    const m = mapping.rows[0];
    if (m) {
      const actor = m.actor as { type?: string; id?: string } | null;
      facts.mapping = {
        position: m.position,
        recorded_at: iso(m.recorded_at)!,
        actor: actor ? `${actor.type}:${actor.id}` : null,
        port: m.port,
      };
    }
    const checkpoint: string = projection.rows[0]?.position ?? '0';
    const behind = await this.pool.query(
      // ORDER BY: walk the index from the checkpoint, not a sequential scan of the log (see projectionLag).
      `SELECT count(*)::int AS n FROM (SELECT 1 FROM events WHERE global_position > $1::bigint ORDER BY global_position LIMIT ${BEHIND_CAP}) x`,
      [checkpoint],
    );
    facts.projection = { position: checkpoint, behind_events: behind.rows[0].n };

    const node = r?.gateway_node;
    if (node) {
      const render = await this.pool.query(
        `SELECT node, last_outcome, last_attempt_at, last_success_at, config_hash, failed_stage, last_error
           FROM nginx_render_state WHERE node = $1`,
        [node],
      );
      const x = render.rows[0];
      if (x) facts.render = { ...x, last_attempt_at: iso(x.last_attempt_at)!, last_success_at: iso(x.last_success_at) };
    }
    if (userId && r?.protected) facts.access = { user_id: userId, allowed: await userMayOpen(this.pool, userId, id) };
    return facts;
  }
}
