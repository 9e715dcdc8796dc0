import type { RenderRoute } from '@app/routing';
import { isDomain, isPort, isServiceName, isUuid, serviceFqdn, Cidr, inRanges } from '@app/common';

export interface RenderPolicy {
  domain: string;
  vpnRanges: readonly Cidr[];
}

/** A row the renderer refused, and why. The value itself is never echoed: it may be hostile. */
export interface SkippedRow {
  fqdn: string;
  reason: string;
}

export const NODE_ID_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** What a valid row contributes: its host names and where they go (an address, or offline). */
export interface CheckedRoute {
  hosts: string[];
  target: { kind: 'upstream'; address: string; protected: boolean } | { kind: 'offline' };
  gatewayNode: string | null;
}

/**
 * Re-checks every value of a row against the allow-lists. The host names are derived from the
 * checked ids, never copied from the `fqdn` column, and a row whose column disagrees is refused.
 */
export function checkRoute(row: RenderRoute, policy: RenderPolicy): { ok: true; route: CheckedRoute } | { ok: false; reason: string } {
  if (!isDomain(policy.domain)) return { ok: false, reason: 'platform domain is not a valid domain' };
  if (!isUuid(row.container_id)) return { ok: false, reason: 'container_id is not a uuid' };
  if (!isUuid(row.org_id)) return { ok: false, reason: 'org_id is not a uuid' };
  if (!isServiceName(row.service)) return { ok: false, reason: 'service is not an allowed service name' };
  if (!isPort(row.port)) return { ok: false, reason: 'port is not an integer 1-65535' };
  if (row.gateway_node !== null && !NODE_ID_RE.test(row.gateway_node))
    return { ok: false, reason: 'gateway_node is not an allowed node id' };
  const base = { containerId: row.container_id, orgId: row.org_id, domain: policy.domain };
  const fqdn = serviceFqdn({ ...base, service: row.service });
  if (row.fqdn !== fqdn) return { ok: false, reason: 'fqdn does not match container, org, service and domain' };
  const hosts = row.is_primary ? [fqdn, serviceFqdn(base)] : [fqdn];
  if (!row.active || row.vpn_address === null)
    return { ok: true, route: { hosts, target: { kind: 'offline' }, gatewayNode: row.gateway_node } };
  if (!inRanges(row.vpn_address, policy.vpnRanges))
    return { ok: false, reason: 'vpn_address is not an IPv4 address inside the VPN ranges' };
  return {
    ok: true,
    route: {
      hosts,
      target: { kind: 'upstream', address: `${row.vpn_address}:${row.port}`, protected: row.protected === true },
      gatewayNode: row.gateway_node,
    },
  };
}

/** Safe for nginx tokens even if a check above were wrong: the last line of defence. */
export const SAFE_HOST = /^[a-z0-9.-]{1,253}$/;
export const SAFE_VALUE = /^[a-z0-9.:_-]{1,64}$/;
