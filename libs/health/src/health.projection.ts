import { Logger } from '@nestjs/common';
import { isUuid, type Stored } from '@app/common';
import { WATCHDOG, type WatchdogData } from '@app/container-events';
import type { RecordedEvent } from '@app/event-store';
import { ProjectionHandler, sqlLiteral, sqlUuidArray, type AfterCommit, type Projection, type ProjectionContext } from '@app/projections';
import {
  evolveHealth,
  foldWatchdog,
  HealthRow,
  HealthStatus,
  isHealthEvent,
  type Sample,
  sampleOfSystem,
  statsAndServices,
} from './domain/health';
import { serverTime } from './domain/lifecycle';

export interface HealthChange {
  container_id: string;
  org_id: string;
  project_id: string;
  from: HealthStatus | null;
  to: HealthStatus;
  at: string;
  position: string;
}

export interface HealthProjectionOptions {
  bucketS: number;
  retentionH: number;
  /** Called after a live batch committed with the containers whose status changed. */
  onChanges?: (changes: HealthChange[]) => Promise<void> | void;
}

const COLUMNS = [
  'container_id',
  'org_id',
  'project_id',
  'gateway_node',
  'display_name',
  'status',
  'deleted',
  'last_watchdog_at',
  'stats',
  'services',
  'watchdogs',
  'status_since',
  'created_at',
  'updated_at',
  'updated_position',
] as const;

/**
 * A PostgreSQL array literal of uuids, ISO times or finite numbers (none needs quoting): node-pg
 * quotes and escapes every element, which showed in replay profiles.
 */
