import { buildSettings, dockerRunCommand } from './settings';
import { ccdFileName, nodeDirName, renderCcd, renderClientJson, renderClientProfile } from './vpn-files';
import { addressAt, gatewayAddress, isPoolHost, netmask, parsePool } from './vpn-pool';

const ID = '11111111-1111-4111-8111-111111111111';
const ORG = '22222222-2222-4222-8222-222222222222';

describe('VPN pool arithmetic', () => {
  const pool = parsePool('172.16.0.0/16');

  it('never hands out the network, the gateway or the broadcast address', () => {
    expect(pool).toMatchObject({ firstHost: 2, lastHost: 65534 });
    expect(addressAt(pool, 2)).toBe('172.16.0.2');
    expect(addressAt(pool, 65534)).toBe('172.16.255.254');
    expect(() => addressAt(pool, 1)).toThrow(RangeError);
    expect(() => addressAt(pool, 65535)).toThrow(RangeError);
    expect(gatewayAddress(pool)).toBe('172.16.0.1');
    expect(netmask(pool)).toBe('255.255.0.0');
    expect(netmask(parsePool('10.9.0.0/29'))).toBe('255.255.255.248');
    expect(['172.16.0.0', '172.16.0.1', '172.16.255.255', '172.17.0.2', '1.2.3', '172.16.0.2; x'].map((a) => isPoolHost(pool, a))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(isPoolHost(pool, '172.16.3.4')).toBe(true);
  });
});

describe('VPN server files', () => {
  const pool = parsePool('172.16.0.0/16');

  it('renders a ccd line and refuses anything that is not a host of the pool', () => {
    expect(renderCcd(pool, '172.16.0.2')).toBe('ifconfig-push 172.16.0.2 255.255.0.0\n');
    expect(() => renderCcd(pool, '172.16.0.2\npush "route 0.0.0.0"')).toThrow();
  });

  it('lets only a lower-case UUID become a file name, and only a safe id a node directory', () => {
    expect(ccdFileName(ID)).toBe(ID);
    for (const bad of [
      '../etc/passwd',
      `${ID}/..`,
      `${ID}\u0000`,
      'abcdef01-1111-4111-8111-111111111111'.toUpperCase(),
      '.',
      '',
      'ccd',
      null,
      42,
    ])
      expect(ccdFileName(bad)).toBeNull();
    expect(nodeDirName('gw-a')).toBe('gw-a');
    for (const bad of ['..', '../x', 'a/b', 'A', '-x', 'x\n', '']) expect(nodeDirName(bad)).toBeNull();
  });

  const parts = {
    endpoint: 'gw.example.test:1194',
    serverName: 'gw.example.test',
    proto: 'udp' as const,
    caPem: 'CA\n',
    certPem: 'CERT',
    keyPem: 'KEY',
    tlsCryptKey: 'TA\n',
  };

  it('renders an OpenVPN client profile with everything inline', () => {
    const p = renderClientProfile(parts);
    expect(p).toContain('remote gw.example.test 1194\n');
    expect(p).toContain('verify-x509-name gw.example.test name\n');
    expect(p).toContain('<ca>\nCA\n</ca>\n<cert>\nCERT\n</cert>\n<key>\nKEY\n</key>\n<tls-crypt>\nTA\n</tls-crypt>\n');
  });

  it("renders the seed client's JSON: files by name, config naming them, remote GATEWAY_FQDN", () => {
    const j = renderClientJson(parts);
    expect(j.certificates).toEqual({ 'ca.crt': 'CA\n', 'client.crt': 'CERT\n', 'client.key': 'KEY\n', 'ta.key': 'TA\n' });
    expect(j.config).toMatch(/^client\n/);
    expect(j.config).toContain('\nremote GATEWAY_FQDN 1194\n');
    expect(j.config).toContain('\nca ca.crt\ncert client.crt\nkey client.key\ntls-crypt ta.key\n');
    expect(j.config).not.toMatch(/BEGIN|auth-user-pass/);
    // An endpoint on another host than the node's FQDN is named as it is.
    expect(renderClientJson({ ...parts, endpoint: '10.0.0.5:1194' }).config).toContain('\nremote 10.0.0.5 1194\n');
  });
});

describe('SETTINGS and docker run', () => {
  it('encodes the fields the seed script reads', () => {
    const { encoded, settings } = buildSettings({
      gateway_fqdn: 'gw.example.test',
      token: 't.o.k',
      token_expires_at: 'x',
      user_container_id: ID,
      project_id: ORG,
      org_id: ORG,
      image_id: 'ubuntu:terminal',
      vpn_endpoint: 'gw.example.test:1194',
      gateway_vpn_address: '172.16.0.1',
      vpn_secret: 'c2VjcmV0LXNlY3JldA',
      domain: 'apps.example.test',
    });
    expect(JSON.parse(Buffer.from(encoded, 'base64').toString())).toEqual(settings);
    expect(settings).toMatchObject({ user_container_id: ID, container_fqdn: `uc-${ID}.org-${ORG}.apps.example.test`, oauth_clients: [] });
  });

  it('builds a docker run line from allow-listed parts only', () => {
    expect(dockerRunCommand(ID, 'eyJ9', 'demiurge/ubuntu-terminal:24.04')).toBe(
      `docker run -d --name uc-${ID} --restart unless-stopped --cap-add NET_ADMIN --device /dev/net/tun -e SETTINGS=eyJ9 demiurge/ubuntu-terminal:24.04`,
    );
    expect(() => dockerRunCommand(ID, 'eyJ9; rm -rf /', 'x')).toThrow();
    expect(() => dockerRunCommand(ID, 'eyJ9', 'x $(id)')).toThrow();
  });
});
