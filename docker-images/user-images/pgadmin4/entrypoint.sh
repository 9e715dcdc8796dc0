#!/usr/bin/env bash
# pgAdmin 4: settings, VPN loop (with the watchdog), upstream entrypoint on 5050, map "pgadmin".
set -euo pipefail
# shellcheck source=../container-functions.sh
. /usr/local/lib/container-functions.sh

port=${PGADMIN_LISTEN_PORT:-5050}
export SERVICES="pgadmin:$port"
extract_settings

# Sign-in through the gateway's OpenID provider with the container's own client (docs/sso.md),
# beside pgAdmin's internal accounts; the official entrypoint turns PGADMIN_CONFIG_* into config.
oauth2_config=$(/usr/local/bin/collab-oauth2-config.sh "$OAUTH_CLIENTS")
if [[ -n "$oauth2_config" ]]; then
  export PGADMIN_CONFIG_AUTHENTICATION_SOURCES="['oauth2', 'internal']"
  export PGADMIN_CONFIG_OAUTH2_AUTO_CREATE_USER=True
  export PGADMIN_CONFIG_OAUTH2_CONFIG="$oauth2_config"
fi

if [[ ! -f /var/lib/pgadmin/pgadmin4.db && -z "${PGADMIN_DEFAULT_EMAIL:-}" ]]; then
  cf_die "set PGADMIN_DEFAULT_EMAIL and PGADMIN_DEFAULT_PASSWORD (or PGADMIN_DEFAULT_PASSWORD_FILE) for the first start"
  exit 1
fi

vpn_loop &
vpn_loop_pid=$!

# The upstream entrypoint (gunicorn) as the image's pgadmin user, without SETTINGS or the token.
env -u SETTINGS -u TOKEN su-exec pgadmin /entrypoint.sh &
app_pid=$!

map_when_ready pgadmin "$port" &

# Whichever ends first (the app or the VPN loop) ends the container; the platform restarts it.
wait_first "$app_pid" "$vpn_loop_pid"
