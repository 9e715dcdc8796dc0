import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGateway } from '../../apps/gateway/src/bootstrap';
import { startTestGateway, TestGateway } from '../support/gateway';
import { call, onboard, operatorToken, watchdog } from '../support/onboarding';
import { eventually } from '../support/eventually';

// Heavy on a shared 2-core machine: 200 registrations and profiles take seconds.
jest.setTimeout(60_000);

describe('container onboarding, tokens and the gateway pool (HTTP, real Postgres)', () => {
  let g: TestGateway;
  let op: string;

  beforeAll(async () => {
    g = await startTestGateway('onboarding', { AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false', PLATFORM_DOMAIN: 'apps.example.test' });
    op = operatorToken(g);
  });
  afterAll(() => g.close());

  it('registers a container: SETTINGS decodes to the documented fields and its token posts events', async () => {
    const org = randomUUID();
    const project = randomUUID();
    const res = await call(g.url, 'POST', '/onboarding/containers', op, {
      org_id: org,
      project_id: project,
      image_id: 'ubuntu:terminal',
      display_name: 'Terminal de Zoé',
    });
    expect(res.status).toBe(201);
    const settings = JSON.parse(Buffer.from(res.body.settings, 'base64').toString('utf8'));
    expect(settings).toMatchObject({
      gateway_fqdn: 'gateway.collab.localhost',
      token: res.body.token,
      user_container_id: res.body.container_id,
      project_id: project,
      org_id: org,
      image_id: 'ubuntu:terminal',
      container_fqdn: `uc-${res.body.container_id}.org-${org}.apps.example.test`,
      gateway_vpn_address: '172.16.0.1',
      vpn_endpoint: 'gateway.collab.localhost:1194',
      // The container's OAuth client (docs/sso.md): its secret is shown here once.
      oauth_clients: [
        expect.objectContaining({ client_id: `uc-${res.body.container_id}`, client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) }),
      ],
    });
    expect(res.body.container_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.gateway_node).toBe('default');
    expect(res.body.docker_run).toBe(
      `docker run -d --name uc-${res.body.container_id} --restart unless-stopped --cap-add NET_ADMIN --device /dev/net/tun -e SETTINGS=${res.body.settings} demiurge/ubuntu-terminal:24.04`,
    );

    // The seed's script sends the bare token, no scheme.
    const posted = await fetch(`${g.url}/collab/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: settings.token },
      body: JSON.stringify(watchdog(project)),
    });
    expect(posted.status).toBe(202);

    const events = await g.events(`container-${res.body.container_id}`);
    expect(events.map((e) => e.event_type)).toEqual(['user-container:registered', 'user-container:token-issued']);
    expect(events[0].data).toEqual({
      container_id: res.body.container_id,
      org_id: org,
      project_id: project,
      image_id: 'ubuntu:terminal',
      display_name: 'Terminal de Zoé',
      gateway_node: 'default',
    });
    expect(events[1].data).toMatchObject({ container_id: res.body.container_id, token_version: 1, kid: 'test-1' });
    expect(events[0].metadata.actor).toEqual({ type: 'operator', id: 'op-alice' });
  });

  it('refuses the old token at once after a rotation; the new one works', async () => {
    const c = await onboard(g, op);
    const rotated = await call(g.url, 'POST', `/onboarding/containers/${c.container_id}/token`, op);
    expect(rotated.status).toBe(200);
    expect(rotated.body.token_version).toBe(2);
    expect(rotated.body.token).not.toBe(c.token);
    const old = await g.post('/collab/event', watchdog(c.project_id), c.token);
    expect(old.status).toBe(401);
    expect(old.body.detail).toMatch(/newer token/);
    expect((await g.post('/collab/event', watchdog(c.project_id), rotated.body.token)).status).toBe(202);

    // A container may rotate its own token; the token it used stops working.
    const self = await call(g.url, 'POST', '/collab/token', rotated.body.token);
    expect(self.status).toBe(200);
    expect(self.body.token_version).toBe(3);
    expect((await g.post('/collab/event', watchdog(c.project_id), rotated.body.token)).status).toBe(401);
    expect((await g.post('/collab/event', watchdog(c.project_id), self.body.token)).status).toBe(202);
  });

  it('refuses the token at once after deletion and records the deletion', async () => {
    const c = await onboard(g, op);
    expect((await g.post('/collab/event', watchdog(c.project_id), c.token)).status).toBe(202);
    const del = await call(g.url, 'DELETE', `/onboarding/containers/${c.container_id}`, op, { reason: 'user request' });
    expect(del.status).toBe(200);
    const after = await g.post('/collab/event', watchdog(c.project_id), c.token);
    expect(after.status).toBe(401);
    expect(after.body.detail).toMatch(/deleted/);
    const events = await g.events(`container-${c.container_id}`);
    expect(events.at(-1)).toMatchObject({
      event_type: 'user-container:deleted',
      data: { container_id: c.container_id, org_id: c.org_id, project_id: c.project_id, reason: 'user request' },
    });
    expect((await call(g.url, 'DELETE', `/onboarding/containers/${c.container_id}`, op)).status).toBe(409);
    expect((await call(g.url, 'POST', `/onboarding/containers/${c.container_id}/token`, op)).status).toBe(409);
    expect((await call(g.url, 'GET', `/onboarding/containers/${c.container_id}`, op)).body.deleted_at).toBeTruthy();
  });

  it('refuses container tokens that were never onboarded, or lack a version', async () => {
    const stray = g.container();
    expect((await g.post('/collab/event', watchdog(stray.projectId), stray.token)).status).toBe(401);
    const c = await onboard(g, op);
    const noVersion = g.tokens.sign({ sub: c.container_id, role: 'container', org: c.org_id, project: c.project_id }, 3600);
    expect((await g.post('/collab/event', watchdog(c.project_id), noVersion)).status).toBe(401);
  });

  it('validates onboarding input, naming the field, and allows only operator or platform tokens', async () => {
    const bad = await call(g.url, 'POST', '/onboarding/containers', op, {
      org_id: 'x',
      project_id: randomUUID(),
      image_id: 'ubuntu:terminal',
      display_name: 'a\nb',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: any) => e.field).sort()).toEqual(['display_name', 'org_id']);
    const image = await call(g.url, 'POST', '/onboarding/containers', op, {
      org_id: randomUUID(),
      project_id: randomUUID(),
      image_id: '../etc',
      display_name: 'x',
    });
    expect(image.status).toBe(400);
    expect(image.body.field).toBe('image_id');
    const c = await onboard(g, op);
    expect((await call(g.url, 'POST', '/onboarding/containers', c.token, {})).status).toBe(403);
    expect((await call(g.url, 'POST', '/onboarding/containers', undefined, {})).status).toBe(401);
    const platform = g.tokens.sign({ sub: 'platform-svc', role: 'platform' }, 60);
    expect((await call(g.url, 'GET', `/onboarding/containers/${c.container_id}`, platform)).status).toBe(200);
    expect((await call(g.url, 'GET', '/onboarding/containers/not-a-uuid', op)).status).toBe(400);
    expect((await call(g.url, 'POST', `/onboarding/containers/${randomUUID()}/token`, op)).status).toBe(404);
  });

  describe('a second gateway process on the same database', () => {
    let other: NestFastifyApplication;
    let otherUrl: string;

    beforeAll(async () => {
      other = await createGateway(g.config);
      await other.listen({ host: '127.0.0.1', port: 0 });
      otherUrl = `http://127.0.0.1:${(other.getHttpServer().address() as { port: number }).port}`;
    });
    afterAll(() => other.close());

    it('refuses a rotated or deleted token as soon as the change commits (NOTIFY, no per-request query)', async () => {
      const post = (token: string, project: string) =>
        fetch(`${otherUrl}/collab/event`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify(watchdog(project)),
        }).then((r) => r.status);
      const c = await onboard(g, op);
      expect(await post(c.token, c.project_id)).toBe(202);
      const rotated = await call(g.url, 'POST', `/onboarding/containers/${c.container_id}/token`, op);
      // The notification travels in about a millisecond; allow a short grace against a busy machine.
      await eventually(async () => (await post(c.token, c.project_id)) === 401, 1_000, 0, 'the old token refused');
      expect(await post(rotated.body.token, c.project_id)).toBe(202);
      await call(g.url, 'DELETE', `/onboarding/containers/${c.container_id}`, op);
      await eventually(
        async () => (await post(rotated.body.token, c.project_id)) === 401,
        2_000,
        0,
        "the deleted container's token refused",
      );
    });
  });

  it('places containers on the least loaded node relative to capacity and never on a drained one', async () => {
    // Registering nodes ends the default-node fallback for everything after this test.
    const node = (node_id: string, capacity: number) =>
      call(g.url, 'POST', '/onboarding/gateway-nodes', op, {
        node_id,
        fqdn: `${node_id}.gw.example.test`,
        vpn_endpoint: `${node_id}.gw.example.test:1194`,
        capacity,
      });
    expect((await node('gw-a', 2)).body.status).toBe('registered');
    expect((await node('gw-b', 4)).body.status).toBe('registered');
    expect((await node('gw-b', 4)).body.status).toBe('unchanged');
    expect((await node('gw-b', 5)).status).toBe(409);
    expect(
      (
        await call(g.url, 'POST', '/onboarding/gateway-nodes', op, { node_id: '../x', fqdn: 'A B', vpn_endpoint: 'x', capacity: 0 })
      ).body.errors
        .map((e: any) => e.field)
        .sort(),
    ).toEqual(['capacity', 'fqdn', 'node_id', 'vpn_endpoint']);

    const placed: string[] = [];
    for (let i = 0; i < 4; i++) placed.push((await onboard(g, op)).gateway_node);
    // 0/2 vs 0/4: tie on ratio, gw-b has more room; then 0/2 < 1/4? no: 0 < 0.25 -> gw-a; ...
    expect(placed).toEqual(['gw-b', 'gw-a', 'gw-b', 'gw-b']);
    const c = await onboard(g, op);
    expect(c.gateway_node).toBe('gw-a');
    const settings = JSON.parse(Buffer.from(c.settings, 'base64').toString());
    expect(settings).toMatchObject({ gateway_fqdn: 'gw-a.gw.example.test', vpn_endpoint: 'gw-a.gw.example.test:1194' });

    expect((await call(g.url, 'POST', '/onboarding/gateway-nodes/gw-b/drain', op)).body.status).toBe('drained');
    // gw-a is full (2/2), gw-b drained: no room anywhere.
    const none = await call(g.url, 'POST', '/onboarding/containers', op, {
      org_id: randomUUID(),
      project_id: randomUUID(),
      image_id: 'ubuntu:terminal',
      display_name: 'x',
    });
    expect(none.status).toBe(503);
    const list = await call(g.url, 'GET', '/onboarding/gateway-nodes', op);
    expect(list.body.map((n: any) => [n.node_id, n.load, n.drained])).toEqual([
      ['gw-a', 2, false],
      ['gw-b', 3, true],
    ]);
    expect((await g.events('gateway-node-gw-b')).map((e) => e.event_type)).toEqual(['gateway-node:registered', 'gateway-node:drained']);
  });
});
