import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log partitioned by time (part of migration Audit1732320600000, which added the audit log).
 *
 * events becomes PARTITION BY RANGE (recorded_at), one partition per UTC day plus a default one
 * (partitions are created ahead by the worker; see libs/audit/src/partitions.ts). A partitioned
 * table cannot have a unique index without the partition key, so the global invariants (unique
 * event_id, unique (stream_id, stream_version)) move to `event_keys`, filled by a statement
 * trigger from the inserted rows (any INSERT, also one bypassing the store, is checked). The
 * constraints keep their old names. The old table's triggers (append-only, onboarding) are
 * recreated on the new one from their definitions.
 */
export class PartitionedEvents implements MigrationInterface {
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
  }

  async down(): Promise<void> {
    // Turning the partitioned log back into one table would rewrite every event: restore a backup.
    throw new Error('migration Audit1732320600000 cannot be reverted');
  }
}
