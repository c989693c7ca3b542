#!/usr/bin/env bash
# Load benchmark of the two stores (issue 8): token creation and introspection through
# `tok server` on PostgreSQL and on SQLite, in the same run, on this machine.
#
#   bash benches/postgres.sh                             (builds the release binary)
#   TOK=/path/to/release/tok bash benches/postgres.sh    (uses that binary, builds nothing)
#   ROUNDS=3 DURATION=20s bash benches/postgres.sh
#
# Starts a throwaway PostgreSQL cluster (scripts/pg-cluster: fsync and full_page_writes OFF,
# which flatters PostgreSQL's write latency; SQLite runs with synchronous=FULL), then two
# servers side by side: one on a fresh SQLite file, one on the cluster. On each: a login,
# tenant `t1`, streaming token `stream1`. Then, alternating between the stores, each round:
#   (1) POST /v1/orgs/bench/tenants/t1/tokens  {"name": <unique>, "expires": "30d"}
#       wrk, CREATE_CONNECTIONS (8) connections; a Lua counter makes every name unique (a
#       duplicate would answer 409; non-2xx answers are counted and printed)
#   (2) POST /v1/introspect {"token": <stream1's JWT>}
#       wrk, CONNECTIONS (32) connections
# and prints requests/s, p50 and p99, the tok server's CPU per request (/proc utime+stime)
# and, for PostgreSQL, the cluster's CPU per request (postmaster and its backends).
#
# Environment: DURATION (10s), THREADS (2), CONNECTIONS (32), CREATE_CONNECTIONS (8),
# WARMUP (2s, 0 to skip), ROUNDS (2), TOK. Needs wrk, curl, python3 and PostgreSQL's server
# binaries (see scripts/pg-cluster). wrk, both servers and PostgreSQL share the CPUs.
set -euo pipefail

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "postgres.sh: $tool is required" >&2; exit 1; }
done

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
CREATE_CONNECTIONS=${CREATE_CONNECTIONS:-8}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-2}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -z "${TOK:-}" ]]; then
    cargo build --release -q
    TOK="${CARGO_TARGET_DIR:-$root/target}/release/tok"
