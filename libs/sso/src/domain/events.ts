/**
 * Single sign-on events (docs/events.md). The `type` strings are the persisted contract: never
 * rename one, never change a data field. No secret, hash or password is ever in an event.
 */
export const USER_REGISTERED = 'platform-user:registered';
export const ACCESS_GRANTED = 'project:user-access-granted';
export const ACCESS_REVOKED = 'project:user-access-revoked';
export const CLIENT_CREATED = 'oauth-client:created';
export const CLIENT_ROTATED = 'oauth-client:secret-rotated';
export const CLIENT_DELETED = 'oauth-client:deleted';
/** A failed sign-in at the provider's form (who tried, from where, the lock it started); no password. */
export const SIGN_IN_FAILED = 'sso:sign-in-failed';
export const signInFailuresStream = 'sso-sign-in-failures';

export const userStream = (userId: string) => `user-${userId}`;
export const projectAccessStream = (projectId: string) => `project-access-${projectId}`;
export const oauthClientStream = (clientId: string) => `oauth-client-${clientId}`;

export interface UserRegisteredData {
  user_id: string;
  email: string;
  name: string;
}
export interface AccessData {
  project_id: string;
  user_id: string;
}
export interface ClientCreatedData {
  client_id: string;
  container_id: string;
  org_id: string;
  project_id: string;
  redirect_uris: string[];
}
export interface ClientRotatedData {
  client_id: string;
  container_id: string;
}
export interface ClientDeletedData {
  client_id: string;
  container_id: string;
  reason: string;
}

export type AccessEvent = { type: typeof ACCESS_GRANTED; data: AccessData } | { type: typeof ACCESS_REVOKED; data: AccessData };
export type ClientEvent =
  | { type: typeof CLIENT_CREATED; data: ClientCreatedData }
  | { type: typeof CLIENT_ROTATED; data: ClientRotatedData }
  | { type: typeof CLIENT_DELETED; data: ClientDeletedData };
