import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EMPTY_STAGE2_MAP, renderStage2Conf } from '@app/nginx';
import { VpnRenderHandler } from '@app/onboarding';
import { KeySealer } from '@app/secrets';
import { NetnsLab, NsChild } from '../support/netns';
import { freePort, NGINX_BIN } from '../support/nginx';
import { eventually } from '../support/eventually';
import { startStack } from '../support/stack';
import { Bridge, tcpToUnix, unixToTcp } from '../support/unix-bridge';

/**
 * The last hop for real (issue 16): a gateway-node namespace runs the OpenVPN server under the
 * VPN node supervisor (apps/vpn-node) and the Stage 2 nginx; container namespaces run the
 * OpenVPN client from profiles fetched through the API; veth links join them. The gateway and
 * worker run in this process on loopback; nginx reaches the gateway through a unix socket. Every
 * address below exists only inside the namespaces, which afterAll deletes.
 */
jest.setTimeout(300_000);

const execFileP = promisify(execFile);
const ROOT = join(__dirname, '../..');
const POOL = '10.213.100.0/24';
const GW_VPN = '10.213.100.1';
const ORG = '11111111-1111-4111-8111-111111111111';
const PROJECT = '22222222-2222-4222-8222-222222222222';
const WATCHDOG = { type: 'user-container:watchdog', system: { cpu: { usage: '0.40, 0.43 ' } } };

/** The seed client's start_vpn, step for step (a bash function; see the file). */
const SEED_START_VPN = join(__dirname, 'fixtures/seed-start-vpn.sh');

interface Registered {
  container_id: string;
  token: string;
  settings: string;
  settings_decoded: { vpn_secret: string; gateway_fqdn: string; user_container_id: string };
}

