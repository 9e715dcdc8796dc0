import type { EventMetadata } from '@app/event-store';

/** Who asked, for the events' metadata. */
export interface Actor {
  metadata: EventMetadata;
}
