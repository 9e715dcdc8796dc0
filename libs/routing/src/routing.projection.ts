import { Logger } from '@nestjs/common';
import { isUuid, type Stored } from '@app/common';
import type { RecordedEvent } from '@app/event-store';
import type { RoutesChangedListener } from '@app/jobs';
import { ProjectionHandler, sqlLiteral, sqlUuidArray, type AfterCommit, type Projection, type ProjectionContext } from '@app/projections';
import { serverTime } from '@app/health';
import { evolveRouting, isRoutingEvent, RouteRow, RoutingOptions, routesOf, RoutingState } from './routing';

const STATE_COLUMNS = [
  'container_id',
  'org_id',
  'project_id',
  'gateway_node',
  'vpn_address',
  'services',
  'deleted',
  'withdrawn',
  'withdrawn_at',
  'returning_watchdogs',
  'last_watchdog_at',
  'updated_position',
] as const;
const ROUTE_COLUMNS = [
  'fqdn',
  'container_id',
  'org_id',
  'project_id',
  'service',
  'port',
  'is_primary',
  'vpn_address',
  'gateway_node',
  'active',
  'protected',
  'updated_position',
  'updated_at',
] as const;
const CONTENT = ROUTE_COLUMNS.filter((c) => c !== 'updated_position' && c !== 'updated_at');

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

type StoredState = Stored<RoutingState, 'withdrawn_at' | 'last_watchdog_at', 'updated_position'>;

function stateFromDb(r: StoredState): RoutingState {
  return {
    ...r,
    withdrawn_at: iso(r.withdrawn_at),
    last_watchdog_at: iso(r.last_watchdog_at),
    updated_position: String(r.updated_position),
  };
}

/** The batch's routing events with a valid container id, and their containers. */
function targetsOf(events: RecordedEvent[]): { relevant: RecordedEvent[]; ids: string[] } {
  const relevant = events.filter((e) => isRoutingEvent(e.type) && isUuid((e.data as { container_id?: unknown })?.container_id));
  return { relevant, ids: [...new Set(relevant.map((e) => (e.data as { container_id: string }).container_id))] };
}

function routeFromDb(r: Stored<RouteRow, 'updated_at', 'updated_position'>): RouteRow {
  return { ...r, updated_position: String(r.updated_position), updated_at: iso(r.updated_at)! };
}

/** What the routes depend on; a change elsewhere (last_watchdog_at, counters) leaves them alone. */
const routeInputs = (s: RoutingState | undefined) =>
  s ? JSON.stringify([s.org_id, s.project_id, s.gateway_node, s.vpn_address, s.services, s.deleted, s.withdrawn]) : '';
/** routeInputs(a) === routeInputs(b), without serialising when the fields are the same values (most watchdogs). */
const sameRouteInputs = (a: RoutingState | undefined, b: RoutingState) =>
  !!a &&
  ((a.org_id === b.org_id &&
    a.project_id === b.project_id &&
    a.gateway_node === b.gateway_node &&
    a.vpn_address === b.vpn_address &&
    a.services === b.services &&
    a.deleted === b.deleted &&
    a.withdrawn === b.withdrawn) ||
    routeInputs(a) === routeInputs(b));

export interface RoutingProjectionOptions extends RoutingOptions {
  domain: string;
  listener?: RoutesChangedListener | null;
}

/**
 * The routing read model: per-container state in routing_containers, one row per published service
 * in `routes` (read by the nginx render job). After a live batch that changed routes it calls the
 * ROUTES_CHANGED listener; a rebuild never does.
 */
@ProjectionHandler()
export class RoutingProjection implements Projection {
  readonly name = 'routing';
  readonly tables = ['routing_containers', 'routes'] as const;
  private readonly logger = new Logger('projection:routing');

  constructor(private readonly options: RoutingProjectionOptions) {}

  /** The batch's containers' states, read with the transaction's head (Projection.read). */
  read(events: RecordedEvent[], table: (logical: string) => string): string | null {
    const { ids } = targetsOf(events);
    return ids.length ? `SELECT * FROM ${table('routing_containers')} WHERE container_id = ANY(${sqlUuidArray(ids)})` : null;
  }

