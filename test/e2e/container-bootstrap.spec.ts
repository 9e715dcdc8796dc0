import { randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { call } from '../support/http';
import { startTestGateway, TestGateway } from '../support/gateway';
import { eventually } from '../support/stack';
import { runBash, tempDir } from '../support/container';

/**
 * The container side end to end: SETTINGS from the onboarding API, the real
 * container-functions.sh (bash, curl, jq), the real /collab/vpn-config, events in the store and
 * in the health and routing read models. Only the network path is simulated: there is no tunnel
 * or TLS edge here, so the two gateway addresses in SETTINGS are pointed at the loopback gateway,
 * and OpenVPN is a stub that records how it was started.
 */
jest.setTimeout(60_000);

describe('a container bootstraps against the gateway (onboarding -> VPN profile -> events -> read models)', () => {
  let gw: TestGateway;
  let dir: ReturnType<typeof tempDir>;
  let app: Server;

  beforeAll(async () => {
    gw = await startTestGateway('bootstrap', { AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false', PLATFORM_DOMAIN: 'apps.example.test' });
    dir = tempDir('bootstrap');
    app = createServer((_req, res) => res.end('ttyd'));
    await new Promise<void>((ok) => app.listen(0, '127.0.0.1', ok));
  });
  afterAll(async () => {
    app.close();
    await gw.close();
    dir.remove();
  });

  it('registers, fetches its profile, posts its watchdog and mapping, and shows healthy with a route', async () => {
    const operator = gw.tokens.sign({ sub: 'op-bootstrap', role: 'operator' }, 600);
    const org = randomUUID();
    const project = randomUUID();
    const reg = await call(gw.url, 'POST', '/onboarding/containers', operator, {
      org_id: org,
      project_id: project,
      image_id: 'ubuntu:terminal',
      display_name: 'terminal',
    });
    expect(reg.status).toBe(201);
    const containerId: string = reg.body.container_id;
    const settings = JSON.parse(Buffer.from(reg.body.settings, 'base64').toString('utf8'));
    const loopback = { ...settings, gateway_url: gw.url, gateway_vpn_address: gw.url.replace('http://', '') };

    const ovpnLog = join(dir.path, 'openvpn.log');
    const ovpn = join(dir.path, 'openvpn.sh');
    writeFileSync(ovpn, `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> '${ovpnLog}'\nexec sleep 30\n`);
    chmodSync(ovpn, 0o755);
    const vpnDir = join(dir.path, 'vpn');
    const port = (app.address() as AddressInfo).port;

    const r = await runBash('extract_settings; start_vpn; cf_vpn_stop; watchdog; map_http_service terminal "$APP_PORT"', {
      SETTINGS: Buffer.from(JSON.stringify(loopback)).toString('base64'),
      OPENVPN_BIN: ovpn,
      VPN_CONFIG_DIR: vpnDir,
      CF_VPN_SETTLE_MS: '100',
      SERVICES: `terminal:${port}`,
      APP_PORT: String(port),
      TMPDIR: dir.path,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain(settings.token);

    // The real answer, the seed's JSON: this container's certificate and key as files, the config naming them, written 0600.
    const profile = readFileSync(join(vpnDir, 'client.ovpn'), 'utf8');
    expect(profile).toMatch(/^client$/m);
    expect(profile).toMatch(/^remote \S+ 1194$/m);
    expect(profile).not.toContain('GATEWAY_FQDN');
    expect(profile).toContain('\ncert client.crt\n');
    expect(profile).toContain('\nauth-user-pass vpn-auth.txt\nauth-nocache\n');
    expect(readFileSync(join(vpnDir, 'client.key'), 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
    expect(readFileSync(join(vpnDir, 'vpn-auth.txt'), 'utf8')).toBe(`${containerId}\n${settings.vpn_secret}\n`);
    for (const f of ['client.ovpn', 'client.key', 'vpn-auth.txt']) expect(statSync(join(vpnDir, f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(ovpnLog, 'utf8')).toContain(join(vpnDir, 'client.ovpn'));

    // The store: registration, token, VPN address and certificate, the mapping; the watchdog.
    const lifecycle = (await gw.events(`container-${containerId}`)).map((e) => e.event_type);
    expect(lifecycle).toEqual(
      expect.arrayContaining([
        'user-container:registered',
        'user-container:token-issued',
        'user-container:vpn-address-assigned',
        'user-container:certificate-issued',
        'user-container:http-service-mapped',
      ]),
    );
    const [wd] = await gw.events(`watchdog-${containerId}`);
    expect(wd.data).toMatchObject({
      container_id: containerId,
      org_id: org,
      project_id: project,
      services: [{ name: 'terminal', healthy: true }],
    });

    // The read models: healthy, with the terminal's route to its VPN address.
    const viewer = gw.tokens.sign({ sub: 'viewer-1', role: 'viewer', org }, 600);
    const view = await eventually(
      async () => {
        const res = await call(gw.url, 'GET', `/containers/${containerId}`, viewer);
        return res.status === 200 && res.body.status === 'healthy' && res.body.routes.length === 1 ? res.body : null;
      },
      10_000,
      100,
    );
    expect(view.routes[0]).toMatchObject({
      service: 'terminal',
      port,
      active: true,
      is_primary: true,
      fqdn: `uc-${containerId}--terminal.org-${org}.apps.example.test`,
      vpn_address: expect.stringMatching(/^172\.16\.\d+\.\d+$/),
    });
    expect(view.services).toContainEqual(expect.objectContaining({ name: 'terminal', healthy: true }));
  });
});
