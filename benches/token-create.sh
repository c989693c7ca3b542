#!/usr/bin/env bash
# Times `tok token create` in embedded mode end to end — process start, open the SQLite
# database, unseal the instance key, sign, commit with synchronous=FULL — with hyperfine,
# next to `tok --version` (process start alone) and `tok token list` (open + read only).
# Usage: bash benches/token-create.sh   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }
cargo build --release -q
tok="$PWD/target/release/tok"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TOK_CONFIG_DIR="$work/config" TOK_DATA_DIR="$work/data" TOK_CREDENTIAL_STORE="${TOK_CREDENTIAL_STORE:-file}"
"$tok" -q tenant create acme >/dev/null
"$tok" -q tenant create hs --instance "$("$tok" -q instance create hs --alg HS256 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])')" >/dev/null
hyperfine --warmup 5 --runs 40 -N --export-markdown "$work/result.md" \
  -n 'tok --version' "$tok --version" \
  -n 'token list (open, read)' "$tok token list --tenant acme -o json" \
  -n 'token create RS256' "$tok -q token create --tenant acme --expires 7d" \
  -n 'token create HS256' "$tok -q token create --tenant hs --expires 7d" >/dev/null
cat "$work/result.md"
echo
echo "store: TOK_CREDENTIAL_STORE=$TOK_CREDENTIAL_STORE; tokens created: $("$tok" token list -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
