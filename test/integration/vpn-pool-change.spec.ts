import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGateway } from '../../apps/gateway/src/bootstrap';
import { startTestGateway, TestGateway } from '../support/gateway';
import { call } from '../support/http';
import { eventually } from '../support/stack';
import { onboard, operatorToken } from '../support/onboarding';

const OLD_POOL = '172.16.0.0/16';
const NEW_POOL = '127.77.0.0/16';
const cert = (profile: string) => /<cert>\n([\s\S]*?)\n<\/cert>/.exec(profile)![1];

/**
 * VPN_POOL_CIDR changed while containers held addresses of the old pool (what `npm start` did when
 * it fell back from its loopback pool): a container's next vpn-config gives up the old address for
 * one of the current pool, records both (released, assigned), keeps its certificate, and its
 * route follows. Nothing is sent to these addresses: they are rows, not interfaces.
 */
describe('VPN addresses after the pool changed', () => {
  let g: TestGateway;
  let moved: NestFastifyApplication;
  let movedUrl: string;
  let op: string;

  beforeAll(async () => {
    g = await startTestGateway('vpn_pool_change', { AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false', VPN_POOL_CIDR: OLD_POOL });
    op = operatorToken(g);
  }, 60_000);
  afterAll(async () => {
    await moved?.close();
    await g?.close();
  });

  const vpnConfig = (url: string, token: string) =>
    call(url, 'GET', '/collab/vpn-config', token, undefined, { accept: 'application/x-openvpn-profile' });
  const describeContainer = async (id: string) => (await call(g.url, 'GET', `/onboarding/containers/${id}`, op)).body;
  const lifecycle = async (id: string) =>
    (await g.events(`container-${id}`))
      .filter((e) => e.event_type.startsWith('user-container:vpn-address') || e.event_type === 'user-container:certificate-issued')
      .map((e) => [e.event_type, e.data.address ?? e.data.serial, e.data.reason ?? null]);

  it('a container of the old pool gets an address of the current pool at its next vpn-config, recorded as events', async () => {
    const a = await onboard(g, op);
    const b = await onboard(g, op);
    const first = await vpnConfig(g.url, a.token);
    expect(first.status).toBe(200);
    expect((await vpnConfig(g.url, b.token)).status).toBe(200);
    expect((await describeContainer(a.container_id)).vpn_address).toBe('172.16.0.2');
    expect((await describeContainer(b.container_id)).vpn_address).toBe('172.16.0.3');
    const serial = (await describeContainer(a.container_id)).certificate_serial;

    // The same database, another pool.
    moved = await createGateway({ ...g.config, vpn: { ...g.config.vpn, poolCidr: NEW_POOL } });
    await moved.listen({ host: '127.0.0.1', port: 0 });
    movedUrl = `http://127.0.0.1:${(moved.getHttpServer().address() as { port: number }).port}`;

    const again = await vpnConfig(movedUrl, a.token);
    expect(again.status).toBe(200);
    expect(cert(again.text)).toBe(cert(first.text));
    const now = await describeContainer(a.container_id);
    expect(now.vpn_address).toBe('127.77.0.2');
    expect(now.certificate_serial).toBe(serial);
    expect(await lifecycle(a.container_id)).toEqual([
      ['user-container:vpn-address-assigned', '172.16.0.2', null],
      ['user-container:certificate-issued', serial, null],
      ['user-container:vpn-address-released', '172.16.0.2', 'outside-pool'],
      ['user-container:vpn-address-assigned', '127.77.0.2', null],
    ]);

    // Stable from then on: the same address, nothing more recorded.
    await vpnConfig(movedUrl, a.token);
    expect((await describeContainer(a.container_id)).vpn_address).toBe('127.77.0.2');
    expect(await lifecycle(a.container_id)).toHaveLength(4);

    // A new container and the other old one: distinct addresses of the current pool.
    const c = await onboard(g, op);
    expect((await vpnConfig(movedUrl, c.token)).status).toBe(200);
    expect((await vpnConfig(movedUrl, b.token)).status).toBe(200);
    const addresses = [a, b, c].map(async (x) => (await describeContainer(x.container_id)).vpn_address as string);
    const all = await Promise.all(addresses);
    expect(new Set(all).size).toBe(3);
    for (const addr of all) expect(addr).toMatch(/^127\.77\.0\.\d+$/);
  }, 60_000);

  it("the container's route follows to its new address", async () => {
    const a = await onboard(g, op);
    expect((await vpnConfig(g.url, a.token)).status).toBe(200);
    const map = await call(g.url, 'POST', '/collab/event', a.token, {
      event: { type: 'user-container:map-http-service', name: 'terminal', port: 7681 },
      project_id: a.project_id,
    });
    expect(map.status).toBe(202);
    const route = async () =>
      (await g.pool.query(`SELECT vpn_address FROM routes WHERE container_id = $1 AND service = 'terminal'`, [a.container_id])).rows[0]
        ?.vpn_address;
    await eventually(async () => (await route())?.startsWith('172.16.'), 15_000);
    expect((await vpnConfig(movedUrl, a.token)).status).toBe(200);
    await eventually(async () => (await route())?.startsWith('127.77.'), 15_000);
  }, 60_000);
});
