import { explainVerdict, type ExplainFacts } from './verdict';

const C = '11111111-1111-4111-8111-111111111111';
const O = '22222222-2222-4222-8222-222222222222';
const host = `uc-${C}--notebook.org-${O}.apps.test`;

/** A container whose notebook is served; each case below breaks one link of the chain. */
const served = (): ExplainFacts => ({
  host,
  parsed: { containerId: C, orgId: O, service: 'notebook' },
  domain: 'apps.test',
  container: {
    org_id: O,
    project_id: 'p',
    status: 'healthy',
    status_since: '2026-11-28T10:00:00.000Z',
    deleted: false,
    last_watchdog_at: null,
  },
  services: ['notebook', 'terminal'],
  route: {
    fqdn: host,
    service: 'notebook',
    port: 8888,
    active: true,
    protected: false,
    vpn_address: '172.16.0.5',
    gateway_node: 'gw-1',
    updated_position: '40',
    updated_at: '2026-11-28T10:00:01.000Z',
  },
  mapping: { position: '40', recorded_at: '2026-11-28T10:00:01.000Z', actor: `container:${C}`, port: 8888 },
  withdrawn_at: null,
  projection: { position: '55', behind_events: 0 },
  render: {
    node: 'gw-1',
    last_outcome: 'swapped',
    last_attempt_at: '2026-11-28T10:00:02.000Z',
    last_success_at: '2026-11-28T10:00:02.000Z',
    config_hash: 'abc',
    failed_stage: null,
    last_error: null,
  },
  access: null,
});

/** Routes withdrawn (at 11:00) by an offline lapse, while the health row says `status` (since `since`). */
const withdrawnWhile = (status: string, since?: string) => (f: ExplainFacts) => {
  f.route!.active = false;
  f.container!.status = status;
  if (since) f.container!.status_since = since;
  f.withdrawn_at = '2026-11-28T11:00:00.000Z';
};

describe('explainVerdict', () => {
  it('served: the route, its address and node', () => {
    expect(explainVerdict(served())).toEqual({ code: 'served', verdict: `served: ${host} -> 172.16.0.5:8888 through node gw-1` });
  });

  it.each<[string, (f: ExplainFacts) => void, string, RegExp]>([
    ['a host of no platform shape', (f) => (f.parsed = null), 'not_a_service_host', /is not a service host/],
    ['an unknown container', (f) => (f.container = null), 'unknown_container', new RegExp(`no container ${C}`)],
    ['another org in the host', (f) => (f.container!.org_id = 'other'), 'wrong_org', /belongs to org other/],
    ['a deleted container', (f) => (f.container!.deleted = true), 'container_deleted', /container deleted at 2026-11-28T10:00:00/],
    [
      'a mapping the projection has not reached',
      (f) => {
        f.route = null;
        f.projection = { position: '39', behind_events: 16 };
      },
      'not_projected',
      /not routed yet: the mapping at position 40 .* \(16 events behind\)/,
    ],
    [
      'a service the container does not have',
      (f) => {
        f.route = null;
        f.mapping = null;
        f.parsed!.service = 'jupyter';
        f.services = ['jupyterlab'];
      },
      'no_such_service',
      /^no service 'jupyter' on this container; it has 'jupyterlab'$/,
    ],
    ['withdrawn routes', withdrawnWhile('offline'), 'container_offline', /^container offline since 2026-11-28T11:00:00.000Z/],
    [
      // Routing applied the offline lapse, health has not yet: the routes say offline.
      'withdrawn routes, the health row a batch behind',
      withdrawnWhile('stale'),
      'container_offline',
      /^container offline since 2026-11-28T11:00:00.000Z: its routes are withdrawn/,
    ],
    [
      'withdrawn routes of a container beating again',
      withdrawnWhile('healthy', '2026-11-28T11:05:00.000Z'),
      'container_offline',
      /^container healthy again since 2026-11-28T11:05:00.000Z, its routes still withdrawn/,
    ],
    ['no VPN address', (f) => (f.route!.vpn_address = null), 'no_vpn_address', /no VPN address/],
    ['no render ever', (f) => (f.render = null), 'never_rendered', /gw-1 has never rendered/],
    [
      'a failed render after the change',
      (f) =>
        Object.assign(f.render!, {
          last_outcome: 'failed',
          last_success_at: '2026-11-28T09:00:00.000Z',
          failed_stage: 'validate',
          last_error: 'nginx -t: bad',
        }),
      'render_failed',
      /^render failed at validate: nginx -t: bad/,
    ],
    [
      'a render older than the change',
      (f) => (f.render!.last_success_at = '2026-11-28T09:00:00.000Z'),
      'not_rendered_yet',
      /^not rendered yet: the route changed at 2026-11-28T10:00:01.000Z/,
    ],
    [
      'a user without access to a protected route',
      (f) => {
        f.route!.protected = true;
        f.access = { user_id: 'u1', allowed: false };
      },
      'access_denied',
      /user u1 has no access to project p/,
    ],
  ])('%s', (_name, breakIt, code, text) => {
    const f = served();
    breakIt(f);
    const v = explainVerdict(f);
    expect(v.code).toBe(code);
    expect(v.verdict).toMatch(text);
  });

  it('a mapping the projection already passed is not "behind": the service is simply not there', () => {
    const f = served();
    f.route = null;
    f.services = [];
    expect(explainVerdict(f)).toEqual({
      code: 'no_such_service',
      verdict: "no service 'notebook' on this container; it has mapped no service yet",
    });
  });

  it('served, with a stale container and sign-in named', () => {
    const f = served();
    f.container!.status = 'stale';
    f.route!.protected = true;
    f.access = { user_id: 'u1', allowed: true };
    expect(explainVerdict(f).verdict).toMatch(/behind sign-in \(container stale since/);
  });
});
