#!/usr/bin/env bash
# Ubuntu terminal: settings, VPN loop (with the watchdog), ttyd on 7681, map "terminal".
set -euo pipefail
# shellcheck source=../container-functions.sh
. /usr/local/lib/container-functions.sh

export SERVICES="terminal:7681"
extract_settings

vpn_loop &
vpn_loop_pid=$!

# The shell runs unprivileged, without SETTINGS or the token in its environment.
# TTYD_CREDENTIAL (user:password) adds basic auth until the gateway protects the route itself.
ttyd_args=(--port 7681 --writable --ping-interval 30)
if [[ -n "${TTYD_CREDENTIAL:-}" ]]; then ttyd_args+=(--credential "$TTYD_CREDENTIAL"); fi
setpriv --reuid="$TERMINAL_USER" --regid="$TERMINAL_USER" --init-groups --reset-env \
  ttyd "${ttyd_args[@]}" bash -l &
app_pid=$!

map_when_ready terminal 7681 &

# Whichever ends first (the app or the VPN loop) ends the container; the platform restarts it.
wait_first "$app_pid" "$vpn_loop_pid"
