import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { containerStream, watchdogStream } from '@app/container-events';
import { HEALTH_LAPSED } from '@app/health';
import { actorOf, summarize, watchdogHealth } from './domain/timeline';
import { encodeCursor, type AuditFilters, type AuditQuery } from './domain/filters';

export interface AuditItem {
  position: string;
  recorded_at: string;
  stream_id: string;
  event_id: string;
  type: string;
  actor: string | null;
  container_id: string | null;
  org_id: string | null;
  project_id: string | null;
  data: unknown;
  metadata: unknown;
}

const SELECT = `SELECT global_position::text AS position, recorded_at, stream_id, event_id::text AS event_id, event_type,
  data, metadata FROM events`;

/** WHERE clause for the filters; $1.. parameters. Container filters use the streams' index, time prunes partitions. */
export function whereOf(f: AuditFilters, after: string | null): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const and: string[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (f.container) and.push(`stream_id = ANY(${p([containerStream(f.container), watchdogStream(f.container)])}::text[])`);
  if (f.org) and.push(`data->>'org_id' = ${p(f.org)}`);
  if (f.project) and.push(`data->>'project_id' = ${p(f.project)}`);
  if (f.type) and.push(`event_type = ANY(${p(f.type)}::text[])`);
  if (f.actor) {
    const [type, ...rest] = f.actor.includes(':') ? f.actor.split(':') : [null, f.actor];
    and.push(`metadata->'actor'->>'id' = ${p(rest.join(':'))}`);
    if (type) and.push(`metadata->'actor'->>'type' = ${p(type)}`);
  }
  if (f.from) and.push(`recorded_at >= ${p(f.from)}`);
  if (f.to) and.push(`recorded_at < ${p(f.to)}`);
  if (after) and.push(`global_position > ${p(after)}::bigint`);
  return { where: and.length ? `WHERE ${and.join(' AND ')}` : '', params };
}

/** An event as the audit queries select it (position as text). */
interface EventRow {
  position: string;
  recorded_at: Date | string;
  stream_id: string;
  event_id: string;
  event_type: string;
  data: Record<string, unknown> | null;
  metadata: unknown;
}

export function toItem(r: EventRow): AuditItem {
  const d = r.data ?? {};
  const s = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    position: r.position,
    recorded_at: new Date(r.recorded_at).toISOString(),
    stream_id: r.stream_id,
    event_id: r.event_id,
    type: r.event_type,
    actor: actorOf(r.metadata),
    container_id: s(d.container_id),
    org_id: s(d.org_id),
    project_id: s(d.project_id),
    data: r.data,
    metadata: r.metadata,
  };
}

/** One page in log position order; next_cursor is null on the last page. */
export async function searchEvents(pool: Pool, q: AuditQuery): Promise<{ items: AuditItem[]; next_cursor: string | null }> {
  const { where, params } = whereOf(q, q.cursor ?? null);
  const { rows } = await pool.query<EventRow>(`${SELECT} ${where} ORDER BY global_position LIMIT ${q.limit + 1}`, params);
  const items = rows.slice(0, q.limit).map(toItem);
  return { items, next_cursor: rows.length > q.limit ? encodeCursor(items[items.length - 1].position) : null };
}

/** Every matching event in position order, read in keyset pages: memory stays bounded by one page. */
export async function* eachEvent(pool: Pool, f: AuditFilters, pageSize = 2_000): AsyncGenerator<AuditItem> {
  let after: string | null = null;
  for (;;) {
    const { where, params } = whereOf(f, after);
    const { rows } = await pool.query<EventRow>(`${SELECT} ${where} ORDER BY global_position LIMIT ${pageSize}`, params);
    for (const r of rows) yield toItem(r);
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1].position;
  }
}

/**
 * NDJSON of every matching event. A pull stream: the next page is read only when the consumer
 * (an HTTP socket, a file) has drained the previous one, so a slow client holds one page at most.
 */
export function exportNdjson(pool: Pool, f: AuditFilters): Readable {
  const items = eachEvent(pool, f);
  return Readable.from(
    (async function* () {
      for await (const item of items) yield `${JSON.stringify(item)}\n`;
    })(),
    { objectMode: false, highWaterMark: 64 * 1024 },
  );
}

export interface TimelineItem {
  position: string;
  recorded_at: string;
  type: string;
  actor: string | null;
  summary: string;
  data: unknown;
}

/**
 * A container's state changes: its `container-` stream (registration, tokens, VPN, services,
 * lapses, deletion) and, of its watchdogs, only those that changed its health: the first, each
 * healthy <-> degraded change (found by PostgreSQL with a window over the stream), and the first
 * after each lapse.
 */
export async function containerTimeline(pool: Pool, containerId: string): Promise<{ container_id: string; items: TimelineItem[] } | null> {
  const life = await pool.query<Omit<EventRow, 'stream_id' | 'event_id'>>(
    `SELECT global_position::text AS position, recorded_at, event_type, data, metadata FROM events
      WHERE stream_id = $1 ORDER BY stream_version`,
    [containerStream(containerId)],
  );
  const wd = watchdogStream(containerId);
  const transitions = await pool.query<Omit<EventRow, 'stream_id' | 'event_id'> & { prev: boolean | null }>(
    `SELECT position, recorded_at, event_type, data, metadata, prev FROM (
       SELECT global_position::text AS position, global_position, recorded_at, event_type, data, metadata,
              lag(h) OVER (ORDER BY stream_version) AS prev, h
         FROM (SELECT *, coalesce(jsonb_path_exists(data, '$.services[*] ? (@.healthy == false)'), false) AS h
                 FROM events WHERE stream_id = $1) w) x
      WHERE prev IS NULL OR prev <> h
      ORDER BY global_position`,
    [wd],
  );
  const lapses = life.rows.filter((r) => r.event_type === HEALTH_LAPSED).map((r) => r.position);
  const resumed = lapses.length
    ? await pool.query<Omit<EventRow, 'stream_id' | 'event_id'>>(
        `SELECT DISTINCT ON (l.p) w.global_position::text AS position, w.recorded_at, w.event_type, w.data, w.metadata
           FROM unnest($2::bigint[]) AS l(p)
           JOIN LATERAL (SELECT * FROM events WHERE stream_id = $1 AND global_position > l.p ORDER BY stream_version LIMIT 1) w ON true`,
        [wd, lapses],
      )
    : { rows: [] };
  if (!life.rows.length && !transitions.rows.length) return null;

  const seen = new Set<string>();
  const items: TimelineItem[] = [];
  const add = (r: Omit<EventRow, 'stream_id' | 'event_id'>, transition?: 'first' | 'recovered' | 'healthy' | 'degraded') => {
    if (seen.has(r.position)) return;
    const actor = actorOf(r.metadata);
    const summary = summarize({ type: r.event_type, data: r.data ?? {}, actor, transition });
    if (!summary) return;
    seen.add(r.position);
    items.push({
      position: r.position,
      recorded_at: new Date(r.recorded_at).toISOString(),
      type: r.event_type,
      actor,
      summary,
      data: r.data,
    });
  };
  for (const r of life.rows) add(r);
  for (const r of resumed.rows) add(r, 'recovered');
  for (const r of transitions.rows) add(r, r.prev === null ? 'first' : watchdogHealth(r.data ?? {}));
  items.sort((a, b) => (BigInt(a.position) < BigInt(b.position) ? -1 : 1));
  return { container_id: containerId, items };
}
