import { evolveRouting, isRoutingEvent, RouteRow, RoutingEvent, RoutingOptions, routesOf, RoutingState } from './routing';

/** A route as time travel answers it: the read model's row without the bookkeeping of the table. */
export type RouteAt = Omit<RouteRow, 'updated_position' | 'updated_at'>;

/**
 * Folds events (in the log's order) into per-container routing states with the projection's own
 * evolve, so the routes at a position are exactly what the routing read model held there.
 */
export function foldRouting(
  states: Map<string, RoutingState>,
  events: Iterable<RoutingEvent>,
  o: RoutingOptions,
): Map<string, RoutingState> {
  for (const e of events) {
    if (!isRoutingEvent(e.type)) continue;
    const id = (e.data as { container_id?: unknown })?.container_id;
    if (typeof id !== 'string') continue;
    const next = evolveRouting(states.get(id), e, o);
    if (next) states.set(id, next);
  }
  return states;
}

/** Every route the folded states publish, by FQDN (the first wins, as in the read model). */
export function routesAt(states: Map<string, RoutingState>, domain: string): RouteAt[] {
  const byFqdn = new Map<string, RouteAt>();
  for (const s of states.values()) for (const r of routesOf(s, domain)) if (!byFqdn.has(r.fqdn)) byFqdn.set(r.fqdn, r);
  return [...byFqdn.values()].sort((a, b) => (a.fqdn < b.fqdn ? -1 : a.fqdn > b.fqdn ? 1 : 0));
}

export interface RoutesDiff {
  added: RouteAt[];
  removed: RouteAt[];
  changed: { fqdn: string; before: RouteAt; after: RouteAt; fields: (keyof RouteAt)[] }[];
}

const FIELDS: (keyof RouteAt)[] = [
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
];

/** What changed between two moments' routes: added, removed, and changed with the fields that did. */
export function diffRoutes(before: RouteAt[], after: RouteAt[]): RoutesDiff {
  const old = new Map(before.map((r) => [r.fqdn, r]));
  const now = new Map(after.map((r) => [r.fqdn, r]));
  const diff: RoutesDiff = { added: [], removed: [], changed: [] };
  for (const [fqdn, r] of now) {
    const b = old.get(fqdn);
    if (!b) diff.added.push(r);
    else {
      const fields = FIELDS.filter((f) => b[f] !== r[f]);
      if (fields.length) diff.changed.push({ fqdn, before: b, after: r, fields });
    }
  }
  for (const [fqdn, r] of old) if (!now.has(fqdn)) diff.removed.push(r);
  return diff;
}
