import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The last nginx render per node, for the dashboard and `ops status` ("last nginx render").
 * Written by the render job after every attempt; never read by it.
 */
export class NginxRenderStateTable implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE nginx_render_state (
        node            text PRIMARY KEY,
        stage           text NOT NULL,
        last_attempt_at timestamptz NOT NULL,
        last_outcome    text NOT NULL CHECK (last_outcome IN ('swapped', 'unchanged', 'failed')),
        last_success_at timestamptz,
        -- hash of the map nginx serves after the last success
        config_hash     text,
        routes          integer NOT NULL DEFAULT 0,
        skipped_rows    integer NOT NULL DEFAULT 0,
        -- up to 20 refused rows: {fqdn, reason}; fqdn is '(unprintable)' when it is not plain text
        skipped_sample  jsonb NOT NULL DEFAULT '[]',
        failed_stage    text,
        last_error      text,
        duration_ms     integer NOT NULL DEFAULT 0
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE nginx_render_state`);
  }
}
