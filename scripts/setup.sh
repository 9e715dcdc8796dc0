#!/usr/bin/env bash
# The project's own setup step: installs the Debian packages that `npm start` (role: start) or
# `npm test` (role: test) needs, and nothing when all are present (one probe each, no apt call).
# Run by npm itself before `npm start`, `npm test` and `npm run bench` (prestart, pretest, prebench).
# Where it cannot install (not root, no apt-get) it stops at once, naming what is missing and the
# command that installs it.
#
#   bash scripts/setup.sh start|test|bench      SETUP_SKIP=1 skips it (a machine set up by other means)
set -euo pipefail

role=${1:-start}
[ "${SETUP_SKIP:-}" = 1 ] && exit 0

# "package probe": the package is present when the probe is (an absolute path, a glob, or a command).
start_packages=(
  "nginx /usr/sbin/nginx"
  # Live routes: route changes reach nginx's lua_shared_dict without a reload (docs/nginx.md).
  "libnginx-mod-http-lua /usr/lib/nginx/modules/ngx_http_lua_module.so"
  "openssl openssl"
  "curl curl"
  "jq jq"
)
test_packages=(
  "${start_packages[@]}"
  "shellcheck shellcheck"
  "chromium /usr/bin/chromium"
  "fonts-dejavu-core /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
  "procps ps"
  "iproute2 ip"
  # The fault suites run private PostgreSQL and Redis servers of their own.
  "postgresql /usr/lib/postgresql/*/bin/initdb"
  "redis-server redis-server"
  # ACME server and its DNS for the TLS-at-the-edge suite (test/e2e/tls-edge.spec.ts).
  "pebble /usr/bin/pebble"
)
bench_packages=(
  "${start_packages[@]}"
  "postgresql-contrib /usr/lib/postgresql/*/bin/pgbench"
)

case "$role" in
  start) wanted=("${start_packages[@]}") ;;
  test) wanted=("${test_packages[@]}") ;;
  bench) wanted=("${bench_packages[@]}") ;;
  *) echo "setup: unknown role '$role' (start, test or bench)" >&2; exit 2 ;;
esac

present() {
  local probe=$1
  case "$probe" in
    /*) compgen -G "$probe" >/dev/null ;;
    *) command -v "$probe" >/dev/null 2>&1 ;;
  esac
}

missing=()
for entry in "${wanted[@]}"; do
  read -r package probe <<<"$entry"
  present "$probe" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$EUID" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  why="not root"; command -v apt-get >/dev/null 2>&1 || why="no apt-get on this machine"
  echo "setup: missing system packages for 'npm $role': ${missing[*]}" >&2
  echo "setup: cannot install them here ($why). Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  echo "setup: or, on a machine set up by other means, run with SETUP_SKIP=1" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packages' own services (nginx on :80, openvpn) from starting: the project
# runs its own instances with its own prefixes and ports.
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
fi
status=0
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
[ -n "$own_policy" ] && rm -f "$policy"
if [ "$status" -ne 0 ]; then
  echo "setup: apt-get install ${missing[*]} failed (exit $status)" >&2
  exit "$status"
fi
echo "setup: installed ${missing[*]}"
