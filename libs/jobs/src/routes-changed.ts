/**
 * How the routing projection tells the nginx side that routes changed, without depending on it:
 * the projection calls `routesChanged` after its transaction commits (never during a rebuild);
 * the nginx module provides the listener (it enqueues a coalesced render job). A lost call is
 * repaired by the render job's periodic reconciliation from Postgres.
 */
export const ROUTES_CHANGED = Symbol('ROUTES_CHANGED');

export interface RoutesChangedListener {
  /**
   * `containerIds`: the containers whose routes rows changed (live routes push only theirs);
   * absent: anything may have changed (a full render).
   */
  routesChanged(reason: string, containerIds?: readonly string[]): Promise<void>;
}
