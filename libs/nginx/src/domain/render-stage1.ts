import type { RenderRoute } from '@app/routing';
import { checkRoute, NODE_ID_RE, RenderPolicy, SkippedRow } from './route';
import { MapFile, renderMapFile } from './render-map';
import { printable } from './render-stage2';

export const GATEWAY_VARIABLE = 'collab_gateway';

export interface GatewayNode {
  id: string;
  /** host:port of that node's Stage 2 nginx. */
  address: string;
}

const ADDRESS_RE = /^[a-z0-9.-]{1,253}:\d{1,5}$/;

/**
 * Stage 1 (the TLS edge): FQDN -> the upstream of the gateway node serving the container, for
 * every route, active or not (the node answers offline itself). Unknown hosts go to the default
 * node, which answers them as unknown. Rows naming a node that is not configured are refused.
 */
export function renderStage1Map(
  rows: readonly RenderRoute[],
  policy: RenderPolicy & { nodes: readonly GatewayNode[]; defaultNode: string },
): MapFile {
  const skipped: SkippedRow[] = [];
  const nodes = policy.nodes.filter((n) => NODE_ID_RE.test(n.id) && ADDRESS_RE.test(n.address));
  const known = new Set(nodes.map((n) => n.id));
  if (!known.has(policy.defaultNode)) throw new Error(`default gateway node ${policy.defaultNode} is not configured`);
  const pairs: { host: string; value: string }[] = [];
  for (const row of rows) {
    const checked = checkRoute(row, policy);
    if (!checked.ok) {
      skipped.push({ fqdn: printable(row.fqdn), reason: checked.reason });
      continue;
    }
    const node = checked.route.gatewayNode ?? policy.defaultNode;
    if (!known.has(node)) {
      skipped.push({ fqdn: printable(row.fqdn), reason: 'gateway_node is not a configured node' });
      continue;
    }
    for (const host of checked.route.hosts) pairs.push({ host, value: upstreamName(node) });
  }
  const upstreams = nodes.map((n) => `upstream ${upstreamName(n.id)} {\n    server ${n.address};\n    keepalive 16;\n}\n`).join('');
  return renderMapFile('Stage 1: FQDN -> gateway node', GATEWAY_VARIABLE, upstreamName(policy.defaultNode), pairs, skipped, upstreams);
}

export function upstreamName(node: string): string {
  return `gateway_${node.replace(/-/g, '_')}`;
}
