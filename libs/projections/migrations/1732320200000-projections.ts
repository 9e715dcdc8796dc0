import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * projections: one row per projection: its checkpoint (compare-and-set with its writes) and the
 * lease that makes one process the active projector (no advisory locks: they break behind poolers).
 * See docs/design.md, event store rules 4 and 6. Part of migration Projections1732320200000.
 */
export class ProjectionCheckpoints implements MigrationInterface {
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE projections`);
  }
}
