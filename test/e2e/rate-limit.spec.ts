import { startTestGateway, TestGateway } from '../support/gateway';

describe('rate limit per token subject, shared through Redis', () => {
  let a: TestGateway;
  let b: TestGateway;
  beforeAll(async () => {
    // Two gateway processes' worth of apps on the same Redis prefix.
    a = await startTestGateway('ratelimit', { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
    b = await startTestGateway('ratelimit', { RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW_MS: '60000' });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('answers 429 to the flooding token across both gateways while others are unaffected', async () => {
    const flood = a.container();
    const floodOnB = {
      ...flood,
      token: b.tokens.sign({ sub: flood.containerId, role: 'container', org: flood.orgId, project: flood.projectId }, 600),
    };
    const body = (p: string) => ({ event: { type: 'user-container:watchdog' }, project_id: p });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await a.post('/collab/event', body(flood.projectId), flood.token)).status);
    for (let i = 0; i < 4; i++) statuses.push((await b.post('/collab/event', body(flood.projectId), floodOnB.token)).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);

    const limited = await a.post('/collab/event', body(flood.projectId), flood.token);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'rate_limited', field: 'authorization' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const other = a.container();
    expect((await a.post('/collab/event', body(other.projectId), other.token)).status).toBe(202);
    // Nothing beyond the budget reached either store.
    const stored = (await a.events(`watchdog-${flood.containerId}`)).length + (await b.events(`watchdog-${flood.containerId}`)).length;
    expect(stored).toBe(5);
  });
});
