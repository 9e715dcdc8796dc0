import { randomUUID } from 'node:crypto';
import type { TestGateway } from '../support/gateway';
import { call } from '../support/http';

export { call } from '../support/http';
export type { Http } from '../support/http';

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
