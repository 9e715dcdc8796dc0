import { Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { JobHandler, JobPayloads } from '@app/jobs';
import type { KeySealer } from '@app/secrets';
import { GATEWAY_SUBJECT } from './domain/subjects';
import type { CertificateService, EnsureResult } from './certificate.service';
import type { CertificateInstaller, InstallOutcome } from './edge/installer';
import { withRedisLock } from '@app/redis';
import { certificateKeyContext, type CertificateStore } from './infra/store';
import { certificateMetrics as m } from './metrics';

export const ensureJobOptions = { removeOnComplete: 100, removeOnFail: 500, attempts: 3, backoff: { type: 'exponential', delay: 5_000 } };
const ensureJobId = (subject: string) => `certificates-ensure.${subject}`;

/** Enqueues work for the certificates lib: one pending ensure per subject (BullMQ deduplication). */
export class CertificateScheduler {
  constructor(private readonly queue: Queue) {}

  async ensure(subject: string, reason: string, o: { delayMs?: number; force?: boolean } = {}): Promise<void> {
    await this.queue.add(
      'certificates:ensure',
      { subject, reason: reason.slice(0, 200), ...(o.force ? { force: true } : {}) },
      { ...ensureJobOptions, delay: o.delayMs ?? 0, deduplication: { id: ensureJobId(subject), keepLastIfActive: true } },
    );
  }
}

/**
 * Runs the certificate work under locks: one order per subject at a time, one Stage 1 install at
 * a time. After a failure the next attempt is queued for the back-off's retry time; the install
 * always serves the certificates table, i.e. the last good certificate of every subject.
 */
export class CertificateRunner {
  private readonly logger = new Logger('certificates');

  constructor(
    private readonly service: CertificateService,
    private readonly store: CertificateStore,
    private readonly installer: CertificateInstaller,
    private readonly sealer: KeySealer,
    private readonly scheduler: CertificateScheduler,
    private readonly redis: Redis,
    private readonly redisPrefix: string,
  ) {}

  async ensure(subject: string, force = false): Promise<EnsureResult> {
    const result = await withRedisLock(
      this.redis,
      `${this.redisPrefix}:certificates:subject:${subject}`,
      { ttlMs: 15 * 60_000, waitMs: 15 * 60_000 },
      () => this.service.ensure(subject, { force }),
    );
    if (result.outcome === 'failed') {
      await this.scheduler.ensure(subject, `retry after ${result.stage} failure`, {
        delayMs: Math.max(0, Date.parse(result.retryAt) - Date.now()),
      });
    }
    return result;
  }

  async subjects(): Promise<string[]> {
    return [GATEWAY_SUBJECT, ...(await this.store.orgs()).map((o) => `org-${o}`)];
  }

  async install(): Promise<InstallOutcome> {
    return withRedisLock(this.redis, `${this.redisPrefix}:certificates:install`, { ttlMs: 5 * 60_000, waitMs: 5 * 60_000 }, async () => {
      const rows = await this.store.certificates();
      try {
        const certs = await Promise.all(
          rows.map(async (r) => ({
            subject: r.subject,
            names: r.names,
            fingerprint: r.fingerprint,
            chainPem: r.chain_pem,
            keyPem: await this.sealer.open(r.key_sealed, certificateKeyContext(r.subject)),
          })),
        );
        const out = await this.installer.install(certs);
        m.installs.inc({ outcome: out.status });
        return out;
      } catch (err) {
        m.installs.inc({ outcome: 'failed' });
        this.logger.warn(`Stage 1 install failed: ${(err as Error).message}`);
        throw err;
      }
    });
  }
}

/** Failed, not dropped: BullMQ retries it, and the failed job says why (CERTS_ENABLED must match on every worker). */
const DISABLED = 'a certificates job reached a worker with CERTS_ENABLED=false';

export class EnsureCertificateHandler implements JobHandler<'certificates:ensure'> {
  readonly name = 'certificates:ensure' as const;
  constructor(private readonly runner: CertificateRunner | null) {}

  async handle(job: Job<JobPayloads['certificates:ensure']>): Promise<unknown> {
    if (!this.runner) throw new Error(DISABLED);
    const result = await this.runner.ensure(job.data.subject, job.data.force ?? false);
    const installed = await this.runner.install();
    return { ...result, installed };
  }
}

export class ReconcileCertificatesHandler implements JobHandler<'certificates:reconcile'> {
  readonly name = 'certificates:reconcile' as const;
  constructor(private readonly runner: CertificateRunner | null) {}

  async handle(): Promise<unknown> {
    if (!this.runner) throw new Error(DISABLED);
    const outcomes: Record<string, number> = {};
    for (const subject of await this.runner.subjects()) {
      const r = await this.runner.ensure(subject).catch((err: Error) => ({ outcome: 'error', why: err.message }));
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    }
    const installed = await this.runner.install();
    return { outcomes, installed };
  }
}
