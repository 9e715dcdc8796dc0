/**
 * How the routing projection tells the nginx side that routes changed, without depending on it:
 * the projection calls `routesChanged` after its transaction commits (never during a rebuild);
 * the nginx module provides the listener (it enqueues a coalesced render job). A lost call is
 * repaired by the render job's periodic reconciliation from Postgres.
 */
export const ROUTES_CHANGED = Symbol('ROUTES_CHANGED');

export interface RoutesChangedListener {
  routesChanged(reason: string): Promise<void>;
}
