const KEY = 'collab-gateway.dashboard.token';

/**
 * The signed-in token lives in sessionStorage only: gone when the tab closes, never in the URL,
 * never logged, never sent anywhere but this origin's Authorization header.
 */
export const session = {
  token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
  },
};
