/**
 * The routes of one container, for its dashboard page. The routing lib owns the `routes` table and
 * provides this (RoutingModule); health cannot import routing, which consumes health's events.
 */
export const CONTAINER_ROUTES = Symbol('CONTAINER_ROUTES');

export interface ContainerRoutes {
  of(containerId: string): Promise<{ service: string; port: number; fqdn: string }[]>;
  /** The container's routes as they stood at a log position (folded from the log). */
  at(containerId: string, position: string): Promise<{ service: string; port: number; fqdn: string; active: boolean }[]>;
}
