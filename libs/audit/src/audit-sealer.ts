import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { EventStore } from '@app/event-store';
import { ensureLeaseRow, Projector, takeLease } from '@app/projections';
import { compactWatchdogs } from './compaction';
import { ensurePartitionsAhead } from './partitions';
import { SealProjection } from './seal.projection';
import { AuditKeys } from './signing';

export const MAINTENANCE_LEASE = 'audit-maintenance';

/** Options of the retention policy as the configuration gives them. */
export const compactionOptionsOf = (config: AppConfig, vacuumFull = true) => ({
  retentionDays: config.audit.watchdogRetentionDays,
  keepAfterSilenceMs: config.health.watchdogIntervalMs * config.health.staleAfterIntervals,
  vacuumFull,
});

/**
 * Worker side of the audit log, off the write path: the sealer (a Projector over SealProjection:
 * one active instance through its lease) and, under a lease of its own, partition upkeep (days
 * created AUDIT_PARTITION_AHEAD_DAYS ahead) and the watchdog retention policy.
 */
@Injectable()
export class AuditSealer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private projector?: Projector;
  private timer?: NodeJS.Timeout;
  private maintaining?: Promise<void>;
  private stopping = false;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const a = this.config.audit;
    if (!a.sealEnabled) return;
    const keys = AuditKeys.forConfig(this.config);
    const seal = new SealProjection(keys, { checkpointEvery: a.checkpointEvery, checkpointIntervalS: a.checkpointIntervalS });
    const { pollMs, leaseMs } = this.config.projections;
    this.projector = new Projector(this.pool, this.store, seal, {
      owner: this.owner,
      batchSize: a.sealBatchSize,
      pollMs: Math.max(pollMs, 200),
      leaseMs,
    });
    await this.projector.start();
    await ensureLeaseRow(this.pool, MAINTENANCE_LEASE);
    const run = () => {
      this.maintaining ??= this.maintain(keys).finally(() => (this.maintaining = undefined));
    };
    this.timer = setInterval(run, a.maintenanceEveryS * 1000).unref();
    run();
    this.logger.log(`sealing the log as ${this.owner} (checkpoints signed by ${keys.keyId})`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.maintaining;
    await this.projector?.stop();
  }

  private async maintain(keys: AuditKeys): Promise<void> {
    try {
      // Held for a whole maintenance period, so one worker does it.
      if (!(await takeLease(this.pool, MAINTENANCE_LEASE, this.owner, this.config.audit.maintenanceEveryS * 1000 + 60_000))) return;
      const stopping = () => this.stopping;
      const created = await ensurePartitionsAhead(this.pool, this.config.audit.partitionAheadDays, Date.now(), stopping);
      if (created.length) this.logger.log(`created partitions ${created.join(', ')}`);
      if (this.config.audit.watchdogRetentionDays > 0) {
        for (const c of await compactWatchdogs(this.pool, keys, { ...compactionOptionsOf(this.config), stopping })) {
          this.logger.log(
            `compacted ${c.partition}: ${c.removed} of ${c.watchdogs} watchdogs removed, ${c.bytes_before} -> ${c.bytes_after} bytes`,
          );
        }
      }
    } catch (err) {
      this.logger.error(`audit maintenance failed: ${(err as Error).message}`);
    }
  }
}
