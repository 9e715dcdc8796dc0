import { HASH_VARIABLE } from './render-map';
import { renderMainContext } from './main-context';
import { LIVE_ROUTES_LUA } from './live-lua';
import { OFFLINE, PROTECTED_PREFIX, UNKNOWN, UPSTREAM_VARIABLE } from './render-stage2';

export interface Stage2Layout {
  /** Absolute path of the rendered map include (NGINX_MAP_PATH). */
  mapPath: string;
  /** `address:port` the proxy listens on. */
  listen: string;
  /** `127.0.0.1:port` of the local status server (NGINX_STATUS_URL points at it). */
  statusListen: string;
  /** Directory for pid, logs and temp files (absolute). */
  runDir: string;
  /** Default `auto`: one worker per core. */
  workerProcesses?: number | 'auto';
  /** Connections per worker (see MainContextLayout; default 16384). */
  workerConnections?: number;
  /**
   * `host:port` of the gateway's HTTP listener, which answers the sign-in checks of protected
   * routes (docs/sso.md). Without it, protected routes are refused (500), never served open.
   */
  gateway?: string;
  /**
   * Live routes (docs/nginx.md): route changes reach nginx through a lua_shared_dict, pushed by the
   * worker over this unix socket, without a reload. The rendered map answers until the first
   * snapshot. Needs lua-nginx-module (Debian: libnginx-mod-http-lua).
   */
  live?: LiveLayout;
  /**
   * The gateway's address inside the node's VPN (the pool's .1): a server on its port 80 passes
   * `/collab/` to the gateway, so containers post events over the tunnel as the seed client does.
   */
  vpnGatewayAddress?: string;
}

export interface LiveLayout {
  /** Absolute path of the control socket (NGINX_ROUTES_SOCKET); only the worker may reach it. */
  socket: string;
  /** lua_shared_dict size; 100,000 routes (150,000 names) take ~40 MB. */
  dictSize?: string;
  /** Where Debian puts ndk_http_module.so and ngx_http_lua_module.so; null when nginx has them built in. */
  modulesDir?: string | null;
}

/** The variable the location reads in live mode: the dict's answer, or the map's before the first snapshot. */
export const LIVE_ROUTE_VARIABLE = 'collab_route';
const SOCKET_RE = /^\/[A-Za-z0-9._/-]{1,100}$/;
const DICT_SIZE_RE = /^\d{1,5}[km]$/;

/** Where protected routes ask the gateway (auth_request), and the sign-in paths on every host. */
export const SSO_AUTH_LOCATION = '/.collab-sso/auth';
export const SSO_PATH_PREFIX = '/.collab-sso/';
/** The headers the gateway's check answers with, passed to the service (any the client sent are replaced). */
export const AUTH_USER_HEADERS = ['X-Auth-User-Id', 'X-Auth-User-Email', 'X-Auth-User-Name'] as const;
const GATEWAY_RE = /^([a-z0-9.-]{1,253}:\d{1,5}|unix:\/[A-Za-z0-9._/-]{1,200})$/;
const IPV4_RE = /^(\d{1,3}\.){3}\d{1,3}$/;
const headerVar = (h: string) => `$collab_${h.toLowerCase().replace(/^x-/, '').replace(/-/g, '_')}`;
const upstreamHeaderVar = (h: string) => `$upstream_http_${h.toLowerCase().replace(/-/g, '_')}`;

/**
 * What a client sent in these is never passed on: the address is the one nginx saw (a client's
 * X-Forwarded-For would otherwise be trusted as its own), and RFC 7239 Forwarded is dropped.
 */
const FORWARDED = [
  'proxy_set_header X-Forwarded-For $remote_addr;',
  'proxy_set_header X-Real-IP $remote_addr;',
  'proxy_set_header X-Forwarded-Host $host;',
  'proxy_set_header X-Forwarded-Proto $scheme;',
  'proxy_set_header Forwarded "";',
].join('\n            ');

const OFFLINE_BODY = '{"error":"offline","message":"This service is offline. It comes back when its container does."}';
const UNKNOWN_BODY = '{"error":"unknown_host","message":"No service is published under this name."}';
const UNREACHABLE_BODY = '{"error":"unreachable","message":"The service did not answer. Try again shortly."}';

/**
 * A complete Stage 2 nginx.conf around the rendered map: WebSocket upgrade on every route,
 * timeouts that suit terminals and notebooks, JSON answers for offline, unknown and unreachable
 * services, and a loopback status server that reports the hash of the loaded map.
 */
