import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The container health read model (part of migration Projections1732320200000).
 * - container_health / container_health_samples: written by the health projection only; samples
 *   are downsampled into buckets and pruned by the sweeper.
 * - health_sweeper: the sweeper's own memory (when it last ran, since when it has been watching).
 */
export class HealthReadModel implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
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
      CREATE TABLE health_sweeper (
        id              integer PRIMARY KEY CHECK (id = 1),
        last_run_at     timestamptz NOT NULL,
        watching_since  timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE health_sweeper`);
    await q.query(`DROP TABLE container_health_samples`);
    await q.query(`DROP TABLE container_health`);
  }
}
