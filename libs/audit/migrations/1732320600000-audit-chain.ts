import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log's hash chain and retention (part of migration Audit1732320600000, after the
 * event store's partitioning, libs/event-store/migrations/1732320600000-partitioned-events.ts).
 * - audit_seals: per event in the gap-safe order (transaction_id, global_position) its hash over
 *   audit_canonical(event) and the chain link sha256(previous link || hash); audit_checkpoints:
 *   links signed with Ed25519; audit_compactions: signed digests of the seals whose events were
 *   compacted away; watchdog_summaries: what compaction keeps of raw watchdogs.
 */
export class AuditChain implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    // The canonical form an event's hash is taken over: jsonb's text output (keys ordered by length
    // then bytes, no insignificant white space), time in UTC with microseconds.
    await q.query(`
      CREATE FUNCTION audit_canonical(e events) RETURNS text LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object(
          'position', e.global_position, 'tx', e.transaction_id::text, 'stream', e.stream_id,
          'version', e.stream_version, 'id', e.event_id, 'type', e.event_type, 'data', e.data,
          'metadata', e.metadata,
          'recorded_at', to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text
      $$`);
    await q.query(`
      CREATE TABLE audit_compactions (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        day             date NOT NULL,
        cutoff          timestamptz NOT NULL,
        events_removed  bigint NOT NULL,
        bytes_before    bigint,
        bytes_after     bigint,
        -- sha256 over the compacted seals' (seq, hash) in seq order, signed
        digest          bytea,
        key_id          text,
        signature       bytea,
        created_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE audit_seals (
        seq             bigint PRIMARY KEY,
        global_position bigint NOT NULL,
        transaction_id  xid8 NOT NULL,
        event_id        uuid NOT NULL,
        hash            bytea NOT NULL,
        link            bytea NOT NULL,
        compaction_id   bigint REFERENCES audit_compactions (id),
        CONSTRAINT audit_seals_position_uq UNIQUE (global_position)
      )`);
    await q.query(`CREATE INDEX audit_seals_compaction_idx ON audit_seals (compaction_id, seq) WHERE compaction_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE audit_checkpoints (
        seq             bigint PRIMARY KEY,
        global_position bigint NOT NULL,
        transaction_id  xid8 NOT NULL,
        link            bytea NOT NULL,
        signed_at       timestamptz NOT NULL,
        key_id          text NOT NULL,
        signature       bytea NOT NULL
      )`);
    await q.query(`
      CREATE TABLE watchdog_summaries (
        container_id    uuid NOT NULL,
        day             date NOT NULL,
        org_id          uuid,
        project_id      uuid,
        watchdogs       integer NOT NULL,
        unhealthy       integer NOT NULL,
        first_at        timestamptz NOT NULL,
        last_at         timestamptz NOT NULL,
        first_position  bigint NOT NULL,
        last_position   bigint NOT NULL,
        compaction_id   bigint NOT NULL REFERENCES audit_compactions (id),
        PRIMARY KEY (container_id, day)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE watchdog_summaries, audit_checkpoints, audit_seals, audit_compactions`);
    await q.query(`DROP FUNCTION audit_canonical(events)`);
  }
}
