#!/usr/bin/env bash
# Paired A/B load benchmark of two tok binaries on the session-authenticated read of
# benches/server.sh: GET /v1/orgs/bench/tenants/t1/tokens/tok1 with a bearer session token.
#
#   TOK_A=/path/to/before/tok TOK_B=/path/to/after/tok bash benches/server-ab.sh
#
# Starts one server per binary (each on its own fresh database, via benches/lib.sh), then runs
# ROUNDS rounds; each round loads A and B for DURATION each, back to back, in alternating
# order. On this shared 2-core VM the speed of the whole machine drifts by ±30 % from one
# minute to the next, which swamps a difference of a few percent between separate runs;
# runs seconds apart drift much less, so the figure is the median over rounds of B's rate
# (and server CPU per request) relative to A's in the same round.
#
# Environment: ROUNDS (8), DURATION (3s), WARMUP (2s, once per server), CONNECTIONS (32),
# THREADS (2). Needs wrk, curl and python3.
set -euo pipefail

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "server-ab.sh: $tool is required" >&2; exit 1; }
done
for v in TOK_A TOK_B; do
    if [[ -z "${!v:-}" || ! -x "${!v}" ]]; then
        echo "server-ab.sh: set $v to a tok binary (got '${!v:-}')" >&2
        exit 1
    fi
done

ROUNDS=${ROUNDS:-8}
DURATION=${DURATION:-3s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/tok-bench-ab.XXXXXX")"
# shellcheck source=benches/lib.sh
source "$root/benches/lib.sh"
cleanup() {
    stop_servers
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export TOK_CREDENTIAL_STORE=file TOK_NO_INPUT=1 NO_COLOR=1
unset TOK_PROFILE TOK_SERVER TOK_TOKEN TOK_OUTPUT TOK_MASTER_KEY TOK_CA_CERT

read_path=/v1/orgs/bench/tenants/t1/tokens/tok1
declare -A URL SESSION PID

# setup NAME TOK: a server with a session, tenant t1 and token tok1.
setup() {
    local name=$1 tok=$2 body
    TOK_CONFIG_DIR="$work/$name/config" TOK_DATA_DIR="$work/$name/data" tok_server "$tok" "$work/$name"
    body=$(python3 -c 'import json, sys; print(json.dumps({"username": "bench", "password": sys.argv[1]}))' \
        "$SERVER_PASSWORD")
    URL[$name]=$SERVER_URL
    PID[$name]=$SERVER_PID
    SESSION[$name]=$(post "$SERVER_URL" /v1/auth "$body" | json 'd["auth_token"]')
    post "$SERVER_URL" /v1/orgs/bench/tenants '{"name":"t1"}' "${SESSION[$name]}" >/dev/null
    post "$SERVER_URL" /v1/orgs/bench/tenants/t1/tokens '{"name":"tok1","expires":"30d"}' \
        "${SESSION[$name]}" >/dev/null
    [[ "$(curl -sS -H "Authorization: Bearer ${SESSION[$name]}" "$SERVER_URL$read_path" | json 'd["name"]')" == tok1 ]] ||
        { echo "server-ab.sh: $name: GET $read_path did not return tok1" >&2; exit 1; }
    if [[ "$WARMUP" != 0 ]]; then
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer ${SESSION[$name]}" \
            "$SERVER_URL$read_path" >/dev/null
    fi
}

setup a "$TOK_A"
setup b "$TOK_B"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# load NAME: one measured run; prints "requests/s server-CPU-µs-per-request".
load() {
    local name=$1 before out
    before=$(ticks "${PID[$name]}")
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
        -H "Authorization: Bearer ${SESSION[$name]}" "${URL[$name]}$read_path")
    if grep -q 'Non-2xx or 3xx\|Socket errors' <<<"$out"; then
        echo "server-ab.sh: $name: wrk reported errors:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk -v ticks="$(( $(ticks "${PID[$name]}") - before ))" -v hz="$(getconf CLK_TCK)" '
        /requests in/ { total = $1 }
        /^Requests\/sec:/ { rps = $2 }
        END { printf "%.1f %.1f\n", rps, (total > 0 ? ticks / hz * 1e6 / total : 0) }' <<<"$out"
}

echo "A:      $TOK_A ($("$TOK_A" --version))"
echo "B:      $TOK_B ($("$TOK_B" --version))"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$THREADS -c$CONNECTIONS -d$DURATION per run, $ROUNDS rounds"
echo
echo "| Round | A requests/s | B requests/s | B/A rate | A CPU/request [µs] | B CPU/request [µs] | B/A CPU |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
ratios="$work/ratios"
: >"$ratios"
for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then
        ra=$(load a); rb=$(load b)
    else
        rb=$(load b); ra=$(load a)
    fi
    read -r a_rps a_cpu <<<"$ra"
    read -r b_rps b_cpu <<<"$rb"
    awk -v r="$round" -v ar="$a_rps" -v br="$b_rps" -v ac="$a_cpu" -v bc="$b_cpu" 'BEGIN {
        printf "| %d | %.0f | %.0f | %.3f | %.1f | %.1f | %.3f |\n", r, ar, br, br / ar, ac, bc, bc / ac }'
    awk -v ar="$a_rps" -v br="$b_rps" -v ac="$a_cpu" -v bc="$b_cpu" 'BEGIN { print br / ar, bc / ac }' >>"$ratios"
done
echo
python3 - "$ratios" <<'PY'
import statistics, sys
rows = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
rate = statistics.median(r for r, _ in rows)
cpu = statistics.median(c for _, c in rows)
print(f"median B/A: rate {rate:.3f} ({(rate - 1) * 100:+.1f} %), server CPU per request {cpu:.3f} ({(cpu - 1) * 100:+.1f} %)")
PY
