#!/usr/bin/env bash
# Load benchmark of `tok server` with wrk: a fixed response, a session-authenticated read and
# password logins, one after the other against the same server process.
#
#   bash benches/server.sh                               (builds the release binary)
#   TOK=/path/to/release/tok bash benches/server.sh      (uses that binary, builds nothing)
#   DURATION=30s CONNECTIONS=64 bash benches/server.sh
#
# In a temporary directory: `tok server init` (org `bench`, instance `default`, admin `bench`,
# password on stdin), `tok server start --listen 127.0.0.1:0` in the background (its request
# log, one line per request, goes to a file there), a login (POST /v1/auth) for a session
# token, tenant `t1` and streaming token `tok1` created over the API. Then, after a short
# warm-up each, `wrk --latency` against:
#   (a) GET  /healthz                                        a fixed response
#   (b) GET  /v1/orgs/bench/tenants/t1/tokens/tok1           Authorization: Bearer <session>
#   (c) POST /v1/auth  {"username":…,"password":…}           Argon2id verify + a session write
# and prints requests/s, p50 and p99 for each, and (b)'s rate as a percentage of (a)'s.
#
# Environment: DURATION (10s), THREADS (wrk threads, 2), CONNECTIONS (32, for a and b),
# AUTH_CONNECTIONS (4, for c), WARMUP (2s per endpoint, 0 to skip), TOK, LOGIN_FIRST (set:
# run (c) first, on a fresh server, instead of last), VERBOSE (set: print wrk's full output).
# Also prints the server's CPU time (user + system, /proc) per request of each run.
# wrk runs on the same machine as the server and competes with it for the CPUs.
# Needs wrk (apt-get install -y wrk), curl and python3. See benches/README.md for figures.
set -euo pipefail

if ! command -v wrk >/dev/null 2>&1; then
    echo "server.sh: wrk is not installed; install it with: apt-get install -y wrk" >&2
    exit 1
fi
for tool in curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "server.sh: $tool is required" >&2; exit 1; }
done

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
AUTH_CONNECTIONS=${AUTH_CONNECTIONS:-4}
WARMUP=${WARMUP:-2s}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ -z "${TOK:-}" ]]; then
    cargo build --release -q
    TOK="${CARGO_TARGET_DIR:-$root/target}/release/tok"
fi
if [[ ! -x "$TOK" ]]; then
    echo "server.sh: $TOK is not an executable tok binary" >&2
    exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tok-bench-server.XXXXXX")"
