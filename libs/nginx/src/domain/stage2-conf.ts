import { HASH_VARIABLE } from './render-map';
import { OFFLINE, UNKNOWN, UPSTREAM_VARIABLE } from './render-stage2';

export interface Stage2Layout {
  /** Absolute path of the rendered map include (NGINX_MAP_PATH). */
  mapPath: string;
  /** `address:port` the proxy listens on. */
  listen: string;
  /** `127.0.0.1:port` of the local status server (NGINX_STATUS_URL points at it). */
  statusListen: string;
  /** Directory for pid, logs and temp files (absolute). */
  runDir: string;
  workerProcesses?: number | 'auto';
}

const OFFLINE_BODY = '{"error":"offline","message":"This service is offline. It comes back when its container does."}';
const UNKNOWN_BODY = '{"error":"unknown_host","message":"No service is published under this name."}';
const UNREACHABLE_BODY = '{"error":"unreachable","message":"The service did not answer. Try again shortly."}';

/**
 * A complete Stage 2 nginx.conf around the rendered map: WebSocket upgrade on every route,
 * timeouts that suit terminals and notebooks, JSON answers for offline, unknown and unreachable
 * services, and a loopback status server that reports the hash of the loaded map.
 */
export function renderStage2Conf(l: Stage2Layout): string {
  const run = l.runDir.replace(/\/$/, '');
  return `# Stage 2 nginx for collab-gateway: Host -> container VPN address (see libs/nginx).
worker_processes ${l.workerProcesses ?? 1};
pid ${run}/nginx.pid;
error_log ${run}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${run}/client_body;
    proxy_temp_path ${run}/proxy;
    fastcgi_temp_path ${run}/fastcgi;
    uwsgi_temp_path ${run}/uwsgi;
    scgi_temp_path ${run}/scgi;
    server_tokens off;
    default_type application/json;
    map_hash_max_size 262144;
    map_hash_bucket_size 256;
    server_names_hash_bucket_size 128;

    include ${l.mapPath};

    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    server {
        listen ${l.listen} default_server;
        server_name _;

        location / {
            if ($${UPSTREAM_VARIABLE} = "${OFFLINE}") { return 503 '${OFFLINE_BODY}\\n'; }
            if ($${UPSTREAM_VARIABLE} = "${UNKNOWN}") { return 503 '${UNKNOWN_BODY}\\n'; }
            proxy_pass http://$${UPSTREAM_VARIABLE};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Host $host;
            proxy_connect_timeout 5s;
            proxy_send_timeout 1h;
            proxy_read_timeout 1h;
            proxy_buffering off;
            client_max_body_size 512m;
            error_page 502 504 = @unreachable;
        }
        location @unreachable {
            return 502 '${UNREACHABLE_BODY}\\n';
        }
    }

    server {
        listen ${l.statusListen};
        location = /collab/routes-hash { return 200 "${HASH_VARIABLE}"; }
        location / { return 404; }
    }
}
`;
}

/** The map file an nginx starts with before the first render: no routes. */
export const EMPTY_STAGE2_MAP = `map $pid ${HASH_VARIABLE} {\n    default "none";\n}\nmap $host $${UPSTREAM_VARIABLE} {\n    hostnames;\n    default "${UNKNOWN}";\n}\n`;
