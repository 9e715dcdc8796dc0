import { renderRuleset, rulesetProblems } from './nft';
import { parseClients, sessionsToKill } from './node-files';

const P = { device: 'collabvpn0', gatewayAddress: '10.213.100.1' };
/** What `nft list table inet collab_vpn` prints for the rendered table (nft 1.0.6). */
const LISTED = `table inet collab_vpn {
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tiifname "collabvpn0" ct state established,related accept
\t\tiifname "collabvpn0" ip daddr 10.213.100.1 tcp dport 80 accept
\t\tiifname "collabvpn0" ip daddr 10.213.100.1 icmp type echo-request accept
\t\tiifname "collabvpn0" drop
\t}

\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\tiifname "collabvpn0" drop
\t\toifname "collabvpn0" drop
\t}
}
`;

describe('tenant isolation ruleset', () => {
  it('renders one atomic replacement of the table', () => {
    const r = renderRuleset(P);
    expect(r.startsWith('table inet collab_vpn\ndelete table inet collab_vpn\ntable inet collab_vpn {\n')).toBe(true);
    expect(r).toContain(
      'type filter hook forward priority filter; policy accept;\n    iifname "collabvpn0" drop\n    oifname "collabvpn0" drop',
    );
    expect(() => renderRuleset({ device: 'x; flush ruleset', gatewayAddress: '1.2.3.4' })).toThrow();
  });

  it('finds the live table complete, and names what is missing or added', () => {
    expect(rulesetProblems(LISTED, P)).toEqual([]);
    expect(rulesetProblems(LISTED.replace('\t\toifname "collabvpn0" drop\n', ''), P)).toEqual([
      'chain collab_vpn/forward lacks: oifname "collabvpn0" drop',
    ]);
    expect(rulesetProblems(LISTED.replace('\t\tiifname "collabvpn0" drop\n\t}\n\n', '\t}\n\n'), P)[0]).toMatch(
      /input lacks: iifname "collabvpn0" drop/,
    );
    expect(
      rulesetProblems(LISTED.replace('icmp type echo-request accept', 'icmp type echo-request accept\n\t\tiifname "collabvpn0" accept'), P),
    ).toEqual(['chain collab_vpn/input has unexpected rules: iifname "collabvpn0" accept']);
    expect(rulesetProblems('', P)).toEqual(['chain collab_vpn/input is missing', 'chain collab_vpn/forward is missing']);
  });
});

describe('sessions to end', () => {
  const A = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const B = '1f8fad5b-d9cb-469f-a165-70867728950e';
  it('ends a deleted client, a replaced certificate and an unknown connected client; keeps the rest', () => {
    const before = parseClients(`${A} aa01\n${B} bb01\nnot a line\n`);
    expect(sessionsToKill(before, parseClients(`${B} bb01\n`), [B])).toEqual([A]);
    expect(sessionsToKill(before, parseClients(`${A} aa01\n${B} bb02\n`), [A, B])).toEqual([B]);
    expect(sessionsToKill(undefined, parseClients(`${A} aa01\n`), [A, B])).toEqual([B]);
    expect(sessionsToKill(before, before, [A, B])).toEqual([]);
  });
});
