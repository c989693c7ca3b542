#!/usr/bin/env bash
# Times tok's offline commands against bare process start-up (/bin/true) with hyperfine.
#
#   bash benches/startup.sh
#
# Builds the release binary, makes an HS256 secret key and a token in a temporary
# directory (TOK_CONFIG_DIR and TOK_DATA_DIR point into it, so no real config is read),
# then runs hyperfine --warmup 20 -N on:
#   /bin/true
#   tok --version
#   tok jwt decode <token>
#   tok jwt create --subject bench --secret-key <file> --expires 1h   (HS256)
# and prints hyperfine's table, plus each command's cost over /bin/true when jq is present.
# Extra arguments are passed to hyperfine (e.g. --runs 500).
# See benches/README.md for the figures.
set -euo pipefail

if ! command -v hyperfine >/dev/null 2>&1; then
    echo "startup.sh: hyperfine is not installed; install it with: apt-get install hyperfine" >&2
    exit 1
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cargo build --release
tok="${CARGO_TARGET_DIR:-$root/target}/release/tok"
if [[ ! -x "$tok" ]]; then
    echo "startup.sh: $tok was not built" >&2
    exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TOK_CONFIG_DIR="$work/config"
export TOK_DATA_DIR="$work/data"
export NO_COLOR=1
mkdir -p "$TOK_CONFIG_DIR" "$TOK_DATA_DIR"

"$tok" jwt create-secret-key --alg HS256 --output "$work/secret.key" >/dev/null
token="$("$tok" jwt create --subject bench --secret-key "$work/secret.key" --expires 1h)"

echo
echo "tok:    $tok ($("$tok" --version))"
echo "rustc:  $(rustc --version)"
echo "cpu:    $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc)"
echo "load:   $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min); rustc processes running now: $(pgrep -c rustc || true)"
echo

hyperfine --warmup 20 -N \
    --export-markdown "$work/startup.md" \
    --export-json "$work/startup.json" \
    "$@" \
    -n '/bin/true' '/bin/true' \
    -n 'tok --version' "$tok --version" \
    -n 'tok jwt decode <token>' "$tok jwt decode $token" \
    -n 'tok jwt create (HS256)' "$tok jwt create --subject bench --secret-key $work/secret.key --expires 1h"

echo
cat "$work/startup.md"

if command -v jq >/dev/null 2>&1; then
    echo
    echo "Cost over /bin/true: difference of means (σ combined as sqrt(σ₁² + σ₂²)) and of"
    echo "medians, which a busy machine disturbs less:"
    echo
    jq -r '
        def ms: . * 1000 * 1000 | round / 1000;
        (.results[0]) as $base
        | "| Command | Mean ± σ [ms] | Median [ms] | Min [ms] | Mean − /bin/true [ms] | Median − /bin/true [ms] |",
          "|:---|---:|---:|---:|---:|---:|",
          (.results[]
           | "| `\(.command)` | \(.mean | ms) ± \(.stddev | ms) | \(.median | ms) | \(.min | ms) | "
             + (if .command == $base.command then "— | — |"
                else "\((.mean - $base.mean) | ms) ± \(((.stddev * .stddev + $base.stddev * $base.stddev) | sqrt) | ms) | \((.median - $base.median) | ms) |" end))
    ' "$work/startup.json"
fi
