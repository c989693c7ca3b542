#!/usr/bin/env bash
# Usage ingestion and billing (issue 7): `tok usage import` of 1,000,000 usage records,
# embedded and through a `tok server`, in records per second; and a month's bill over 1,000
# tenants (`tok usage billing --month 2026-10`), embedded and through the server, with
# hyperfine.
#
#   bash benches/usage.sh                      (builds the release binary)
#   bash benches/usage.sh path/to/tok          (uses that binary, builds nothing; or TOK=…)
#   RECORDS=100000 RUNS=1 bash benches/usage.sh
#
# In a temporary directory (TOK_CONFIG_DIR and TOK_DATA_DIR there, TOK_CREDENTIAL_STORE=file):
#   1. records.json: RECORDS records (python3, fixed seed) for TENANTS tenants t0001…,
#      NAMESPACES namespaces each (ns0…), the five data-plane metrics, `at` spread evenly
#      (in file order) over the whole of MONTH (2026-10: 31 days, in the past);
#   2. a data dir holding the TENANTS tenants (`tok tenant create`, one process each; setup,
#      not timed), copied afresh for every embedded run;
#   3. `tok usage import records.json` embedded, RUNS times, each on a fresh copy of (2):
#      wall clock, user and system CPU, max RSS; plus the same command with --atomic, which
#      refuses a file of more than 10,000 records right after reading and parsing it, so it
#      times the read + parse alone;
#   4. `tok usage import records.json` through a server (benches/lib.sh), RUNS times, each on
#      a fresh server and database with the tenants created over the API (POST …/tenants, one
#      keep-alive connection, not timed): client wall clock and CPU, the server's CPU time
#      (/proc), its max RSS, and what its request log says the 100 batches took;
#   5. the rate card (`usage rates set …`), then `tok usage billing --month MONTH -o json`
#      and `-o csv`, embedded (on the last database of 3) and through the server (the last
#      one of 4), with `hyperfine -N --warmup BILL_WARMUP --runs BILL_RUNS`. The embedded and
#      the server bill must be the same, and their counter quantities must add up to the sums
#      the generator wrote.
# Prints a summary table at the end.
#
# Environment: RECORDS (1000000), TENANTS (1000), NAMESPACES (3), RUNS (3), BILL_RUNS (20),
# BILL_WARMUP (2), MONTH (2026-10), TOK. Needs python3, curl, hyperfine (apt-get install -y
# hyperfine) and GNU time (/usr/bin/time). Takes 1-1.5 minutes on this 2-core VM (8 s of it
# creating the tenants) and ~1.3 GB of memory (the importing process holds the parsed file),
# ~250 MB of disk under TMPDIR. See benches/README.md.
set -euo pipefail

RECORDS=${RECORDS:-1000000}
TENANTS=${TENANTS:-1000}
NAMESPACES=${NAMESPACES:-3}
RUNS=${RUNS:-3}
BILL_RUNS=${BILL_RUNS:-20}
BILL_WARMUP=${BILL_WARMUP:-2}
MONTH=${MONTH:-2026-10}

