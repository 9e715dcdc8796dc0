import { ConfigError, loadConfig } from './config';

const variables = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    return (err as ConfigError).problems.map((p) => p.variable);
  }
};

describe('onboarding and VPN settings', () => {
  it('has documented defaults', () => {
    const c = loadConfig({});
    expect(c.vpn).toMatchObject({ poolCidr: '172.16.0.0/16', proto: 'udp', addressQuarantineS: 3600, filesDir: '.data/openvpn' });
    expect(c.onboarding.defaultNode).toEqual({
      nodeId: 'default',
      fqdn: 'gateway.collab.localhost',
      vpnEndpoint: 'gateway.collab.localhost:1194',
    });
    expect(c.onboarding.images['ubuntu:terminal']).toBe('demiurge/ubuntu-terminal:24.04');
    expect(c.auth.allowUnregisteredContainers).toBe(false);
  });

  it('names each bad value', () => {
    expect(variables({ VPN_POOL_CIDR: '172.16.0.1/16' })).toEqual(['VPN_POOL_CIDR']);
    expect(variables({ VPN_POOL_CIDR: '10.0.0.0/31' })).toEqual(['VPN_POOL_CIDR']);
    expect(variables({ GATEWAY_DEFAULT_VPN_ENDPOINT: 'gw.example.test:99999' })).toEqual(['GATEWAY_DEFAULT_VPN_ENDPOINT']);
    expect(variables({ GATEWAY_DEFAULT_VPN_ENDPOINT: 'gw example:1194' })).toEqual(['GATEWAY_DEFAULT_VPN_ENDPOINT']);
    expect(variables({ CONTAINER_IMAGES: '{"ok:1": "img/ok:1", "bad id": "x"}' })).toEqual(['CONTAINER_IMAGES']);
    expect(variables({ CONTAINER_IMAGES: '{"ok:1": "img $(id)"}' })).toEqual(['CONTAINER_IMAGES']);
    expect(variables({ NODE_ENV: 'production', AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'true', SSO_ENABLED: 'false' })).toEqual([
      'AUTH_ALLOW_UNREGISTERED_CONTAINERS',
    ]);
    expect(loadConfig({ VPN_POOL_CIDR: '10.9.0.0/29', CONTAINER_IMAGES: '{"ok:1": "img/ok:1"}' }).onboarding.images).toEqual({
      'ok:1': 'img/ok:1',
    });
  });
});
