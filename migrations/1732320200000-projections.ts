import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Projections (DESIGN.md, event store rules 4 and 6) and the container health read model.
 * - projections: one row per projection: its checkpoint (compare-and-set with its writes) and the
 *   lease that makes one process the active projector (no advisory locks: they break behind poolers).
 * - container_health / container_health_samples: the health read model, written by the health
 *   projection only; samples are downsampled into buckets and pruned by the sweeper.
 * - routing_containers: the routing projection's per-container state (mapping order, VPN address,
 *   withdrawal); the routes themselves are in `routes` (migration 1732320100000).
 * - health_sweeper: the sweeper's own memory (when it last ran, since when it has been watching).
 */
export class Projections1732320200000 implements MigrationInterface {
  name = 'Projections1732320200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE projections (
        name               text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 100),
        transaction_id     xid8 NOT NULL DEFAULT '0',
        global_position    bigint NOT NULL DEFAULT 0,
        -- recorded_at of the last event applied (lag in seconds)
        last_event_at      timestamptz,
        lease_owner        text,
        lease_acquired_at  timestamptz,
        lease_expires_at   timestamptz,
        updated_at         timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE container_health (
        container_id      uuid PRIMARY KEY,
        org_id            uuid NOT NULL,
        project_id        uuid NOT NULL,
        gateway_node      text,
        display_name      text,
        status            text NOT NULL CHECK (status IN ('starting', 'healthy', 'degraded', 'stale', 'offline')),
        deleted           boolean NOT NULL DEFAULT false,
        -- server time (metadata.received_at) of the newest watchdog, never a client clock
        last_watchdog_at  timestamptz,
        stats             jsonb,
        services          jsonb NOT NULL DEFAULT '[]'::jsonb,
        watchdogs         bigint NOT NULL DEFAULT 0,
        status_since      timestamptz NOT NULL,
        created_at        timestamptz NOT NULL,
        updated_at        timestamptz NOT NULL,
        updated_position  bigint NOT NULL
      )`);
    await q.query(`CREATE INDEX container_health_scope_idx ON container_health (org_id, project_id, container_id)`);
    await q.query(`CREATE INDEX container_health_sweep_idx ON container_health (status, last_watchdog_at) WHERE NOT deleted`);
    await q.query(`
      CREATE TABLE container_health_samples (
        container_id   uuid NOT NULL,
        bucket         timestamptz NOT NULL,
        samples        integer NOT NULL,
        load1_sum      numeric NOT NULL DEFAULT 0,
        load1_n        integer NOT NULL DEFAULT 0,
        mem_used_sum   numeric NOT NULL DEFAULT 0,
        mem_used_n     integer NOT NULL DEFAULT 0,
        disk_used_sum  numeric NOT NULL DEFAULT 0,
        disk_used_n    integer NOT NULL DEFAULT 0,
        ping_ms_sum    numeric NOT NULL DEFAULT 0,
        ping_ms_n      integer NOT NULL DEFAULT 0,
        PRIMARY KEY (container_id, bucket)
      )`);
    await q.query(`CREATE INDEX container_health_samples_bucket_idx ON container_health_samples (bucket)`);
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
    await q.query(`
      CREATE TABLE health_sweeper (
        id              integer PRIMARY KEY CHECK (id = 1),
        last_run_at     timestamptz NOT NULL,
        watching_since  timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE health_sweeper`);
    await q.query(`DROP TABLE routing_containers`);
    await q.query(`DROP TABLE container_health_samples`);
    await q.query(`DROP TABLE container_health`);
    await q.query(`DROP TABLE projections`);
  }
}
