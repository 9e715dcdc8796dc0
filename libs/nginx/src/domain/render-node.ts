import type { NginxConfig } from '@app/config';
import type { RenderRoute } from '@app/routing';
import { parseCidr } from '@app/common';
import { liveEntries, type LiveEntries } from './live-routes';
import { renderMapFile, type MapFile } from './render-map';
import { renderStage1Map } from './render-stage1';
import { stage2Pairs, UNKNOWN, UPSTREAM_VARIABLE } from './render-stage2';

export type NodeRenderConfig = Pick<NginxConfig, 'stage' | 'nodeId' | 'defaultGatewayNode' | 'gatewayNodes' | 'vpnRanges' | 'liveSocket'>;

/** What one node renders from the routes rows: its map file and, with live routes (Stage 2), the entries nginx serves. */
export interface NodeRender {
  file: MapFile;
  entries?: LiveEntries;
}

/**
 * The one pure render of a node from its rows, shared by the worker's renders and `ops render
 * --diff`: Stage 1 maps hosts to gateway nodes, Stage 2 to container VPN addresses.
 */
export class NodeRenderPolicy {
  private readonly ranges;

  constructor(
    private readonly config: NodeRenderConfig,
    private readonly domain: string,
  ) {
    this.ranges = config.vpnRanges.map(parseCidr);
  }

  get live(): boolean {
    return !!this.config.liveSocket && this.config.stage === 'stage2';
  }

  render(rows: readonly RenderRoute[]): NodeRender {
    const policy = { domain: this.domain, vpnRanges: this.ranges };
    if (this.config.stage === 'stage1') {
      return {
        file: renderStage1Map(rows, { ...policy, nodes: this.config.gatewayNodes, defaultNode: this.config.defaultGatewayNode }),
      };
    }
    const { pairs, skipped } = stage2Pairs(rows, this.stage2());
    const file = renderMapFile('Stage 2: Host -> container VPN address', UPSTREAM_VARIABLE, UNKNOWN, pairs, skipped);
    return { file, entries: this.live ? liveEntries(pairs) : undefined };
  }

  /** Live routes: the entries of some containers' rows (a delta). */
  liveEntries(rows: readonly RenderRoute[]): LiveEntries {
    return liveEntries(stage2Pairs(rows, this.stage2()).pairs);
  }

  private stage2() {
    const node = { id: this.config.nodeId, isDefault: this.config.nodeId === this.config.defaultGatewayNode };
    return { domain: this.domain, vpnRanges: this.ranges, node };
  }
}