for tool in python3 curl hyperfine; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "usage.sh: $tool is required (apt-get install -y $tool)" >&2; exit 1; }
done
[[ -x /usr/bin/time ]] || { echo "usage.sh: GNU time is required (apt-get install -y time)" >&2; exit 1; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
TOK=${1:-${TOK:-}}
if [[ -z "$TOK" ]]; then
    cargo build --release -q
    TOK="${CARGO_TARGET_DIR:-$root/target}/release/tok"
fi
if [[ ! -x "$TOK" ]]; then
    echo "usage.sh: $TOK is not an executable tok binary" >&2
    exit 1
fi
TOK="$(cd "$(dirname "$TOK")" && pwd)/$(basename "$TOK")"

work="$(mktemp -d "${TMPDIR:-/tmp}/tok-bench-usage.XXXXXX")"
# shellcheck source=benches/lib.sh
source "$root/benches/lib.sh"
cleanup() {
    stop_servers
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

unset TOK_PROFILE TOK_SERVER TOK_TOKEN TOK_OUTPUT TOK_MASTER_KEY TOK_CA_CERT
export TOK_CREDENTIAL_STORE=file TOK_NO_INPUT=1 NO_COLOR=1
export XDG_CONFIG_HOME="$work/xdg-config" XDG_DATA_HOME="$work/xdg-data"

# use DIR: the embedded control plane's config and data under DIR.
use() { export TOK_CONFIG_DIR="$1/config" TOK_DATA_DIR="$1/data"; }

ms() { echo $(( $(date +%s%N) / 1000000 )); }
hz=$(getconf CLK_TCK)

echo "tok:      $TOK ($("$TOK" --version))"
echo "cpu:      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') × $(nproc) (nproc)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min); rustc processes running now: $(pgrep -c rustc || true)"
echo "workload: $RECORDS records, $TENANTS tenants × $NAMESPACES namespaces, 5 metrics, month $MONTH; $RUNS runs each"

# 1. The records, and the sum of each counter metric (to check the bills against).
t0=$(ms)
python3 - "$RECORDS" "$TENANTS" "$NAMESPACES" "$MONTH" "$work/records.json" "$work/sums.json" <<'PY'
import calendar, json, random, sys, time
n, tenants, namespaces = (int(a) for a in sys.argv[1:4])
year, month = (int(p) for p in sys.argv[4].split("-"))
out, sums_out = sys.argv[5], sys.argv[6]
rng = random.Random(7)
start = calendar.timegm((year, month, 1, 0, 0, 0))
span = calendar.monthrange(year, month)[1] * 86400
metrics = ["messages_in", "messages_out", "bytes_in", "bytes_out", "storage_bytes"]
high = {"messages_in": 100_000, "messages_out": 200_000, "bytes_in": 1_000_000_000,
        "bytes_out": 2_000_000_000, "storage_bytes": 500_000_000_000}
sums = dict.fromkeys(metrics, 0)
with open(out, "w") as f:
    f.write("[\n")
    stamp, last = "", -1
    for i in range(n):
        at = start + i * span // n
        if at != last:
            stamp, last = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)), at
        t = rng.randrange(tenants) + 1
        ns = rng.randrange(namespaces)
        m = metrics[rng.randrange(5)]
        v = rng.randrange(high[m])
        sums[m] += v
        f.write(f'{{"tenant":"t{t:04d}","namespace":"ns{ns}","metric":"{m}","value":{v},"at":"{stamp}"}}')
        f.write(",\n" if i < n - 1 else "\n")
    f.write("]\n")
del sums["storage_bytes"]  # a gauge: its bill is byte-days, not a sum of records
with open(sums_out, "w") as f:
    json.dump(sums, f)
PY
gen_ms=$(( $(ms) - t0 ))
size=$(stat -c %s "$work/records.json")
echo "records:  $work/records.json, $size bytes ($(( size / RECORDS )) bytes/record), generated in $gen_ms ms"

# 2. The tenants, once; each embedded run starts from a copy.
use "$work/template"
t0=$(ms)
for i in $(seq 1 "$TENANTS"); do
    "$TOK" -q tenant create "$(printf 't%04d' "$i")" >/dev/null
done
echo "setup:    $TENANTS tenants created embedded in $(( $(ms) - t0 )) ms (one process each)"

# timed OUT CMD…: runs CMD with stdout to OUT, stderr to OUT.err; sets WALL_MS, USER_S, SYS_S,
# RSS_KB and STATUS (its exit status).
timed() {
    local out=$1 t0
    shift
    t0=$(ms)
    STATUS=0
    /usr/bin/time -f '%U %S %M' -o "$work/time.txt" "$@" >"$out" 2>"$out.err" || STATUS=$?
    WALL_MS=$(( $(ms) - t0 ))
    read -r USER_S SYS_S RSS_KB < <(tail -n 1 "$work/time.txt")
}

# check_import OUT: the import's JSON summary must say every record was accepted.
check_import() {
    local accepted
    accepted=$(json 'd["accepted"]' <"$1") || { cat "$1" "$1.err" >&2; exit 1; }
    if [[ "$accepted" != "$RECORDS" ]]; then
        echo "usage.sh: the import accepted $accepted of $RECORDS records:" >&2
        head -c 2000 "$1" "$1.err" >&2
        exit 1
    fi
}

