/** The one HTTP helper of the test suite: JSON in, JSON (or text) out, optional bearer token. */
export interface Http {
  status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: any;
  text: string;
  headers: Headers;
}

export async function call(
  url: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Http> {
  const res = await fetch(url + path, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    // A string body is sent as it is (bad JSON, other content types).
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
