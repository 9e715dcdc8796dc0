import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Job, Queue } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { QUEUE_NAME } from '@app/jobs';
import { REDIS } from '@app/redis';
import { VPN_RENDER_JOB } from './vpn-render.handler';
import type { VpnFilesChangedListener } from './vpn-files-changed';

/** Changes within one window share one render; the window is also the longest a change waits. */
const WINDOW_MS = 250;

function queueOf(redis: Redis, config: AppConfig, name: string): Queue {
  return new Queue(QUEUE_NAME, { connection: redis.duplicate({ connectionName: name }), prefix: config.redis.prefix });
}

/** BullMQ leaves a connection it was handed open: close both. */
async function closeQueue(queue?: Queue): Promise<void> {
  if (!queue) return;
  const connection = await queue.client;
  await queue.close();
  await connection.quit().catch(() => connection.disconnect());
}

/**
 * Gateway side: asks the worker for a render after a VPN assignment or a deletion. The job id
 * names the end of the current window and the job is delayed until then, so every change of the
 * window happened before the render reads the database (coalesced, nothing missed).
 */
@Injectable()
export class VpnFilesQueue implements VpnFilesChangedListener, OnApplicationShutdown {
  private queue?: Queue;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async vpnFilesChanged(reason: string): Promise<void> {
    await this.enqueue(reason);
  }

  async vpnFilesRendered(reason: string, timeoutMs: number): Promise<boolean> {
    const { queue, id } = await this.enqueue(reason);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const job = await Job.fromId(queue, id);
      // Gone: completed and trimmed by removeOnComplete (100 kept), i.e. rendered long ago.
      if (!job || (await job.isCompleted())) return true;
      if (await job.isFailed()) return false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  }

  private async enqueue(reason: string): Promise<{ queue: Queue; id: string }> {
    this.queue ??= queueOf(this.redis, this.config, 'gateway-vpn-files');
    const now = Date.now();
    const due = (Math.floor(now / WINDOW_MS) + 1) * WINDOW_MS;
    const id = `vpn-render-${due}`;
    await this.queue.add(VPN_RENDER_JOB, { reason }, { jobId: id, delay: due - now, removeOnComplete: 100, removeOnFail: 100 });
    return { queue: this.queue, id };
  }

  async onApplicationShutdown(): Promise<void> {
    await closeQueue(this.queue);
  }
}

/** Worker side: a periodic render repairs a lost job and keeps the CRL fresh. */
@Injectable()
export class VpnRenderScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private queue?: Queue;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.queue = queueOf(this.redis, this.config, 'worker-vpn-files');
    await this.queue.upsertJobScheduler(
      'vpn-render-reconcile',
      { every: this.config.vpn.renderReconcileS * 1000 },
      { name: VPN_RENDER_JOB, data: { reason: 'reconcile' }, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await closeQueue(this.queue);
  }
}
