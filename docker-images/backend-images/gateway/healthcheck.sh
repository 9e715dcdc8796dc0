#!/usr/bin/env bash
# HEALTHCHECK: every role this node runs answers (GATEWAY_ROLES as in entrypoint.sh).
set -euo pipefail
read -ra roles <<< "${GATEWAY_ROLES:-gateway worker nginx openvpn}"
probe() { curl -fsS --connect-timeout 2 --max-time 3 -o /dev/null "$1"; }
for role in "${roles[@]}"; do
  case $role in
    gateway) probe "http://127.0.0.1:${HTTP_PORT:-3000}/health/live" ;;
    worker) probe "http://127.0.0.1:${WORKER_HTTP_PORT:-3001}/health/live" ;;
    nginx) probe "${NGINX_STATUS_URL:-http://127.0.0.1:8081/collab/routes-hash}" ;;
    openvpn) probe "http://127.0.0.1:${VPN_NODE_HTTP_PORT:-3002}/health/ready" ;;
  esac
done
