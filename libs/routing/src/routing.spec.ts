import { evolveRouting, RoutingEvent, routesOf, RoutingState } from './routing';

const C = {
  container_id: '00000000-0000-4000-8000-000000000001',
  org_id: '00000000-0000-4000-8000-0000000000aa',
  project_id: '00000000-0000-4000-8000-0000000000bb',
};
let pos = 0;
const ev = (type: string, data: object, at: string): RoutingEvent => ({
  type,
  data: { ...C, ...data },
  metadata: { received_at: at },
  recordedAt: new Date(at),
  globalPosition: String(++pos),
});
const o = { restoreWatchdogs: 2 };
const fold = (events: RoutingEvent[], s?: RoutingState) => events.reduce<RoutingState | undefined>((st, e) => evolveRouting(st, e, o), s);
const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();

describe('routing read model', () => {
  it('one route per mapped service, the first mapped is primary; remap updates, unmap removes', () => {
    const s = fold([
      ev('user-container:vpn-address-assigned', { address: '10.8.0.7', gateway_node: 'gw-1' }, at(0)),
      ev('user-container:http-service-mapped', { name: 'jupyter', port: 8888 }, at(1)),
      ev('user-container:http-service-mapped', { name: 'pgadmin', port: 5050 }, at(2)),
      ev('user-container:http-service-mapped', { name: 'jupyter', port: 8889 }, at(3)),
    ])!;
    const routes = routesOf(s, 'collab.test');
    expect(routes.map((r) => [r.service, r.port, r.is_primary, r.vpn_address, r.gateway_node, r.active])).toEqual([
      ['jupyter', 8889, true, '10.8.0.7', 'gw-1', true],
      ['pgadmin', 5050, false, '10.8.0.7', 'gw-1', true],
    ]);
    expect(routes[0].fqdn).toBe(`uc-${C.container_id}--jupyter.org-${C.org_id}.collab.test`);
    const after = fold([ev('user-container:http-service-unmapped', { name: 'jupyter' }, at(4))], s)!;
    expect(routesOf(after, 'collab.test').map((r) => [r.service, r.is_primary])).toEqual([['pgadmin', true]]);
  });

  it('withdraws on offline (not stale), returns after two watchdogs received after the withdrawal', () => {
    let s = fold([
      ev('user-container:http-service-mapped', { name: 'web', port: 80 }, at(0)),
      ev('user-container:watchdog', { system: {} }, at(1)),
    ])!;
    s = fold([ev('user-container:health-lapsed', { status: 'stale', last_seen_at: at(1) }, at(31))], s)!;
    expect(routesOf(s, 'collab.test')[0].active).toBe(true);
    s = fold([ev('user-container:health-lapsed', { status: 'offline', last_seen_at: at(1) }, at(301))], s)!;
    expect(routesOf(s, 'collab.test')[0].active).toBe(false);
    // A packet received before the withdrawal but committed after it does not count.
    s = fold([ev('user-container:watchdog', { system: {} }, at(300))], s)!;
    s = fold([ev('user-container:watchdog', { system: {} }, at(302))], s)!;
    expect(routesOf(s, 'collab.test')[0].active).toBe(false);
    s = fold([ev('user-container:watchdog', { system: {} }, at(317))], s)!;
    expect(routesOf(s, 'collab.test')[0].active).toBe(true);
  });

  it('ignores an out-of-date offline lapse, withdraws for good on deletion, refuses bad values', () => {
    let s = fold([
      ev('user-container:http-service-mapped', { name: 'web', port: 80 }, at(0)),
      ev('user-container:watchdog', { system: {} }, at(10)),
    ])!;
    expect(fold([ev('user-container:health-lapsed', { status: 'offline', last_seen_at: at(5) }, at(400))], s)).toBe(s);
    expect(fold([ev('user-container:http-service-mapped', { name: 'Bad;', port: 80 }, at(11))], s)).toBe(s);
    expect(fold([ev('user-container:vpn-address-assigned', { address: '10.0.0.1; evil' }, at(11))], s)).toBe(s);
    s = fold(
      [
        ev('user-container:deleted', {}, at(20)),
        ev('user-container:watchdog', { system: {} }, at(30)),
        ev('user-container:watchdog', { system: {} }, at(45)),
      ],
      s,
    )!;
    expect(routesOf(s, 'collab.test')[0].active).toBe(false);
  });

  it('marks protected services (the terminal always), and a change of protection changes the route', () => {
    let s = fold([
      ev('user-container:http-service-mapped', { name: 'terminal', port: 7681 }, at(0)),
      ev('user-container:http-service-mapped', { name: 'pgadmin', port: 5050, protected: true }, at(1)),
      ev('user-container:http-service-mapped', { name: 'web', port: 80 }, at(2)),
    ])!;
    expect(routesOf(s, 'collab.test').map((r) => [r.service, r.protected])).toEqual([
      ['terminal', true],
      ['pgadmin', true],
      ['web', false],
    ]);
    const before = s;
    s = fold([ev('user-container:http-service-mapped', { name: 'web', port: 80, protected: true }, at(3))], s)!;
    expect(s).not.toBe(before);
    expect(routesOf(s, 'collab.test').find((r) => r.service === 'web')!.protected).toBe(true);
    expect(fold([ev('user-container:http-service-mapped', { name: 'web', port: 80, protected: true }, at(4))], s)).toBe(s);
  });
});
