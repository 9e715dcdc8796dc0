import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event store (docs/design.md, event store rules 1-3).
 * - events: append-only; global_position for identity, transaction_id for the gap-safe read order.
 * - event_streams: one row per stream holding its current version; appends lock it (FOR UPDATE),
 *   which serialises writers of one stream and keeps versions contiguous.
 */
export class EventStoreTables implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE event_streams (
        stream_id   text PRIMARY KEY CHECK (length(stream_id) BETWEEN 1 AND 200),
        version     bigint NOT NULL DEFAULT -1,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE events (
        global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id       text NOT NULL,
        stream_version  bigint NOT NULL CHECK (stream_version >= 0),
        event_id        uuid NOT NULL,
        event_type      text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 100),
        data            jsonb NOT NULL,
        metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_stream_version_uq UNIQUE (stream_id, stream_version),
        CONSTRAINT events_event_id_uq UNIQUE (event_id)
      )`);
    // Catch-up readers page on (transaction_id, global_position); see EventStore.readAll.
    await q.query(`CREATE INDEX events_tx_position_idx ON events (transaction_id, global_position)`);
    await q.query(`CREATE INDEX events_type_position_idx ON events (event_type, global_position)`);
    // The log is append-only: refuse UPDATE and DELETE except for a session that opts in
    // (retention and compaction set collab.allow_event_rewrite = 'on' in their own transaction).
    await q.query(`
      CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF coalesce(current_setting('collab.allow_event_rewrite', true), 'off') <> 'on' THEN
          RAISE EXCEPTION 'events are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      END $$`);
    await q.query(`
      CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE events`);
    await q.query(`DROP FUNCTION events_append_only()`);
    await q.query(`DROP TABLE event_streams`);
  }
}