rate() { awk -v n="$RECORDS" -v ms="$1" 'BEGIN { printf "%.0f", n / (ms / 1000) }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

rows=()
emb_ms=()
# 3. Embedded.
timed "$work/parse.out" "$TOK" -q usage import --atomic "$work/records.json" -o json
if [[ "$STATUS" != 2 ]] || ! grep -q 'atomic' "$work/parse.out.err"; then
    echo "usage.sh: the --atomic import was expected to refuse the file (exit 2), got $STATUS:" >&2
    cat "$work/parse.out.err" >&2
    exit 1
fi
parse_row="| read + parse only (\`--atomic\` refusal) | — | $WALL_MS | $USER_S | $SYS_S | $(( RSS_KB / 1024 )) | — | — |"
echo "parse:    read + parse of the file alone: $WALL_MS ms (user $USER_S s, system $SYS_S s, max RSS $(( RSS_KB / 1024 )) MB)"
for run in $(seq 1 "$RUNS"); do
    rm -rf "$work/embedded"
    cp -a "$work/template" "$work/embedded"
    use "$work/embedded"
    timed "$work/import.out" "$TOK" -q usage import "$work/records.json" -o json
    [[ "$STATUS" == 0 ]] || { cat "$work/import.out.err" >&2; exit 1; }
    check_import "$work/import.out"
    emb_ms+=("$WALL_MS")
    db=$(du -sk "$work/embedded/data" | cut -f1)
    rows+=("| embedded, run $run | $(rate "$WALL_MS") | $WALL_MS | $USER_S | $SYS_S | $(( RSS_KB / 1024 )) | — | — |")
    echo "embedded: run $run: $WALL_MS ms, $(rate "$WALL_MS") records/s (user $USER_S s, system $SYS_S s, max RSS $(( RSS_KB / 1024 )) MB; data dir now $(( db / 1024 )) MB)"
done
emb_median=$(median "${emb_ms[@]}")

# 4. Through a server.
# tenants URL SESSION: creates t0001… over one keep-alive connection.
tenants() {
    python3 - "$1" "$2" "$TENANTS" <<'PY'
import http.client, json, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port)
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + sys.argv[2]}
for i in range(1, int(sys.argv[3]) + 1):
    conn.request("POST", "/v1/orgs/bench/tenants", json.dumps({"name": f"t{i:04d}"}), headers)
    answer = conn.getresponse()
    body = answer.read()
    if answer.status // 100 != 2:
        sys.exit(f"usage.sh: creating tenant t{i:04d}: {answer.status} {body[:300]!r}")
