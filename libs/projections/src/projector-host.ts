import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { EventStore } from '@app/event-store';
import { NotFoundError } from '@app/common';
import { projectionLag } from './lag';
import { projectionMetrics } from './metrics';
import { isProjectionHandler } from './projection-handler';
import { Projector } from './projector';
import { REBUILD_PAGE_EVENTS, rebuildProjection, RebuildResult } from './rebuild';
import type { Projection, ProjectionLag } from './types';

/** The poll period while the log is busy (see ProjectorOptions.busyPollMs). */
const BUSY_POLL_MS = 5;

/**
 * Discovers the projection handlers of the application (providers declared with
 * @ProjectionHandler(), the read-model libs' modules provide them) and starts one Projector per
 * projection when the application has booted, if PROJECTIONS_ENABLED. Every process that imports
 * a projection's module runs it; the lease makes one of them active per projection.
 */
@Injectable()
export class ProjectorHost implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('projections');
  private readonly projections = new Map<string, Projection>();
  private readonly projectors = new Map<string, Projector>();
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private lagTimer?: NodeJS.Timeout;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
  ) {}

  /** Every provider instance is made by now (a factory may return null: that projection is off). */
  onModuleInit(): void {
    for (const { instance } of this.discovery.getProviders()) if (isProjectionHandler(instance)) this.register(instance);
  }

  private register(projection: Projection): void {
    if (this.projections.has(projection.name)) throw new Error(`projection ${projection.name} is registered twice`);
    this.projections.set(projection.name, projection);
  }

  names(): string[] {
    return [...this.projections.keys()];
  }

  projector(name: string): Projector | undefined {
    return this.projectors.get(name);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.projections.enabled) return;
    const { batchSize, batchWindowMs, pollMs, leaseMs } = this.config.projections;
    for (const p of this.projections.values()) {
      const projector = new Projector(this.pool, this.store, p, {
        owner: this.owner,
        batchSize,
        pollMs,
        // Under load, follow the log closely (docs: projection lag); idle, poll every pollMs.
        busyPollMs: Math.min(pollMs, BUSY_POLL_MS),
        batchWindowMs,
        leaseMs,
      });
      this.projectors.set(p.name, projector);
      await projector.start();
    }
    this.lagTimer = setInterval(() => void this.refreshGauges(), 5_000).unref();
    this.logger.log(`projectors started for ${this.names().join(', ')} as ${this.owner}`);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.lagTimer);
    await Promise.all([...this.projectors.values()].map((p) => p.stop()));
  }

  async lag(): Promise<(ProjectionLag & { latency: ReturnType<Projector['latencyPercentiles']> | null })[]> {
    const out = [];
    for (const name of this.projections.keys()) {
      const projector = this.projectors.get(name);
      const lag = await projectionLag(this.pool, name, projector?.holdsLease ?? false);
      if (!lag) continue;
      projectionMetrics.lagEvents.set({ projection: name }, lag.events_behind);
      projectionMetrics.lagSeconds.set({ projection: name }, lag.seconds_behind);
      out.push({ ...lag, latency: projector?.holdsLease ? projector.latencyPercentiles() : null });
    }
    return out;
  }

  async rebuild(name: string): Promise<RebuildResult> {
    const projection = this.projections.get(name);
    if (!projection) throw new NotFoundError(`no projection named ${name}`, [{ field: 'name', message: 'unknown projection' }]);
    return rebuildProjection(this.pool, this.store, projection, Math.max(this.config.projections.batchSize, REBUILD_PAGE_EVENTS));
  }

  private async refreshGauges(): Promise<void> {
    if (![...this.projectors.values()].some((p) => p.holdsLease)) return;
    await this.lag().catch(() => undefined);
  }
}
