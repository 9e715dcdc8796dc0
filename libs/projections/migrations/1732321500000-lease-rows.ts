import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `projections` also holds rows used only as a lease (the audit maintenance's `audit-maintenance`):
 * their checkpoint never moves, so counting them as lag made /health/ready 503 for ever about a
 * minute after the first event. `follows_log` tells the two apart; lag, readiness and `ops status`
 * count only rows that follow the log. Migration LeaseRows1732321500000.
 */
export class ProjectionLeaseRows implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projections ADD COLUMN follows_log boolean NOT NULL DEFAULT true`);
    await q.query(`UPDATE projections SET follows_log = false WHERE name = 'audit-maintenance'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE projections DROP COLUMN follows_log`);
  }
}
