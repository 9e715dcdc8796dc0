import { createHash, timingSafeEqual } from 'node:crypto';
import { parseServiceHost, serviceOrigin } from './hosts';

/** The callback path of the gateway's own guard client on every protected host. */
export const GUARD_CALLBACK_PATH = '/.collab-sso/callback';
export const GUARD_CLIENT_ID = 'collab-sso-guard';
export const clientIdFor = (containerId: string) => `uc-${containerId}`;

/** Client secrets are 256-bit random values: SHA-256 is enough to keep them unusable at rest. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(storedSha256: unknown, candidate: unknown): boolean {
  if (typeof storedSha256 !== 'string' || typeof candidate !== 'string' || !/^[0-9a-f]{64}$/.test(storedSha256)) return false;
  return timingSafeEqual(Buffer.from(storedSha256, 'hex'), Buffer.from(hashSecret(candidate), 'hex'));
}

export interface ServiceOrigins {
  domain: string;
  scheme: 'https' | 'http';
  port?: number;
}

/** What a client may redirect to beyond its registered list. */
export type RedirectPolicy = { kind: 'container'; containerId: string; orgId: string } | { kind: 'guard' };

/**
 * Redirect URIs are locked to hosts: a container's client may return to any path on that
 * container's own FQDNs (its bare name and its services', which are mapped later); the guard only
 * to the callback path of a platform service host. Same scheme and port as browsers use; no
 * user info, no fragment.
 */
export function redirectUriAllowed(policy: RedirectPolicy, uri: unknown, o: ServiceOrigins): boolean {
  if (typeof uri !== 'string' || uri.length > 2048) return false;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return false;
  }
  if (u.username || u.password || u.hash || uri.includes('#')) return false;
  const host = parseServiceHost(u.hostname, o.domain);
  if (!host || serviceOrigin(u.hostname, o) !== u.origin) return false;
  if (policy.kind === 'guard') return u.pathname === GUARD_CALLBACK_PATH && !u.search;
  return host.containerId === policy.containerId && host.orgId === policy.orgId;
}

/** The callback paths registered by default (pgAdmin's, JupyterHub's, a generic one) on the container's bare FQDN. */
export const DEFAULT_CALLBACK_PATHS = ['/oauth2/authorize', '/hub/oauth_callback', '/oauth2/callback'];

export function defaultRedirectUris(containerId: string, orgId: string, o: ServiceOrigins): string[] {
  const origin = serviceOrigin(`uc-${containerId}.org-${orgId}.${o.domain}`, o);
  return DEFAULT_CALLBACK_PATHS.map((p) => origin + p);
}

/**
 * One entry of SETTINGS.oauth_clients: what pgAdmin's OAUTH2_CONFIG (and JupyterHub's
 * GenericOAuthenticator) need, so an image's entrypoint can map it field by field.
 */
export interface OAuthClientSetting {
  name: string;
  client_id: string;
  client_secret: string;
  issuer: string;
  server_metadata_url: string;
  authorization_url: string;
  token_url: string;
  userinfo_url: string;
  jwks_url: string;
  scope: string;
  redirect_uris: string[];
}

export function clientSetting(clientId: string, secret: string, issuer: string, redirectUris: string[]): OAuthClientSetting {
  return {
    name: 'collab',
    client_id: clientId,
    client_secret: secret,
    issuer,
    server_metadata_url: `${issuer}/.well-known/openid-configuration`,
    authorization_url: `${issuer}/auth`,
    token_url: `${issuer}/token`,
    userinfo_url: `${issuer}/me`,
    jwks_url: `${issuer}/jwks`,
    scope: 'openid email profile',
    redirect_uris: redirectUris,
  };
}
