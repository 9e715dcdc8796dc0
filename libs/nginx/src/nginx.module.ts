import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import type { Pool } from 'pg';
import { PG_POOL } from '@app/database';
import { QUEUE_NAME, ROUTES_CHANGED, type RoutesChangedListener } from '@app/jobs';
import { REDIS } from '@app/redis';
import { ReadinessChecks } from '@app/observability';
import { NginxControl } from './infra/nginx-control';
import { NginxRenderHandler } from './render/render.handler';
import { RenderScheduler, renderJobOptions } from './render/render-scheduler';
import { NginxRenderer } from './render/renderer';
import { RendersController } from './read/renders.controller';
import { RenderStateReader } from './read/renders.service';

export const NGINX_QUEUE = Symbol('NGINX_QUEUE');

const queueProvider = {
  provide: NGINX_QUEUE,
  inject: [APP_CONFIG, REDIS],
  useFactory: (config: AppConfig, redis: Redis) =>
    new Queue(QUEUE_NAME, { connection: redis.duplicate({ connectionName: 'nginx-queue' }), prefix: config.redis.prefix }),
};

/** NGINX_RENDER_ENABLED=false: route changes schedule nothing (no job, so no failure to report). */
const rendersDisabled: RoutesChangedListener = { routesChanged: async () => undefined };

const schedulerProvider = {
  provide: ROUTES_CHANGED,
  inject: [NGINX_QUEUE, REDIS, APP_CONFIG],
  useFactory: (queue: Queue, redis: Redis, config: AppConfig): RoutesChangedListener =>
    config.nginx.enabled ? new RenderScheduler(queue, redis, config.redis.prefix, config.nginx) : rendersDisabled,
};

@Injectable()
class QueueCloser implements OnApplicationShutdown {
  constructor(@Inject(NGINX_QUEUE) private readonly queue: Queue) {}
  async onApplicationShutdown(): Promise<void> {
    const client = await this.queue.client;
    await this.queue.close();
    // BullMQ leaves a connection it was handed open.
    client.disconnect();
  }
}

/**
 * Worker side: the periodic reconciliation (a BullMQ job scheduler) and a render at start. The
 * scheduler lives in Redis, so a Redis restart without persistence or a FLUSHALL erases it; it is
 * upserted again every interval from this process (idempotent), so reconciliation comes back by
 * itself and restores whatever render the flush lost.
 */
@Injectable()
class Reconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('nginx');
  private timer?: NodeJS.Timeout;
  private liveTimer?: NodeJS.Timeout;
  constructor(
    @Inject(NGINX_QUEUE) private readonly queue: Queue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(NginxRenderHandler) private readonly handler: NginxRenderHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { enabled, nodeId: node, reconcileIntervalMs: every } = this.config.nginx;
    if (!enabled) {
      // A reconciliation scheduler left in Redis by an earlier run would go on firing renders.
      await this.queue.removeJobScheduler(`nginx-reconcile.${node}`);
      return this.logger.warn('NGINX_RENDER_ENABLED=false: nginx is not rendered by this worker');
    }
    await this.ensureScheduler();
    await this.queue.add(
      'nginx:render',
      { node, reason: 'worker start' },
      { ...renderJobOptions, deduplication: { id: `nginx-render.${node}`, keepLastIfActive: true } },
    );
    this.timer = setInterval(
      () => void this.ensureScheduler().catch((err) => this.logger.warn(`reconciliation scheduler: ${(err as Error).message}`)),
      every,
    );
    this.timer.unref();
    if (this.handler.renderer.live) this.watchLive();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    clearTimeout(this.liveTimer);
  }

  /**
   * Live routes: reads what nginx serves every NGINX_LIVE_CHECK_MS; a difference from what this
   * worker last confirmed (nginx restarted and answers from its map file, a delta was lost) queues
   * a full render, whose snapshot heals it.
   */
  private watchLive(): void {
    const { nodeId: node, liveCheckMs } = this.config.nginx;
    const tick = async () => {
      if (await this.handler.renderer.liveInSync().catch(() => false)) return;
      await this.queue.add(
        'nginx:render',
        { node, reason: 'nginx serves other routes than confirmed' },
        { ...renderJobOptions, deduplication: { id: `nginx-render.${node}`, keepLastIfActive: true } },
      );
    };
    const loop = () => {
      this.liveTimer = setTimeout(
        () =>
          void tick()
            .catch((err) => this.logger.warn(`live routes check: ${(err as Error).message}`))
            .finally(loop),
        liveCheckMs,
      );
      this.liveTimer.unref();
    };
    loop();
  }

  private async ensureScheduler(): Promise<void> {
    const { nodeId: node, reconcileIntervalMs: every } = this.config.nginx;
    const id = `nginx-reconcile.${node}`;
    if (await this.queue.getJobScheduler(id)) return;
    await this.queue.upsertJobScheduler(
      id,
      { every },
      { name: 'nginx:render', data: { node, reason: 'reconcile' }, opts: renderJobOptions },
    );
  }
}

/** Worker side: /health/ready shows this node's last render, and is down while renders fail. */
@Injectable()
class NginxReadiness implements OnModuleInit {
  constructor(
    @Inject(ReadinessChecks) private readonly checks: ReadinessChecks,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.nginx.enabled) return;
    const node = this.config.nginx.nodeId;
    this.checks.register({
      name: 'nginx',
      check: async () => {
        const { rows } = await this.pool.query(
          `SELECT last_outcome, last_attempt_at, last_success_at, config_hash, failed_stage, last_error FROM nginx_render_state WHERE node = $1`,
          [node],
        );
        const r = rows[0];
        if (!r) return { up: true, details: { node, last_outcome: null } };
        const failing = r.last_outcome === 'failed';
        return {
          up: !failing,
          details: {
            node,
            last_outcome: r.last_outcome,
            last_attempt_at: r.last_attempt_at?.toISOString() ?? null,
            last_success_at: r.last_success_at?.toISOString() ?? null,
            serving_hash: r.config_hash,
            ...(failing ? { failed_stage: r.failed_stage, last_error: String(r.last_error ?? '').slice(0, 500) } : {}),
          },
        };
      },
    });
  }
}

/**
 * nginx rendering. `forGateway` provides ROUTES_CHANGED (global, for the routing projection) and
 * GET /nginx/renders (the last render per node);
 * `forWorker` adds the `nginx:render` handler (exported for JOB_HANDLERS) and the reconciliation.
 */
@Module({})
export class NginxModule {
  static forGateway(): DynamicModule {
    return {
      module: NginxModule,
      global: true,
      controllers: [RendersController],
      providers: [queueProvider, schedulerProvider, QueueCloser, RenderStateReader],
      exports: [ROUTES_CHANGED],
    };
  }

  static forWorker(): DynamicModule {
    return {
      module: NginxModule,
      global: true,
      providers: [
        queueProvider,
        schedulerProvider,
        QueueCloser,
        Reconciler,
        NginxReadiness,
        {
          provide: NginxRenderHandler,
          inject: [PG_POOL, REDIS, APP_CONFIG],
          useFactory: (pool: Pool, redis: Redis, config: AppConfig) => {
            const n = config.nginx;
            const control = new NginxControl({ ...n, reloadCmd: n.reloadCmd });
            const renderer = new NginxRenderer(pool, redis, config.redis.prefix, n, config.platformDomain, control);
            return new NginxRenderHandler(renderer, n.nodeId, n.enabled);
          },
        },
      ],
      exports: [ROUTES_CHANGED, NginxRenderHandler],
    };
  }
}
