import type { EventMetadata } from '@app/event-store';

/**
 * Where onboarding gets a container's OAuth clients for SETTINGS.oauth_clients (implemented by
 * libs/sso; absent, the list stays empty). Called after the container's own events are stored.
 */
export const OAUTH_CLIENTS = Symbol('OAUTH_CLIENTS');

export interface OAuthClientIssuer {
  /** Creates the container's client, or gives it a new secret (the old one stops working); answers the SETTINGS entries. */
  issue(container: { container_id: string; org_id: string; project_id: string }, metadata: EventMetadata): Promise<unknown[]>;
  /** Deletes the container's clients and everything issued to them. */
  remove(containerId: string, metadata: EventMetadata): Promise<void>;
}
