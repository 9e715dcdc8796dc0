import { ApiError } from './api';

/**
 * Sign-in through the gateway's own OpenID provider (same origin, /oidc): authorization code with
 * PKCE as the public client `collab-dashboard`, then the provider's access token is traded once at
 * /sso/dashboard-token for a short-lived viewer or operator token. Only the one-time code passes
 * through a URL (and is removed from it at once); no token ever does.
 */
const CLIENT_ID = 'collab-dashboard';
const PENDING = 'collab-gateway.dashboard.oidc-pending';
const redirectUri = () => `${location.origin}/dashboard/`;
const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));

export interface SignedIn {
  token: string;
  role: 'operator' | 'viewer';
  user: { id: string; email: string; name: string };
}

/** Leaves for the provider's sign-in form (or straight back, when the provider's session is still on). */
export async function startProviderSignIn(): Promise<void> {
  const verifier = random();
  const state = random();
  const challenge = b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    scope: 'openid email profile',
    redirect_uri: redirectUri(),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  });
  location.assign(`/oidc/auth?${q}`);
}

async function detailOf(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { detail?: string; error_description?: string; error?: string };
    return body.detail ?? body.error_description ?? body.error ?? res.statusText;
  } catch {
    return res.statusText;
  }
}

async function post(path: string, init: { body?: URLSearchParams; bearer?: string }): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.bearer) headers.authorization = `Bearer ${init.bearer}`;
  const res = await fetch(path, { method: 'POST', headers, body: init.body, credentials: 'omit', cache: 'no-store' });
  if (!res.ok) throw new ApiError(res.status, await detailOf(res));
  return res.json();
}

/**
 * The provider's answer, when this page load is one (?code or ?error): null otherwise. The query
 * is removed from the address bar before anything else. Throws an Error whose message is for the user.
 */
export async function finishProviderSignIn(): Promise<SignedIn | null> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return null;
  history.replaceState(null, '', location.pathname + location.hash);
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  const pending = raw ? (JSON.parse(raw) as { verifier: string; state: string }) : null;
  if (params.has('error')) throw new Error(`The sign-in was not completed: ${params.get('error_description') ?? params.get('error')}.`);
  if (!pending || params.get('state') !== pending.state) throw new Error('This sign-in answer does not belong to this tab. Sign in again.');
  try {
    const tokens = (await post('/oidc/token', {
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: params.get('code') ?? '',
        redirect_uri: redirectUri(),
        client_id: CLIENT_ID,
        code_verifier: pending.verifier,
      }),
    })) as { access_token: string };
    return (await post('/sso/dashboard-token', { bearer: tokens.access_token })) as SignedIn;
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) throw new Error(`Signed in, but no dashboard for you: ${err.detail}`);
    throw new Error(`The sign-in could not be completed (${err instanceof ApiError ? err.detail : 'the gateway could not be reached'}).`);
  }
}

/** Ends the provider's session too (its own confirmation page, then back here). */
export function endProviderSession(): void {
  location.assign(`/oidc/session/end?${new URLSearchParams({ client_id: CLIENT_ID, post_logout_redirect_uri: redirectUri() })}`);
}
