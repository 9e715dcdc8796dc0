import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { Observable, Subject } from 'rxjs';
import { APP_CONFIG, AppConfig } from '@app/config';
import { REDIS } from '@app/redis';
import type { HealthChange } from './health.projection';

/**
 * Fans health changes out to every gateway process: the active health projector publishes on a
 * Redis channel after each committed batch; each process relays to its own SSE clients. Best
 * effort by nature (a client that was away re-reads the list), so pub/sub is enough here.
 */
@Injectable()
export class HealthChangesHub implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('health-changes');
  private readonly subject = new Subject<HealthChange>();
  /** Emits once when the process begins to shut down: open SSE streams end, so the server can close. */
  readonly closing = new Subject<void>();
  private subscriber?: Redis;
  private readonly channel: string;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.channel = `${config.redis.prefix}:health-changes`;
  }

  get changes(): Observable<HealthChange> {
    return this.subject.asObservable();
  }

  async onModuleInit(): Promise<void> {
    this.subscriber = this.redis.duplicate({ connectionName: 'health-changes-sub' });
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        for (const change of JSON.parse(message) as HealthChange[]) this.subject.next(change);
      } catch (err) {
        this.logger.warn(`bad message on ${this.channel}: ${(err as Error).message}`);
      }
    });
    await this.subscriber.subscribe(this.channel);
  }

  async publish(changes: HealthChange[]): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(changes));
  }

  beforeApplicationShutdown(): void {
    this.closing.next();
    this.closing.complete();
  }

  async onApplicationShutdown(): Promise<void> {
    this.subject.complete();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
