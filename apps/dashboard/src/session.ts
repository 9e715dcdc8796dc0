const KEY = 'collab-gateway.dashboard.token';
const VIA = 'collab-gateway.dashboard.via';

/**
 * The signed-in token lives in sessionStorage only: gone when the tab closes, never in the URL,
 * never logged, never sent anywhere but this origin's Authorization header. `via` says how it was
 * got: pasted, or through the gateway's OpenID provider (whose session sign-out also ends).
 */
export const session = {
  token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  via(): 'provider' | 'pasted' {
    return sessionStorage.getItem(VIA) === 'provider' ? 'provider' : 'pasted';
  },
  signIn(token: string, via: 'provider' | 'pasted' = 'pasted'): void {
    sessionStorage.setItem(KEY, token);
    if (via === 'provider') sessionStorage.setItem(VIA, via);
    else sessionStorage.removeItem(VIA);
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(VIA);
  },
};
