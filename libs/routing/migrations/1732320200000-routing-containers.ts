import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * routing_containers: the routing projection's per-container state (mapping order, VPN address,
 * withdrawal); the routes themselves are in `routes` (1732320100000-routes.ts). Part of migration
 * Projections1732320200000.
 */
export class RoutingContainers implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE routing_containers (
        container_id       uuid PRIMARY KEY,
        org_id             uuid NOT NULL,
        project_id         uuid NOT NULL,
        gateway_node       text,
        vpn_address        inet,
        -- services in mapping order: [{name, port}]; the first is the primary
        services           jsonb NOT NULL DEFAULT '[]'::jsonb,
        deleted            boolean NOT NULL DEFAULT false,
        withdrawn          boolean NOT NULL DEFAULT false,
        withdrawn_at       timestamptz,
        -- watchdogs received since the withdrawal (routes return at ROUTES_RESTORE_WATCHDOGS)
        returning_watchdogs integer NOT NULL DEFAULT 0,
        last_watchdog_at   timestamptz,
        updated_position   bigint NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routing_containers`);
  }
}
