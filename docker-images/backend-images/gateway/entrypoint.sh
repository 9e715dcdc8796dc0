#!/usr/bin/env bash
# A gateway node in one container, under tini: the gateway (HTTP API), the worker (jobs, nginx
# and VPN file renders), the Stage 2 nginx and the OpenVPN server under its supervisor
# (apps/vpn-node). Node.js and nginx run as APP_USER; only the VPN supervisor and OpenVPN keep
# root (NET_ADMIN, /dev/net/tun, nftables).
#
#   GATEWAY_ROLES        which to run (default "gateway worker nginx openvpn")
#   VPN_GATEWAY_ADDRESS  the gateway's address in the node's VPN pool (default 172.16.0.1): nginx
#                        serves /collab/ on its port 80 (GATEWAY_UPSTREAM, default 127.0.0.1:3000)
#   SHUTDOWN_GRACE_S     how long children get after TERM before KILL (default 20)
# With arguments (`docker run IMAGE node dist/apps/ops/src/main.js migrate`) it runs only those,
# as APP_USER.
set -euo pipefail

: "${GATEWAY_ROLES:=gateway worker nginx openvpn}"
: "${APP_USER:=node}"
: "${VPN_GATEWAY_ADDRESS:=172.16.0.1}"
: "${GATEWAY_UPSTREAM:=127.0.0.1:3000}"
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
  # Containers post /collab/ to the gateway's VPN address, port 80 (the seed client's contract).
  # nginx binds it before OpenVPN has made the tun device when net.ipv4.ip_nonlocal_bind is 1.
  if [[ $VPN_GATEWAY_ADDRESS =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ && $GATEWAY_UPSTREAM =~ ^[A-Za-z0-9.-]+:[0-9]{1,5}$ ]]; then
    # shellcheck disable=SC2016  # $host and $remote_addr are nginx variables
    printf 'server {\n    listen %s:80;\n    location /collab/ {\n        proxy_pass http://%s/collab/;\n        proxy_set_header Host $host;\n        proxy_set_header X-Forwarded-For $remote_addr;\n        client_max_body_size 1m;\n    }\n    location / { return 404; }\n}\n' \
      "$VPN_GATEWAY_ADDRESS" "$GATEWAY_UPSTREAM" > "${NGINX_MAP_PATH%/*}/vpn-gateway.conf"
  else
    log "warning: VPN_GATEWAY_ADDRESS or GATEWAY_UPSTREAM is malformed; containers cannot post over the tunnel"
  fi
  if (( EUID == 0 )); then chown -R "$APP_USER:" "$NGINX_RUN_DIR" "${NGINX_MAP_PATH%/*}"; fi
}

read -ra roles <<< "$GATEWAY_ROLES"
for role in "${roles[@]}"; do
  case $role in
    # The flags of scripts/node-flags.js (a 192 MB old generation: README, Measurements).
    gateway) start gateway TERM as_app node --enable-source-maps --max-old-space-size=192 dist/apps/gateway/src/main.js ;;
    worker) start worker TERM as_app node --enable-source-maps --max-old-space-size=192 dist/apps/worker/src/main.js ;;
    nginx)
      prepare_nginx
      start nginx QUIT as_app nginx -e "$NGINX_RUN_DIR/error.log" -p /etc/nginx/ -c "$NGINX_CONF" -g 'daemon off;'
      ;;
    openvpn)
      if (( EUID != 0 )); then
        log "warning: not root; the openvpn role is skipped"
      else
        mkdir -p /dev/net
        [[ -c /dev/net/tun ]] || mknod /dev/net/tun c 10 200 || log "warning: no /dev/net/tun (run with --device /dev/net/tun)"
        # The supervisor waits for the worker's render, runs OpenVPN, keeps the nftables isolation and
        # ends revoked sessions (docs/onboarding.md); its /health/ready fails while any of it is missing.
        start openvpn TERM node --enable-source-maps dist/apps/vpn-node/src/main.js
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
