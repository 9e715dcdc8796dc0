import { ContainerTokenFeed } from '@app/onboarding';
import { startTestGateway, TestGateway } from '../support/gateway';
import { onboard, operatorToken, watchdog } from '../support/onboarding';
import { eventually } from '../support/eventually';

// Heavy on a shared 2-core machine: 200 registrations and profiles take seconds.
jest.setTimeout(60_000);

describe('container token versions when the NOTIFY feed is lost', () => {
  let g: TestGateway;
  let feed: ContainerTokenFeed;

  beforeAll(async () => {
    g = await startTestGateway('token_feed', { AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false' });
    feed = g.app.get(ContainerTokenFeed);
  });
  afterAll(() => g.close());

  it('checks against the database while out of sync, so a rotation it did not hear of still revokes', async () => {
    const op = operatorToken(g);
    const c = await onboard(g, op);
    expect(feed.inSync).toBe(true);
    expect((await g.post('/collab/event', watchdog(c.project_id), c.token)).status).toBe(202);

    await g.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'collab-token-feed' AND datname = current_database()`,
    );
    await eventually(() => !feed.inSync);
    // Another process rotates the token: this one is not listening and hears nothing.
    await g.store.append(`container-${c.container_id}`, [
      {
        type: 'user-container:token-issued',
        data: { container_id: c.container_id, token_version: 2, kid: 'test-1', expires_at: new Date(Date.now() + 3600_000).toISOString() },
      },
    ]);
    expect((await g.post('/collab/event', watchdog(c.project_id), c.token)).status).toBe(401);

    // The feed reconnects and reloads everything; the old token stays refused from memory.
    await eventually(() => feed.inSync);
    expect(feed.check(c.container_id, 1)).toBe('revoked');
    expect(feed.check(c.container_id, 2)).toBe('ok');
    expect((await g.post('/collab/event', watchdog(c.project_id), c.token)).status).toBe(401);
  });
});

describe('the onboarding trigger on the events table', () => {
  let g: TestGateway;
  beforeAll(async () => {
    g = await startTestGateway('onboarding_trigger');
  });
  afterAll(() => g.close());

  it('skips events it cannot read instead of failing their append', async () => {
    const odd = [
      { type: 'user-container:registered', data: { container_id: 'not-a-uuid' } },
      { type: 'user-container:registered', data: { container_id: '11111111-1111-4111-8111-111111111111', org_id: 'x' } },
      { type: 'user-container:token-issued', data: { container_id: '11111111-1111-4111-8111-111111111111', token_version: 'two' } },
      { type: 'user-container:deleted', data: ['not', 'an', 'object'] },
      { type: 'gateway-node:registered', data: { node_id: 'n', capacity: -1 } },
      { type: 'gateway-node:drained', data: null },
    ];
    for (const e of odd) await expect(g.store.append(`test-${Math.random()}`, [e])).resolves.toMatchObject({ duplicate: false });
    const { rows } = await g.pool.query(
      `SELECT (SELECT count(*) FROM onboarded_containers)::int AS c, (SELECT count(*) FROM gateway_nodes)::int AS n`,
    );
    expect(rows[0]).toEqual({ c: 0, n: 0 });
  });
});