fi
[[ -x "$TOK" ]] || { echo "postgres.sh: $TOK is not an executable tok binary" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/tok-bench-postgres.XXXXXX")"
# shellcheck source=benches/lib.sh
source "$root/benches/lib.sh"
pg_dir=""
cleanup() {
    stop_servers
    [[ -n "$pg_dir" ]] && scripts/pg-cluster stop "$pg_dir" || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export TOK_CONFIG_DIR="$work/config" TOK_DATA_DIR="$work/data" TOK_CREDENTIAL_STORE=file
unset TOK_PROFILE TOK_SERVER TOK_TOKEN TOK_OUTPUT TOK_MASTER_KEY TOK_CA_CERT TOK_DATABASE_URL
export TOK_NO_INPUT=1 NO_COLOR=1

eval "$(scripts/pg-cluster start)"
pg_dir=$TOK_PG_CLUSTER_DIR
pg_url=$TOK_TEST_DATABASE_URL

# tok_server_db TOK DIR DATABASE: lib.sh's tok_server with DATABASE (any URL) instead of
# DIR's SQLite file. Sets SERVER_URL, SERVER_PID and SERVER_PASSWORD.
tok_server_db() {
    local tok=$1 dir=$2 db=$3
    mkdir -p "$dir/server"
    SERVER_PASSWORD="bench-password-$RANDOM-$RANDOM"
    printf '%s\n' "$SERVER_PASSWORD" | "$tok" -q server init \
        --database "$db" --master-key-file "$dir/server/master.key" \
        --org bench --instance default --admin bench --password-stdin -o json >/dev/null
    "$tok" server start --listen 127.0.0.1:0 \
        --database "$db" --master-key-file "$dir/server/master.key" \
        >"$dir/server.out" 2>"$dir/server.log" </dev/null &
    SERVER_PID=$!
    BENCH_PIDS+=("$SERVER_PID")
    SERVER_URL=""
    for _ in $(seq 1 300); do
        if [[ -s "$dir/server.out" ]]; then
            SERVER_URL=$(head -n 1 "$dir/server.out")
            [[ -n "$SERVER_URL" ]] && break
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "postgres.sh: tok server start exited early:" >&2
            cat "$dir/server.log" >&2
            exit 1
        fi
        sleep 0.05
    done
    [[ "$SERVER_URL" == http://127.0.0.1:* ]] ||
        { echo "postgres.sh: tok server start printed no URL (got '$SERVER_URL')" >&2; exit 1; }
}

# setup STORE DATABASE: a server on DATABASE, a session, tenant t1, token stream1, and the
# wrk scripts for STORE. Sets url_STORE and pid_STORE.
setup() {
    local store=$1 db=$2 dir="$work/$1" url session auth_body created jwt answer
    tok_server_db "$TOK" "$dir" "$db"
    url=$SERVER_URL
    printf -v "url_$store" '%s' "$url"
    printf -v "pid_$store" '%s' "$SERVER_PID"
    auth_body=$(python3 -c 'import json, sys; print(json.dumps({"username": "bench", "password": sys.argv[1]}))' "$SERVER_PASSWORD")
    session=$(post "$url" /v1/auth "$auth_body" | json 'd["auth_token"]')
    post "$url" /v1/orgs/bench/tenants '{"name":"t1"}' "$session" >/dev/null
    created=$(post "$url" /v1/orgs/bench/tenants/t1/tokens '{"name":"stream1","expires":"30d"}' "$session")
    jwt=$(json 'd.get("jwt") or d.get("token")' <<<"$created")
    answer=$(post "$url" /v1/introspect "{\"token\":\"$jwt\"}" "$session")
    [[ "$(json 'd["active"]' <<<"$answer")" == True ]] ||
        { echo "postgres.sh: stream1 does not introspect active on $store: $answer" >&2; exit 1; }
    python3 - "$jwt" "$session" >"$work/$store-introspect.lua" <<'PY'
import json, sys
body = json.dumps({"token": sys.argv[1]}).replace("\\", "\\\\").replace('"', '\\"')
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/json"')
print(f'wrk.headers["Authorization"] = "Bearer {sys.argv[2]}"')
print(f'wrk.body = "{body}"')
PY
    # Unique names: "<run tag passed as wrk's script argument>-<thread>-<counter>".
    cat >"$work/$store-create.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $session"
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
function init(args)
    prefix = (args[1] or "run") .. "-" .. tid .. "-"
    counter = 0
end
function request()
    counter = counter + 1
    return wrk.format(nil, nil, nil, '{"name":"' .. prefix .. counter .. '","expires":"30d"}')
end
LUA
}
setup sqlite "sqlite://$work/sqlite/server/tok.db"
setup postgres "$pg_url"

postmaster=$(head -n 1 "$(find "$pg_dir" -name postmaster.pid | head -n 1)")
# ticks PID: CPU time (user + system) in clock ticks so far of PID.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# pg_ticks: the cluster's CPU so far: the postmaster and its live children (backends of the
# servers' pooled connections, background workers), plus reaped children (cutime, cstime).
pg_ticks() {
    local t=0 p
    for p in "$postmaster" $(pgrep -P "$postmaster"); do
        t=$(( t + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0) ))
    done
    echo "$t"
}

# bench NAME STORE CONNECTIONS ARGS…: a warm-up, then the measured run; keeps wrk's output,
# the tok server's and the cluster's CPU time during the measured run.
bench() {
    local name=$1 store=$2 conns=$3 pid before pg_before
    shift 3
    pid_var="pid_$store"
    pid=${!pid_var}
    if [[ "$WARMUP" != 0 ]]; then
        wrk -t"$THREADS" -c"$conns" -d"$WARMUP" "$@" warm-"$name" >/dev/null
    fi
    before=$(ticks "$pid")
    pg_before=$(pg_ticks)
    wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency "$@" "$name" >"$work/$name.txt"
    echo "$(( $(ticks "$pid") - before )) $(( $(pg_ticks) - pg_before ))" >"$work/$name.ticks"
}

echo "tok:      $TOK ($("$TOK" --version)), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc) (nproc)"
echo "postgres: $("$(scripts/pg-cluster bindir)/postgres" --version) (fsync=off, full_page_writes=off)"
echo "sqlite:   $work/sqlite/server/tok.db (synchronous=FULL)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$THREADS -d$DURATION, warm-up $WARMUP, $ROUNDS rounds"

for round in $(seq 1 "$ROUNDS"); do
    for store in sqlite postgres; do
        url_var="url_$store"
        bench "create-$store-$round" "$store" "$CREATE_CONNECTIONS" \
            -s "$work/$store-create.lua" "${!url_var}/v1/orgs/bench/tenants/t1/tokens" --
    done
    for store in sqlite postgres; do
        url_var="url_$store"
        bench "introspect-$store-$round" "$store" "$CONNECTIONS" \
            -s "$work/$store-introspect.lua" "${!url_var}/v1/introspect" --
    done
done

# summary NAME LABEL CONNECTIONS: one table row from wrk's output.
summary() {
    read -r server_ticks pg_cpu <"$work/$1.ticks"
    awk -v label="$2" -v conns="$3" -v ticks="$server_ticks" -v pg="$pg_cpu" -v is_pg="$4" \
        -v hz="$(getconf CLK_TCK)" '
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
            printf "| %s | %d | %.1f | %.3f | %.3f | %d | %.0f | %s | %s | %s |\n", label, conns, rps,
                p50, p99, total, (total > 0 ? ticks / hz * 1e6 / total : 0),
                (is_pg ? sprintf("%.0f", total > 0 ? pg / hz * 1e6 / total : 0) : "–"),
                (non2xx == "" ? 0 : non2xx), (errors == "" ? "none" : errors)
        }' "$work/$1.txt"
}

echo
echo "| Run | Connections | Requests/s | p50 [ms] | p99 [ms] | Requests | tok server CPU/request [µs] | PostgreSQL CPU/request [µs] | Non-2xx | Socket errors |"
echo "|:---|---:|---:|---:|---:|---:|---:|---:|---:|:---|"
for round in $(seq 1 "$ROUNDS"); do
    summary "create-sqlite-$round" "create, SQLite (round $round)" "$CREATE_CONNECTIONS" 0
    summary "create-postgres-$round" "create, PostgreSQL (round $round)" "$CREATE_CONNECTIONS" 1
done
for round in $(seq 1 "$ROUNDS"); do
    summary "introspect-sqlite-$round" "introspect, SQLite (round $round)" "$CONNECTIONS" 0
    summary "introspect-postgres-$round" "introspect, PostgreSQL (round $round)" "$CONNECTIONS" 1
done

for f in "$work"/*.txt; do
    if grep -q 'Non-2xx or 3xx\|Socket errors' "$f"; then
        echo
        echo "wrk reported errors for $(basename "$f" .txt):"
        cat "$f"
    fi
done
echo
for store in sqlite postgres; do
    echo "$store server log: $(wc -l <"$work/$store/server.log") lines; 4xx/5xx logged: $(grep -c 'status=[45]' "$work/$store/server.log" || true)"
done
