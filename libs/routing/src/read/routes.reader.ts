import type { Pool } from 'pg';
import type { RouteRow } from '../routing';

/** What the nginx renderers read of a route (every value re-checked before it reaches a config). */
export type RenderRoute = Pick<
  RouteRow,
  'fqdn' | 'container_id' | 'org_id' | 'service' | 'port' | 'is_primary' | 'vpn_address' | 'gateway_node' | 'active'
> &
  Partial<Pick<RouteRow, 'protected'>>;

/** A container's routes as its dashboard page shows them. */
export type ContainerRoute = Pick<
  RouteRow,
  'fqdn' | 'service' | 'port' | 'is_primary' | 'active' | 'vpn_address' | 'gateway_node' | 'updated_at'
>;

/**
 * Every route (or those of `containerIds`: live routes' deltas), as the nginx renderers take them
 * (addresses as text), by fqdn: the first row of a doubled host is the same one in every render and delta.
 */
export async function readRenderRoutes(pool: Pool, containerIds?: readonly string[]): Promise<RenderRoute[]> {
  const { rows } = await pool.query<RenderRoute>(
    `SELECT fqdn, container_id::text AS container_id, org_id::text AS org_id, service, port, is_primary,
            host(vpn_address) AS vpn_address, gateway_node, active, protected
       FROM routes ${containerIds ? 'WHERE container_id = ANY($1::uuid[])' : ''} ORDER BY fqdn`,
    containerIds ? [containerIds] : [],
  );
  return rows;
}

/** One container's routes, the primary first. */
export async function readContainerRoutes(pool: Pool, containerId: string): Promise<ContainerRoute[]> {
  const { rows } = await pool.query<ContainerRoute>(
    `SELECT fqdn, service, port, is_primary, active, vpn_address, gateway_node, updated_at
       FROM routes WHERE container_id = $1 ORDER BY is_primary DESC, service`,
    [containerId],
  );
  return rows;
}