export function renderStage2Conf(l: Stage2Layout): string {
  if (l.gateway !== undefined && !GATEWAY_RE.test(l.gateway)) throw new Error('stage 2 conf: gateway must be host:port');
  if (l.vpnGatewayAddress !== undefined && !IPV4_RE.test(l.vpnGatewayAddress))
    throw new Error('stage 2 conf: vpnGatewayAddress must be IPv4');
  // A unix socket upstream is written http://unix:/path:/uri.
  const upstream = (path: string) => (l.gateway!.startsWith('unix:') ? `http://${l.gateway}:${path}` : `http://${l.gateway}${path}`);
  const toGateway = (path: string) =>
    l.gateway
      ? `proxy_pass ${upstream(path)};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Collab-Host $host;
            ${FORWARDED}`
      : `return 503 '{"error":"sso_unavailable","message":"Sign-in is not configured on this node."}\\n';`;
  const live = l.live;
  if (live && (!SOCKET_RE.test(live.socket) || !DICT_SIZE_RE.test(live.dictSize ?? '128m'))) {
    throw new Error('stage 2 conf: live socket must be an absolute path, dictSize like 128m');
  }
  const modules = live?.modulesDir === undefined ? '/usr/lib/nginx/modules' : live.modulesDir;
  const route = live ? `$${LIVE_ROUTE_VARIABLE}` : `$${UPSTREAM_VARIABLE}`;
  const ctx = renderMainContext({ runDir: l.runDir, workerProcesses: l.workerProcesses ?? 'auto', workerConnections: l.workerConnections });
  return `${live && modules ? `load_module ${modules}/ndk_http_module.so;\nload_module ${modules}/ngx_http_lua_module.so;\n` : ''}# Stage 2 nginx for collab-gateway: Host -> container VPN address (see libs/nginx).
${ctx.main}http {
${ctx.http}
    include ${l.mapPath};
${live ? liveHttp(live) : ''}
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }
    # Protected routes (value "${PROTECTED_PREFIX}address:port"): the proxy target, and whether to ask the gateway.
    map ${route} $collab_target {
        "~^${PROTECTED_PREFIX}(?<collab_address>.+)$" $collab_address;
        default ${route};
    }
    map ${route} $collab_protected {
        "~^${PROTECTED_PREFIX}" 1;
        default 0;
    }

    server {
        listen ${l.listen} default_server;
        server_name _;
${live ? `        set_by_lua_block ${route} { return require("collab_routes").lookup(ngx.var.host) or ngx.var.${UPSTREAM_VARIABLE} }\n` : ''}
        location / {
${
  live
    ? `            # Every X-Auth-User-* a client sends is dropped (core nginx can only replace named headers); the gateway's check sets its three.
            rewrite_by_lua_block { for name in pairs(ngx.req.get_headers(200, true)) do if string.find(string.lower(name), "^x[-_]auth[-_]user[-_]") then ngx.req.clear_header(name) end end }\n`
    : ''
}            if (${route} = "${OFFLINE}") { return 503 '${OFFLINE_BODY}\\n'; }
            if (${route} = "${UNKNOWN}") { return 503 '${UNKNOWN_BODY}\\n'; }
            auth_request ${SSO_AUTH_LOCATION};
${AUTH_USER_HEADERS.map(
  (h) => `            auth_request_set ${headerVar(h)} ${upstreamHeaderVar(h)};
`,
).join('')}            auth_request_set $collab_auth_redirect $upstream_http_x_auth_redirect;
            error_page 401 = @collab_signin;
            proxy_pass http://$collab_target;
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            ${FORWARDED}
${AUTH_USER_HEADERS.map(
  (h) => `            proxy_set_header ${h} ${headerVar(h)};
`,
).join('')}            proxy_connect_timeout 5s;
            proxy_send_timeout 1h;
            proxy_read_timeout 1h;
            proxy_buffering off;
            client_max_body_size 512m;
            error_page 502 504 = @unreachable;
        }
        location @unreachable {
            return 502 '${UNREACHABLE_BODY}\\n';
        }
        # The sign-in check of protected routes; open routes are answered here without asking.
        location = ${SSO_AUTH_LOCATION} {
            internal;
            if ($collab_protected = "0") { return 204; }
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            ${toGateway('/sso/check')}
        }
        # No session: the gateway's check named where to sign in (an absolute URL on this host).
        location @collab_signin {
            if ($collab_auth_redirect = "") { return 401; }
            return 302 $collab_auth_redirect;
        }
        # Sign-in start, callback and sign-out on the service's own host (its session cookie is host-only).
        location = ${SSO_PATH_PREFIX}start {
            ${toGateway('/sso/start')}
        }
        location = ${SSO_PATH_PREFIX}callback {
            ${toGateway('/sso/callback')}
        }
        location = ${SSO_PATH_PREFIX}logout {
            ${toGateway('/sso/logout')}
        }
    }

${
  l.vpnGatewayAddress
    ? `    # The gateway's VPN address: containers post /collab/ here over the tunnel (the node's nftables
    # rules let the tunnel reach only this port and ping).
    server {
        listen ${l.vpnGatewayAddress}:80;
        location /collab/ {
            ${
              l.gateway
                ? `proxy_pass ${upstream('/collab/')};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            client_max_body_size 1m;`
                : `return 503 '{"error":"gateway_unavailable"}\\n';`
            }
        }
        location / { return 404; }
    }

`
    : ''
}    server {
        listen ${l.statusListen};
        location = /collab/routes-hash { return 200 "${HASH_VARIABLE}"; }
        location / { return 404; }
    }
${live ? liveControlServer(live) : ''}}
`;
}

/** The shared dict and the Lua code (loaded once in the master; workers inherit it). */
function liveHttp(live: LiveLayout): string {
  return `    lua_shared_dict collab_routes ${live.dictSize ?? '128m'};
    init_by_lua_block {
        package.loaded.collab_routes = (function()
${LIVE_ROUTES_LUA}
        end)()
    }
`;
}

/** The route channel: a unix socket only, so nothing on Stage 2's public side reaches it. */
function liveControlServer(live: LiveLayout): string {
  return `
    server {
        listen unix:${live.socket};
        client_max_body_size 256m;
        client_body_buffer_size 256m;
        location = /routes/state { content_by_lua_block { require("collab_routes").state() } }
        location = /routes/snapshot { content_by_lua_block { require("collab_routes").snapshot() } }
        location = /routes/delta { content_by_lua_block { require("collab_routes").delta() } }
        location = /routes/dump { content_by_lua_block { require("collab_routes").dump() } }
        location / { return 404; }
    }
`;
}

/** The map file an nginx starts with before the first render: no routes. */
export const EMPTY_STAGE2_MAP = `map $pid ${HASH_VARIABLE} {\n    default "none";\n}\nmap $host $${UPSTREAM_VARIABLE} {\n    hostnames;\n    default "${UNKNOWN}";\n}\n`;
