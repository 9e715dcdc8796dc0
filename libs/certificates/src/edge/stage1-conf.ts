import { renderMainContext } from '@app/nginx';
import { CERT_VARIABLE, CERTS_HASH_VARIABLE, EDGE_API_VARIABLE } from './cert-map';

export interface Stage1Layout {
  /** The routes include rendered by the nginx lib (renderStage1Map: `$collab_gateway`, upstreams). */
  routesMapPath: string;
  /** The certificate include rendered by this lib (renderCertInclude). */
  certMapPath: string;
  /** Directory of `<stem>.crt` / `<stem>.key`. */
  certDir: string;
  /** `address:port` of the HTTPS listener and of the plain-HTTP one that redirects. */
  httpsListen: string;
  httpListen: string;
  /** The port browsers use for https, when not 443 (the redirect names it). */
  publicHttpsPort?: number;
  statusListen: string;
  /** `host:port` of the gateway's HTTP API, for the gateway's own host names. */
  gatewayApi: string;
  runDir: string;
  workerProcesses?: number | 'auto';
  /** Connections per worker (default 16384, as Stage 2: every terminal holds one for hours). */
  workerConnections?: number;
  /**
   * `user` of the worker processes, when the master runs as root. With `ssl_certificate` naming a
   * variable, nginx reads the certificate and key at the handshake, in the worker: that user must
   * be able to read the certificate directory.
   */
  user?: string;
}

/**
 * Mozilla's "intermediate" server-side TLS profile (ssl-config.mozilla.org, guideline 5.7):
 * TLS 1.2 and 1.3, ECDHE with AES-GCM or ChaCha20-Poly1305, the client's preference. The DHE
 * suites of the profile need `ssl_dhparam`; without one nginx simply does not offer them.
 */
export const MOZILLA_INTERMEDIATE = {
  protocols: 'TLSv1.2 TLSv1.3',
  curves: 'X25519:prime256v1:secp384r1',
  ciphers:
    'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:' +
    'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:' +
    'DHE-RSA-CHACHA20-POLY1305',
};
export const HSTS = 'max-age=63072000';

const ADDR = /^[a-z0-9.:[\]-]{1,260}$/;
const PATH = /^\/[A-Za-z0-9._/-]*$/;

/** What every TLS server block says besides its certificate: the profile, HSTS, the proxy to Stage 2 or the gateway. */
export function stage1ServerBody(): string {
  return `    ssl_protocols ${MOZILLA_INTERMEDIATE.protocols};
    ssl_ecdh_curve ${MOZILLA_INTERMEDIATE.curves};
    ssl_ciphers ${MOZILLA_INTERMEDIATE.ciphers};
    ssl_prefer_server_ciphers off;
    add_header Strict-Transport-Security "${HSTS}" always;
    location / {
        proxy_pass http://$collab_edge_target;
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto https;
        proxy_set_header X-Forwarded-Host $host;
        proxy_connect_timeout 5s;
        proxy_send_timeout 1h;
        proxy_read_timeout 1h;
        proxy_buffering off;
        proxy_request_buffering off;
        client_max_body_size 512m;
    }
`;
}

/**
 * A complete Stage 1 nginx.conf: HTTPS with the certificate chosen by SNI, HTTP -> HTTPS, HSTS,
 * WebSocket upgrades passed through, the gateway's host names to its API and every other name to
 * the gateway node's Stage 2 (`$collab_gateway` from the routes include), and a loopback status
 * server reporting the hashes of both includes (the safe swap confirms reloads with them).
 */
export function renderStage1TlsConf(l: Stage1Layout): string {
  for (const a of [l.httpsListen, l.httpListen, l.statusListen, l.gatewayApi])
    if (!ADDR.test(a)) throw new Error(`stage 1 conf: bad address ${a}`);
  for (const p of [l.routesMapPath, l.certMapPath, l.certDir, l.runDir]) if (!PATH.test(p)) throw new Error(`stage 1 conf: bad path ${p}`);
  const certs = l.certDir.replace(/\/$/, '');
  const port = l.publicHttpsPort && l.publicHttpsPort !== 443 ? `:${l.publicHttpsPort}` : '';
  const ctx = renderMainContext({
    runDir: l.runDir,
    workerProcesses: l.workerProcesses ?? 1,
    workerConnections: l.workerConnections,
    user: l.user,
  });
  return `# Stage 1 nginx for collab-gateway: TLS at the edge, FQDN -> gateway node (see libs/certificates).
${ctx.main}http {
${ctx.http}    ssl_session_cache shared:CollabEdge:20m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;

    include ${l.routesMapPath};
    include ${l.certMapPath};

    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    upstream collab_gateway_api {
        server ${l.gatewayApi};
        keepalive 16;
    }
    # The gateway's own host names go to its API; every service host to its node's Stage 2.
    map $${EDGE_API_VARIABLE} $collab_edge_target {
        1       collab_gateway_api;
        default $collab_gateway;
    }

    server {
        listen ${l.httpListen} default_server;
        server_name _;
        location / { return 301 https://$host${port}$request_uri; }
    }

    server {
        listen ${l.httpsListen} ssl http2 default_server;
        server_name _;
        # map layout: the certificate of the name the client asked for (SNI), read at the handshake;
        # server-blocks layout: only names no block claims get here (the default certificate).
        ssl_certificate ${certs}/$${CERT_VARIABLE}.crt;
        ssl_certificate_key ${certs}/$${CERT_VARIABLE}.key;
${stage1ServerBody()
  .split('\n')
  .map((line) => (line ? `    ${line}` : line))
  .join('\n')}    }

    server {
        listen ${l.statusListen};
        location = /collab/routes-hash { return 200 "$collab_routes_hash"; }
        location = /collab/certs-hash { return 200 "${CERTS_HASH_VARIABLE}"; }
        location / { return 404; }
    }
}
`;
}