describe('OpenVPN server per gateway node, in network namespaces (real openvpn, nftables, nginx)', () => {
  const lab = new NetnsLab();
  const node = `gw${lab.suffix}`;
  const fqdn = `${node}.collab.test`;
  const ns = { gw: '', a: '', b: '', c: '' };
  let dir = '';
  let stack: Awaited<ReturnType<typeof startStack>>;
  const bridges: Bridge[] = [];
  let supervisor: NsChild;
  let nginx: NsChild;
  const clients = new Map<string, NsChild>();
  let op = '';
  let A: Registered;
  let B: Registered;
  let addressA = '';
  const measured: Record<string, unknown> = {};

  const curlIn = async (where: string, args: string[], timeoutS = 5) => {
    const r = await lab.run(where, 'curl', ['-s', '--max-time', String(timeoutS), '-w', '\n%{http_code}', ...args]);
    const i = r.stdout.lastIndexOf('\n');
    return { exit: r.code, status: Number(r.stdout.slice(i + 1)) || 0, body: r.stdout.slice(0, Math.max(i, 0)) };
  };
  const postOverTunnel = (where: string, token: string, body: unknown, extra: string[] = []) =>
    curlIn(where, [
      ...extra,
      '-X',
      'POST',
      `http://${GW_VPN}/collab/event`,
      '-H',
      `Authorization: ${token}`,
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      JSON.stringify(body),
    ]);
  const ready = async () => {
    const r = await curlIn(ns.gw, ['http://127.0.0.1:3002/health/ready']);
    return { status: r.status, body: r.body ? JSON.parse(r.body) : {} };
  };
  const register = async (name: string): Promise<Registered> => {
    const res = await fetch(`${stack.url}/onboarding/containers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${op}`, 'content-type': 'application/json' },
      body: JSON.stringify({ org_id: ORG, project_id: PROJECT, image_id: 'ubuntu:terminal', display_name: name }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Registered;
  };
  /** Fetches the seed JSON through the API and writes it as the seed client does; returns the client's directory. */
  const fetchProfile = async (reg: Registered, label: string): Promise<string> => {
    const cdir = join(dir, `client-${label}`);
    mkdirSync(cdir, { recursive: true });
    const res = await fetch(`${stack.url}/collab/vpn-config`, { headers: { authorization: reg.token } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const vpn = (await res.json()) as { certificates: Record<string, string>; config: string };
    for (const [name, pem] of Object.entries(vpn.certificates)) writeFileSync(join(cdir, name), pem, { mode: 0o600 });
    const config = vpn.config.replace(/GATEWAY_FQDN/g, reg.settings_decoded.gateway_fqdn);
    writeFileSync(join(cdir, 'auth.txt'), `${reg.container_id}\n${reg.settings_decoded.vpn_secret}\n`, { mode: 0o600 });
    writeFileSync(join(cdir, 'client.ovpn'), `${config}auth-user-pass auth.txt\nauth-nocache\n`);
    return cdir;
  };
  const startClient = (where: string, cdir: string, label: string): NsChild => {
    const child = lab.spawn(where, 'openvpn', ['--config', 'client.ovpn'], { cwd: cdir });
    clients.set(label, child);
    return child;
  };
  const connect = async (where: string, reg: Registered, label: string) => startClient(where, await fetchProfile(reg, label), label);
  const tunnelUp = (c: NsChild, times = 1) =>
    eventually(
      async () => (c.output().split('Initialization Sequence Completed').length - 1 >= times ? true : undefined),
      30_000,
      100,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\nclient:\n${c.output().slice(-3000)}\nserver:\n${supervisor.output().slice(-3000)}`);
    });
  const events = async (id: string) =>
    (await stack.pool.query(`SELECT event_type, data FROM events WHERE stream_id LIKE '%' || $1 ORDER BY global_position`, [id])).rows;

  beforeAll(async () => {
    await NetnsLab.preflight(['openvpn', 'nft', 'curl', 'jq', 'ping', 'bash', 'openssl', 'wrk', NGINX_BIN]);
    dir = mkdtempSync(join(tmpdir(), 'cgw-vpn-netns-'));
    chmodSync(dir, 0o755); // nginx's unprivileged workers reach the gateway's socket in it
    ns.gw = await lab.addNamespace('gw');
    // The node forwards packets (as a container host does): isolation must come from nftables alone.
    await lab.must(ns.gw, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const [k, role] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ] as const) {
      ns[role] = await lab.addNamespace(role);
      await lab.link(
        { ns: ns.gw, dev: `cg${k}${lab.suffix}`, cidr: `10.213.${10 + k}.1/24` },
        { ns: ns[role], dev: `cc${k}${lab.suffix}`, cidr: `10.213.${10 + k}.2/24` },
      );
      await lab.hosts(ns[role], [`10.213.${10 + k}.1 ${fqdn}`]);
    }

    // The node's Stage 2 nginx: the production config, plus (test only) a TLS listener on the
    // underlay that passes /collab/ to the gateway (what Stage 1 does in production) and a
    // direct route to container A's underlay address (the baseline of the throughput figure).
    const nginxDir = join(dir, 'nginx');
    mkdirSync(nginxDir);
    const mapPath = join(nginxDir, 'routes.map');
    const conf = join(nginxDir, 'nginx.conf');
    const gwSock = join(dir, 'gw.sock');
    const statusSock = join(dir, 'status.sock');
    writeFileSync(mapPath, EMPTY_STAGE2_MAP);
    await execFileP('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${fqdn}`,
      '-keyout', join(nginxDir, 'tls.key'), '-out', join(nginxDir, 'tls.crt'),
    ]); // prettier-ignore
    const stage2 = renderStage2Conf({
      mapPath,
      listen: '127.0.0.1:8080',
      statusListen: `unix:${statusSock}`,
      runDir: nginxDir,
      gateway: `unix:${gwSock}`,
      vpnGatewayAddress: GW_VPN,
    });
    const extra = `
    server {
        listen 443 ssl;
        ssl_certificate ${nginxDir}/tls.crt;
        ssl_certificate_key ${nginxDir}/tls.key;
        location /collab/ { proxy_pass http://unix:${gwSock}:/collab/; proxy_set_header Host $host; }
    }
    server {
        listen 127.0.0.1:8090;
        location / { proxy_pass http://10.213.11.2:7681; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
`;
    writeFileSync(conf, stage2.replace(/}\n$/, extra));
    const statusPort = await freePort();
    const errorLog = join(nginxDir, 'error.log');
    // The worker runs here, on loopback; its nginx commands (-t binds the VPN address) run in the node's namespace.
    const nginxInNs = join(dir, 'nginx-in-node.sh');
    writeFileSync(nginxInNs, `#!/bin/sh\nexec ip netns exec ${ns.gw} ${NGINX_BIN} "$@"\n`, { mode: 0o755 });
    stack = await startStack('vpn_netns', {
      VPN_POOL_CIDR: POOL,
      NGINX_VPN_RANGES: POOL,
      VPN_FILES_DIR: join(dir, 'openvpn'),
      VPN_RENDER_RECONCILE_S: '5',
      VPN_CONFIG_RENDER_WAIT_MS: '3000',
      GATEWAY_DEFAULT_NODE_ID: node,
      GATEWAY_DEFAULT_FQDN: fqdn,
      GATEWAY_DEFAULT_VPN_ENDPOINT: `${fqdn}:1194`,
      AUTH_ALLOW_UNREGISTERED_CONTAINERS: 'false',
      NGINX_BIN: nginxInNs,
      NGINX_PREFIX: `${nginxDir}/`,
      NGINX_CONF: conf,
      NGINX_MAP_PATH: mapPath,
      NGINX_STATUS_URL: `http://127.0.0.1:${statusPort}/collab/routes-hash`,
      NGINX_RELOAD_CMD: `${nginxInNs} -p ${nginxDir}/ -c ${conf} -e ${errorLog} -s reload`,
      NGINX_COALESCE_MIN_MS: '50',
      NGINX_COALESCE_MAX_MS: '300',
      NGINX_COMMAND_TIMEOUT_MS: '10000',
      NGINX_CONFIRM_TIMEOUT_MS: '5000',
    });
    await stack.startGateway();
    await stack.startWorker({ projections: true });
    op = stack.operator();
    bridges.push(await unixToTcp(gwSock, Number(new URL(stack.url).port)));
    bridges.push(await tcpToUnix(statusPort, statusSock));

    // The node's files: the worker renders them on its schedule; render once now so the supervisor starts at once.
    await new VpnRenderHandler(stack.pool, stack.config, stack.gateway.get(KeySealer)).handle({} as never);
    supervisor = lab.spawn(
      ns.gw,
      process.execPath,
      ['-r', join(ROOT, 'test/support/ts-register.js'), join(ROOT, 'apps/vpn-node/src/main.ts')],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          VPN_NODE_ID: node,
          VPN_FILES_DIR: join(dir, 'openvpn'),
          VPN_POOL_CIDR: POOL,
          VPN_RUN_DIR: join(dir, 'run'),
          VPN_NFT_CHECK_MS: '1000',
          VPN_WATCH_MS: '200',
          VPN_NODE_HTTP_HOST: '0.0.0.0',
          VPN_NODE_HTTP_PORT: '3002',
        },
      },
    );
    await eventually(async () => (await ready()).status === 200, 60_000, 200).catch(async (err) => {
      throw new Error(
        `vpn-node never ready: ${(err as Error).message}\n${JSON.stringify((await ready()).body)}\n${supervisor.output().slice(-4000)}`,
      );
    });
    // nginx binds the gateway's VPN address, which exists once the server's tun device is up.
    nginx = lab.spawn(ns.gw, NGINX_BIN, ['-p', `${nginxDir}/`, '-c', conf, '-e', errorLog, '-g', 'daemon off;']);
    await eventually(() => fetch(`http://127.0.0.1:${statusPort}/collab/routes-hash`).then((r) => r.ok), 20_000, 100).catch((err) => {
      throw new Error(`nginx: ${(err as Error).message}\n${nginx.output()}`);
    });
  });

  afterAll(async () => {
    if (measured && Object.keys(measured).length) process.stdout.write(`vpn-netns measurements: ${JSON.stringify(measured)}\n`);
    await lab.destroy();
    await Promise.all(bridges.map((b) => b.close().catch(() => undefined)));
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives container A its fixed address over a real tunnel; its watchdog to the gateway VPN address is accepted, and ping answers', async () => {
    A = await register('container a');
    const t0 = Date.now();
    const client = await connect(ns.a, A, 'a');
    await tunnelUp(client);
    addressA = (await stack.pool.query(`SELECT host(address) AS a FROM vpn_addresses WHERE container_id = $1`, [A.container_id])).rows[0].a;
    expect(addressA).toMatch(/^10\.213\.100\.\d+$/);
    const shown = await lab.must(ns.a, 'ip', ['-4', '-o', 'addr', 'show']);
    expect(shown).toContain(`inet ${addressA}/24`);
    const ccd = readFileSync(join(dir, 'openvpn', node, 'ccd', A.container_id), 'utf8');
    expect(ccd).toBe(`ifconfig-push ${addressA} 255.255.255.0\n`);

    const watchdog = await eventually(
      async () => {
        const r = await postOverTunnel(ns.a, A.token, { event: WATCHDOG, project_id: PROJECT });
        return r.status === 202 ? r : undefined;
      },
      20_000,
      100,
    );
    measured.vpn_config_to_first_watchdog_ms = Date.now() - t0;
    expect(JSON.parse(watchdog.body).status).toBe('accepted');
    expect((await events(A.container_id)).map((e) => e.event_type)).toContain('user-container:watchdog');
    const ping = await lab.run(ns.a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', GW_VPN]);
    expect(ping.code).toBe(0);
  });

  it("serves A's HTTP service through nginx at its FQDN over the tunnel", async () => {
    lab.spawn(ns.a, process.execPath, [
      '-e',
      `require('http').createServer((q, r) => r.end('A ' + q.headers.host)).listen(7681, '0.0.0.0')`,
    ]);
    const mapped = await postOverTunnel(ns.a, A.token, {
      event: { type: 'user-container:map-http-service', name: 'web', port: 7681 },
      project_id: PROJECT,
    });
    expect(mapped.status).toBe(202);
    const host = `uc-${A.container_id}--web.org-${ORG}.collab.localhost`;
    const viaNginx = await eventually(
      async () => {
        const r = await curlIn(ns.gw, ['-H', `Host: ${host}`, 'http://127.0.0.1:8080/']);
        return r.status === 200 ? r : undefined;
      },
      20_000,
      100,
    ).catch(async (err) => {
      const last = await curlIn(ns.gw, ['-H', `Host: ${host}`, 'http://127.0.0.1:8080/']);
      const renders = await stack.pool.query(`SELECT * FROM nginx_render_state`).catch((e) => ({ rows: [String(e)] }));
      throw new Error(
        `${(err as Error).message}: last ${last.status} ${last.body}\nmap:\n${readFileSync(join(dir, 'nginx', 'routes.map'), 'utf8').slice(0, 2000)}\n` +
          `renders: ${JSON.stringify(renders.rows)}\nerror.log:\n${readFileSync(join(dir, 'nginx', 'error.log'), 'utf8').slice(-2000)}`,
      );
    });
    expect(viaNginx.body).toBe(`A ${host}`);
    const route = await stack.pool.query(`SELECT * FROM routes WHERE container_id = $1`, [A.container_id]).catch(() => ({ rows: [] }));
    if (route.rows[0]?.vpn_address) expect(route.rows[0].vpn_address).toBe(addressA);
    const map = readFileSync(join(dir, 'nginx', 'routes.map'), 'utf8');
    expect(map).toContain(`${addressA}:7681`);

    // Throughput, nginx -> tunnel -> container against nginx -> container on its underlay link (one run, a ratio).
    const rps = async (args: string[]) => {
      const out = await lab.must(ns.gw, 'wrk', ['-t1', '-c16', '-d3s', ...args], { timeoutMs: 30_000 });
      return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    };
    const tunnel = await rps(['-H', `Host: ${host}`, 'http://127.0.0.1:8080/']);
    const direct = await rps(['http://127.0.0.1:8090/']);
    measured.rps_nginx_tunnel_container = Math.round(tunnel);
    measured.rps_nginx_direct_container = Math.round(direct);
    measured.tunnel_over_direct = Number((tunnel / direct).toFixed(2));
    expect(tunnel).toBeGreaterThan(0);
    expect(direct).toBeGreaterThan(0);
  });

  it("isolates tenants: B reaches the gateway's VPN address (port 80, ping) and nothing else, not A", async () => {
    B = await register('container b');
    await tunnelUp(await connect(ns.b, B, 'b'));
    expect((await lab.run(ns.b, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', GW_VPN])).code).toBe(0);
    // The node forwards (ip_forward=1) and OpenVPN has no client-to-client: only nftables stands between B and A.
    expect((await lab.run(ns.b, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', addressA])).code).not.toBe(0);
    const toA = await curlIn(ns.b, [`http://${addressA}:7681/`], 3);
    expect(toA.status).toBe(0);
    // Another port of the gateway's VPN address (the supervisor's health listener, bound to every address there).
    expect((await curlIn(ns.b, [`http://${GW_VPN}:3002/health/live`], 3)).status).toBe(0);
    expect((await curlIn(ns.gw, [`http://${GW_VPN}:3002/health/live`], 3)).status).toBe(200);
    const rules = await lab.must(ns.gw, 'nft', ['list', 'table', 'inet', 'collab_vpn']);
    expect(rules).toContain('iifname "collabvpn0" drop');
  });

  it("B cannot post as A: not through the body, not with A's source address", async () => {
    // What a container posts (the health sweeper may append lapses meanwhile: not counted).
    const posted = async (id: string) =>
      (await events(id)).filter((e) => ['user-container:watchdog', 'user-container:http-service-mapped'].includes(e.event_type)).length;
    const before = await posted(A.container_id);
    const asA = await postOverTunnel(ns.b, B.token, { event: WATCHDOG, project_id: PROJECT, container_id: A.container_id });
    // Twice in clean-clone CI runs this post got no answer (curl status 0): the supervisor had killed
    // B's tunnel while it was still in its handshake (listed as UNDEF; parseSessions now leaves
    // such sessions out). Should it happen again, say what both ends logged.
    if (asA.status !== 400) {
      throw new Error(
        `expected 400, got ${asA.status} (curl exit ${asA.exit})\nclient b:\n${clients.get('b')!.output().slice(-3000)}\nserver:\n${supervisor
          .output()
          .slice(-3000)}`,
      );
    }
    expect(asA.status).toBe(400);
    const spoofed = await lab.run(ns.b, 'ip', ['addr', 'add', `${addressA}/32`, 'dev', 'tun0']);
    expect(spoofed.code).toBe(0);
    const fromA = await postOverTunnel(ns.b, B.token, { event: WATCHDOG, project_id: PROJECT }, ['--interface', addressA]);
    expect(fromA.status).toBe(0); // OpenVPN drops a packet whose source is not the client's own address
    await lab.must(ns.b, 'ip', ['addr', 'del', `${addressA}/32`, 'dev', 'tun0']);
    expect(await posted(A.container_id)).toBe(before);
    expect((await postOverTunnel(ns.b, B.token, { event: WATCHDOG, project_id: PROJECT })).status).toBe(202);
  });

  it('fails readiness when the isolation rules go missing, and puts them back', async () => {
    await lab.must(ns.gw, 'nft', ['delete', 'table', 'inet', 'collab_vpn']);
    const failed = await eventually(
      async () => {
        const r = await ready();
        return r.status === 503 ? r : undefined;
      },
      10_000,
      50,
    );
    expect(failed.body.problems.join('\n')).toMatch(/nftables/);
    const back = await eventually(
      async () => {
        const r = await ready();
        return r.status === 200 ? r : undefined;
      },
      10_000,
      100,
    );
    expect(back.body.nftables.repairs).toBeGreaterThanOrEqual(1);
    expect((await lab.run(ns.b, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', addressA])).code).not.toBe(0);
  });

  it("a certificate near expiry is re-issued at vpn-config; the old one's session ends and it is refused at reconnect", async () => {
    const old = (
      await stack.pool.query(`SELECT serial FROM vpn_client_certs WHERE container_id = $1 AND revoked_at IS NULL`, [B.container_id])
    ).rows[0].serial;
    await stack.pool.query(`UPDATE vpn_client_certs SET not_after = now() + interval '1 day' WHERE serial = $1`, [old]);
    const oldClient = clients.get('b')!;
    const killedBefore = (await ready()).body.sessions.killed;
    const renewedDir = await fetchProfile(B, 'b-renewed');
    const renewed = (
      await stack.pool.query(`SELECT serial, revoked_at FROM vpn_client_certs WHERE container_id = $1 ORDER BY issued_at`, [B.container_id])
    ).rows;
    expect(renewed).toHaveLength(2);
    expect(renewed[0].serial).toBe(old);
    expect(renewed[0].revoked_at).not.toBeNull();
    expect(renewed[1].revoked_at).toBeNull();
    expect((await events(B.container_id)).map((e) => `${e.event_type}:${e.data.reason ?? ''}`)).toContain(
      'user-container:certificate-revoked:superseded',
    );
    // The session on the old certificate ends within seconds, and the old certificate is refused at its reconnect.
    const t0 = Date.now();
    await eventually(async () => (await ready()).body.sessions.killed > killedBefore, 20_000, 50);
    measured.renewal_to_session_killed_ms = Date.now() - t0;
    await eventually(async () => new RegExp(`certificate revoked.*CN=${B.container_id}`, 'i').test(supervisor.output()), 30_000, 200).catch(
      () => {
        throw new Error(
          `the old certificate was not refused:\n${supervisor.output().slice(-4000)}\nold client:\n${oldClient.output().slice(-2000)}`,
        );
      },
    );
    await oldClient.stop();
    await tunnelUp(startClient(ns.b, renewedDir, 'b-renewed'));
    expect((await lab.run(ns.b, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', GW_VPN])).code).toBe(0);
  });

  it("deleting A ends A's live tunnel within seconds, and its reconnect is refused", async () => {
    const client = clients.get('a')!;
    const killedBefore = (await ready()).body.sessions.killed;
    const t0 = Date.now();
    const del = await fetch(`${stack.url}/onboarding/containers/${A.container_id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${op}` },
    });
    expect(del.status).toBe(200);
    await eventually(async () => (await ready()).body.sessions.killed > killedBefore, 20_000, 50);
    measured.delete_to_session_killed_ms = Date.now() - t0;
    await eventually(async () => (await lab.run(ns.a, 'ping', ['-c', '1', '-W', '1', GW_VPN])).code !== 0, 20_000, 100);
    // The client reconnects at once (told to RESTART); the server refuses it (CRL, no ccd, no secret), and it never completes again.
    await eventually(() => new RegExp(`certificate revoked.*CN=${A.container_id}`, 'i').test(supervisor.output()), 30_000, 200).catch(
      () => {
        throw new Error(
          `A's reconnect was not refused by the CRL:\n${supervisor.output().slice(-3000)}\nclient:\n${client.output().slice(-2000)}`,
        );
      },
    );
    expect(client.output().split('Initialization Sequence Completed').length - 1).toBe(1);
    expect((await lab.run(ns.a, 'ping', ['-c', '2', '-i', '0.5', '-W', '1', GW_VPN])).code).not.toBe(0);
  });

  it('a client set up by a bash function following the seed contract step for step connects and posts', async () => {
    const C = await register('seed client');
    const cdir = join(dir, 'client-seed');
    mkdirSync(cdir);
    const seed = lab.spawn(ns.c, 'bash', [SEED_START_VPN], { cwd: cdir, env: { PATH: process.env.PATH, SETTINGS: C.settings } });
    clients.set('seed', seed);
    await tunnelUp(seed);
    expect(readFileSync(join(cdir, 'client.ovpn'), 'utf8')).toMatch(new RegExp(`^remote ${fqdn.replace(/\./g, '\\.')} 1194$`, 'm'));
    expect((await lab.run(ns.c, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', GW_VPN])).code).toBe(0);
    const posted = await postOverTunnel(ns.c, C.token, { event: WATCHDOG, project_id: PROJECT });
    expect(posted.status).toBe(202);
  });
});