PY
}
ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
srv_ms=()
for run in $(seq 1 "$RUNS"); do
    if [[ -n "${SERVER_PID:-}" ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$work/srv"
    mkdir -p "$work/srv"
    use "$work/srv"
    tok_server "$TOK" "$work/srv"
    auth_body=$(python3 -c 'import json, sys; print(json.dumps({"username": "bench", "password": sys.argv[1]}))' "$SERVER_PASSWORD")
    session=$(post "$SERVER_URL" /v1/auth "$auth_body" | json 'd["auth_token"]')
    t0=$(ms)
    tenants "$SERVER_URL" "$session"
    [[ "$run" == 1 ]] && echo "setup:    $TENANTS tenants created through the server in $(( $(ms) - t0 )) ms (POST …/tenants)"
    log_before=$(wc -l <"$work/srv/server.log")
    before=$(ticks)
    timed "$work/import.out" env TOK_SERVER="$SERVER_URL" TOK_TOKEN="$session" \
        "$TOK" -q usage import "$work/records.json" -o json
    [[ "$STATUS" == 0 ]] || { cat "$work/import.out.err" >&2; exit 1; }
    server_cpu=$(awk -v t="$(( $(ticks) - before ))" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
    server_rss=$(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$SERVER_PID/status")
    check_import "$work/import.out"
    # What the server's request log says the batches took (latency_us, handler to response).
    batches=$(tail -n +"$(( log_before + 1 ))" "$work/srv/server.log" |
        grep 'route=/v1/orgs/{org}/usage/records' | sed -n 's/.*status=\([0-9]*\) latency_us=\([0-9]*\).*/\1 \2/p' |
        sort -k2 -n | awk '{ s += $2; v[NR] = $2; if ($1 != 200) bad++ }
            END { printf "%d batches (%d not 200), %.2f s in all, median %.1f ms, max %.1f ms",
                  NR, bad, s / 1e6, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }')
    srv_ms+=("$WALL_MS")
    rows+=("| server, run $run | $(rate "$WALL_MS") | $WALL_MS | $USER_S | $SYS_S | $(( RSS_KB / 1024 )) | $server_cpu | $server_rss |")
    echo "server:   run $run: $WALL_MS ms, $(rate "$WALL_MS") records/s (client user $USER_S s, system $SYS_S s, max RSS $(( RSS_KB / 1024 )) MB; server CPU $server_cpu s, max RSS $server_rss MB)"
    echo "          request log: $batches"
done
srv_median=$(median "${srv_ms[@]}")

# 5. Billing.
rates=(bytes_in 0.09 bytes_out 0.09 messages_in 0.5 messages_out 0.5 storage_bytes 0.023 active_token_days 0.01)
use "$work/embedded"
"$TOK" -q usage rates set "${rates[@]}" >/dev/null
TOK_SERVER="$SERVER_URL" TOK_TOKEN="$session" "$TOK" -q usage rates set "${rates[@]}" >/dev/null
"$TOK" usage billing --month "$MONTH" -o json >"$work/bill-embedded.json"
TOK_SERVER="$SERVER_URL" TOK_TOKEN="$session" "$TOK" usage billing --month "$MONTH" -o json >"$work/bill-server.json"
"$TOK" usage billing --month "$MONTH" -o csv >"$work/bill-embedded.csv"
bill_check=$(python3 - "$work/bill-embedded.json" "$work/bill-server.json" "$work/sums.json" "$TENANTS" <<'PY'
import json, sys
from decimal import Decimal
emb, srv, sums = (json.load(open(p)) for p in sys.argv[1:4])
if emb != srv:
    sys.exit("the embedded and the server bill differ")
if len(emb["tenants"]) != int(sys.argv[4]):
    sys.exit(f"the bill has {len(emb['tenants'])} tenants, expected {sys.argv[4]}")
scale = {"messages_in": 10**6, "messages_out": 10**6, "bytes_in": 10**9, "bytes_out": 10**9}
for metric, total in sums.items():
    got = sum(Decimal(l["quantity"]) for t in emb["tenants"] for l in t["lines"] if l["metric"] == metric)
    if got * scale[metric] != total:
        sys.exit(f"{metric}: the bill has {got * scale[metric]}, the records add up to {total}")
lines = sum(len(t["lines"]) for t in emb["tenants"])
print(f"{len(emb['tenants'])} tenants, {lines} lines, total {emb['total']} {emb['currency']}; "
      f"the counters add up to the records' sums; embedded and server bills identical")
PY
) || { echo "usage.sh: $bill_check" >&2; exit 1; }
echo "bill:     $bill_check; JSON $(stat -c %s "$work/bill-embedded.json") bytes, CSV $(stat -c %s "$work/bill-embedded.csv") bytes"

# TOK_TOKEN for the server's commands (`--server`); the embedded ones do not read it.
TOK_TOKEN="$session" hyperfine -N --warmup "$BILL_WARMUP" --runs "$BILL_RUNS" --export-json "$work/billing.json" --style basic \
    -n 'embedded -o json' "$TOK usage billing --month $MONTH -o json" \
    -n 'embedded -o csv' "$TOK usage billing --month $MONTH -o csv" \
    -n 'server -o json' "$TOK --server $SERVER_URL usage billing --month $MONTH -o json" \
    -n 'server -o csv' "$TOK --server $SERVER_URL usage billing --month $MONTH -o csv" >"$work/hyperfine.txt"

echo
echo "Ingest: $RECORDS records ($size bytes of JSON), $TENANTS tenants × $NAMESPACES namespaces, batches of 10,000"
echo
echo "| Run | Records/s | Wall [ms] | User [s] | System [s] | Max RSS [MB] | Server CPU [s] | Server max RSS [MB] |"
echo "|:---|---:|---:|---:|---:|---:|---:|---:|"
echo "$parse_row"
printf '%s\n' "${rows[@]}"
echo "| **embedded, median** | **$(rate "$emb_median")** | $emb_median | | | | | |"
echo "| **server, median** | **$(rate "$srv_median")** | $srv_median | | | | | |"
echo
echo "Billing: \`tok usage billing --month $MONTH\` over $TENANTS tenants (hyperfine -N, --warmup $BILL_WARMUP, --runs $BILL_RUNS)"
echo
python3 - "$work/billing.json" <<'PY'
import json, sys
print("| Command | Mean ± σ [ms] | Median [ms] | Min [ms] | User [ms] | System [ms] |")
print("|:---|---:|---:|---:|---:|---:|")
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"| {r['command']} | {r['mean'] * 1e3:.1f} ± {r['stddev'] * 1e3:.1f} | {r['median'] * 1e3:.1f} | "
          f"{r['min'] * 1e3:.1f} | {r['user'] * 1e3:.1f} | {r['system'] * 1e3:.1f} |")
PY
echo
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
