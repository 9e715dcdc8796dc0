import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Worker } from 'bullmq';
import Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@app/config';
import { JOB_HANDLERS, JobDispatcher, JobHandler, QUEUE_NAME } from '@app/jobs';
import { REDIS } from '@app/redis';

/** The BullMQ worker: takes jobs from the shared queue and hands each to its one handler. */
@Injectable()
export class QueueWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('worker');
  private worker?: Worker;
  private connection?: Redis;
  private readonly dispatcher: JobDispatcher;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(JOB_HANDLERS) handlers: JobHandler[],
  ) {
    this.dispatcher = new JobDispatcher(handlers);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker = new Worker(QUEUE_NAME, (job) => this.dispatcher.dispatch(job), {
      connection: (this.connection = this.redis.duplicate({ connectionName: 'worker-bullmq' })),
      prefix: this.config.redis.prefix,
      concurrency: this.config.worker.concurrency,
    });
    this.worker.on('failed', (job, err) => this.logger.warn(`job ${job?.name} ${job?.id} failed: ${err.message}`));
    this.worker.on('error', (err) => this.logger.error(`queue error: ${err.message}`));
    await this.worker.waitUntilReady();
    this.logger.log(`consuming queue ${this.config.redis.prefix}:${QUEUE_NAME}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    // BullMQ leaves a connection it was handed open.
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }
}