  async handle(events: RecordedEvent[], ctx: ProjectionContext): Promise<AfterCommit | void> {
    const { relevant } = targetsOf(events);
    if (!relevant.length) return;
    const stateTable = ctx.table('routing_containers');
    const routesTable = ctx.table('routes');

    // The batch's states came with the transaction's head (read above).
    const before = new Map<string, RoutingState>((ctx.rows as StoredState[]).map((r) => [r.container_id, stateFromDb(r)]));
    const after = new Map(before);
    // Pass 1: fold the states; remember the events that changed what the routes depend on.
    const routeSteps: { id: string; next: RoutingState; e: RecordedEvent }[] = [];
    for (const e of relevant) {
      const id = (e.data as { container_id: string }).container_id;
      const prev = after.get(id);
      const next = evolveRouting(prev, e, this.options);
      if (!next || next === prev) continue;
      after.set(id, next);
      if (!sameRouteInputs(prev, next)) routeSteps.push({ id, next, e });
    }
    // Pass 2 (only when some route may change: watchdogs alone never get here): diff the routes
    // event by event, so each row's updated_position is the event that last changed it.
    const touched = [...new Set(routeSteps.map((r) => r.id))];
    const routes = touched.length
      ? (await ctx.client.query(`SELECT * FROM ${routesTable} WHERE container_id = ANY($1::uuid[])`, [touched])).rows
      : [];
    const routesBefore = new Map<string, RouteRow>(routes.map((r) => [r.fqdn, routeFromDb(r)]));
    const current = new Map(routesBefore);
    for (const { id, next, e } of routeSteps) {
      const wanted = routesOf(next, this.options.domain);
      const keep = new Set(wanted.map((r) => r.fqdn));
      for (const [fqdn, r] of current) if (r.container_id === id && !keep.has(fqdn)) current.delete(fqdn);
      for (const w of wanted) {
        const old = current.get(w.fqdn);
        if (old && CONTENT.every((c) => old[c] === w[c])) continue;
        current.set(w.fqdn, { ...w, updated_position: e.globalPosition, updated_at: serverTime(e) });
      }
    }

    const changedStates = [...after.values()].filter((s) => s !== before.get(s.container_id));
    if (changedStates.length) {
      // Sent with the checkpoint and COMMIT (every watchdog of a known container moves its
      // last_watchdog_at): the states as one dollar-quoted JSON constant.
      const json = JSON.stringify(changedStates.map((s) => Object.fromEntries(STATE_COLUMNS.map((c) => [c, s[c]]))));
      ctx.defer(
        `INSERT INTO ${stateTable} SELECT * FROM jsonb_populate_recordset(null::${stateTable}, ${sqlLiteral(json)}::jsonb)
         ON CONFLICT (container_id) DO UPDATE SET ${STATE_COLUMNS.slice(1)
           .map((c) => `${c} = excluded.${c}`)
           .join(', ')}`,
      );
    }
    const removed = [...routesBefore.keys()].filter((f) => !current.has(f));
    const upserts = [...current.values()].filter((r) => r !== routesBefore.get(r.fqdn));
    if (removed.length) await ctx.client.query(`DELETE FROM ${routesTable} WHERE fqdn = ANY($1::text[])`, [removed]);
    if (upserts.length) {
      // A service whose FQDN changed (org corrected by registration) must free its (container, service) slot first.
      await ctx.client.query(
        `DELETE FROM ${routesTable} r USING jsonb_to_recordset($1::jsonb) AS x(fqdn text, container_id uuid, service text)
          WHERE r.container_id = x.container_id AND r.service = x.service AND r.fqdn <> x.fqdn`,
        [JSON.stringify(upserts.map((r) => ({ fqdn: r.fqdn, container_id: r.container_id, service: r.service })))],
      );
      await ctx.client.query(
        `INSERT INTO ${routesTable} (${ROUTE_COLUMNS.join(', ')})
         SELECT ${ROUTE_COLUMNS.join(', ')} FROM jsonb_populate_recordset(null::${routesTable}, $1::jsonb)
         ON CONFLICT (fqdn) DO UPDATE SET ${ROUTE_COLUMNS.slice(1)
           .map((c) => `${c} = excluded.${c}`)
           .join(', ')}`,
        [JSON.stringify(upserts)],
      );
    }

    const listener = this.options.listener;
    if (ctx.rebuilding || !listener || !(removed.length || upserts.length)) return;
    const reason = `routing projection: ${upserts.length} upserted, ${removed.length} removed`;
    const changed = [...new Set([...removed.map((f) => routesBefore.get(f)!.container_id), ...upserts.map((r) => r.container_id)])];
    return async () => {
      await listener
        .routesChanged(reason, changed)
        .catch((err) => this.logger.warn(`ROUTES_CHANGED listener failed: ${(err as Error).message}`));
    };
  }
}
