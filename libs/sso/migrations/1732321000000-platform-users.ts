import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * platform_users: one row per registered platform user, written in the same transaction that
 * commits around the `platform-user:registered` append (libs/sso access.service). Its unique
 * indexes are what makes an email (case-insensitive) and a user id register once, whatever the
 * timing of two requests: a check before the insert cannot. Filled from the log for users
 * registered before it existed (the first registration of an email wins, as sign-in did).
 */
export class PlatformUsersTable implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform_users (
        user_id        uuid PRIMARY KEY,
        email_lower    text NOT NULL,
        registered_at  timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT platform_users_email_uq UNIQUE (email_lower)
      )`);
    await q.query(`
      INSERT INTO platform_users (user_id, email_lower, registered_at)
      SELECT (data->>'user_id')::uuid, lower(data->>'email'), recorded_at
        FROM events
       WHERE event_type = 'platform-user:registered'
         AND data->>'user_id' ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
       ORDER BY global_position
      ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform_users`);
  }
}
