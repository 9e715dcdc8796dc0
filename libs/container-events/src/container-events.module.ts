import { Module } from '@nestjs/common';
import { CollabEventController } from './collab-event.controller';
import { IngestContainerEventHandler, IngestContainerEventsHandler } from './ingest.commands';
import { IngestService } from './ingest.service';

@Module({
  controllers: [CollabEventController],
  providers: [IngestService, IngestContainerEventHandler, IngestContainerEventsHandler],
  exports: [IngestService],
})
export class ContainerEventsModule {}
