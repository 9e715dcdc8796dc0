import { readFile } from 'node:fs/promises';
import type Redis from 'ioredis';
import type { Pool } from 'pg';
import type { NginxConfig } from '@app/config';
import { safeSwap, SwapError, SwapSteps } from '@app/common';
import { readRenderRoutes } from '@app/routing';
import { declaredHash, MapFile } from '../domain/render-map';
import { NodeRenderPolicy } from '../domain/render-node';
import { SkippedRow } from '../domain/route';
import { LiveClient } from '../infra/live-client';
import { NginxControl } from '../infra/nginx-control';
import { nginxMetrics as m } from '../metrics';
import { LivePusher } from './live-pusher';
import { withRedisLock } from '@app/redis';

export interface RenderResult {
  outcome: 'swapped' | 'unchanged' | 'failed';
  hash?: string;
  routes: number;
  skipped: SkippedRow[];
  failedStage?: string;
  error?: string;
  durationMs: number;
}

export const pendingKey = (redisPrefix: string, node: string) => `${redisPrefix}:nginx:pending-since:${node}`;
/** Live routes: the containers whose routes changed since the last delta (a Redis set). */
export const pendingContainersKey = (redisPrefix: string, node: string) => `${redisPrefix}:nginx:pending-containers:${node}`;

export interface DeltaResult {
  outcome: 'applied' | 'unchanged' | 'snapshot' | 'failed';
  containers: number;
  durationMs: number;
  error?: string;
}

const lockKey = (redisPrefix: string, node: string) => `${redisPrefix}:nginx:lock:${node}`;

/**
 * One render of this node's nginx from the routes table: read -> pure render -> safe swap
 * (nginx -t, reload, confirm the served hash) -> record the state. One at a time per node
 * (a Redis lock), so a reconciliation and a change-triggered job never interleave.
 */
export class NginxRenderer {
  private readonly policy: NodeRenderPolicy;
  /** Live routes (NGINX_ROUTES_SOCKET, Stage 2): changes go through nginx's shared dict, never a reload. */
  readonly live: LivePusher | null;

  constructor(
    private readonly pool: Pool,
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly config: NginxConfig,
    domain: string,
    private readonly control: NginxControl,
    /** Test seam, passed to the swap. */
    private readonly beforeCommit?: SwapSteps['beforeCommit'],
  ) {
    this.policy = new NodeRenderPolicy(config, domain);
    this.live =
      config.liveSocket && this.policy.live
        ? new LivePusher(new LiveClient(config.liveSocket, config.commandTimeoutMs), config.nodeId)
        : null;
  }

  /**
   * Live routes: pushes the routes of the containers named since the last delta (a Redis set the
   * scheduler fills). nginx refusing the base, or answering other than expected, turns it into a
   * full render (map file + snapshot). A push that fails puts the containers back and throws.
   */
  async applyPending(): Promise<DeltaResult> {
    const live = this.live;
    if (!live) throw new Error('applyPending without live routes (NGINX_ROUTES_SOCKET)');
    const node = this.config.nodeId;
    const ttlMs = 3 * this.config.commandTimeoutMs + 2 * this.config.confirmTimeoutMs + 30_000;
    const called = performance.now();
    return withRedisLock(this.redis, lockKey(this.redisPrefix, node), { ttlMs, waitMs: ttlMs }, async () => {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const key = pendingContainersKey(this.redisPrefix, node);
      const [[, ids]] = (await this.redis.multi().smembers(key).del(key).exec()) as [[unknown, string[]], unknown];
      if (!ids.length) return { outcome: 'unchanged', containers: 0, durationMs: elapsed() };
      try {
        const rows = await readRenderRoutes(this.pool, ids);
        const outcome = await live.delta(ids, this.policy.liveEntries(rows));
        if (outcome !== 'needs-snapshot') {
          m.liveDeltaSeconds.observe({ node }, (performance.now() - called) / 1000);
          // nginx confirmed these routes: the node's state says so (explain and the dashboard read it), without a render.
          if (outcome === 'applied')
            await this.pool
              .query(`UPDATE nginx_render_state SET last_attempt_at = now(), last_success_at = now() WHERE node = $1`, [node])
              .catch(() => undefined);
          return { outcome, containers: ids.length, durationMs: elapsed() };
        }
      } catch (err) {
        await this.redis.sadd(key, ...ids);
        throw err;
      }
      const full = await this.renderLocked();
      await this.record(full).catch(() => undefined);
      if (full.outcome === 'failed') {
        await this.redis.sadd(key, ...ids);
        return { outcome: 'failed', containers: ids.length, durationMs: elapsed(), error: full.error };
      }
      return { outcome: 'snapshot', containers: ids.length, durationMs: elapsed() };
    });
  }

  /** Live routes: does nginx serve what this worker last confirmed? False when it restarted, or another push landed. */
  async liveInSync(): Promise<boolean> {
    const live = this.live;
    if (!live) return true;
    // Under the node's lock, so a push half way is not taken for a difference; a held lock means a
    // push or render runs, and each confirms what nginx answers itself.
    const lock = lockKey(this.redisPrefix, this.config.nodeId);
    return withRedisLock(this.redis, lock, { ttlMs: 30_000, waitMs: 0 }, async () => live.matches(await live.state())).catch(
      (err: Error) => {
        if (err.message.includes('still held')) return true;
        throw err;
      },
    );
  }