# shellcheck source=benches/lib.sh
source "$root/benches/lib.sh"
cleanup() {
    stop_servers
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export TOK_CONFIG_DIR="$work/config" TOK_DATA_DIR="$work/data" TOK_CREDENTIAL_STORE=file
unset TOK_PROFILE TOK_SERVER TOK_TOKEN TOK_OUTPUT TOK_MASTER_KEY TOK_CA_CERT
export TOK_NO_INPUT=1 NO_COLOR=1

tok_server "$TOK" "$work"
url=$SERVER_URL
server_pid=$SERVER_PID
password=$SERVER_PASSWORD

auth_body=$(python3 -c 'import json, sys; print(json.dumps({"username": "bench", "password": sys.argv[1]}))' "$password")

session=$(post "$url" /v1/auth "$auth_body" | json 'd["auth_token"]')
post "$url" /v1/orgs/bench/tenants '{"name":"t1"}' "$session" >/dev/null
post "$url" /v1/orgs/bench/tenants/t1/tokens '{"name":"tok1","expires":"30d"}' "$session" >/dev/null

read_path=/v1/orgs/bench/tenants/t1/tokens/tok1
[[ "$(curl -sS "$url/healthz" | json 'd["status"]')" == ok ]] ||
    { echo "server.sh: GET /healthz did not answer ok" >&2; exit 1; }
[[ "$(curl -sS -H "Authorization: Bearer $session" "$url$read_path" | json 'd["name"]')" == tok1 ]] ||
    { echo "server.sh: GET $read_path did not return tok1" >&2; exit 1; }

# wrk's Lua script for the logins: the same JSON body on every request.
python3 - "$auth_body" >"$work/login.lua" <<'EOF'
import sys
body = sys.argv[1].replace("\\", "\\\\").replace('"', '\\"')
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/json"')
print(f'wrk.body = "{body}"')
EOF

echo
echo "tok:      $TOK ($("$TOK" --version))"
echo "server:   $url (database $work/server/tok.db, request log to a file)"
echo "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc) (nproc)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min); rustc processes running now: $(pgrep -c rustc || true)"
echo "wrk:      $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2), -t$THREADS, -d$DURATION, warm-up $WARMUP; wrk and the server share the CPUs"

# The server's CPU time (user + system) so far, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }

# bench NAME CONNECTIONS ARGS…: a warm-up, then the measured run; keeps wrk's output and
# the server's CPU time during the measured run.
bench() {
    local name=$1 conns=$2 before
    shift 2
    if [[ "$WARMUP" != 0 ]]; then
        wrk -t"$THREADS" -c"$conns" -d"$WARMUP" "$@" >/dev/null
    fi
    before=$(ticks)
    wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency "$@" >"$work/$name.txt"
    echo "$(( $(ticks) - before ))" >"$work/$name.ticks"
}

login() { bench login "$AUTH_CONNECTIONS" -s "$work/login.lua" "$url/v1/auth"; }
if [[ -n "${LOGIN_FIRST:-}" ]]; then login; fi
bench healthz "$CONNECTIONS" "$url/healthz"
bench read "$CONNECTIONS" -H "Authorization: Bearer $session" "$url$read_path"
if [[ -z "${LOGIN_FIRST:-}" ]]; then login; fi

# summary NAME LABEL CONNECTIONS: one table row from wrk's output.
summary() {
    awk -v label="$2" -v conns="$3" -v ticks="$(cat "$work/$1.ticks")" -v hz="$(getconf CLK_TCK)" '
        function ms(v,   n) {
            n = v + 0
            if (v ~ /us$/) return n / 1000
            if (v ~ /ms$/) return n
            if (v ~ /m$/) return n * 60000
            if (v ~ /s$/) return n * 1000
            return n
        }
        /^ +50% / { p50 = ms($2) }
        /^ +99% / { p99 = ms($2) }
        /requests in/ { total = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        /Socket errors:/ { sub(/^ *Socket errors: */, ""); errors = $0 }
        END {
            printf "| %s | %d | %.1f | %.3f | %.3f | %d | %.0f | %s | %s |\n", label, conns, rps, p50, p99,
                total, (total > 0 ? ticks / hz * 1e6 / total : 0),
                (non2xx == "" ? 0 : non2xx), (errors == "" ? "none" : errors)
        }' "$work/$1.txt"
}

rate() { awk '/^Requests\/sec:/ { print $2 }' "$work/$1.txt"; }

echo
echo "| Endpoint | Connections | Requests/s | p50 [ms] | p99 [ms] | Requests | Server CPU/request [µs] | Non-2xx/3xx | Socket errors |"
echo "|:---|---:|---:|---:|---:|---:|---:|---:|:---|"
summary healthz '(a) `GET /healthz` (fixed response)' "$CONNECTIONS"
summary read '(b) `GET …/tokens/tok1` (session-authenticated read)' "$CONNECTIONS"
summary login '(c) `POST /v1/auth` (Argon2id login)' "$AUTH_CONNECTIONS"
echo
awk -v a="$(rate healthz)" -v b="$(rate read)" \
    'BEGIN { printf "(b)/(a): %.1f %% of the fixed-response rate (target: >= 50 %%)\n", 100 * b / a }'

for name in healthz read login; do
    if grep -q 'Non-2xx or 3xx' "$work/$name.txt" || grep -q 'Socket errors' "$work/$name.txt"; then
        echo
        echo "wrk reported errors for $name:"
        cat "$work/$name.txt"
    fi
done
if [[ -n "${VERBOSE:-}" ]]; then
    for name in healthz read login; do echo; cat "$work/$name.txt"; done
fi
echo
echo "server request log: $(wc -l <"$work/server.log") lines; non-2xx statuses logged: $(grep -c 'status=[45]' "$work/server.log" || true)"
