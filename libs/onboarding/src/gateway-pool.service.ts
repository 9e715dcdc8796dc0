import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { z } from 'zod';
import { APP_CONFIG, AppConfig, isVpnEndpoint } from '@app/config';
import { PG_POOL } from '@app/database';
import { isDomain, NotFoundError, parseInput } from '@app/common';
import { ConcurrencyError, EventStore } from '@app/event-store';
import { nodeStream } from './domain/events';
import { decideNode, evolveNode, initialNode, NodeCommand, NodeLoad } from './domain/pool';
import { NODE_ID_RE } from './domain/vpn-files';
import type { Actor } from './actor';

export const registerNodeBody = z.strictObject({
  node_id: z.string().regex(NODE_ID_RE, 'must match ^[a-z0-9][a-z0-9-]{0,62}$'),
  fqdn: z.string().refine(isDomain, 'must be a lower-case DNS name'),
  vpn_endpoint: z.string().refine(isVpnEndpoint, 'must be host:port (lower-case DNS name or IPv4, port 1-65535)'),
  capacity: z.number().int('must be an integer').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000'),
});

/** The gateway pool: nodes registered and drained as events on `gateway-node-{id}`. */
@Injectable()
export class GatewayPoolService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async register(body: unknown, actor: Actor): Promise<{ status: 'registered' | 'unchanged'; node: Record<string, unknown> }> {
    const node = parseInput(registerNodeBody, body);
    const changed = await this.handle(node.node_id, { type: 'register', node }, actor);
    return { status: changed ? 'registered' : 'unchanged', node: await this.one(node.node_id) };
  }

  async drain(nodeId: string, actor: Actor): Promise<{ status: 'drained' | 'unchanged'; node: Record<string, unknown> }> {
    const changed = await this.handle(nodeId, { type: 'drain' }, actor);
    return { status: changed ? 'drained' : 'unchanged', node: await this.one(nodeId) };
  }

  async list(): Promise<Record<string, unknown>[]> {
    const { rows } = await this.pool.query(`${LIST} ORDER BY n.node_id`);
    return rows;
  }

  /** Live load of every registered node, for the placement rule. */
  async loads(): Promise<NodeLoad[]> {
    const { rows } = await this.pool.query(LIST);
    return rows.map((r) => ({ nodeId: r.node_id, capacity: r.capacity, load: r.load, drained: r.drained }));
  }

  /** The FQDN and VPN endpoint of a node, or of the configured default node. */
  async endpointOf(nodeId: string): Promise<{ fqdn: string; vpnEndpoint: string }> {
    const { rows } = await this.pool.query(`SELECT fqdn, vpn_endpoint FROM gateway_nodes WHERE node_id = $1`, [nodeId]);
    if (rows[0]) return { fqdn: rows[0].fqdn, vpnEndpoint: rows[0].vpn_endpoint };
    const d = this.config.onboarding.defaultNode;
    return { fqdn: d.fqdn, vpnEndpoint: d.vpnEndpoint };
  }

  private async one(nodeId: string): Promise<Record<string, unknown>> {
    const { rows } = await this.pool.query(`${LIST} HAVING n.node_id = $1`, [nodeId]);
    if (!rows[0]) throw new NotFoundError('gateway node not found');
    return rows[0];
  }

  private async handle(nodeId: string, cmd: NodeCommand, actor: Actor): Promise<boolean> {
    const stream = nodeStream(nodeId);
    for (let attempt = 1; ; attempt++) {
      const state = (await this.store.readStream(stream)).reduce(evolveNode, initialNode());
      const events = decideNode(cmd, state);
      if (!events.length) return false;
      try {
        await this.store.append(
          stream,
          events.map((e) => ({ ...e, metadata: actor.metadata })),
          state.version === -1 ? 'no_stream' : state.version,
        );
        return true;
      } catch (err) {
        if (err instanceof ConcurrencyError && attempt < 5) continue;
        throw err;
      }
    }
  }
}

const LIST = `
  SELECT n.node_id, n.fqdn, n.vpn_endpoint, n.capacity, n.registered_at, n.drained_at, n.drained_at IS NOT NULL AS drained,
         count(c.container_id)::int AS load
  FROM gateway_nodes n
  LEFT JOIN onboarded_containers c ON c.gateway_node = n.node_id AND c.deleted_at IS NULL
  GROUP BY n.node_id`;
