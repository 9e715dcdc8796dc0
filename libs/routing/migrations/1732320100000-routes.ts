import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The routing read model: one row per published service (docs/design.md, FQDN scheme). Written only by
 * the routing projection; read by the nginx render job. Every value here is re-checked against the
 * allow-lists before it is written into a config.
 */
export class RoutesTable implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE routes (
        fqdn             text PRIMARY KEY,
        container_id     uuid NOT NULL,
        org_id           uuid NOT NULL,
        project_id       uuid NOT NULL,
        service          text NOT NULL,
        port             integer NOT NULL,
        -- also answers on the container's bare name uc-{container}.org-{org}.{domain}
        is_primary       boolean NOT NULL DEFAULT false,
        -- the container's VPN address, null until it has one
        vpn_address      inet,
        -- the gateway node serving the container, null for the default node
        gateway_node     text,
        -- false while the container is offline or deleted: nginx answers with the offline page
        active           boolean NOT NULL DEFAULT true,
        protected        boolean NOT NULL DEFAULT false,
        updated_position bigint NOT NULL,
        updated_at       timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT routes_container_service_uq UNIQUE (container_id, service)
      )`);
    await q.query(`CREATE INDEX routes_org_idx ON routes (org_id, project_id)`);
    await q.query(`CREATE INDEX routes_gateway_idx ON routes (gateway_node)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE routes`);
  }
}
