#!/usr/bin/env bash
# JupyterLab: settings, VPN loop (with the watchdog), JupyterLab on 8888, map "jupyter".
set -euo pipefail
# shellcheck source=../container-functions.sh
. /usr/local/lib/container-functions.sh

export SERVICES="jupyter:8888"
extract_settings

vpn_loop &
vpn_loop_pid=$!

# JupyterLab keeps its own token auth (JUPYTER_TOKEN if set, else a generated one in the log)
# and runs as NB_USER without SETTINGS or the container token in its environment.
nb_user=${NB_USER:-jovyan}
env -u SETTINGS -u TOKEN HOME="/home/$nb_user" \
  setpriv --reuid="$nb_user" --regid="${NB_GID:-100}" --init-groups \
  jupyter lab --ip=0.0.0.0 --port=8888 --no-browser --ServerApp.root_dir="/home/$nb_user" \
  --ServerApp.trust_xheaders=True &
app_pid=$!

map_when_ready jupyter 8888 &

# Whichever ends first (the app or the VPN loop) ends the container; the platform restarts it.
wait_first "$app_pid" "$vpn_loop_pid"
