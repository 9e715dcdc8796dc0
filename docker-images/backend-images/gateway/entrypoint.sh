#!/usr/bin/env bash
# A gateway node in one container, under tini: the gateway (HTTP API), the worker (jobs, nginx
# and VPN file renders), the Stage 2 nginx and the OpenVPN server. Node.js and nginx run as
# APP_USER; only OpenVPN keeps root (it needs NET_ADMIN and /dev/net/tun).
#
#   GATEWAY_ROLES        which to run (default "gateway worker nginx openvpn")
#   OPENVPN_SERVER_CONF  the server config; without it the openvpn role is skipped with a warning
#   SHUTDOWN_GRACE_S     how long children get after TERM before KILL (default 20)
# With arguments (`docker run IMAGE node dist/apps/ops/src/main.js migrate`) it runs only those,
# as APP_USER.
set -euo pipefail

: "${GATEWAY_ROLES:=gateway worker nginx openvpn}"
: "${APP_USER:=node}"
: "${OPENVPN_SERVER_CONF:=/etc/openvpn/server/server.conf}"
: "${NGINX_CONF:=/etc/nginx/nginx.conf}"
: "${NGINX_RUN_DIR:=/run/collab-nginx}"
: "${NGINX_MAP_PATH:=/etc/nginx/collab/routes.map}"
: "${SHUTDOWN_GRACE_S:=20}"
export NGINX_CONF NGINX_MAP_PATH
# The worker reloads this nginx; -e keeps nginx from opening the root-owned default error log.
export NGINX_RELOAD_CMD="${NGINX_RELOAD_CMD:-nginx -e $NGINX_RUN_DIR/error.log -p /etc/nginx/ -c $NGINX_CONF -s reload}"

log() { printf '%s gateway-node: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# exec COMMAND as APP_USER (when root), keeping the environment.
as_app() {
  if (( EUID == 0 )); then exec setpriv --reuid="$APP_USER" --regid="$APP_USER" --init-groups "$@"; fi
  exec "$@"
}

if (( $# > 0 )); then as_app "$@"; fi

declare -A pids=() stop_signal=()
start() {
  local name=$1 signal=$2
  shift 2
  "$@" &
  pids[$name]=$!
  stop_signal[$name]=$signal
  log "$name started (pid ${pids[$name]})"
}

prepare_nginx() {
  mkdir -p "$NGINX_RUN_DIR" "${NGINX_MAP_PATH%/*}"
  # The first render replaces this empty map; until then every host answers "unknown".
  [[ -s "$NGINX_MAP_PATH" ]] || cp /etc/nginx/collab-empty.map "$NGINX_MAP_PATH"
  if (( EUID == 0 )); then chown -R "$APP_USER:" "$NGINX_RUN_DIR" "${NGINX_MAP_PATH%/*}"; fi
}

read -ra roles <<< "$GATEWAY_ROLES"
for role in "${roles[@]}"; do
  case $role in
    gateway) start gateway TERM as_app node --enable-source-maps dist/apps/gateway/src/main.js ;;
    worker) start worker TERM as_app node --enable-source-maps dist/apps/worker/src/main.js ;;
    nginx)
      prepare_nginx
      start nginx QUIT as_app nginx -e "$NGINX_RUN_DIR/error.log" -p /etc/nginx/ -c "$NGINX_CONF" -g 'daemon off;'
      ;;
    openvpn)
      if [[ ! -f "$OPENVPN_SERVER_CONF" ]]; then
        log "warning: no $OPENVPN_SERVER_CONF; the openvpn role is skipped (containers cannot join this node)"
      elif (( EUID != 0 )); then
        log "warning: not root; the openvpn role is skipped"
      else
        mkdir -p /dev/net
        [[ -c /dev/net/tun ]] || mknod /dev/net/tun c 10 200 || log "warning: no /dev/net/tun (run with --device /dev/net/tun)"
        start openvpn TERM openvpn --config "$OPENVPN_SERVER_CONF" --cd "${OPENVPN_SERVER_CONF%/*}"
      fi
      ;;
    *) log "unknown role ${role@Q} in GATEWAY_ROLES (gateway, worker, nginx, openvpn)"; exit 2 ;;
  esac
done
(( ${#pids[@]} > 0 )) || { log "no role to run"; exit 2; }

stop_all() {
  local name
  for name in "${!pids[@]}"; do kill -s "${stop_signal[$name]}" "${pids[$name]}" 2> /dev/null || true; done
}
stopping=0
trap 'stopping=1; log "TERM: stopping every role"; stop_all' TERM INT

# The first child to end ends the node: a gateway without its worker or nginx is not healthy,
# and the orchestrator restarts the whole node.
status=0
wait -n "${pids[@]}" || status=$?
if (( stopping == 0 )); then
  for name in "${!pids[@]}"; do
    kill -0 "${pids[$name]}" 2> /dev/null || log "$name ended (status $status); stopping the others"
  done
  (( status != 0 )) || status=1
  stop_all
fi
( sleep "$SHUTDOWN_GRACE_S"; for pid in "${pids[@]}"; do kill -KILL "$pid" 2> /dev/null || true; done ) &
killer=$!
wait "${pids[@]}" 2> /dev/null || true
kill "$killer" 2> /dev/null || true
(( stopping == 0 )) || status=0
exit "$status"
