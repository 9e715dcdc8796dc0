import { randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Server, AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startTestGateway, TestGateway } from '../support/gateway';
import { encodeSettings, runBash, Settings, startStub, tempDir } from '../support/container';

/**
 * The real container-functions.sh (bash, curl, jq) against a real gateway on real PostgreSQL.
 * SETTINGS is built here with onboarding's fields; gateway_url and gateway_vpn_address point at
 * the loopback gateway (in a container: https://{gateway_fqdn} and the VPN gateway 172.16.0.1).
 */
jest.setTimeout(30_000); // every case runs bash, curl and jq; the machine is shared

describe('container-functions.sh against a running gateway', () => {
  let gw: TestGateway;
  let dir: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    gw = await startTestGateway('container-fns');
    dir = tempDir('fns');
  });
  afterAll(async () => {
    await gw.close();
    dir.remove();
  });

  function containerSettings(overrides: Partial<Settings> = {}) {
    const c = gw.container();
    const settings: Settings = {
      gateway_fqdn: 'gw-1.collab.localhost',
      token: c.token,
      token_expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      user_container_id: c.containerId,
      project_id: c.projectId,
      org_id: c.orgId,
      image_id: 'ubuntu:terminal',
      container_fqdn: `uc-${c.containerId}.org-${c.orgId}.collab.localhost`,
      vpn_endpoint: 'gw-1.collab.localhost:1194',
      gateway_vpn_address: gw.url.replace('http://', ''),
      watchdog_interval_s: 15,
      oauth_clients: [],
      vpn_secret: `secret-of-${c.containerId.slice(0, 8)}`,
      gateway_url: gw.url,
      ...overrides,
    };
    const env = {
      SETTINGS: encodeSettings(settings),
      TMPDIR: dir.path,
      CF_BACKOFF_BASE_MS: '50',
      CF_BACKOFF_CAP_MS: '200',
      CF_MAX_TIME_S: '5',
    };
    return { c, settings, env };
  }

  describe('extract_settings', () => {
    it('exports every field, with the defaults for the optional ones', async () => {
      const { c, settings, env } = containerSettings();
      const show =
        'extract_settings; env | grep -E "^(GATEWAY_FQDN|USER_CONTAINER_ID|PROJECT_ID|ORG_ID|IMAGE_ID|CONTAINER_FQDN|VPN_ENDPOINT|WATCHDOG_INTERVAL_S|OAUTH_CLIENTS|GATEWAY_URL|EVENT_URL|TOKEN_EXPIRES_AT)=" | sort; [[ $TOKEN == "$EXPECTED" ]] && echo token-ok';
      const r = await runBash(show, { ...env, EXPECTED: c.token });
      expect(r.code).toBe(0);
      const vars = Object.fromEntries(
        r.stdout
          .trim()
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => l.split(/=(.*)/s).slice(0, 2)),
      );
      expect(vars).toEqual({
        GATEWAY_FQDN: settings.gateway_fqdn,
        USER_CONTAINER_ID: c.containerId,
        PROJECT_ID: c.projectId,
        ORG_ID: c.orgId,
        IMAGE_ID: 'ubuntu:terminal',
        CONTAINER_FQDN: settings.container_fqdn,
        VPN_ENDPOINT: settings.vpn_endpoint,
        WATCHDOG_INTERVAL_S: '15',
        OAUTH_CLIENTS: '[]',
        GATEWAY_URL: gw.url,
        EVENT_URL: `${gw.url}/collab/event`,
        TOKEN_EXPIRES_AT: settings.token_expires_at,
      });
      expect(r.stdout).toContain('token-ok');
      expect(r.stderr).not.toContain(c.token);

      // Without the test overrides: the public gateway for the profile, the VPN gateway for events.
      const { gateway_url: _u, gateway_vpn_address: _v, ...plain } = settings;
      const d = await runBash('extract_settings; echo "$GATEWAY_URL $EVENT_URL"', { SETTINGS: encodeSettings(plain) });
      expect(d.stdout.trim()).toBe('https://gw-1.collab.localhost http://172.16.0.1/collab/event');
    });

    const bad: [string, (s: Settings) => string | undefined, string][] = [
      ['SETTINGS unset', () => undefined, 'SETTINGS is not set'],
      ['not base64', () => '%%%***', 'not valid base64'],
      ['not a JSON object', () => encodeSettings([1, 2] as never), 'not decode to a JSON object'],
      ['no token', (s) => encodeSettings({ ...s, token: undefined }), 'SETTINGS.token is missing'],
      [
        'a token with a header injection',
        (s) => encodeSettings({ ...s, token: `${s.token}\r\nX-Evil: 1` }),
        'SETTINGS.token contains control characters',
      ],
      ['a token that is not a JWT', (s) => encodeSettings({ ...s, token: 'Bearer abc' }), 'SETTINGS.token is not a JWT'],
      ['a project_id that is not a uuid', (s) => encodeSettings({ ...s, project_id: 'p1' }), 'SETTINGS.project_id is invalid'],
      [
        'a user_container_id as an object',
        (s) => encodeSettings({ ...s, user_container_id: { a: 1 } as never }),
        'SETTINGS.user_container_id must be a string',
      ],
      ['a watchdog interval of zero', (s) => encodeSettings({ ...s, watchdog_interval_s: 0 }), 'SETTINGS.watchdog_interval_s is invalid'],
      ['a gateway_url with a path', (s) => encodeSettings({ ...s, gateway_url: 'http://x/y z' }), 'SETTINGS.gateway_url is invalid'],
      [
        'oauth_clients not an array',
        (s) => encodeSettings({ ...s, oauth_clients: 'x' as never }),
        'SETTINGS.oauth_clients must be an array',
      ],
    ];
    it.each(bad)('refuses %s, naming the problem and never printing the token', async (_what, make, message) => {
      const { settings, env } = containerSettings();
      const value = make(settings);
      const r = await runBash('extract_settings || exit 3; echo unreachable', { ...env, SETTINGS: value ?? '' });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toContain(settings.token.split('.')[2]);
      expect(r.stdout).toBe('');
    });
  });

  it('watchdog lands in watchdog-<id> with the stats and the readiness of SERVICES', async () => {
    const { c, env } = containerSettings();
    const listener: Server = createServer((s) => s.end());
    await new Promise<void>((ok) => listener.listen(0, '127.0.0.1', ok));
    const open = (listener.address() as AddressInfo).port;
    try {
      const r = await runBash('extract_settings; watchdog', { ...env, SERVICES: `terminal:${open}, jupyter:1 Bad_Name:80` });
      expect(r.stderr).toContain("SERVICES entry 'Bad_Name:80' skipped");
      expect(r.code).toBe(0);
    } finally {
      listener.close();
    }
    const stored = await gw.events(`watchdog-${c.containerId}`);
    expect(stored).toHaveLength(1);
    const { data, metadata } = stored[0];
    expect(stored[0].event_type).toBe('user-container:watchdog');
    expect(metadata.actor).toEqual({ type: 'container', id: c.containerId });
    expect(data).toMatchObject({ container_id: c.containerId, project_id: c.projectId, org_id: c.orgId });
    expect(data.system.cpu).toEqual({
      usage: expect.stringMatching(/^\d+\.\d+, \d+\.\d+, \d+\.\d+$/),
      count: expect.any(Number),
      threads_per_core: expect.anything(),
      model: expect.any(String),
    });
    expect(data.system.memory.total).toBeGreaterThan(0);
    expect(data.system.memory.free).toBeLessThanOrEqual(data.system.memory.total);
    expect(data.system.disk).toEqual({ size: expect.stringMatching(/^\d+(\.\d+)?[KMGTP]?$/), usage: expect.stringMatching(/^\d+%$/) });
    expect(Object.keys(data.system.network)).toEqual(['ping_time']); // null here: no ping installed
    expect(data.services).toEqual([
      { name: 'terminal', healthy: true, message: `port ${open} accepts connections` },
      { name: 'jupyter', healthy: false, message: 'port 1 refuses connections' },
    ]);
  });

  it('map_http_service lands in container-<id>; bad names and ports are refused before any request', async () => {
    const { c, env } = containerSettings();
    const r = await runBash('extract_settings; map_http_service terminal 7681; map_http_service terminal 7681', env);
    expect(r.code).toBe(0);
    const stored = await gw.events(`container-${c.containerId}`);
    expect(stored.map((e) => [e.event_type, e.data.name, e.data.port])).toEqual([['user-container:http-service-mapped', 'terminal', 7681]]);
    expect(readFileSync(join(dir.path, `container-functions.${process.getuid!()}`, 'mapped'), 'utf8')).toContain('terminal 7681');

    for (const [name, port, message] of [
      ['Web', '80', 'service name'],
      ['web;x', '80', 'service name'],
      ['we--b', '80', 'service name'],
      ['web', '0', 'port'],
      ['web', '65536', 'port'],
      ['web', '80; include', 'port'],
    ]) {
      const bad = await runBash('extract_settings; map_http_service "$N" "$P" || exit $?', { ...env, N: name, P: port });
      expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining(`map_http_service: ${message}`)]);
    }
    expect(await gw.events(`container-${c.containerId}`)).toHaveLength(1);
  });

  it('wait_first: the first child to end stops the others and gives its status (0 becomes 1)', async () => {
    const r = await runBash(
      'sleep 30 & a=$!; (sleep 0.2; exit 7) & b=$!; wait_first "$a" "$b" || echo "status=$?"; kill -0 "$a" 2>/dev/null || echo a-stopped',
      {},
    );
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['status=7', 'a-stopped']));
    expect(r.ms).toBeLessThan(5000);
    const zero = await runBash('sleep 30 & a=$!; sleep 0.1 & b=$!; wait_first "$a" "$b" || echo "status=$?"', {});
    expect(zero.stdout.trim()).toBe('status=1');
  });

  describe('start_vpn and vpn_loop (the seed JSON from a stub gateway)', () => {
    const CONFIG = 'client\ndev tun\nproto udp\nremote GATEWAY_FQDN 1194\nca ca.crt\ncert client.crt\nkey client.key\n';
    const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const json = (
      config = CONFIG,
      certificates: Record<string, string> = { 'ca.crt': CA, 'client.crt': 'CERT\n', 'client.key': 'KEY\n' },
    ) => JSON.stringify({ certificates, config });
    const PROFILE = json();

    function stubOpenvpn(name: string, behaviour: string): { bin: string; log: string } {
      const bin = join(dir.path, `${name}.sh`);
      const log = join(dir.path, `${name}.log`);
      writeFileSync(
        bin,
        `#!/usr/bin/env bash\nprintf '%s %s %s\\n' "$EPOCHREALTIME" "$(stat -c %a "$2")" "$*" >> '${log}'\n${behaviour}\n`,
      );
      chmodSync(bin, 0o755);
      return { bin, log };
    }

    it('fetches the profile with the token, writes it 0600 in a 0700 directory and starts OpenVPN with it', async () => {
      const { c, env } = containerSettings();
      const stub = await startStub((req, res) => {
        res.writeHead(req.headers.authorization === `Bearer ${c.token}` ? 200 : 401, { 'content-type': 'application/json' });
        res.end(PROFILE);
      });
      const vpnDir = join(dir.path, 'vpn-1', 'client');
      const ovpn = stubOpenvpn('openvpn-up', 'exec sleep 30');
      try {
        const r = await runBash('extract_settings; start_vpn; echo "pid=$VPN_PID"; cf_vpn_stop', {
          ...env,
          SETTINGS: encodeSettings({ ...JSON.parse(Buffer.from(env.SETTINGS, 'base64').toString()), gateway_url: stub.url }),
          OPENVPN_BIN: ovpn.bin,
          VPN_CONFIG_DIR: vpnDir,
          CF_VPN_SETTLE_MS: '100',
        });
        expect(r.code).toBe(0);
        expect(r.stdout).toMatch(/pid=\d+/);
        expect(r.stderr).not.toContain(c.token);
        expect(stub.requests.map((q) => [q.method, q.url])).toEqual([['GET', '/collab/vpn-config']]);
      } finally {
        await stub.close();
      }
      const file = join(vpnDir, 'client.ovpn');
      // The seed contract: GATEWAY_FQDN replaced by the settings' gateway host, credentials added.
      expect(readFileSync(file, 'utf8')).toBe(
        `${CONFIG.replace('GATEWAY_FQDN', 'gw-1.collab.localhost')}auth-user-pass vpn-auth.txt\nauth-nocache\n`,
      );
      expect(readFileSync(join(vpnDir, 'ca.crt'), 'utf8')).toBe(CA);
      expect(readFileSync(join(vpnDir, 'vpn-auth.txt'), 'utf8')).toBe(`${c.containerId}\nsecret-of-${c.containerId.slice(0, 8)}\n`);
      for (const f of ['client.ovpn', 'ca.crt', 'client.key', 'vpn-auth.txt']) expect(statSync(join(vpnDir, f)).mode & 0o777).toBe(0o600);
      expect(statSync(vpnDir).mode & 0o777).toBe(0o700);
      const [, mode, ...args] = readFileSync(ovpn.log, 'utf8').trim().split(' ');
      expect([mode, args]).toEqual(['600', ['--config', file]]);
    });

    it('refuses a config that would run scripts, a file name that is a path, and an answer that is not the JSON', async () => {
      for (const body of [
        json(`${CONFIG}script-security 2\nup /bin/sh\n`),
        json(CONFIG, { '../escape.crt': CA }),
        '<html>login</html>',
        'client\nremote gw 1194\n',
      ]) {
        const { env } = containerSettings();
        const stub = await startStub((_req, res) => res.end(body));
        const ovpn = stubOpenvpn(`openvpn-never-${randomUUID()}`, 'exit 0');
        try {
          const r = await runBash('extract_settings; start_vpn || exit 4', {
            ...env,
            SETTINGS: encodeSettings({ ...JSON.parse(Buffer.from(env.SETTINGS, 'base64').toString()), gateway_url: stub.url }),
            OPENVPN_BIN: ovpn.bin,
            VPN_CONFIG_DIR: join(dir.path, `vpn-${randomUUID()}`),
          });
          expect(r.code).toBe(4);
          expect(r.stderr).toMatch(/refusing a config|refusing certificate file name|not the VPN client JSON/);
          expect(() => readFileSync(ovpn.log)).toThrow();
        } finally {
          await stub.close();
        }
      }
    });

    it('vpn_loop: keeps the tunnel up, sends watchdogs each interval and maps the services again after connecting', async () => {
      const { c, settings, env } = containerSettings({ watchdog_interval_s: 1 });
      const stub = await startStub((_req, res) => res.end(PROFILE));
      const ovpn = stubOpenvpn('openvpn-loop', 'exec sleep 30');
      try {
        const r = await runBash('extract_settings; map_http_service terminal 7681; vpn_loop', {
          ...env,
          SETTINGS: encodeSettings({ ...settings, gateway_url: stub.url }),
          OPENVPN_BIN: ovpn.bin,
          VPN_CONFIG_DIR: join(dir.path, 'vpn-loop'),
          CF_VPN_SETTLE_MS: '100',
          CF_STATE_DIR: join(dir.path, 'state-loop'),
          VPN_LOOP_MAX_ITERATIONS: '3',
        });
        expect(r.code).toBe(0);
      } finally {
        await stub.close();
      }
      expect(readFileSync(ovpn.log, 'utf8').trim().split('\n')).toHaveLength(1);
      expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(2);
      // mapped once at start, re-posted after the connect: unchanged, so one event.
      expect((await gw.events(`container-${c.containerId}`)).map((e) => e.event_type)).toEqual(['user-container:http-service-mapped']);
    });

    it('a mapping that could not be delivered is posted again once the gateway answers a watchdog', async () => {
      const { c, settings, env } = containerSettings({ watchdog_interval_s: 1 });
      const profile = await startStub((_req, res) => res.end(PROFILE));
      // The gateway says 503 to the first two posts (the map, and the map again after connecting),
      // then lets everything through to the real gateway.
      const events = await startStub(async (req, res, n) => {
        if (n <= 2) {
          res.writeHead(503).end();
          return;
        }
        const answer = await fetch(gw.url + req.url, {
          method: 'POST',
          headers: { authorization: String(req.headers.authorization), 'content-type': 'application/json' },
          body: req.body,
        });
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
      });
      const ovpn = stubOpenvpn('openvpn-remap', 'exec sleep 30');
      try {
        const r = await runBash('extract_settings; map_http_service jupyter 8888 || echo "failed=$?"; ls "$CF_STATE_DIR"; vpn_loop', {
          ...env,
          SETTINGS: encodeSettings({ ...settings, gateway_url: profile.url, gateway_vpn_address: events.hostPort }),
          OPENVPN_BIN: ovpn.bin,
          VPN_CONFIG_DIR: join(dir.path, 'vpn-remap'),
          CF_VPN_SETTLE_MS: '100',
          CF_STATE_DIR: join(dir.path, 'state-remap'),
          CF_RETRY_MAX_ATTEMPTS: '1',
          VPN_LOOP_MAX_ITERATIONS: '2',
        });
        expect(r.code).toBe(0);
        expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['failed=1', 'mapped', 'remap']));
        const types = events.requests.map((q) => JSON.parse(q.body).event.type);
        expect(types).toEqual([
          'user-container:map-http-service',
          'user-container:map-http-service',
          'user-container:watchdog',
          'user-container:map-http-service',
        ]);
      } finally {
        await profile.close();
        await events.close();
      }
      const stored = await gw.events(`container-${c.containerId}`);
      expect(stored.map((e) => [e.event_type, e.data.name, e.data.port])).toEqual([
        ['user-container:http-service-mapped', 'jupyter', 8888],
      ]);
      expect(await gw.events(`watchdog-${c.containerId}`)).toHaveLength(1);
    });
  });
});
