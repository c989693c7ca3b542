# Shared by the server benchmarks (sourced, not run): start a `tok server` on a fresh
# database and wait for its URL. Needs python3.

# Every server started, for the caller's cleanup trap.
BENCH_PIDS=()

# json EXPR: evaluates the Python expression EXPR with `d` bound to the JSON on stdin.
json() {
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

# stop_servers: SIGTERM to every server started, and wait for them.
stop_servers() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
}

# tok_server TOK DIR: `tok server init` (org `bench`, instance `default`, admin `bench`, a
# random password on stdin) with its database and master key under DIR/server, then
# `tok server start --listen 127.0.0.1:0` in the background (stdout to DIR/server.out, the
# request log to DIR/server.log). Sets SERVER_URL, SERVER_PID and SERVER_PASSWORD; exits 1
# when the server does not come up.
tok_server() {
    local tok=$1 dir=$2
    mkdir -p "$dir/server"
    SERVER_PASSWORD="bench-password-$RANDOM-$RANDOM"
    printf '%s\n' "$SERVER_PASSWORD" | "$tok" -q server init \
        --database "sqlite://$dir/server/tok.db" --master-key-file "$dir/server/master.key" \
        --org bench --instance default --admin bench --password-stdin -o json >/dev/null
    "$tok" server start --listen 127.0.0.1:0 \
        --database "sqlite://$dir/server/tok.db" --master-key-file "$dir/server/master.key" \
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
            echo "$(basename "$0"): tok server start exited early:" >&2
            cat "$dir/server.log" >&2
            exit 1
        fi
        sleep 0.05
    done
    if [[ "$SERVER_URL" != http://127.0.0.1:* ]]; then
        echo "$(basename "$0"): tok server start printed no URL (got '$SERVER_URL')" >&2
        exit 1
    fi
}

# post URL PATH BODY [TOKEN]: POSTs JSON, fails on a non-2xx answer, prints the body.
post() {
    local args=(-sS --fail-with-body -X POST -H 'Content-Type: application/json' --data "$3")
    [[ -n "${4:-}" ]] && args+=(-H "Authorization: Bearer $4")
    curl "${args[@]}" "$1$2"
}
