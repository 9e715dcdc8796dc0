import { EventStore } from '@app/event-store';
import { HealthProjection } from '@app/health';
import { RoutingProjection } from '@app/routing';
import { REBUILD_PAGE_EVENTS, rebuildProjections, type Projection, type RebuildResult } from '@app/projections';
import type { AppConfig } from '@app/config';
import { EXIT, print, UsageError, type OpsContext } from '../cli';
import { Progress } from '../progress';

/** The projections `ops replay` can rebuild, built as the gateway builds them but without side effects. */
export function replayableProjections(config: AppConfig): Record<string, Projection> {
  return {
    health: new HealthProjection({ bucketS: config.health.historyBucketS, retentionH: config.health.historyRetentionH }),
    routing: new RoutingProjection({
      domain: config.platformDomain,
      restoreWatchdogs: config.health.routesRestoreWatchdogs,
      listener: null,
    }),
  };
}

/**
 * `ops replay <projection>`: the same rebuild as POST /projections/{name}/rebuild (fresh tables,
 * then a swap under the live checkpoint's lock), with progress on stderr.
 */
export async function replayCommand(ctx: OpsContext): Promise<number> {
  const { values, positionals } = ctx.parse({ batch: { type: 'string' } }, true);
  const all = replayableProjections(ctx.config);
  if (positionals.length !== 1) throw new UsageError(`name one projection: ${[...Object.keys(all), 'all'].join(', ')}`);
  const names = positionals[0] === 'all' ? Object.keys(all) : [positionals[0]];
  for (const n of names)
    if (!all[n])
      throw new UsageError(`unknown projection "${n}" (known: ${Object.keys(all).join(', ')}; the audit seal is never replayed)`);
  const batchSize = values.batch === undefined ? REBUILD_PAGE_EVENTS : Number(values.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000)
    throw new UsageError('--batch must be an integer from 1 to 100000');

  const store = new EventStore(ctx.pool, { maxBatchEvents: 1, maxInFlight: 1 });
  const total = Number((await ctx.pool.query(`SELECT count(*) AS n FROM events`)).rows[0].n);
  // One pass over the log feeds every named projection.
  const progress = new Progress(`replay ${names.join('+')}`, total);
  const started = Date.now();
  const rebuilt = await rebuildProjections(
    ctx.pool,
    store,
    names.map((n) => all[n]),
    { batchSize, onProgress: (p) => progress.update(p.events) },
  );
  progress.done();
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  const results: (RebuildResult & { events_per_s: number })[] = rebuilt.map((r) => ({
    ...r,
    events_per_s: Math.round(r.events / seconds),
  }));
  print(!!values.json, names.length === 1 ? results[0] : { results }, () =>
    results
      .map(
        (r) =>
          `${r.projection}: ${r.events} events replayed in ${(r.ms / 1000).toFixed(2)} s (${r.events_per_s} events/s), swapped in at position ${r.checkpoint.globalPosition}\n`,
      )
      .join(''),
  );
  return EXIT.ok;
}
