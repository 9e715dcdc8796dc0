# shellcheck shell=bash
# Bootstrap library for user containers: source it, then call the functions.
#
#   . /usr/local/lib/container-functions.sh
#   extract_settings            # SETTINGS (base64 JSON) -> GATEWAY_FQDN, TOKEN, USER_CONTAINER_ID, ...
#   vpn_loop &                  # keep the tunnel up, send a watchdog every WATCHDOG_INTERVAL_S
#   map_http_service terminal 7681
#
# Sourcing defines functions and defaults only; nothing runs. Safe under `set -euo pipefail`.
# Requires bash 5.1+, curl, jq; uses lscpu, df, ping, lspci when present.
# The token never reaches a log line or a command line (curl reads it from a file descriptor).

# Tunables (environment). Timeouts in seconds, backoff in milliseconds.
: "${CF_CONNECT_TIMEOUT_S:=5}"      # curl --connect-timeout
: "${CF_MAX_TIME_S:=15}"            # curl --max-time, per attempt
: "${CF_BACKOFF_BASE_MS:=500}"      # first retry waits 250-500 ms
: "${CF_BACKOFF_CAP_MS:=30000}"     # no wait is longer than this
: "${CF_RETRY_MAX_ATTEMPTS:=8}"     # attempts per logical request, the first included
: "${CF_RETRY_DEADLINE_S:=300}"     # no retry starts later than this after the first attempt
: "${CF_VPN_SETTLE_MS:=1500}"       # how long OpenVPN must stay up to count as started
: "${OPENVPN_BIN:=openvpn}"
: "${VPN_CONFIG_DIR:=/etc/openvpn/client}"
: "${SERVICES:=}"                   # "name:port name:port": readiness reported by the watchdog
: "${VPN_LOOP_MAX_ITERATIONS:=0}"   # 0: for ever (tests bound it)
: "${CF_STATE_DIR:=${TMPDIR:-/tmp}/container-functions.$UID}"   # services mapped so far

CF_SERVICE_NAME_RE='^[a-z][a-z0-9-]{0,21}$'
CF_UUID_RE='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
VPN_PID=""

