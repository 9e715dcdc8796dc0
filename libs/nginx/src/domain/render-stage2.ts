import type { RenderRoute } from '@app/routing';
import { checkRoute, RenderPolicy, SkippedRow } from './route';
import { MapFile, renderMapFile } from './render-map';

export const UPSTREAM_VARIABLE = 'collab_upstream';
/** Map values the server config answers itself instead of proxying. */
export const OFFLINE = 'offline';
export const UNKNOWN = 'unknown';
/**
 * A protected route's value is `sso:<address>:<port>`: the Stage 2 config derives the proxy target
 * and the auth_request switch from it, so the map file keeps one entry per host.
 */
export const PROTECTED_PREFIX = 'sso:';

/**
 * Stage 2 (each gateway node): Host -> container VPN address:port for every active route of this
 * node (`sso:address:port` when the route is protected); inactive routes (or ones without an address yet) -> `offline`; anything else -> `unknown`.
 * `node` filters by gateway_node (null rows belong to the default node).
 */
export function renderStage2Map(rows: readonly RenderRoute[], policy: Stage2Policy): MapFile {
  const { pairs, skipped } = stage2Pairs(rows, policy);
  return renderMapFile('Stage 2: Host -> container VPN address', UPSTREAM_VARIABLE, UNKNOWN, pairs, skipped);
}

export type Stage2Policy = RenderPolicy & { node?: { id: string; isDefault: boolean } };
export interface Stage2Pair {
  host: string;
  value: string;
  containerId: string;
}

/** Every row re-checked against the allow-lists, as (host, value) pairs of this node; refused rows reported. */
export function stage2Pairs(rows: readonly RenderRoute[], policy: Stage2Policy): { pairs: Stage2Pair[]; skipped: SkippedRow[] } {
  const skipped: SkippedRow[] = [];
  const pairs: Stage2Pair[] = [];
  for (const row of rows) {
    const checked = checkRoute(row, policy);
    if (!checked.ok) {
      skipped.push({ fqdn: printable(row.fqdn), reason: checked.reason });
      continue;
    }
    const { route } = checked;
    if (policy.node) {
      const mine = route.gatewayNode === null ? policy.node.isDefault : route.gatewayNode === policy.node.id;
      if (!mine) continue;
    }
    const t = route.target;
    const value = t.kind === 'upstream' ? (t.protected ? PROTECTED_PREFIX : '') + t.address : OFFLINE;
    for (const host of route.hosts) pairs.push({ host, value, containerId: row.container_id });
  }
  return { pairs, skipped };
}

/** A refused row is reported by its fqdn only when that is plain text; never echo hostile bytes. */
export function printable(v: unknown): string {
  return typeof v === 'string' && /^[a-z0-9.-]{1,253}$/.test(v) ? v : '(unprintable)';
}
