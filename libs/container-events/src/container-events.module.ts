import { Module } from '@nestjs/common';
import { CollabEventController } from './collab-event.controller';
import { IngestService } from './ingest.service';

@Module({
  controllers: [CollabEventController],
  providers: [IngestService],
  exports: [IngestService],
})
export class ContainerEventsModule {}
