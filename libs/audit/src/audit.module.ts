import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';

/** Gateway side: the operators' audit API. */
@Module({ controllers: [AuditController] })
export class AuditModule {}