  async render(): Promise<RenderResult> {
    const node = this.config.nodeId;
    const ttlMs = 3 * this.config.commandTimeoutMs + 2 * this.config.confirmTimeoutMs + 30_000;
    return withRedisLock(this.redis, lockKey(this.redisPrefix, node), { ttlMs, waitMs: ttlMs }, async () => {
      // Changes after this point start a new coalescing window.
      await this.redis.del(pendingKey(this.redisPrefix, node));
      const result = await this.renderLocked();
      await this.record(result).catch(() => undefined);
      return result;
    });
  }

  private async renderLocked(): Promise<RenderResult> {
    const node = this.config.nodeId;
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let file: MapFile | undefined;
    let stage = 'query';
    try {
      const rows = await readRenderRoutes(this.pool);
      stage = 'render';
      const rendered = this.policy.render(rows);
      file = rendered.file;
      m.skippedRows.set({ node }, file.skipped.length);
      m.skippedTotal.inc({ node }, file.skipped.length);
      m.routes.set({ node }, file.entries);
      const hash = file.hash;
      const swap = await safeSwap(this.config.mapPath, file.text, {
        validate: async (candidate) => {
          const end = m.testSeconds.startTimer({ node });
          try {
            await this.control.test(candidate);
          } finally {
            end();
          }
        },
        // The rollback path calls this too; then the served hash is the old one. Live routes never
        // reload: the file is what nginx starts from, the snapshot below what it serves.
        activate: this.live
          ? undefined
          : async () => this.reloadAndConfirm(declaredHash(await readFile(this.config.mapPath, 'utf8')) ?? 'none'),
        beforeCommit: this.beforeCommit,
      });
      let outcome: RenderResult['outcome'] = swap.status;
      if (this.live && rendered.entries) {
        stage = 'push';
        if (!(await this.live.inSync(rendered.entries))) {
          await this.live.snapshot(rendered.entries);
          outcome = 'swapped';
        }
      } else if (swap.status === 'unchanged' && (await this.control.servingHash()) !== hash) {
        // Same bytes on disk but not served: a worker died between the rename and the reload.
        stage = 'activate';
        await this.reloadAndConfirm(hash);
        outcome = 'swapped';
      }
      m.renders.inc({ node, outcome });
      m.lastSuccess.set({ node }, Date.now() / 1000);
      m.configInfo.reset();
      m.configInfo.set({ node, hash }, 1);
      m.renderSeconds.observe({ node }, elapsed() / 1000);
      return { outcome, hash, routes: file.entries, skipped: file.skipped, durationMs: elapsed() };
    } catch (err) {
      const failedStage = err instanceof SwapError ? err.stage : stage;
      m.renders.inc({ node, outcome: 'failed' });
      m.failures.inc({ node, stage: failedStage });
      return {
        outcome: 'failed',
        routes: file?.entries ?? 0,
        skipped: file?.skipped ?? [],
        failedStage,
        error: (err as Error).message.slice(0, 2000),
        durationMs: elapsed(),
      };
    }
  }

  private async reloadAndConfirm(hash: string): Promise<void> {
    const node = this.config.nodeId;
    const end = m.reloadSeconds.startTimer({ node });
    m.reloads.inc({ node });
    await this.control.reload();
    await this.control.confirm(hash);
    end();
  }

  private async record(r: RenderResult): Promise<void> {
    const ok = r.outcome !== 'failed';
    await this.pool.query(
      `INSERT INTO nginx_render_state AS s (node, stage, last_attempt_at, last_outcome, last_success_at, config_hash,
              routes, skipped_rows, skipped_sample, failed_stage, last_error, duration_ms)
       VALUES ($1, $2, now(), $3, CASE WHEN $4 THEN now() END, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (node) DO UPDATE SET
         stage = EXCLUDED.stage, last_attempt_at = EXCLUDED.last_attempt_at, last_outcome = EXCLUDED.last_outcome,
         last_success_at = COALESCE(EXCLUDED.last_success_at, s.last_success_at),
         config_hash = COALESCE(EXCLUDED.config_hash, s.config_hash),
         routes = CASE WHEN $4 THEN EXCLUDED.routes ELSE s.routes END,
         skipped_rows = EXCLUDED.skipped_rows, skipped_sample = EXCLUDED.skipped_sample,
         failed_stage = EXCLUDED.failed_stage, last_error = EXCLUDED.last_error, duration_ms = EXCLUDED.duration_ms`,
      [
        this.config.nodeId,
        this.config.stage,
        r.outcome,
        ok,
        ok ? r.hash : null,
        r.routes,
        r.skipped.length,
        JSON.stringify(r.skipped.slice(0, 20)),
        r.failedStage ?? null,
        r.error ?? null,
        r.durationMs,
      ],
    );
  }
}
