import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (issue 7): the events table partitioned by time, the hash chain, retention.
 *
 * - events becomes PARTITION BY RANGE (recorded_at), one partition per UTC day plus a default one
 *   (partitions are created ahead by the worker; see libs/audit/src/partitions.ts). A partitioned
 *   table cannot have a unique index without the partition key, so the global invariants (unique
 *   event_id, unique (stream_id, stream_version)) move to `event_keys`, filled by a statement
 *   trigger from the inserted rows (any INSERT, also one bypassing the store, is checked). The
 *   constraints keep their old names. The old table's triggers (append-only, onboarding) are
 *   recreated on the new one from their definitions.
 * - audit_seals: per event in the gap-safe order (transaction_id, global_position) its hash over
 *   audit_canonical(event) and the chain link sha256(previous link || hash); audit_checkpoints:
 *   links signed with Ed25519; audit_compactions: signed digests of the seals whose events were
 *   compacted away; watchdog_summaries: what compaction keeps of raw watchdogs.
 */
export class Audit1732320600000 implements MigrationInterface {
  name = 'Audit1732320600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE events RENAME TO events_unpartitioned`);
    await q.query(`ALTER TABLE events_unpartitioned RENAME CONSTRAINT events_stream_version_uq TO events_unpartitioned_stream_version_uq`);
    await q.query(`ALTER TABLE events_unpartitioned RENAME CONSTRAINT events_event_id_uq TO events_unpartitioned_event_id_uq`);
    await q.query(`ALTER INDEX events_pkey RENAME TO events_unpartitioned_pkey`);
    await q.query(`ALTER INDEX events_tx_position_idx RENAME TO events_unpartitioned_tx_position_idx`);
    await q.query(`ALTER INDEX events_type_position_idx RENAME TO events_unpartitioned_type_position_idx`);
    // Same columns, defaults, identity and checks as before (and any column a later feature adds).
    await q.query(`
      CREATE TABLE events (
        LIKE events_unpartitioned INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS,
        CONSTRAINT events_pkey PRIMARY KEY (global_position, recorded_at)
      ) PARTITION BY RANGE (recorded_at)`);
    await q.query(`CREATE INDEX events_tx_position_idx ON events (transaction_id, global_position)`);
    await q.query(`CREATE INDEX events_type_position_idx ON events (event_type, global_position)`);
    await q.query(`CREATE INDEX events_stream_idx ON events (stream_id, stream_version)`);
    await q.query(`CREATE TABLE events_default PARTITION OF events DEFAULT`);
    await q.query(`
      CREATE TABLE event_keys (
        event_id        uuid NOT NULL,
        stream_id       text NOT NULL,
        stream_version  bigint NOT NULL,
        global_position bigint NOT NULL,
        -- with the position, finds the row in its partition (run-time partition pruning)
        recorded_at     timestamptz NOT NULL,
        CONSTRAINT events_event_id_uq PRIMARY KEY (event_id),
        CONSTRAINT events_stream_version_uq UNIQUE (stream_id, stream_version)
      )`);
    await q.query(`
      CREATE FUNCTION events_keys_insert() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO event_keys (event_id, stream_id, stream_version, global_position, recorded_at)
        SELECT event_id, stream_id, stream_version, global_position, recorded_at FROM inserted_events;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER events_keys AFTER INSERT ON events
      REFERENCING NEW TABLE AS inserted_events FOR EACH STATEMENT EXECUTE FUNCTION events_keys_insert()`);

    // One partition per UTC day from the oldest event (or today) to tomorrow; the worker keeps
    // AUDIT_PARTITION_AHEAD_DAYS more created (and events_default takes anything in between).
    await q.query(`
      DO $$
      DECLARE d date; first date; last date := (now() AT TIME ZONE 'UTC')::date + 1;
      BEGIN
        SELECT coalesce(min((recorded_at AT TIME ZONE 'UTC')::date), (now() AT TIME ZONE 'UTC')::date) INTO first FROM events_unpartitioned;
        d := first;
        WHILE d <= last LOOP
          EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
            'events_p' || to_char(d, 'YYYYMMDD'), d::text || ' 00:00:00+00', (d + 1)::text || ' 00:00:00+00');
          d := d + 1;
        END LOOP;
      END $$`);
    await q.query(`INSERT INTO events OVERRIDING SYSTEM VALUE SELECT * FROM events_unpartitioned`);
    await q.query(`SELECT setval(pg_get_serial_sequence('events', 'global_position'),
      greatest(1, (SELECT coalesce(max(global_position), 0) FROM events_unpartitioned)),
      (SELECT count(*) > 0 FROM events_unpartitioned))`);
    // Every other trigger of the old table (append-only, the onboarding inline projection, any a
    // later feature added) moves over as it was defined, after the copy so that none fires twice.
    const triggers: { def: string }[] = await q.query(
      `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = 'events_unpartitioned'::regclass AND NOT tgisinternal ORDER BY tgname`,
    );
    for (const { def } of triggers) {
      const moved = def.replace(/ ON (public\.)?events_unpartitioned /, ' ON events ');
      if (moved === def) throw new Error(`cannot move trigger: ${def}`);
      await q.query(moved);
    }
    await q.query(`DROP TABLE events_unpartitioned`);

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

  async down(): Promise<void> {
    // Turning the partitioned log back into one table would rewrite every event: restore a backup.
    throw new Error('migration Audit1732320600000 cannot be reverted');
  }
}
