#!/usr/bin/env bash
# End-to-end check of a `tok server` as an operator would run it: initialise a database,
# start the server, log in, create a tenant and a token, revoke it, create a role and an
# application token with it and use that token, log out.
#
# Usage: scripts/e2e-server.sh            (uses `tok` on PATH)
#        TOK=target/debug/tok scripts/e2e-server.sh
#
# Everything happens in a temporary directory (TOK_CONFIG_DIR, TOK_DATA_DIR and the
# credentials file included), so your own tok config and keyring are never touched.
# Needs bash and python3 (for JSON; jq is not required). Prints "e2e: ok" on success.
set -euo pipefail

TOK=${TOK:-tok}
if ! command -v "$TOK" >/dev/null 2>&1; then
    echo "e2e: cannot run '$TOK'; set TOK to the tok binary" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tok-e2e.XXXXXX")
server_pid=""

cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -f "$work/server.log" ]]; then
        echo "e2e: failed (exit $status); server log:" >&2
        sed 's/^/  | /' "$work/server.log" >&2 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export TOK_CONFIG_DIR="$work/config"
export TOK_DATA_DIR="$work/data"
export TOK_CREDENTIAL_STORE=file
# Nothing from the caller's shell may pick another profile, server or identity.
unset TOK_PROFILE TOK_SERVER TOK_TOKEN TOK_OUTPUT TOK_MASTER_KEY TOK_CA_CERT
export TOK_NO_INPUT=1

database="sqlite://$work/server/tok.db"
master_key="$work/server/master.key"
password="e2e-password-$RANDOM-$RANDOM-$RANDOM"

fail() {
    echo "e2e: $*" >&2
    exit 1
}

step() {
    echo "e2e: $*"
}

# json EXPR [ARG…]: evaluates the Python expression EXPR with `d` bound to the JSON on
# stdin and `a` to the ARGs; prints a string as is, anything else as JSON.
json() {
    python3 -c 'import json, sys; d = json.load(sys.stdin); a = sys.argv[2:]; v = eval(sys.argv[1]); print(v if isinstance(v, str) else json.dumps(v))' "$@"
}

step "server init"
printf '%s\n' "$password" | "$TOK" server init \
    --database "$database" --master-key-file "$master_key" \
    --org acme-e2e --admin alice --password-stdin -o json >"$work/init.json"
[[ -f "$master_key" ]] || fail "server init did not create $master_key"
[[ "$(json 'd["admin"]' <"$work/init.json")" == alice ]] || fail "server init: unexpected output"

step "server start"
"$TOK" server start --listen 127.0.0.1:0 \
    --database "$database" --master-key-file "$master_key" \
    >"$work/server.out" 2>"$work/server.log" </dev/null &
server_pid=$!

# The first line of the server's stdout is its URL.
url=""
for _ in $(seq 1 300); do
    if [[ -s "$work/server.out" ]]; then
        url=$(head -n 1 "$work/server.out")
        [[ -n "$url" ]] && break
    fi
    kill -0 "$server_pid" 2>/dev/null || fail "tok server start exited early"
    sleep 0.05
done
[[ "$url" == http://127.0.0.1:* ]] || fail "tok server start printed no URL (got '$url')"
step "server listening on $url"

step "login"
printf '%s\n' "$password" | "$TOK" login --server "$url" --username alice --password-stdin -o json >"$work/login.json"
[[ "$(json 'd["principal"]' <"$work/login.json")" == alice ]] || fail "login: unexpected principal"
[[ "$(json 'd["org"]' <"$work/login.json")" == acme-e2e ]] || fail "login: unexpected org"

step "tenant create"
"$TOK" tenant create acme -o json >"$work/tenant.json"
[[ "$(json 'd["name"]' <"$work/tenant.json")" == acme ]] || fail "tenant create: unexpected name"

step "token create"
"$TOK" token create --tenant acme --expires 1d -o json >"$work/token.json"
token_id=$(json 'd["id"]' <"$work/token.json")
token_name=$(json 'd["name"]' <"$work/token.json")
jwt=$(json 'd["token"]' <"$work/token.json")
[[ -n "$token_id" && -n "$token_name" ]] || fail "token create: no id or name"
IFS=. read -r -a parts <<<"$jwt"
[[ ${#parts[@]} -eq 3 ]] || fail "token create: the JWT does not have three parts"
for part in "${parts[@]}"; do
    [[ -n "$part" ]] || fail "token create: the JWT has an empty part"
done

step "token delete $token_name"
"$TOK" token delete "$token_name" --tenant acme --yes

step "token list --all"
"$TOK" token list --tenant acme --all -o json >"$work/tokens.json"
revoked=$(json 'next((t["revoked_at"] or "" for t in d if t["id"] == a[0]), "")' "$token_id" \
    <"$work/tokens.json")
[[ -n "$revoked" ]] || fail "token $token_id is not listed as revoked"

step "role create topic-reader, an application token with it"
"$TOK" role create topic-reader --action consume --action tenant-read \
    --resource drn:tok:acme-e2e:tenant:acme -o json >/dev/null
"$TOK" token create --role topic-reader --name reader -o json >"$work/app.json"
app_token=$(json 'd["token"]' <"$work/app.json")
[[ "$app_token" == toka_* ]] || fail "token create --role: no application token"

step "the application token reads what its role allows, and nothing else"
TOK_TOKEN="$app_token" "$TOK" tenant get acme -o json >/dev/null \
    || fail "tenant get acme with the application token failed"
set +e
TOK_TOKEN="$app_token" "$TOK" tenant create other -o json >/dev/null 2>"$work/denied.err"
status=$?
set -e
[[ $status -eq 4 ]] || fail "tenant create with a read-only token exited $status, expected 4"

step "logout"
"$TOK" logout

step "tenant list after logout"
set +e
"$TOK" tenant list -o json >/dev/null 2>"$work/after-logout.err"
status=$?
set -e
[[ $status -eq 4 ]] || fail "tenant list after logout exited $status, expected 4: $(cat "$work/after-logout.err")"

echo "e2e: ok"
