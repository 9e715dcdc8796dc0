import { randomUUID } from 'node:crypto';
import type { TestGateway } from '../support/gateway';

export interface Http {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

export async function call(url: string, method: string, path: string, token?: string, body?: unknown): Promise<Http> {
  const res = await fetch(url + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
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

export const operatorToken = (g: TestGateway) => g.tokens.sign({ sub: 'op-alice', role: 'operator' }, 3600);

/** Registers a container through the API; returns the answer's body. */
export async function onboard(g: TestGateway, op: string, extra: Record<string, unknown> = {}) {
  const res = await call(g.url, 'POST', '/onboarding/containers', op, {
    org_id: randomUUID(),
    project_id: randomUUID(),
    image_id: 'ubuntu:terminal',
    display_name: 'My terminal',
    ...extra,
  });
  if (res.status !== 201) throw new Error(`onboarding failed: ${res.status} ${res.text}`);
  return res.body;
}

export const watchdog = (projectId: string) => ({
  event: { type: 'user-container:watchdog', system: { cpu: { usage: '0.40, 0.43 ' } } },
  project_id: projectId,
});
