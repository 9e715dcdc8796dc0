import { Module } from '@nestjs/common';
import { AuditSealer } from './audit-sealer';

/** Worker side: the sealer, partition upkeep and retention. */
@Module({ providers: [AuditSealer] })
export class AuditWorkerModule {}
