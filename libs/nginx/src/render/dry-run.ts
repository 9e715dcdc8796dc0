import { readFile } from 'node:fs/promises';
import type { Pool } from 'pg';
import type { NginxConfig } from '@app/config';
import { readRenderRoutes } from '@app/routing';
import { SetHash } from '../domain/live-routes';
import { diffMapEntries, parseMapFile, type RenderDiff } from '../domain/render-diff';
import { NodeRenderPolicy } from '../domain/render-node';
import { LiveClient } from '../infra/live-client';
import { NginxControl } from '../infra/nginx-control';

/**
 * `ops render --diff`: what the next render of this node would change against what its nginx
 * serves now. The next render is the worker's own pure render of the routes table (the same
 * checks, the same refused rows); what nginx serves is its shared dict (live routes, read over the
 * route channel) or the rendered map it loaded, confirmed against the hash nginx reports.
 * Reads only: nothing is written, nginx is not reloaded.
 */
export async function renderDryRun(pool: Pool, config: NginxConfig, domain: string): Promise<RenderDiff> {
  const policy = new NodeRenderPolicy(config, domain);
  const next = policy.render(await readRenderRoutes(pool));
  const base = { node: config.nodeId, stage: config.stage };

  if (config.liveSocket && policy.live) {
    const socket = config.liveSocket;
    const { state, entries } = await new LiveClient(socket, config.commandTimeoutMs).dump().catch((err: Error) => {
      throw new Error(`cannot read what nginx serves: nginx's route channel ${socket}: ${err.message}`);
    });
    if (state.ready) {
      const want = next.entries!.entries;
      return {
        ...base,
        served: {
          source: 'live',
          routes: entries.size,
          hash: state.hash,
          generation: state.generation,
          confirmed: SetHash.of(entries).hex() === state.hash && entries.size === state.count,
        },
        next: { routes: want.size, hash: SetHash.of(want).hex(), skipped: next.file.skipped },
        ...diffMapEntries(entries, want),
      };
    }
    // Not ready (no snapshot since nginx started): it answers from the map file it loaded.
    return {
      ...base,
      ...(await againstMapFile(
        config,
        next.file,
        state.map_hash || null,
        'live routes not ready since nginx started: it answers from its map file',
      )),
    };
  }
  const serving = await new NginxControl(config).servingHash();
  return {
    ...base,
    ...(await againstMapFile(config, next.file, serving, serving === null ? `no answer from ${config.statusUrl}` : undefined)),
  };
}

async function againstMapFile(
  config: NginxConfig,
  file: { text: string; hash: string; skipped: RenderDiff['next']['skipped'] },
  serving: string | null,
  note?: string,
): Promise<Omit<RenderDiff, 'node' | 'stage'>> {
  const text = await readFile(config.mapPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const served = parseMapFile(text);
  const want = parseMapFile(file.text).entries;
  const confirmed = served.hash !== null && served.hash === serving;
  return {
    served: {
      source: 'map-file',
      routes: served.entries.size,
      hash: served.hash,
      confirmed,
      note:
        note ??
        (text === ''
          ? `${config.mapPath} does not exist yet`
          : confirmed
            ? undefined
            : `nginx reports hash ${serving}, not the one of ${config.mapPath}: a render is half way, or nginx has not reloaded it`),
    },
    next: { routes: want.size, hash: file.hash, skipped: file.skipped },
    ...diffMapEntries(served.entries, want),
  };
}
