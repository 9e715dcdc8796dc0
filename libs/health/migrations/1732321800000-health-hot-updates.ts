import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets the health projection's writes be HOT updates (issue 18): a watchdog rewrites its
 * container's row and its current sample bucket, and each such update used to add an entry to
 * every index of the table, because the sweep index covered last_watchdog_at, which every
 * watchdog moves.
 * - container_health_sweep_idx goes: the sweeper (every HEALTH_SWEEP_EVERY_MS) scans the table,
 *   a few ms for 100,000 containers, instead of every watchdog paying for the index.
 * - container_health_samples_bucket_idx goes: nothing reads the samples by bucket alone (the
 *   dashboard and the prune go by container through the primary key).
 * - Room on each page for the new row versions (fillfactor), so that they stay on the page of the
 *   old one, which is what a HOT update needs.
 */
export class HealthHotUpdates implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS container_health_sweep_idx`);
    await q.query(`DROP INDEX IF EXISTS container_health_samples_bucket_idx`);
    await q.query(`ALTER TABLE container_health SET (fillfactor = 50)`);
    await q.query(`ALTER TABLE container_health_samples SET (fillfactor = 70)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE container_health_samples RESET (fillfactor)`);
    await q.query(`ALTER TABLE container_health RESET (fillfactor)`);
    await q.query(`CREATE INDEX container_health_samples_bucket_idx ON container_health_samples (bucket)`);
    await q.query(`CREATE INDEX container_health_sweep_idx ON container_health (status, last_watchdog_at) WHERE NOT deleted`);
  }
}
