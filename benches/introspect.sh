#!/usr/bin/env bash
# Load benchmark of introspection (issue 6): POST /v1/introspect of an API key (RS256 JWT:
# decode, key lookup by kid, signature, audience and expiry, then the jti looked up for
# revocation), compared in the same run with the server's fixed-response route.
#
#   bash benches/introspect.sh                           (builds the release binary)
#   TOK=/path/to/release/tok bash benches/introspect.sh  (uses that binary)
#
# In a temporary directory: a server (benches/lib.sh), a session, service account `ingest`
# holding "API Read Only User", and an API key of it. Then, after a warm-up each, wrk against
#   (a) GET  /healthz                                   a fixed response
#   (b) POST /v1/introspect {"token": <the API key>}    bearer session, `introspect` action
#   (c) POST /v1/introspect {"token": "garbage"}        the cheapest inactive answer
# and prints requests/s, p50 and p99, server CPU per request, and (b)'s rate as a
# percentage of (a)'s (issue 6's target: >= 50 %).
#
# Environment: DURATION (10s), THREADS (2), CONNECTIONS (32), WARMUP (2s), TOK. Needs wrk,
# curl and python3. wrk shares the machine's CPUs with the server.
set -euo pipefail

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "introspect.sh: $tool is required" >&2; exit 1; }
done

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
WARMUP=${WARMUP:-2s}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -z "${TOK:-}" ]]; then
    cargo build --release -q
    TOK="${CARGO_TARGET_DIR:-$root/target}/release/tok"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tok-bench-introspect.XXXXXX")"
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
auth_body=$(python3 -c 'import json, sys; print(json.dumps({"username": "bench", "password": sys.argv[1]}))' "$SERVER_PASSWORD")
session=$(post "$url" /v1/auth "$auth_body" | json 'd["auth_token"]')
post "$url" /v1/orgs/bench/service-accounts '{"name":"ingest","roles":["API Read Only User"]}' \
    "$session" >/dev/null
key=$(post "$url" /v1/orgs/bench/apikeys '{"service_account":"ingest","name":"k1"}' "$session" |
    json 'd["key"]')
answer=$(post "$url" /v1/introspect "{\"token\":\"$key\"}" "$session")
[[ "$(json 'd["active"]' <<<"$answer")" == True ]] ||
    { echo "introspect.sh: the key does not introspect active: $answer" >&2; exit 1; }

# wrk scripts: a POST with a JSON body and the session.
lua() {
    python3 - "$1" "$session" >"$work/$2.lua" <<'PY'
import json, sys
body = json.dumps({"token": sys.argv[1]}).replace("\\", "\\\\").replace('"', '\\"')
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/json"')
print(f'wrk.headers["Authorization"] = "Bearer {sys.argv[2]}"')
print(f'wrk.body = "{body}"')
PY
}
lua "$key" active
lua garbage garbage

ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
bench() {
    local name=$1 before
    shift
    if [[ "$WARMUP" != 0 ]]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" >/dev/null
    fi
    before=$(ticks)
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$work/$name.txt"
    echo "$(( $(ticks) - before ))" >"$work/$name.ticks"
}

echo "tok:   $TOK ($("$TOK" --version))"
echo "load:  $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$THREADS -c$CONNECTIONS -d$DURATION, warm-up $WARMUP"
bench healthz "$url/healthz"
bench active -s "$work/active.lua" "$url/v1/introspect"
bench garbage -s "$work/garbage.lua" "$url/v1/introspect"

summary() {
    awk -v label="$2" -v ticks="$(cat "$work/$1.ticks")" -v hz="$(getconf CLK_TCK)" '
        function ms(v,   n) {
            n = v + 0
            if (v ~ /us$/) return n / 1000
            if (v ~ /ms$/) return n
            if (v ~ /s$/) return n * 1000
            return n
        }
        /^ +50% / { p50 = ms($2) }
        /^ +99% / { p99 = ms($2) }
        /requests in/ { total = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { non2xx = $NF }
        END {
            printf "| %s | %.1f | %.3f | %.3f | %.0f | %s |\n", label, rps, p50, p99,
                (total > 0 ? ticks / hz * 1e6 / total : 0), (non2xx == "" ? 0 : non2xx)
        }' "$work/$1.txt"
}
rate() { awk '/^Requests\/sec:/ { print $2 }' "$work/$1.txt"; }

echo
echo "| Endpoint | Requests/s | p50 [ms] | p99 [ms] | Server CPU/request [µs] | Non-2xx |"
echo "|:---|---:|---:|---:|---:|---:|"
summary healthz '(a) `GET /healthz` (fixed response)'
summary active '(b) `POST /v1/introspect`, an active RS256 API key'
summary garbage '(c) `POST /v1/introspect`, garbage'
echo
awk -v a="$(rate healthz)" -v b="$(rate active)" \
    'BEGIN { printf "(b)/(a): %.1f %% of the fixed-response rate (target: >= 50 %%)\n", 100 * b / a }'
