import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { RedisModule } from '@app/redis';
import { EventStoreModule } from '@app/event-store';
import { AuthModule } from '@app/auth';
import { ContainerEventsModule } from '@app/container-events';
import { OnboardingModule } from '@app/onboarding';
import { loggerModule, ObservabilityModule } from '@app/observability';
import { ProjectionsModule } from '@app/projections';
import { HealthModule } from '@app/health';
import { RoutingModule } from '@app/routing';
import { NginxModule } from '@app/nginx';
import { AuditModule } from '@app/audit';
import { SsoModule } from '@app/sso';

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
      ],
    };
  }
}
