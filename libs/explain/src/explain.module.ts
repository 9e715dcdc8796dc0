import { Module } from '@nestjs/common';
import { ExplainController } from './explain.controller';
import { ExplainService } from './explain.service';

/** GET /routes/explain (gateway). Reads the read models and the log. */
@Module({ controllers: [ExplainController], providers: [ExplainService], exports: [ExplainService] })
export class ExplainModule {}
