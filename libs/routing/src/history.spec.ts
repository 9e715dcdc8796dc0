import { SERVICE_MAPPED, SERVICE_UNMAPPED } from '@app/container-events';
import { REGISTERED, VPN_ADDRESS_ASSIGNED } from '@app/onboarding';
import { diffRoutes, foldRouting, routesAt } from './history';
import type { RoutingEvent } from './routing';

const C1 = '11111111-1111-4111-8111-111111111111';
const O = '22222222-2222-4222-8222-222222222222';
const P = '33333333-3333-4333-8333-333333333333';
let position = 0;
const ev = (type: string, data: object): RoutingEvent => ({
  type,
  data: { container_id: C1, ...data },
  recordedAt: new Date(Date.UTC(2026, 10, 28, 10, 0, position)),
  globalPosition: String(++position),
});
const options = { restoreWatchdogs: 2 };

describe('routing time travel (pure)', () => {
  const log = [
    ev(REGISTERED, { org_id: O, project_id: P, gateway_node: 'gw-1' }),
    ev(VPN_ADDRESS_ASSIGNED, { address: '172.16.0.9', gateway_node: 'gw-1' }),
    ev(SERVICE_MAPPED, { name: 'notebook', port: 8888 }),
    ev(SERVICE_MAPPED, { name: 'terminal', port: 7681 }),
    ev(SERVICE_UNMAPPED, { name: 'notebook' }),
  ];
  const at = (n: number) => routesAt(foldRouting(new Map(), log.slice(0, n), options), 'apps.test');

  it('folds a prefix of the log into the routes it published then', () => {
    expect(at(2)).toEqual([]);
    expect(at(3).map((r) => [r.service, r.port, r.is_primary, r.vpn_address])).toEqual([['notebook', 8888, true, '172.16.0.9']]);
    expect(at(4).map((r) => r.service)).toEqual(['notebook', 'terminal']);
    expect(at(5).map((r) => [r.service, r.is_primary])).toEqual([['terminal', true]]);
  });

  it('diffs two moments: added, removed, and changed with the fields', () => {
    const d = diffRoutes(at(4), at(5));
    expect(d.added).toEqual([]);
    expect(d.removed.map((r) => r.service)).toEqual(['notebook']);
    expect(d.changed).toEqual([expect.objectContaining({ fqdn: `uc-${C1}--terminal.org-${O}.apps.test`, fields: ['is_primary'] })]);
    expect(diffRoutes(at(2), at(3)).added.map((r) => r.service)).toEqual(['notebook']);
  });
});
