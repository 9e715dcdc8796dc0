import { parseCidr } from '@app/common';
import type { RenderRoute } from '@app/routing';
import { renderStage1Map } from './render-stage1';
import { renderStage2Map } from './render-stage2';
import { renderStage2Conf } from './stage2-conf';

const C = '11111111-1111-4111-8111-111111111111';
const C2 = '22222222-2222-4222-8222-222222222222';
const O = '00000000-0000-4000-8000-000000000000';
const policy = { domain: 'collab.test', vpnRanges: [parseCidr('172.16.0.0/16')] };
const row = (p: Partial<RenderRoute> = {}): RenderRoute => {
  const r = {
    container_id: C,
    org_id: O,
    service: 'jupyter',
    port: 8888,
    is_primary: false,
    vpn_address: '172.16.0.5',
    gateway_node: null,
    active: true,
    ...p,
  };
  return { fqdn: `uc-${r.container_id}--${r.service}.org-${r.org_id}.collab.test`, ...r };
};

describe('renderStage2Map', () => {
  it('maps each service FQDN, and the bare name of the primary, to VPN address:port', () => {
    const out = renderStage2Map([row({ is_primary: true }), row({ service: 'ttyd', port: 7681 })], policy);
    expect(out.skipped).toEqual([]);
    expect(out.entries).toBe(3);
    expect(out.text).toContain(`map $host $collab_upstream {\n    hostnames;\n    default "unknown";\n`);
    expect(out.text).toContain(`    uc-${C}--jupyter.org-${O}.collab.test "172.16.0.5:8888";\n`);
    expect(out.text).toContain(`    uc-${C}.org-${O}.collab.test "172.16.0.5:8888";\n`);
    expect(out.text).toContain(`    uc-${C}--ttyd.org-${O}.collab.test "172.16.0.5:7681";\n`);
    expect(out.text).toContain(`map $pid $collab_routes_hash {\n    default "${out.hash}";\n}`);
  });

  it('answers inactive routes and routes without an address as offline', () => {
    const out = renderStage2Map([row({ active: false }), row({ service: 'ttyd', vpn_address: null })], policy);
    expect(out.text).toContain(`--jupyter.org-${O}.collab.test "offline";`);
    expect(out.text).toContain(`--ttyd.org-${O}.collab.test "offline";`);
  });

  it('gives the same bytes for the same routes in any order', () => {
    const a = [row(), row({ container_id: C2, is_primary: true })];
    expect(renderStage2Map(a, policy).text).toBe(renderStage2Map([...a].reverse(), policy).text);
    expect(renderStage2Map(a, policy).hash).not.toBe(renderStage2Map([row()], policy).hash);
  });

  it('skips and reports each bad row, keeping the others', () => {
    const bad = [
      row({ port: 0 }),
      row({ port: 70000 }),
      row({ service: 'Bad' }),
      row({ vpn_address: '10.0.0.1' }),
      row({ vpn_address: '::1' }),
      { ...row(), fqdn: 'evil.example.com' },
      row({ gateway_node: 'x;y' }),
    ];
    const out = renderStage2Map([...bad, row({ container_id: C2 })], policy);
    expect(out.entries).toBe(1);
    expect(out.skipped.map((s) => s.reason)).toEqual([
      'port is not an integer 1-65535',
      'port is not an integer 1-65535',
      'service is not an allowed service name',
      'vpn_address is not an IPv4 address inside the VPN ranges',
      'vpn_address is not an IPv4 address inside the VPN ranges',
      'fqdn does not match container, org, service and domain',
      'gateway_node is not an allowed node id',
    ]);
  });

  it('never writes hostile bytes, and never echoes them in the report', () => {
    const hostile = ['a\r\nb', 'a;b', 'a{b', 'a}b', 'a"b', "a'b", 'a$b', 'a#b', 'a b', 'a\\b'];
    const rows = hostile.flatMap((h) => [
      { ...row(), fqdn: `uc-${C}--${h}.org-${O}.collab.test`, service: h },
      { ...row(), fqdn: h },
      row({ gateway_node: h }),
      row({ vpn_address: h }),
    ]);
    const out = renderStage2Map(rows, policy);
    expect(out.entries).toBe(0);
    const body = out.text.replace(/^#.*\n/gm, '');
    expect(body).not.toMatch(/[\r'#\\]|\$(?!pid |host |collab_)|;(?!\n)/);
    for (const s of out.skipped) expect(s.fqdn).toMatch(/^[a-z0-9.-]+$|^\(unprintable\)$/);
    expect(renderStage1Map(rows, { ...policy, nodes: [{ id: 'gw-1', address: '10.0.0.2:8080' }], defaultNode: 'gw-1' }).entries).toBe(0);
  });

  it('keeps the first of two primaries of one container and reports the second', () => {
    const out = renderStage2Map([row({ is_primary: true }), row({ service: 'ttyd', is_primary: true })], policy);
    expect(out.entries).toBe(3);
    expect(out.skipped).toEqual([{ fqdn: `uc-${C}.org-${O}.collab.test`, reason: 'host name already routed by another row' }]);
  });

  it('marks protected routes sso:address:port (offline stays offline), and the conf sends them through auth_request', () => {
    const out = renderStage2Map(
      [
        row({ service: 'terminal', port: 7681, protected: true }),
        row({ protected: false }),
        row({ service: 'x', protected: true, active: false }),
      ],
      policy,
    );
    expect(out.text).toContain(`--terminal.org-${O}.collab.test "sso:172.16.0.5:7681";`);
    expect(out.text).toContain(`--jupyter.org-${O}.collab.test "172.16.0.5:8888";`);
    expect(out.text).toContain(`--x.org-${O}.collab.test "offline";`);
    const conf = renderStage2Conf({
      mapPath: '/m',
      listen: '127.0.0.1:1',
      statusListen: '127.0.0.1:2',
      runDir: '/r',
      gateway: '127.0.0.1:3000',
    });
    expect(conf).toContain('auth_request /.collab-sso/auth;');
    expect(conf).toContain('proxy_pass http://127.0.0.1:3000/sso/check;');
    expect(conf).toContain('if ($collab_protected = "0") { return 204; }');
    // Identity headers always come from the check (empty on open routes, so a client's own are dropped).
    for (const h of ['X-Auth-User-Id', 'X-Auth-User-Email', 'X-Auth-User-Name'])
      expect(conf).toMatch(new RegExp(`proxy_set_header ${h} \\$collab_`));
    expect(renderStage2Conf({ mapPath: '/m', listen: '127.0.0.1:1', statusListen: '127.0.0.1:2', runDir: '/r' })).toContain(
      'sso_unavailable',
    );
    expect(() =>
      renderStage2Conf({ mapPath: '/m', listen: '127.0.0.1:1', statusListen: '127.0.0.1:2', runDir: '/r', gateway: 'x;y' }),
    ).toThrow();
  });

  it('renders only the routes of its own node (null means the default node)', () => {
    const rows = [row(), row({ container_id: C2, gateway_node: 'gw-2' })];
    expect(renderStage2Map(rows, { ...policy, node: { id: 'gw-1', isDefault: true } }).entries).toBe(1);
    expect(renderStage2Map(rows, { ...policy, node: { id: 'gw-2', isDefault: false } }).text).toContain(C2);
  });
});

describe('renderStage1Map', () => {
  const nodes = [
    { id: 'gw-1', address: '10.0.0.2:8080' },
    { id: 'gw-2', address: 'gw2.internal:8080' },
  ];
  it('maps every FQDN to the upstream of its gateway node, unknown hosts to the default node', () => {
    const out = renderStage1Map(
      [
        row({ is_primary: true, active: false }),
        row({ container_id: C2, gateway_node: 'gw-2' }),
        row({ container_id: C2, service: 'x', gateway_node: 'gw-9' }),
      ],
      { ...policy, nodes, defaultNode: 'gw-1' },
    );
    expect(out.text).toContain(`default "gateway_gw_1";`);
    expect(out.text).toContain(`uc-${C}.org-${O}.collab.test "gateway_gw_1";`);
    expect(out.text).toContain(`uc-${C2}--jupyter.org-${O}.collab.test "gateway_gw_2";`);
    expect(out.text).toContain(`upstream gateway_gw_2 {\n    server gw2.internal:8080;`);
    expect(out.skipped).toEqual([{ fqdn: `uc-${C2}--x.org-${O}.collab.test`, reason: 'gateway_node is not a configured node' }]);
  });
});
