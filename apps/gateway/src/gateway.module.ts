import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { RedisModule } from '@app/redis';
import { EventStoreModule } from '@app/event-store';
import { AuthModule } from '@app/auth';
import { ContainerEventsModule } from '@app/container-events';
import { OnboardingModule, VPN_SEALED_COLUMNS } from '@app/onboarding';
import { SecretsModule } from '@app/secrets';
import { loggerModule, ObservabilityModule } from '@app/observability';
import { ProjectionsModule } from '@app/projections';
import { HealthModule } from '@app/health';
import { RoutingModule } from '@app/routing';
import { NginxModule } from '@app/nginx';
import { AuditModule } from '@app/audit';
import { SsoModule } from '@app/sso';
import { ExplainModule } from '@app/explain';
import { RateLimitModule } from '@app/http';

/** The HTTP process: wiring only; every capability lives in its lib. */
@Module({})
export class GatewayModule {
  static forRoot(config: AppConfig, ds: DataSource): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ConfigModule.forRoot(config),
        CqrsModule.forRoot(),
        loggerModule(config.logLevel, 'gateway'),
        DatabaseModule.forRoot(ds),
        RedisModule.forRoot(config.redis.url, 'gateway'),
        EventStoreModule,
        RateLimitModule,
        // Private keys at rest (VPN CA and certificates, the OpenID provider's keys): sealed with the KEK.
        SecretsModule.forRoot(VPN_SEALED_COLUMNS),
        AuthModule,
        ObservabilityModule,
        ContainerEventsModule,
        OnboardingModule,
        ProjectionsModule,
        HealthModule,
        RoutingModule,
        NginxModule.forGateway(),
        AuditModule,
        SsoModule,
        ExplainModule,
      ],
    };
  }
}
