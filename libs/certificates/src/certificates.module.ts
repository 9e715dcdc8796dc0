import { readFileSync } from 'node:fs';
import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnModuleInit, Optional } from '@nestjs/common';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import type { Pool } from 'pg';
import { APP_CONFIG, AppConfig } from '@app/config';
import { PG_POOL } from '@app/database';
import { EventStore } from '@app/event-store';
import { QUEUE_NAME } from '@app/jobs';
import { NginxControl } from '@app/nginx';
import { ReadinessChecks } from '@app/observability';
import { REDIS } from '@app/redis';
import { KeySealer } from '@app/secrets';
import { CertificateService } from './certificate.service';
import { CertificatesProjection } from './certificates.projection';
import {
  CertificateRunner,
  CertificateScheduler,
  EnsureCertificateHandler,
  ensureJobOptions,
  ReconcileCertificatesHandler,
} from './certificates.jobs';
import { CertificateInstaller } from './edge/installer';
import { AcmeIssuer } from './infra/acme-issuer';
import { DevCaIssuer } from './infra/dev-ca-issuer';
import { ChallTestSrvDns } from './infra/dns-provider';
import type { CertificateIssuer } from './infra/issuer';
import { CertificateStore } from './infra/store';
import { readinessOf } from './readiness';

export const CERTIFICATES_QUEUE = Symbol('CERTIFICATES_QUEUE');

async function issuerFor(config: AppConfig, pool: Pool, sealer: KeySealer): Promise<CertificateIssuer> {
  const c = config.certificates;
  if (c.issuer === 'dev-ca') return DevCaIssuer.load(config.dataDir);
  const a = c.acme;
  return new AcmeIssuer(pool, sealer, new ChallTestSrvDns(a.challtestsrvUrl!), {
    directoryUrl: a.directoryUrl!,
    email: a.email,
    caBundlePem: a.caBundlePath ? readFileSync(a.caBundlePath, 'utf8') : undefined,
    propagationWaitMs: a.propagationWaitMs,
  });
}

/**
 * Everything the jobs need, or null when CERTS_ENABLED is false (the handlers then answer "disabled").
 * Private keys are sealed with libs/secrets' KeySealer (the process's SecretsModule, whose columns
 * include CERTIFICATE_SEALED_COLUMNS).
 */
const runnerProvider = {
  provide: CertificateRunner,
  inject: [APP_CONFIG, PG_POOL, EventStore, REDIS, CERTIFICATES_QUEUE, KeySealer],
  useFactory: async (
    config: AppConfig,
    pool: Pool,
    events: EventStore,
    redis: Redis,
    queue: Queue,
    sealer: KeySealer,
  ): Promise<CertificateRunner | null> => {
    const c = config.certificates;
    if (!c.enabled) return null;
    const store = new CertificateStore(pool);
    const service = new CertificateService(events, store, await issuerFor(config, pool, sealer), sealer, {
      domain: config.platformDomain,
      policy: { renewBeforeMs: c.renewBeforeDays * 86_400_000, retryMinMs: c.retryMinS * 1000, retryMaxMs: c.retryMaxS * 1000 },
      limits: c.acme.limits,
      registeredDomain: c.acme.registeredDomain,
      gatewayFqdns: () => store.gatewayFqdns(config.onboarding.defaultNode.fqdn, c.extraGatewayFqdns),
    });
    const control = new NginxControl({
      bin: c.nginx.bin,
      prefix: c.nginx.prefix,
      conf: c.nginx.conf,
      mapPath: c.mapPath,
      reloadCmd: c.nginx.reloadCmd,
      statusUrl: c.nginx.statusUrl,
      commandTimeoutMs: config.nginx.commandTimeoutMs,
      confirmTimeoutMs: config.nginx.confirmTimeoutMs,
    });
    const gatewayFqdns = () => store.gatewayFqdns(config.onboarding.defaultNode.fqdn, c.extraGatewayFqdns);
    const installer = new CertificateInstaller(
      { certDir: c.dir, mapPath: c.mapPath, layout: c.layout, httpsListen: c.nginx.httpsListen, gatewayFqdns },
      control,
    );
    return new CertificateRunner(service, store, installer, sealer, new CertificateScheduler(queue), redis, config.redis.prefix);
  },
};

/** Worker side: the certificates projection (an org's first container), the start-up and periodic reconciliation, readiness. */
@Injectable()
class CertificatesLifecycle implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('certificates');
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(CERTIFICATES_QUEUE) private readonly queue: Queue,
    @Inject(ReadinessChecks) private readonly checks: ReadinessChecks,
    @Optional() @Inject(CertificateRunner) private readonly runner: CertificateRunner | null,
  ) {}

  onModuleInit(): void {
    if (!this.config.certificates.enabled) return;
    this.checks.register(readinessOf(new CertificateStore(this.pool)));
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.runner) return;
    const every = this.config.certificates.reconcileS * 1000;
    await this.queue.upsertJobScheduler(
      'certificates-reconcile',
      { every },
      { name: 'certificates:reconcile', data: { reason: 'reconcile' }, opts: ensureJobOptions },
    );
    await this.queue.add(
      'certificates:reconcile',
      { reason: 'worker start' },
      { ...ensureJobOptions, deduplication: { id: 'certificates-reconcile-start' } },
    );
    this.logger.log(`certificates: ${this.config.certificates.issuer} issuer, Stage 1 include ${this.config.certificates.mapPath}`);
  }
}

@Module({})
export class CertificatesModule {
  static forWorker(): DynamicModule {
    return {
      module: CertificatesModule,
      providers: [
        {
          provide: CERTIFICATES_QUEUE,
          inject: [APP_CONFIG, REDIS],
          useFactory: (config: AppConfig, redis: Redis) =>
            new Queue(QUEUE_NAME, { connection: redis.duplicate({ connectionName: 'certificates-queue' }), prefix: config.redis.prefix }),
        },
        runnerProvider,
        {
          provide: EnsureCertificateHandler,
          inject: [CertificateRunner],
          useFactory: (r: CertificateRunner | null) => new EnsureCertificateHandler(r),
        },
        {
          provide: ReconcileCertificatesHandler,
          inject: [CertificateRunner],
          useFactory: (r: CertificateRunner | null) => new ReconcileCertificatesHandler(r),
        },
        {
          // Off, nothing runs: no projection (it catches up from the log whenever certificates are turned on).
          provide: CertificatesProjection,
          inject: [APP_CONFIG, CERTIFICATES_QUEUE],
          useFactory: (config: AppConfig, queue: Queue) => {
            if (!config.certificates.enabled) return null;
            const scheduler = new CertificateScheduler(queue);
            return new CertificatesProjection((orgs) =>
              Promise.all(orgs.map((o) => scheduler.ensure(`org-${o}`, 'first container of the org'))).then(() => undefined),
            );
          },
        },
        CertificatesLifecycle,
        QueueCloser,
      ],
      exports: [EnsureCertificateHandler, ReconcileCertificatesHandler, CertificateRunner],
    };
  }
}

@Injectable()
class QueueCloser {
  constructor(@Inject(CERTIFICATES_QUEUE) private readonly queue: Queue) {}
  async onApplicationShutdown(): Promise<void> {
    const client = await this.queue.client;
    await this.queue.close();
    client.disconnect();
  }
}
