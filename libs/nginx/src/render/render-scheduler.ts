import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { NginxConfig } from '@app/config';
import type { RoutesChangedListener } from '@app/jobs';
import { pendingContainersKey, pendingKey } from './renderer';

export const renderJobOptions = { removeOnComplete: 100, removeOnFail: 500, attempts: 5, backoff: { type: 'exponential', delay: 1_000 } };

/**
 * The ROUTES_CHANGED listener: one delayed `nginx:render` per node, debounced. Each change pushes
 * the job back to `min` ms after it, but never later than `max` ms after the first change of the
 * window (kept in Redis, cleared when a render starts). A change while a render runs is kept as
 * the one job that follows it (BullMQ keepLastIfActive), so one render runs at a time.
 */
export class RenderScheduler implements RoutesChangedListener {
  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    private readonly redisPrefix: string,
    private readonly config: Pick<NginxConfig, 'nodeId' | 'coalesceMinMs' | 'coalesceMaxMs' | 'liveSocket' | 'stage'>,
  ) {}

  async routesChanged(reason: string, containerIds?: readonly string[]): Promise<void> {
    const { nodeId: node, coalesceMinMs: min, coalesceMaxMs: max } = this.config;
    if (this.config.liveSocket && this.config.stage === 'stage2' && containerIds?.length) {
      // Live routes: no debounce (a delta is cheap); the containers wait in a set, and changes
      // during a push are taken by the one job that follows it.
      await this.redis.sadd(pendingContainersKey(this.redisPrefix, node), ...containerIds);
      await this.queue.add(
        'nginx:render',
        { node, reason: reason.slice(0, 200), delta: true },
        { ...renderJobOptions, deduplication: { id: `nginx-delta.${node}`, keepLastIfActive: true, replace: true } },
      );
      return;
    }
    const key = pendingKey(this.redisPrefix, node);
    const now = Date.now();
    const [, [, first]] = (await this.redis
      .multi()
      .set(key, String(now), 'PX', max + 60_000, 'NX')
      .get(key)
      .exec()) as [unknown, [unknown, string | null]];
    const delay = Math.max(0, Math.min(min, Number(first ?? now) + max - now));
    await this.queue.add(
      'nginx:render',
      { node, reason: reason.slice(0, 200) },
      { ...renderJobOptions, delay, deduplication: { id: `nginx-render.${node}`, keepLastIfActive: true, replace: true, extend: true } },
    );
  }
}
