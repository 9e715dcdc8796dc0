/** What every collab nginx (Stage 1 at the edge, Stage 2 on a gateway node) says outside its servers. */
export interface MainContextLayout {
  /** Directory for pid, logs and temp files (absolute). */
  runDir: string;
  workerProcesses: number | 'auto';
  /**
   * Connections per worker (default 16384). Terminals and notebooks hold a connection each for hours,
   * and an idle client holds one until client_header_timeout: 1024 (nginx's default) ran out.
   * worker_rlimit_nofile is twice this plus headroom (each proxied connection has an upstream side).
   */
  workerConnections?: number;
  /** `user` of the worker processes, when the master runs as root. */
  user?: string;
}

const USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/;

/**
 * The one main/events context and the `http` settings both stages share: connection sizing,
 * timeouts that close idle and slow clients, temp paths under the run directory, no version in
 * answers, and hash sizes for 100,000 host names. `main` goes before `http {`, `http` inside it.
 */
export function renderMainContext(l: MainContextLayout): { main: string; http: string } {
  if (l.user !== undefined && !USER_RE.test(l.user)) throw new Error(`nginx conf: bad user ${l.user}`);
  const run = l.runDir.replace(/\/$/, '');
  const connections = l.workerConnections ?? 16384;
  const main = `${l.user ? `user ${l.user};\n` : ''}worker_processes ${l.workerProcesses};
worker_rlimit_nofile ${2 * connections + 1024};
pid ${run}/nginx.pid;
error_log ${run}/error.log warn;
events { worker_connections ${connections}; }
`;
  const http = `    access_log off;
    # A connection that sends no complete header within 10 s is closed (idle or slow clients hold slots);
    # an idle keep-alive connection after 65 s. Open streams (terminals) are governed by proxy_read_timeout.
    client_header_timeout 10s;
    client_body_timeout 60s;
    keepalive_timeout 65s;
    send_timeout 60s;
    reset_timedout_connection on;
    client_body_temp_path ${run}/client_body;
    proxy_temp_path ${run}/proxy;
    fastcgi_temp_path ${run}/fastcgi;
    uwsgi_temp_path ${run}/uwsgi;
    scgi_temp_path ${run}/scgi;
    server_tokens off;
    default_type application/json;
    map_hash_max_size 262144;
    map_hash_bucket_size 256;
    server_names_hash_max_size 262144;
    server_names_hash_bucket_size 128;
`;
  return { main, http };
}
