import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Queue, type Job } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { QUEUE_NAME, type JobHandler, type JobPayloads } from '@app/jobs';
import { REDIS } from '@app/redis';
import { HealthSweeper, SweepReport } from './health-sweeper';

export const HEALTH_SWEEP = 'health:sweep' as const;

@Injectable()
export class HealthSweepHandler implements JobHandler<typeof HEALTH_SWEEP> {
  readonly name = HEALTH_SWEEP;

  constructor(@Inject(HealthSweeper) private readonly sweeper: HealthSweeper) {}

  handle(_job: Job<JobPayloads[typeof HEALTH_SWEEP]>): Promise<SweepReport> {
    return this.sweeper.sweep();
  }
}

/**
 * Keeps the repeatable sweep scheduled (one BullMQ job scheduler, id `health:sweep`: every worker
 * upserts the same one, so several workers never multiply the sweeps).
 */
@Injectable()
export class HealthSweepScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('health-sweeper');
  private queue?: Queue;
  private connection?: Redis;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.connection = this.redis.duplicate({ connectionName: 'health-sweep-scheduler' });
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection, prefix: this.config.redis.prefix });
    const every = this.config.health.sweepEveryMs;
    await this.queue.upsertJobScheduler(
      HEALTH_SWEEP,
      { every },
      { name: HEALTH_SWEEP, data: {}, opts: { removeOnComplete: 50, removeOnFail: 200 } },
    );
    this.logger.log(`health sweep scheduled every ${every} ms`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue?.close();
    // BullMQ leaves a connection it was given open.
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }
}
