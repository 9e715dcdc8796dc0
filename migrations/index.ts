import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AuditChain } from '../libs/audit/migrations/1732320600000-audit-chain';
import { AuditCanonicalText } from '../libs/audit/migrations/1732321900000-audit-canonical-text';
import { EventStoreTables } from '../libs/event-store/migrations/1732320000000-event-store';
import { PartitionedEvents } from '../libs/event-store/migrations/1732320600000-partitioned-events';
import { HealthReadModel } from '../libs/health/migrations/1732320200000-health-read-model';
import { HealthHotUpdates } from '../libs/health/migrations/1732321800000-health-hot-updates';
import { NginxRenderStateTable } from '../libs/nginx/migrations/1732320400000-nginx-render-state';
import { OnboardingTables } from '../libs/onboarding/migrations/1732320500000-onboarding';
import { VpnServerTables } from '../libs/onboarding/migrations/1732321600000-vpn-server';
import { ProjectionCheckpoints } from '../libs/projections/migrations/1732320200000-projections';
import { ProjectionLeaseRows } from '../libs/projections/migrations/1732321500000-lease-rows';
import { RoutesTable } from '../libs/routing/migrations/1732320100000-routes';
import { RoutingContainers } from '../libs/routing/migrations/1732320200000-routing-containers';
import { SsoTables } from '../libs/sso/migrations/1732320900000-sso';
import { CertificatesTables } from '../libs/certificates/migrations/1732321700000-certificates';
import { PlatformUsersTable } from '../libs/sso/migrations/1732321000000-platform-users';
import { SealedSecretsTable } from '../libs/secrets/migrations/1732321100000-sealed-secrets';

type Step = new () => MigrationInterface;

/**
 * One TypeORM migration made of steps, each kept by the lib that owns its tables
 * (libs/<lib>/migrations/<timestamp>-<what>.ts). The name (ending in its timestamp) is what
 * schema_migrations records, so a database migrated before the steps were split sees no change.
 * Steps run in the order given, and are reverted in the opposite order.
 */
function migration(name: string, ...steps: Step[]): new () => MigrationInterface {
  return class implements MigrationInterface {
    readonly name = name;
    async up(q: QueryRunner): Promise<void> {
      for (const S of steps) await new S().up(q);
    }
    async down(q: QueryRunner): Promise<void> {
      for (const S of [...steps].reverse()) await new S().down(q);
    }
  };
}

/** Every migration, in order. Listed explicitly so compiled builds need no file globbing. */
export const migrations = [
  migration('EventStore1732320000000', EventStoreTables),
  migration('RoutingReadModel1732320100000', RoutesTable),
  migration('Projections1732320200000', ProjectionCheckpoints, HealthReadModel, RoutingContainers),
  migration('NginxRenderState1732320400000', NginxRenderStateTable),
  migration('Onboarding1732320500000', OnboardingTables),
  migration('Audit1732320600000', PartitionedEvents, AuditChain),
  migration('Sso1732320900000', SsoTables),
  migration('PlatformUsers1732321000000', PlatformUsersTable),
  migration('SealedSecrets1732321100000', SealedSecretsTable),
  migration('LeaseRows1732321500000', ProjectionLeaseRows),
  migration('Certificates1732321700000', CertificatesTables),
  migration('VpnServer1732321600000', VpnServerTables),
  migration('HealthHotUpdates1732321800000', HealthHotUpdates),
  migration('AuditCanonicalText1732321900000', AuditCanonicalText),
];
