import { renderCertInclude } from './cert-map';
import { HSTS, renderStage1TlsConf } from './stage1-conf';

const org = '11111111-1111-4111-8111-111111111111';
const certs = [
  { subject: `org-${org}`, names: [`*.org-${org}.collab.test`], stem: `org-${org}-0123456789abcdef` },
  { subject: 'gateway', names: ['gateway.collab.test'], stem: 'gateway-fedcba9876543210' },
];

describe('Stage 1 certificate include', () => {
  it('maps SNI to certificate files, the gateway names to the API, with a hash of the content', () => {
    const out = renderCertInclude({
      certs,
      defaultStem: 'gateway-fedcba9876543210',
      gatewayFqdns: ['gateway.collab.test'],
      certDir: '/etc/c',
      layout: 'map',
    });
    expect(out.text).toContain(`map $ssl_server_name $collab_cert {\n    hostnames;\n    default "gateway-fedcba9876543210";\n`);
    expect(out.text).toContain(`    *.org-${org}.collab.test "org-${org}-0123456789abcdef";\n`);
    expect(out.text).toContain('map $host $collab_edge_api {\n    hostnames;\n    default 0;\n    gateway.collab.test 1;\n}');
    expect(out.text).toContain(`default "${out.hash}"`);
    expect(out.entries).toBe(2);
    expect(
      renderCertInclude({
        certs: [...certs].reverse(),
        defaultStem: 'gateway-fedcba9876543210',
        gatewayFqdns: ['gateway.collab.test'],
        certDir: '/etc/c',
        layout: 'map',
      }).text,
    ).toBe(out.text);
  });

  it('refuses names and stems that are not plain, and never writes them', () => {
    const bad = [
      { subject: 'x', names: ['evil.test; include /etc/passwd'], stem: 'x' },
      { subject: 'y', names: ['ok.test'], stem: 'y";' },
    ];
    const out = renderCertInclude({ certs: bad, defaultStem: 'fallback', gatewayFqdns: ['a b'], certDir: '/etc/c', layout: 'map' });
    expect(out.entries).toBe(0);
    expect(out.text).not.toMatch(/evil|passwd|y";|a b/);
    expect(() => renderCertInclude({ certs, defaultStem: 'x;', gatewayFqdns: [], certDir: '/etc/c', layout: 'map' })).toThrow();
  });

  it('server-blocks layout: one server per certificate with its own files', () => {
    const out = renderCertInclude({
      certs,
      defaultStem: 'fallback',
      gatewayFqdns: [],
      certDir: '/etc/c/',
      layout: 'server-blocks',
      listen: '0.0.0.0:443',
      serverBody: '    # body\n',
    });
    expect(out.text).toContain(
      `server {\n    listen 0.0.0.0:443 ssl;\n    server_name *.org-${org}.collab.test;\n    ssl_certificate /etc/c/org-${org}-0123456789abcdef.crt;`,
    );
  });
});

describe('Stage 1 nginx.conf', () => {
  const conf = renderStage1TlsConf({
    routesMapPath: '/etc/nginx/collab/routes.map',
    certMapPath: '/etc/nginx/collab/certs.map',
    certDir: '/etc/nginx/collab/certs',
    httpsListen: '0.0.0.0:443',
    httpListen: '0.0.0.0:80',
    statusListen: '127.0.0.1:8444',
    gatewayApi: 'gateway:3000',
    runDir: '/run/collab-nginx',
  });
  it("Mozilla intermediate: TLS 1.2 and 1.3 only, ECDHE AEAD suites, the client's preference, HSTS", () => {
    expect(conf).toContain('ssl_protocols TLSv1.2 TLSv1.3;');
    expect(conf).toMatch(/ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:[A-Z0-9:-]+;/);
    expect(conf).not.toMatch(/ssl_ciphers [^;]*(CBC|RC4|3DES|SHA1\b)/);
    expect(conf).toContain('ssl_prefer_server_ciphers off;');
    expect(conf).toContain(`add_header Strict-Transport-Security "${HSTS}" always;`);
    expect(conf).toContain('ssl_certificate /etc/nginx/collab/certs/$collab_cert.crt;');
  });
  it('sized like Stage 2 for terminals (one main context for both stages): many connections, idle and slow clients closed', () => {
    expect(conf).toContain('events { worker_connections 16384; }');
    expect(conf).toContain('worker_rlimit_nofile 33792;');
    expect(conf).toContain('client_header_timeout 10s;');
    expect(conf).toContain('reset_timedout_connection on;');
    expect(conf.match(/^\s*access_log off;$/gm)).toHaveLength(1);
  });
  it('redirects HTTP to HTTPS, passes WebSocket upgrades, and sends the gateway names to the API', () => {
    expect(conf).toContain('location / { return 301 https://$host$request_uri; }');
    expect(conf).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(conf).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(conf).toContain(
      'map $collab_edge_api $collab_edge_target {\n        1       collab_gateway_api;\n        default $collab_gateway;',
    );
    expect(() =>
      renderStage1TlsConf({
        routesMapPath: '/x;',
        certMapPath: '/c',
        certDir: '/d',
        httpsListen: 'a:1',
        httpListen: 'a:2',
        statusListen: 'a:3',
        gatewayApi: 'g:1',
        runDir: '/r',
      }),
    ).toThrow();
  });
});
