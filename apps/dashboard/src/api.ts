import { session } from './session';

/** A failed API call: the status and the problem+json detail the gateway gave. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${status}: ${detail}`);
  }
}

let onUnauthorized: () => void = () => undefined;
/** What to do when the token is refused (expired, revoked): the app signs out. */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

/** GET a JSON resource of the gateway (same origin), with the session's token. */
export async function get<T>(
  path: string,
  params: Record<string, string | undefined> = {},
  signal?: AbortSignal,
  token = session.token(),
): Promise<T> {
  const qs = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const res = await fetch(`${path}${qs.size ? `?${qs}` : ''}`, {
    headers: { authorization: `Bearer ${token ?? ''}`, accept: 'application/json' },
    credentials: 'omit',
    cache: 'no-store',
    signal,
  });
  if (!res.ok) {
    let detail = res.statusText;
    try {
      detail = ((await res.json()) as { detail?: string }).detail ?? detail;
    } catch {
      /* not JSON */
    }
    // The session's token refused (expired, revoked): sign out. A token being tried at sign-in is not kept yet.
    if (res.status === 401 && token === session.token()) onUnauthorized();
    throw new ApiError(res.status, detail);
  }
  return (await res.json()) as T;
}

/** Every page of a cursor-paged list (up to `max` items). */
export async function getAll<T>(
  path: string,
  params: Record<string, string | undefined>,
  max: number,
  signal?: AbortSignal,
): Promise<{ items: T[]; truncated: boolean }> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await get<{ items: T[]; next_cursor: string | null }>(path, { ...params, cursor }, signal);
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < max);
  return { items, truncated: !!cursor };
}