function arrayLiteral<T>(items: T[], pick: (x: T) => string | number | null): string {
  let out = '{';
  for (let i = 0; i < items.length; i++) {
    const v = pick(items[i]);
    if (i) out += ',';
    out += v === null ? 'NULL' : typeof v === 'number' ? String(v) : v;
  }
  return `${out}}`;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export type HealthDbRow = Stored<
  HealthRow,
  'last_watchdog_at' | 'status_since' | 'created_at' | 'updated_at',
  'watchdogs' | 'updated_position'
>;

export function rowFromDb(r: HealthDbRow): HealthRow {
  return {
    ...r,
    last_watchdog_at: iso(r.last_watchdog_at),
    status_since: iso(r.status_since)!,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    watchdogs: Number(r.watchdogs),
    updated_position: String(r.updated_position),
  };
}

/** The batch's health events with a valid container id, their containers, and how many lacked one. */
function targetsOf(events: RecordedEvent[]): { relevant: RecordedEvent[]; ids: string[]; skipped: number } {
  const relevant: RecordedEvent[] = [];
  const ids = new Set<string>();
  let skipped = 0;
  for (const e of events) {
    if (!isHealthEvent(e.type)) continue;
    const id = (e.data as { container_id?: unknown })?.container_id;
    if (!isUuid(id)) skipped++;
    else {
      relevant.push(e);
      ids.add(id);
    }
  }
  return { relevant, ids: [...ids], skipped };
}

/**
 * The container health read model: folds each batch per container in memory (many watchdogs of one
 * container become one row write) and writes all rows with one upsert, plus the downsampled stats
 * history with one aggregate upsert.
 */
@ProjectionHandler()
export class HealthProjection implements Projection {
  readonly name = 'health';
  readonly tables = ['container_health', 'container_health_samples'] as const;
  private readonly logger = new Logger('projection:health');

  constructor(private readonly options: HealthProjectionOptions) {}

  /** The batch's containers' rows, read with the transaction's head (Projection.read). */
  read(events: RecordedEvent[], table: (logical: string) => string): string | null {
    const { ids } = targetsOf(events);
    return ids.length ? `SELECT * FROM ${table('container_health')} WHERE container_id = ANY(${sqlUuidArray(ids)})` : null;
  }

  async handle(events: RecordedEvent[], ctx: ProjectionContext): Promise<AfterCommit | void> {
    const { relevant, skipped } = targetsOf(events);
    if (skipped) this.logger.warn('skipped events without a valid container_id');
    if (!relevant.length) return;
    const health = ctx.table('container_health');
    const samples = ctx.table('container_health_samples');

    // The batch's rows came with the transaction's head (read above).
    const before = new Map<string, HealthRow>((ctx.rows as HealthDbRow[]).map((r) => [r.container_id, rowFromDb(r)]));
    const after = new Map(before);
    // Rows this batch made (copies or new): the watchdog fold changes them in place, one copy per
    // container per batch rather than a few objects per event.
    const owned = new Set<HealthRow>();
    // The last watchdog each row took: its stats and services are built once, at the end.
    const took = new Map<string, WatchdogData>();
    const bucketMs = this.options.bucketS * 1000;
    const buckets = new Map<number, string>();
    const sampled: { c: string; b: string; ms: number; s: Sample }[] = [];
    for (const e of relevant) {
      const id = (e.data as { container_id: string }).container_id;
      const prev = after.get(id);
      if (e.type !== WATCHDOG) {
        const next = evolveHealth(prev, e);
        if (next && next !== prev) after.set(id, next);
        continue;
      }
      const d = e.data as WatchdogData;
      const at = serverTime(e);
      let draft = prev;
      if (draft && !owned.has(draft)) {
        draft = { ...draft };
        owned.add(draft);
      }
      const out = foldWatchdog(draft, d, at, e.globalPosition);
      if (!out.changed) continue;
      const next = out.row!;
      owned.add(next);
      after.set(id, next);
      if (out.took) took.set(id, d);
      const ms = Date.parse(at);
      const b = ms - (ms % bucketMs);
      let bucket = buckets.get(b);
      if (bucket === undefined) buckets.set(b, (bucket = new Date(b).toISOString()));
      sampled.push({ c: id, b: bucket, ms: b, s: sampleOfSystem(d.system) });
    }
    for (const [id, d] of took) Object.assign(after.get(id)!, statsAndServices(d));

    const changed = [...after.values()].filter((r) => r !== before.get(r.container_id));
    // Bounded history: per container, nothing older than the retention before its newest watchdog.
    // Samples already beyond it are not written, so the insert and the prune never meet on one row.
    const retentionMs = this.options.retentionH * 3_600_000;
    const cutoff = new Map(
      [...new Set(sampled.map((x) => x.c))].map((c) => [
        c,
        Date.parse(after.get(c)!.last_watchdog_at ?? '1970-01-01T00:00:00Z') - retentionMs,
      ]),
    );
    const kept = sampled.filter((x) => x.ms >= cutoff.get(x.c)!);
    if (!changed.length && !kept.length) return this.after(ctx, changed, before);
    // One statement for the rows, the samples and the pruning, sent with the checkpoint and COMMIT
    // (ctx.defer) as literal SQL: ids and times are checked uuids and ISO strings, numbers are
    // numbers or NULL (arrayLiteral), and the rows travel as one dollar-quoted JSON constant. The
    // pruning looks each container up in the primary key (container_id, bucket) through the
    // lateral join: as a plain join the planner hashed the whole samples table once per batch
    // (most containers have nothing to prune), which grew with the table.
    const upsertJson = JSON.stringify(changed.map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c]]))));
    const arrays = {
      c: sqlUuidArray(kept.map((x) => x.c)),
      b: sqlLiteral(arrayLiteral(kept, (x) => x.b)),
      l: sqlLiteral(arrayLiteral(kept, (x) => x.s.load1)),
      m: sqlLiteral(arrayLiteral(kept, (x) => x.s.memUsed)),
      d: sqlLiteral(arrayLiteral(kept, (x) => x.s.diskUsed)),
      p: sqlLiteral(arrayLiteral(kept, (x) => x.s.pingMs)),
      cut: sqlUuidArray([...cutoff.keys()]),
      cutoff: sqlLiteral(arrayLiteral([...cutoff.values()], (ms) => new Date(ms).toISOString())),
    };
    ctx.defer(
      `WITH upsert_health AS (
         INSERT INTO ${health} SELECT * FROM jsonb_populate_recordset(null::${health}, ${sqlLiteral(upsertJson)}::jsonb)
         ON CONFLICT (container_id) DO UPDATE SET ${COLUMNS.slice(1)
           .map((c) => `${c} = excluded.${c}`)
           .join(', ')}
         RETURNING 1
       ), upsert_samples AS (
         INSERT INTO ${samples} (container_id, bucket, samples, load1_sum, load1_n, mem_used_sum, mem_used_n, disk_used_sum, disk_used_n, ping_ms_sum, ping_ms_n)
         SELECT c, b, count(*), coalesce(sum(l), 0), count(l), coalesce(sum(m), 0), count(m), coalesce(sum(d), 0), count(d), coalesce(sum(p), 0), count(p)
           FROM unnest(${arrays.c}, ${arrays.b}::timestamptz[], ${arrays.l}::numeric[], ${arrays.m}::numeric[], ${arrays.d}::numeric[], ${arrays.p}::numeric[]) AS x(c, b, l, m, d, p)
          GROUP BY c, b
         ON CONFLICT (container_id, bucket) DO UPDATE SET
           samples = ${samples}.samples + excluded.samples,
           load1_sum = ${samples}.load1_sum + excluded.load1_sum, load1_n = ${samples}.load1_n + excluded.load1_n,
           mem_used_sum = ${samples}.mem_used_sum + excluded.mem_used_sum, mem_used_n = ${samples}.mem_used_n + excluded.mem_used_n,
           disk_used_sum = ${samples}.disk_used_sum + excluded.disk_used_sum, disk_used_n = ${samples}.disk_used_n + excluded.disk_used_n,
           ping_ms_sum = ${samples}.ping_ms_sum + excluded.ping_ms_sum, ping_ms_n = ${samples}.ping_ms_n + excluded.ping_ms_n
         RETURNING 1
       )
       DELETE FROM ${samples} WHERE ctid = ANY(ARRAY(
         SELECT t.ctid FROM unnest(${arrays.cut}, ${arrays.cutoff}::timestamptz[]) AS x(c, cutoff)
          CROSS JOIN LATERAL (SELECT ctid FROM ${samples} s WHERE s.container_id = x.c AND s.bucket < x.cutoff OFFSET 0) t))`,
    );
    return this.after(ctx, changed, before);
  }

  private after(ctx: ProjectionContext, changed: HealthRow[], before: Map<string, HealthRow>): AfterCommit | void {
    if (ctx.rebuilding || !this.options.onChanges) return;
    const changes: HealthChange[] = changed
      .filter((r) => r.status !== before.get(r.container_id)?.status)
      .map((r) => ({
        container_id: r.container_id,
        org_id: r.org_id,
        project_id: r.project_id,
        from: before.get(r.container_id)?.status ?? null,
        to: r.status,
        at: r.status_since,
        position: r.updated_position,
      }));
    if (!changes.length) return;
    const notify = this.options.onChanges;
    return () => notify(changes);
  }
}
