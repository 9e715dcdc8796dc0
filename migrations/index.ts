import { EventStore1732320000000 } from './1732320000000-event-store';

/** Every migration, in order. Listed explicitly so compiled builds need no file globbing. */
export const migrations = [EventStore1732320000000];
