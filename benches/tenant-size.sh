#!/usr/bin/env bash
# How `tok token create` (embedded, end to end) and `tok tenant get` scale with the number of
# tokens a tenant already holds, for one or two tok binaries side by side.
#
#   bash benches/tenant-size.sh                                   (builds the release binary)
#   TOK_A=/path/to/before/tok TOK_B=/path/to/after/tok bash benches/tenant-size.sh
#   SIZES="0 10000 50000" RUNS=30 bash benches/tenant-size.sh
#
# For each size and binary: a fresh embedded database (its own TOK_DATA_DIR), tenant `acme`
# (HS256, so that signing costs little and the store shows), SIZE live tokens written straight
# into the SQLite file (one transaction, python3's sqlite3), then hyperfine over
# `tok -q token create --tenant acme` and `tok tenant get acme`. The created tokens add RUNS
# plus the warm-up to the tenant: nothing next to the sizes measured.
#
# Environment: SIZES ("0 10000 50000"), RUNS (30), WARMUP (5), TOK_A, TOK_B (TOK_B alone is
# fine). Needs hyperfine and python3.
set -euo pipefail

for tool in hyperfine python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "tenant-size.sh: $tool is required" >&2; exit 1; }
done

SIZES=${SIZES:-0 10000 50000}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-5}

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${TOK_A:-}" && -z "${TOK_B:-}" ]]; then
    (cd "$root" && cargo build --release -q)
    TOK_B="${CARGO_TARGET_DIR:-$root/target}/release/tok"
fi
binaries=()
for v in TOK_A TOK_B; do
    [[ -z "${!v:-}" ]] && continue
    [[ -x "${!v}" ]] || { echo "tenant-size.sh: $v=${!v} is not an executable tok binary" >&2; exit 1; }
    binaries+=("$v")
done

work="$(mktemp -d "${TMPDIR:-/tmp}/tok-bench-tenant-size.XXXXXX")"
trap 'rm -rf "$work"' EXIT
unset TOK_PROFILE TOK_SERVER TOK_TOKEN TOK_OUTPUT TOK_MASTER_KEY TOK_DATABASE_URL
export TOK_CREDENTIAL_STORE=file TOK_NO_INPUT=1 NO_COLOR=1

# preload DB N: N live tokens in tenant acme, straight into the SQLite file.
preload() {
    python3 - "$1" "$2" <<'PY'
import os, sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
tenant, kid = con.execute(
    "SELECT t.id, k.kid FROM tenants t JOIN signing_keys k ON k.instance_id = t.instance_id "
    "WHERE t.name = 'acme' AND k.retired_at IS NULL").fetchone()
now = int(time.time())
with con:
    con.executemany(
        "INSERT INTO tokens (id, tenant_id, name, subject, description, kid, token_hash, "
        "created_at, expires_at, last_used_at, revoked_at) "
        "VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, NULL, NULL)",
        ((f"tok_pre{i:07d}", tenant, f"pre-{i}", f"pre-{i}", kid, os.urandom(32), now,
          now + 30 * 86400) for i in range(n)))
PY
}

echo "binaries: $(for v in "${binaries[@]}"; do printf '%s=%s (%s) ' "$v" "${!v}" "$("${!v}" --version)"; done)"
echo "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc) (nproc)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg); hyperfine --runs $RUNS --warmup $WARMUP"
echo
for size in $SIZES; do
    cmds=()
    for v in "${binaries[@]}"; do
        tok=${!v}
        dir="$work/$v-$size"
        mkdir -p "$dir/config" "$dir/data"
        env=(env TOK_CONFIG_DIR="$dir/config" TOK_DATA_DIR="$dir/data")
        "${env[@]}" "$tok" -q instance create hs --alg HS256 >/dev/null
        "${env[@]}" "$tok" -q tenant create acme --instance hs >/dev/null
        preload "$dir/data/tok.db" "$size"
        shown=$("${env[@]}" "$tok" tenant get acme -o json |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["token_count"])')
        [[ "$shown" == "$size" ]] ||
            { echo "tenant-size.sh: $v shows $shown tokens in acme, not $size" >&2; exit 1; }
        cmds+=(-n "$v token create, $size tokens" "${env[*]} $tok -q token create --tenant acme --expires 7d")
        cmds+=(-n "$v tenant get, $size tokens" "${env[*]} $tok -q tenant get acme -o json")
    done
    hyperfine -N --runs "$RUNS" --warmup "$WARMUP" --export-markdown "$work/$size.md" "${cmds[@]}" >/dev/null
    cat "$work/$size.md"
    echo
done
