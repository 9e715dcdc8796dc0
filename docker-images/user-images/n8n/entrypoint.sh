#!/usr/bin/env bash
# n8n: settings, VPN loop (with the watchdog), upstream entrypoint on 5678, map "n8n".
set -euo pipefail
# shellcheck source=../container-functions.sh
. /usr/local/lib/container-functions.sh

port=${N8N_PORT:-5678}
export SERVICES="n8n:$port"
extract_settings

# Webhook URLs point at the container's public name (its primary service) unless set.
if [[ -n "${CONTAINER_FQDN:-}" && -z "${WEBHOOK_URL:-}" ]]; then export WEBHOOK_URL="https://$CONTAINER_FQDN/"; fi
export N8N_PROXY_HOPS="${N8N_PROXY_HOPS:-2}"

vpn_loop &
vpn_loop_pid=$!

# The upstream entrypoint as the node user, without SETTINGS or the token.
env -u SETTINGS -u TOKEN su-exec node /docker-entrypoint.sh &
app_pid=$!

map_when_ready n8n "$port" &

# Whichever ends first (the app or the VPN loop) ends the container; the platform restarts it.
wait_first "$app_pid" "$vpn_loop_pid"
