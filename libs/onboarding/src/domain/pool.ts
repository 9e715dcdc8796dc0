import { ConflictError, NotFoundError, UnavailableError } from '@app/common';
import { NODE_DRAINED, NODE_REGISTERED, NodeEvent, NodeRegisteredData } from './events';

export interface NodeLoad {
  nodeId: string;
  capacity: number;
  /** Live (not deleted) containers placed on the node. */
  load: number;
  drained: boolean;
}

/**
 * The placement rule: among nodes that are not drained and not full, the one with the lowest
 * load relative to its capacity; ties go to the node with more room left, then to the lower id
 * (deterministic). With no node registered at all, the configured default node. Capacity is a soft
 * limit: two registrations deciding at the same instant may both take a node's last place.
 */
export function placeContainer(nodes: NodeLoad[], defaultNodeId: string): string {
  if (!nodes.length) return defaultNodeId;
  const open = nodes.filter((n) => !n.drained && n.load < n.capacity);
  if (!open.length) throw new UnavailableError('no gateway node has room: every node is drained or full');
  open.sort(
    (a, b) => a.load / a.capacity - b.load / b.capacity || b.capacity - b.load - (a.capacity - a.load) || (a.nodeId < b.nodeId ? -1 : 1),
  );
  return open[0].nodeId;
}

export interface NodeState {
  version: number;
  registered?: NodeRegisteredData;
  drained: boolean;
}

export const initialNode = (): NodeState => ({ version: -1, drained: false });

export function evolveNode(s: NodeState, e: { type: string; data: unknown; streamVersion: number }): NodeState {
  if (e.type === NODE_REGISTERED) return { ...s, version: e.streamVersion, registered: e.data as NodeRegisteredData };
  if (e.type === NODE_DRAINED) return { ...s, version: e.streamVersion, drained: true };
  return { ...s, version: e.streamVersion };
}

export type NodeCommand = { type: 'register'; node: NodeRegisteredData } | { type: 'drain' };

/** Registering the same node again with the same values changes nothing; draining twice neither. */
export function decideNode(cmd: NodeCommand, s: NodeState): NodeEvent[] {
  if (cmd.type === 'register') {
    if (!s.registered) return [{ type: NODE_REGISTERED, data: cmd.node }];
    const r = s.registered;
    if (r.fqdn === cmd.node.fqdn && r.vpn_endpoint === cmd.node.vpn_endpoint && r.capacity === cmd.node.capacity) return [];
    throw ConflictError.of('node_id', 'is already registered with other values');
  }
  if (!s.registered) throw new NotFoundError('gateway node not found');
  return s.drained ? [] : [{ type: NODE_DRAINED, data: { node_id: s.registered.node_id } }];
}
