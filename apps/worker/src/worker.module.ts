import { DynamicModule, Module } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule, PG_POOL } from '@app/database';
import { RedisModule } from '@app/redis';
import { EventStoreModule } from '@app/event-store';
import { JOB_HANDLERS, PingHandler } from '@app/jobs';
import { loggerModule, ObservabilityModule } from '@app/observability';
import { VPN_SEALED_COLUMNS, VpnRenderHandler, VpnRenderScheduler } from '@app/onboarding';
import { KeySealer, SecretsModule } from '@app/secrets';
import { HealthProjectionModule, HealthSweepHandler, HealthWorkerModule } from '@app/health';
import { ProjectorHostModule } from '@app/projections';
import { RoutingProjectionModule } from '@app/routing';
import { AccessProjectionModule } from '@app/sso';
import { NginxModule, NginxRenderHandler } from '@app/nginx';
import { AuditWorkerModule } from '@app/audit';
import { CERTIFICATE_SEALED_COLUMNS, CertificatesModule, EnsureCertificateHandler, ReconcileCertificatesHandler } from '@app/certificates';
import { QueueWorker } from './queue-worker';

/** The worker process: BullMQ consumer, the projectors, and /health and /metrics on its own port. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig, ds: DataSource): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        ConfigModule.forRoot(config),
        loggerModule(config.logLevel, 'worker'),
        DatabaseModule.forRoot(ds),
        RedisModule.forRoot(config.redis.url, 'worker'),
        EventStoreModule,
        // The VPN CA's key (CRL, server certificates), the ACME account and Stage 1 certificate keys:
        // sealed in the database, opened with the KEK; resealed at start.
        SecretsModule.forRoot([...VPN_SEALED_COLUMNS, ...CERTIFICATE_SEALED_COLUMNS]),
        ObservabilityModule,
        HealthWorkerModule,
        NginxModule.forWorker(),
        // The projectors (health, routing, access) run here when PROJECTIONS_ENABLED, off the ingest path;
        // the lease keeps one active per projection whichever processes run them.
        ProjectorHostModule,
        HealthProjectionModule,
        RoutingProjectionModule,
        AccessProjectionModule,
        AuditWorkerModule,
        // TLS at the edge: wildcard per org and the gateway certificate, installed into Stage 1 (CERTS_ENABLED).
        CertificatesModule.forWorker(),
      ],
      providers: [
        {
          provide: JOB_HANDLERS,
          inject: [
            PG_POOL,
            APP_CONFIG,
            KeySealer,
            HealthSweepHandler,
            NginxRenderHandler,
            EnsureCertificateHandler,
            ReconcileCertificatesHandler,
          ],
          useFactory: (
            pool: Pool,
            c: AppConfig,
            sealer: KeySealer,
            sweep: HealthSweepHandler,
            nginx: NginxRenderHandler,
            ensureCert: EnsureCertificateHandler,
            reconcileCerts: ReconcileCertificatesHandler,
          ) => [new PingHandler(), new VpnRenderHandler(pool, c, sealer), sweep, nginx, ensureCert, reconcileCerts],
        },
        VpnRenderScheduler,
        QueueWorker,
      ],
    };
  }
}