cf_log() { printf '%s container-functions: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

cf_die() { cf_log "error: $*"; return 1; }

# A fresh lower-case UUID (one per logical event; its retries reuse it as event_id).
cf_uuid() {
  local u
  if [[ -r /proc/sys/kernel/random/uuid ]]; then
    u=$(< /proc/sys/kernel/random/uuid)
  elif command -v uuidgen > /dev/null 2>&1; then
    u=$(uuidgen)
  else
    u=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    u="${u:0:8}-${u:8:4}-4${u:13:3}-a${u:17:3}-${u:20:12}"
  fi
  printf '%s\n' "${u,,}"
}

# Milliseconds to wait before retry number N (1-based): "equal jitter", i.e. half of
# min(cap, base * 2^(N-1)) plus a random part of the other half. Grows, is capped, never zero,
# and two containers that failed together do not retry in step.
cf_backoff_ms() {
  local n=$1 d=$CF_BACKOFF_BASE_MS i half
  for (( i = 1; i < n && d < CF_BACKOFF_CAP_MS; i++ )); do d=$(( d * 2 )); done
  (( d > CF_BACKOFF_CAP_MS )) && d=$CF_BACKOFF_CAP_MS
  half=$(( d / 2 ))
  printf '%d\n' $(( d - half + ( (RANDOM << 15 | RANDOM) % (half + 1) ) ))
}

# Sleep for milliseconds; `wait` keeps the shell responsive to TERM while sleeping.
cf_sleep_ms() {
  local ms=$1
  sleep "$(printf '%d.%03d' $(( ms / 1000 )) $(( ms % 1000 )))" &
  wait $! || true
}

# Wall clock in milliseconds (bash 5: no fork, works with busybox too).
cf_now_ms() { local us=${EPOCHREALTIME/[.,]/}; printf '%d\n' $(( 10#$us / 1000 )); }

cf_auth_header() { printf 'Authorization: Bearer %s\n' "$TOKEN"; }

# cf_request METHOD URL OUTFILE [BODY]: one logical request with timeouts and retries.
# Retries on connection failures, timeouts, 5xx, 408 and 429, with capped, jittered, exponential
# backoff, within CF_RETRY_MAX_ATTEMPTS and CF_RETRY_DEADLINE_S. Any other 4xx is final.
# The body is sent unchanged on every attempt (so an event_id inside it is reused).
# Returns 0 on 2xx (answer in OUTFILE), 1 when given up, 2 on a final 4xx.
cf_request() {
  local method=$1 url=$2 out=$3 body=${4-} attempt=0 code cexit delay after started deadline_ms label last
  label="$method ${url%%\?*}"
  started=$(cf_now_ms)
  deadline_ms=$(( started + CF_RETRY_DEADLINE_S * 1000 ))
  while :; do
    attempt=$(( attempt + 1 ))
    rm -f "$out.headers"
    local args=(-sS -o "$out" -D "$out.headers" -w '%{http_code}' -X "$method"
      --connect-timeout "$CF_CONNECT_TIMEOUT_S" --max-time "$CF_MAX_TIME_S")
    # The Authorization header comes from a file descriptor: never on a command line, never logged.
    if [[ -n "$body" ]]; then
      cexit=0
      code=$(printf '%s' "$body" | curl "${args[@]}" -H @<(cf_auth_header) \
        -H 'Content-Type: application/json' --data-binary @- "$url" 2> /dev/null) || cexit=$?
    else
      cexit=0
      code=$(curl "${args[@]}" -H @<(cf_auth_header) "$url" 2> /dev/null) || cexit=$?
    fi
    code=${code:-000}
    last="HTTP $code"
    [[ $code == 000 ]] && last="no answer (curl exit $cexit)"
    case $code in
      2??) rm -f "$out.headers"; return 0 ;;
      000 | 408 | 429 | 5??) ;;
      *)
        cf_log "$label: HTTP $code, not retried: $(cf_problem "$out")"
        rm -f "$out.headers"
        return 2
        ;;
    esac
    if (( attempt >= CF_RETRY_MAX_ATTEMPTS )); then
      cf_log "$label: giving up after $attempt attempts (last: $last)"
      rm -f "$out.headers"
      return 1
    fi
    delay=$(cf_backoff_ms "$attempt")
    # A Retry-After (seconds) from the gateway's rate limiter lengthens the wait, within the cap.
    after=$(sed -n 's/^[Rr]etry-[Aa]fter:[[:space:]]*\([0-9]\{1,6\}\)[[:space:]]*$/\1/p' "$out.headers" 2> /dev/null | tail -n 1) || after=''
    if [[ -n "$after" ]] && (( after * 1000 > delay )); then
      delay=$(( after * 1000 < CF_BACKOFF_CAP_MS ? after * 1000 : CF_BACKOFF_CAP_MS ))
    fi
    if (( $(cf_now_ms) + delay > deadline_ms )); then
      cf_log "$label: giving up, the next retry would pass ${CF_RETRY_DEADLINE_S}s (last: $last)"
      rm -f "$out.headers"
      return 1
    fi
    cf_log "$label: attempt $attempt got $last; retrying in ${delay} ms"
    cf_sleep_ms "$delay"
  done
}

# The gateway's problem-details answer, shortened to one line for a log.
cf_problem() {
  [[ -s "$1" ]] || { printf 'no body\n'; return 0; }
  { jq -r '.detail // .title // "no detail"' "$1" 2> /dev/null || head -c 200 "$1"; } | head -c 300 | tr -cd '[:print:]'
  printf '\n'
}

# cf_post_event EVENT_JSON: POST /collab/event once, logically: one event_id for every retry.
cf_post_event() {
  local event=$1 deadline=${2:-$CF_RETRY_DEADLINE_S} body out rc=0
  [[ -n "${EVENT_URL:-}" && -n "${TOKEN:-}" && -n "${PROJECT_ID:-}" ]] || { cf_die "call extract_settings first"; return 1; }
  body=$(jq -nc --argjson event "$event" --arg p "$PROJECT_ID" --arg id "$(cf_uuid)" \
    '{event: $event, project_id: $p, event_id: $id}') || { cf_die "event is not valid JSON"; return 1; }
  out=$(mktemp)
  CF_RETRY_DEADLINE_S=$deadline cf_request POST "$EVENT_URL" "$out" "$body" || rc=$?
  rm -f "$out"
  return "$rc"
}

cf_valid_service() {
  local name=$1
  [[ $name =~ $CF_SERVICE_NAME_RE && $name != *--* && $name != *- ]]
}

cf_valid_port() { [[ $1 =~ ^[1-9][0-9]{0,4}$ ]] && (( $1 <= 65535 )); }


# --- settings ---------------------------------------------------------------------------------

CF_HOST_RE='^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$'
CF_HOST_PORT_RE='^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[1-9][0-9]{0,4})?$'
CF_URL_RE='^https?://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[1-9][0-9]{0,4})?$'
CF_TOKEN_RE='^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$'
CF_IMAGE_RE='^[[:print:]]{1,256}$'   # informational only (onboarding allows any text up to 130)

# Every field of the settings as "key<TAB>value" lines, in one jq run. Objects, arrays and
# control characters are refused (naming the field); oauth_clients comes out as compact JSON.
# shellcheck disable=SC2016
CF_SETTINGS_JQ='
  if type != "object" then error("SETTINGS does not decode to a JSON object") else . end
  | . as $s
  | ($ARGS.positional[] as $k
     | ($s[$k] // "") as $v
     | if ($v | type) == "string" or ($v | type) == "number" or ($v | type) == "boolean" then $v | tostring
       else error("SETTINGS.\($k) must be a string or a number, not \($v | type)") end
     | if test("[\u0000-\u001f\u007f]") then error("SETTINGS.\($k) contains control characters") else . end
     | "\($k)\t\(.)"),
    (($s.oauth_clients // []) as $o
     | if ($o | type) == "array" then "oauth_clients\t\($o | tojson)"
       else error("SETTINGS.oauth_clients must be an array") end)'

# extract_settings: decode SETTINGS (base64 JSON from onboarding) and export, validated:
#   GATEWAY_FQDN TOKEN TOKEN_EXPIRES_AT USER_CONTAINER_ID PROJECT_ID ORG_ID IMAGE_ID CONTAINER_FQDN
#   VPN_ENDPOINT GATEWAY_VPN_ADDRESS WATCHDOG_INTERVAL_S OAUTH_CLIENTS (JSON array)
#   VPN_SECRET  (vpn_secret: the OpenVPN password; user name USER_CONTAINER_ID)
#   GATEWAY_URL (gateway_url, default https://GATEWAY_FQDN; reached before the tunnel is up)
#   EVENT_URL   (http://GATEWAY_VPN_ADDRESS/collab/event; GATEWAY_VPN_ADDRESS may carry :port)
# Fails, naming the field, on anything missing or malformed. Never prints the token.
extract_settings() {
  local raw json fields spec key var re required default value specs=() keys=()
  local -A found=()
  [[ -n "${SETTINGS:-}" ]] || { cf_die "SETTINGS is not set (base64 JSON from the platform)"; return 1; }
  raw=${SETTINGS//[$' \t\r\n']/}
  raw=${raw//-/+}
  raw=${raw//_//}                       # base64url is accepted too
  while (( ${#raw} % 4 )); do raw+='='; done
  json=$(printf '%s' "$raw" | base64 -d 2> /dev/null) || { cf_die "SETTINGS is not valid base64"; return 1; }

  # key|variable|pattern|required|default
  specs=(
    "gateway_fqdn|GATEWAY_FQDN|$CF_HOST_RE|1|"
    "token|TOKEN|$CF_TOKEN_RE|1|"
    "user_container_id|USER_CONTAINER_ID|$CF_UUID_RE|1|"
    "project_id|PROJECT_ID|$CF_UUID_RE|1|"
    "org_id|ORG_ID|$CF_UUID_RE|0|"
    "image_id|IMAGE_ID|$CF_IMAGE_RE|0|"
    "container_fqdn|CONTAINER_FQDN|$CF_HOST_RE|0|"
    "vpn_endpoint|VPN_ENDPOINT|$CF_HOST_PORT_RE|0|"
    "gateway_vpn_address|GATEWAY_VPN_ADDRESS|$CF_HOST_PORT_RE|0|172.16.0.1"
    "watchdog_interval_s|WATCHDOG_INTERVAL_S|^[1-9][0-9]{0,3}$|0|15"
    "token_expires_at|TOKEN_EXPIRES_AT|^[0-9A-Za-z:.+-]{1,40}$|0|"
    "gateway_url|GATEWAY_URL|$CF_URL_RE|0|"
    "vpn_secret|VPN_SECRET|^[A-Za-z0-9_-]{8,128}$|0|"
  )
  for spec in "${specs[@]}"; do keys+=("${spec%%|*}"); done
  if ! fields=$(jq -r "$CF_SETTINGS_JQ" --args "${keys[@]}" <<< "$json" 2>&1); then
    if [[ $fields == *"error (at"* ]]; then fields=${fields#*): }; else fields="SETTINGS does not decode to a JSON object"; fi
    cf_die "${fields%%$'\n'*}"
    return 1
  fi
  while IFS=$'\t' read -r key value; do found[$key]=$value; done <<< "$fields"

  for spec in "${specs[@]}"; do
    IFS='|' read -r key var re required default <<< "$spec"
    value=${found[$key]-}
    if [[ -z "$value" ]]; then
      if [[ $required == 1 ]]; then cf_die "SETTINGS.$key is missing"; return 1; fi
      value=$default
    elif ! [[ $value =~ $re ]]; then
      if [[ $key == token ]]; then cf_die "SETTINGS.token is not a JWT"; return 1; fi
      cf_die "SETTINGS.$key is invalid (want $re): ${value@Q}"
      return 1
    fi
    printf -v "$var" '%s' "$value"
    export "${var?}"
  done
  if (( WATCHDOG_INTERVAL_S > 3600 )); then cf_die "SETTINGS.watchdog_interval_s must be at most 3600"; return 1; fi
  OAUTH_CLIENTS=${found[oauth_clients]:-[]}
  GATEWAY_URL=${GATEWAY_URL:-https://$GATEWAY_FQDN}
  EVENT_URL="http://$GATEWAY_VPN_ADDRESS/collab/event"
  export OAUTH_CLIENTS GATEWAY_URL EVENT_URL
  cf_log "settings: container $USER_CONTAINER_ID, project $PROJECT_ID, gateway $GATEWAY_URL, events to $EVENT_URL"
}

# --- VPN --------------------------------------------------------------------------------------

# Directives that would let a profile run programs or load code in this container.
CF_VPN_FORBIDDEN_RE='^[[:space:]]*(script-security|up|down|route-up|route-pre-down|ipchange|tls-verify|client-connect|client-disconnect|learn-address|auth-user-pass-verify|plugin|setenv-safe|config)([[:space:]]|$)'

cf_vpn_alive() {
  local stat
  [[ -n "$VPN_PID" ]] && kill -0 "$VPN_PID" 2> /dev/null || return 1
  # A child that exited but was not reaped yet still answers kill -0: look at its state.
  if [[ -r /proc/$VPN_PID/stat ]]; then
    stat=$(< "/proc/$VPN_PID/stat") || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]] || return 1
  fi
  return 0
}

cf_vpn_stop() {
  if [[ -n "$VPN_PID" ]]; then
    kill -TERM "$VPN_PID" 2> /dev/null || true
    wait "$VPN_PID" 2> /dev/null || true
    VPN_PID=""
  fi
}

CF_CERT_NAME_RE='^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'

# cf_write NAME TEXT: TEXT to VPN_CONFIG_DIR/NAME through a new temporary file and a rename
# (atomic; the caller's umask sets the mode). Few forks: a loaded machine feels each one.
cf_write() {
  local t="$VPN_CONFIG_DIR/.$1.$$.$RANDOM" clobber=0
  [[ $- == *C* ]] && clobber=1
  set -C
  if ! { printf '%s' "$2" > "$t"; } 2> /dev/null; then (( clobber )) || set +C; return 1; fi
  (( clobber )) || set +C
  mv -f "$t" "$VPN_CONFIG_DIR/$1"
}

# start_vpn: fetch this container's VPN client from GATEWAY_URL/collab/vpn-config (with retries)
# in the seed contract's JSON, {"certificates": {"<file name>": "<PEM>"}, "config": "<text>"}, as
# the seed's images read it: each certificate is written to VPN_CONFIG_DIR/<file name>, the literal
# GATEWAY_FQDN in config becomes the host of GATEWAY_FQDN, and auth-user-pass (container id /
# VPN_SECRET, else the token) and auth-nocache are added. Directory 0700, files 0600, atomic
# renames. OPENVPN_BIN runs in VPN_CONFIG_DIR in the background (VPN_PID) and must stay up
# CF_VPN_SETTLE_MS.
start_vpn() {
  local out config names name cfg host um rc=0 status=0
  [[ -n "${GATEWAY_URL:-}" && -n "${TOKEN:-}" && -n "${USER_CONTAINER_ID:-}" ]] || { cf_die "call extract_settings first"; return 1; }
  out=$(mktemp) || return 1
  cf_request GET "$GATEWAY_URL/collab/vpn-config" "$out" || rc=$?
  if (( rc != 0 )); then rm -f "$out"; cf_log "start_vpn: no VPN client from the gateway"; return 1; fi
  if ! config=$(jq -er '.config | strings' "$out" 2> /dev/null) \
    || ! names=$(jq -r 'if (.certificates | type) == "object" then .certificates | keys[] else error("no certificates") end' "$out" 2> /dev/null); then
    rm -f "$out"
    cf_log "start_vpn: the gateway's answer is not the VPN client JSON ({certificates, config})"
    return 1
  fi
  if ! [[ $config =~ (^|$'\n')[[:space:]]*(client|remote|tls-client)([[:space:]]|$) ]]; then
    rm -f "$out"; cf_log "start_vpn: the gateway's config is not an OpenVPN client config"; return 1
  fi
  if grep -Eq "$CF_VPN_FORBIDDEN_RE" <<< "$config"; then
    rm -f "$out"; cf_log "start_vpn: refusing a config that runs scripts or plugins"; return 1
  fi
  if ! mkdir -p "$VPN_CONFIG_DIR" || ! chmod 700 "$VPN_CONFIG_DIR"; then
    rm -f "$out"; cf_log "start_vpn: cannot create $VPN_CONFIG_DIR"; return 1
  fi
  um=$(umask)
  umask 077
  while IFS= read -r name; do
    [[ -n $name ]] || continue
    if ! [[ $name =~ $CF_CERT_NAME_RE && $name != client.ovpn && $name != vpn-auth.txt ]]; then
      cf_log "start_vpn: refusing certificate file name ${name@Q}"; rc=1; break
    fi
    # $(...) drops the final newline a PEM file ends with: put it back.
    cf_write "$name" "$(jq -j --arg n "$name" '.certificates[$n] | strings' "$out")"$'\n' || { cf_log "start_vpn: cannot write $name"; rc=1; break; }
  done <<< "$names"
  rm -f "$out"
  cfg="$VPN_CONFIG_DIR/client.ovpn"
  host=${GATEWAY_FQDN%%:*}
  if (( rc == 0 )) && ! { cf_write vpn-auth.txt "$USER_CONTAINER_ID"$'\n'"${VPN_SECRET:-$TOKEN}"$'\n' \
    && cf_write client.ovpn "${config//GATEWAY_FQDN/$host}"$'\nauth-user-pass vpn-auth.txt\nauth-nocache\n'; }; then
    cf_log "start_vpn: cannot write $cfg"; rc=1
  fi
  umask "$um"
  (( rc == 0 )) || return 1
  cf_vpn_stop
  # In the directory: the config names its files relative to it, as the seed's does.
  (cd "$VPN_CONFIG_DIR" && exec "$OPENVPN_BIN" --config "$cfg") &
  VPN_PID=$!
  cf_sleep_ms "$CF_VPN_SETTLE_MS"
  if ! cf_vpn_alive; then
    wait "$VPN_PID" 2> /dev/null || status=$?
    VPN_PID=""
    cf_log "start_vpn: $OPENVPN_BIN exited at start (status $status)"
    return 1
  fi
  cf_log "start_vpn: $OPENVPN_BIN running (pid $VPN_PID) with $cfg"
}

# vpn_loop: keep the tunnel up and send a watchdog every WATCHDOG_INTERVAL_S while it is.
# A tunnel that fails to start or dies is restarted after a capped, jittered, exponential delay
# (reset once it has stayed up a whole interval); after every (re)connect the services mapped so
# far are mapped again (a reconnect may land on another gateway node). Never returns unless
# VPN_LOOP_MAX_ITERATIONS is set; TERM stops OpenVPN and ends the loop.
vpn_loop() {
  local failures=0 up_checks=0 iteration=0 delay
  trap 'cf_vpn_stop; exit 0' TERM INT
  while (( VPN_LOOP_MAX_ITERATIONS == 0 || iteration < VPN_LOOP_MAX_ITERATIONS )); do
    iteration=$(( iteration + 1 ))
    if cf_vpn_alive; then
      up_checks=$(( up_checks + 1 ))
      if (( up_checks >= 2 )); then failures=0; fi
      # A mapping that failed earlier is posted again once the gateway answers a heartbeat.
      if watchdog && [[ -e "$CF_STATE_DIR/remap" ]]; then
        rm -f "$CF_STATE_DIR/remap"
        cf_remap_services || true
      fi
      cf_sleep_ms $(( WATCHDOG_INTERVAL_S * 1000 ))
      continue
    fi
    up_checks=0
    if (( failures > 0 )); then
      delay=$(cf_backoff_ms "$failures")
      cf_log "vpn_loop: tunnel down (failure $failures); reconnecting in ${delay} ms"
      cf_sleep_ms "$delay"
    fi
    failures=$(( failures + 1 ))
    if start_vpn; then cf_remap_services || true; fi
  done
  cf_vpn_stop
}

# --- watchdog ---------------------------------------------------------------------------------

cf_first_line() { sed -n "$1" | head -n 1; }

# The stats as raw text, one per line, in a fixed order (empty when unknown):
# load, cpu count, threads per core, model, MB free, MB total, disk size, disk use, ping, cards.
cf_collect_stats() {
  local load='' count='' tpc='' model='' free='' total='' size='' usage='' ping_time='' cards='' l1 l5 l15 host
  if [[ -r /proc/loadavg ]]; then read -r l1 l5 l15 _ < /proc/loadavg && load="$l1, $l5, $l15"; fi
  count=$(nproc 2> /dev/null || grep -c '^processor' /proc/cpuinfo 2> /dev/null) || count=''
  if command -v lscpu > /dev/null 2>&1; then
    tpc=$(lscpu 2> /dev/null | cf_first_line 's/^Thread(s) per core:[[:space:]]*//p') || tpc=''
    model=$(lscpu 2> /dev/null | cf_first_line 's/^Model name:[[:space:]]*//p') || model=''
  fi
  if [[ -z "$model" && -r /proc/cpuinfo ]]; then
    model=$(cf_first_line 's/^model name[[:space:]]*:[[:space:]]*//p' < /proc/cpuinfo) || model=''
  fi
  if [[ -r /proc/meminfo ]]; then
    read -r free total < <(awk '/^MemAvailable:/ { a = $2 } /^MemTotal:/ { t = $2 }
      END { if (t) printf "%d %d\n", a / 1024, t / 1024 }' /proc/meminfo) || true
  fi
  read -r size usage < <(df -Ph / 2> /dev/null | awk 'NR == 2 { print $2, $5 }') || true
  if command -v ping > /dev/null 2>&1; then
    host=${GATEWAY_VPN_ADDRESS%:*}
    ping_time=$(ping -c 1 -W 2 "$host" 2> /dev/null | cf_first_line '/min\/avg\/max/p') || ping_time=''
  fi
  if command -v lspci > /dev/null 2>&1; then
    cards=$(lspci 2> /dev/null | grep -Ei 'vga|3d controller|display' | sed 's/^[^ ]* //' | paste -sd ';' -) || cards=''
  fi
  printf '%s\n' "$load" "$count" "$tpc" "$model" "$free" "$total" "$size" "$usage" "$ping_time" "$cards"
}

# Is something listening on localhost:PORT? (bash /dev/tcp; $1/$2 expand in the child shell)
# shellcheck disable=SC2016
cf_port_open() {
  if command -v timeout > /dev/null 2>&1; then
    timeout 2 "$BASH" -c 'exec 3<> "/dev/tcp/$1/$2"' _ "${CF_SERVICE_HOST:-127.0.0.1}" "$1" 2> /dev/null
  else
    "$BASH" -c 'exec 3<> "/dev/tcp/$1/$2"' _ "${CF_SERVICE_HOST:-127.0.0.1}" "$1" 2> /dev/null
  fi
}

# The readiness of SERVICES ("name:port ..."; commas also separate) as a JSON array.
cf_check_services() {
  local entries entry name port healthy message json='[]'
  read -ra entries <<< "${SERVICES//,/ }"
  for entry in "${entries[@]}"; do
    name=${entry%%:*}
    port=${entry#*:}
    if ! cf_valid_service "$name" || ! cf_valid_port "$port"; then
      cf_log "watchdog: SERVICES entry ${entry@Q} skipped (want name:port, name as for map_http_service)"
      continue
    fi
    if [[ $(jq length <<< "$json") -ge 32 ]]; then cf_log "watchdog: more than 32 SERVICES, the rest skipped"; break; fi
    if cf_port_open "$port"; then healthy=true message="port $port accepts connections"
    else healthy=false message="port $port refuses connections"; fi
    json=$(jq -c --arg n "$name" --argjson h "$healthy" --arg m "$message" '. + [{name: $n, healthy: $h, message: $m}]' <<< "$json")
  done
  printf '%s\n' "$json"
}

# The watchdog event as JSON (built by jq; stats bounded to 256 characters, control characters
# dropped, counts as numbers when they are integers).
cf_watchdog_event() {
  local stats=() services
  mapfile -t stats < <(cf_collect_stats)
  services=$(cf_check_services)
  jq -nc --argjson services "$services" --arg load "${stats[0]-}" --arg count "${stats[1]-}" \
    --arg tpc "${stats[2]-}" --arg model "${stats[3]-}" --arg free "${stats[4]-}" --arg total "${stats[5]-}" \
    --arg size "${stats[6]-}" --arg usage "${stats[7]-}" --arg ping "${stats[8]-}" --arg cards "${stats[9]-}" '
    def s: if . == "" then null else gsub("[\u0000-\u001f\u007f]"; " ") | .[0:256] end;
    def n: if test("^[0-9]{1,15}$") then tonumber else s end;
    {type: "user-container:watchdog",
     system: {
       cpu: {usage: ($load | s), count: ($count | n), threads_per_core: ($tpc | n), model: ($model | s)},
       memory: {free: ($free | n), total: ($total | n)},
       disk: {size: ($size | s), usage: ($usage | s)},
       network: {ping_time: ($ping | s)},
       graphic: {cards: ($cards | s)}}}
    + (if ($services | length) > 0 then {services: $services} else {} end)'
}

# watchdog: one heartbeat with system stats and service readiness. Retries stop within one
# interval: the next heartbeat replaces a late one.
watchdog() {
  local event
  event=$(cf_watchdog_event) || { cf_log "watchdog: could not build the event"; return 1; }
  cf_post_event "$event" "${WATCHDOG_INTERVAL_S:-15}"
}

# --- HTTP services ----------------------------------------------------------------------------


cf_remember_mapping() {
  local file="$CF_STATE_DIR/mapped" kept
  (umask 077 && mkdir -p "$CF_STATE_DIR") || return 0
  kept=$(grep -v "^$1 " "$file" 2> /dev/null) || kept=''
  printf '%s\n' "${kept:+$kept$'\n'}$1 $2" | sed '/^$/d' > "$file.tmp" && mv -f "$file.tmp" "$file"
}

cf_forget_mapping() {
  local file="$CF_STATE_DIR/mapped"
  [[ -f "$file" ]] || return 0
  { grep -v "^$1 " "$file" || true; } > "$file.tmp" && mv -f "$file.tmp" "$file"
}

cf_map_event() { jq -nc --arg n "$1" --argjson p "$2" '{type: "user-container:map-http-service", name: $n, port: $p}'; }

# Map again every service mapped so far (after a VPN reconnect, or after a failed mapping).
cf_remap_services() {
  local name port rc=0
  [[ -f "$CF_STATE_DIR/mapped" ]] || return 0
  while read -r name port; do
    if cf_valid_service "$name" && cf_valid_port "$port"; then cf_post_event "$(cf_map_event "$name" "$port")" || rc=1; fi
  done < "$CF_STATE_DIR/mapped"
  if (( rc != 0 )); then : > "$CF_STATE_DIR/remap"; fi
  return "$rc"
}

# map_http_service NAME PORT: tell the gateway this container serves HTTP on PORT as NAME.
# NAME and PORT are checked here against the gateway's allow-lists first (exit 2 when refused).
map_http_service() {
  local name=${1-} port=${2-}
  if ! cf_valid_service "$name"; then
    cf_die "map_http_service: service name ${name@Q} must match $CF_SERVICE_NAME_RE, without '--' or a trailing '-'"
    return 2
  fi
  if ! cf_valid_port "$port"; then cf_die "map_http_service: port ${port@Q} must be an integer from 1 to 65535"; return 2; fi
  cf_remember_mapping "$name" "$port" || true
  if ! cf_post_event "$(cf_map_event "$name" "$port")"; then
    # vpn_loop posts it again once the gateway answers.
    : > "$CF_STATE_DIR/remap" 2> /dev/null || true
    return 1
  fi
}

# wait_for_port PORT [TIMEOUT_S]: wait (1 s steps) until something listens on localhost:PORT.
wait_for_port() {
  local port=$1 timeout_s=${2:-300} waited=0
  until cf_port_open "$port"; do
    if (( waited >= timeout_s )); then cf_log "wait_for_port: nothing listens on $port after ${timeout_s}s"; return 1; fi
    cf_sleep_ms 1000
    waited=$(( waited + 1 ))
  done
}

# map_when_ready NAME PORT [TIMEOUT_S]: map the service once its port accepts connections, so
# the route never points at a port that refuses (entrypoints run it in the background).
map_when_ready() {
  if ! cf_valid_service "${1-}" || ! cf_valid_port "${2-}"; then map_http_service "${1-}" "${2-}"; return $?; fi
  wait_for_port "$2" "${3:-300}" || return 1
  map_http_service "$1" "$2"
}

# unmap_http_service NAME: withdraw a service's route.
unmap_http_service() {
  local name=${1-}
  if ! cf_valid_service "$name"; then cf_die "unmap_http_service: service name ${name@Q} is not valid"; return 2; fi
  cf_forget_mapping "$name" || true
  cf_post_event "$(jq -nc --arg n "$name" '{type: "user-container:unmap-http-service", name: $n}')"
}

# --- entrypoints ------------------------------------------------------------------------------

# wait_first PID...: wait until the first of these children ends, stop the others (TERM), and
# return its status (1 if it ended with 0: a container's daemons are not supposed to end).
wait_first() {
  local status=0 pid
  wait -n "$@" || status=$?
  cf_log "a child ended (status $status); stopping the others"
  for pid in "$@"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "$@"; do wait "$pid" 2> /dev/null || true; done
  if (( status == 0 )); then status=1; fi
  return "$status"
}
