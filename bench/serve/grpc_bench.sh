#!/usr/bin/env bash
# Load test of nn serve's two forms of the Open Inference Protocol side by
# side: REST (POST /v2/models/iris/infer, JSON) and gRPC (ModelInfer), against
# one server that listens for both, driven by the closed-loop load generator
# in bench/serve/load on the same machine, in one sitting.
#
# Usage (from anywhere):
#   bench/serve/grpc_bench.sh     # 1-row and 100-row requests at concurrency
#                                 # 1, 16 and 64; REST then gRPC at each setting
# Environment:
#   SECS=10            seconds per run (each run also warms up for 1 s first)
#   CONNS="1 16 64"    concurrency settings (requests in flight at once)
#   ROWS="1 100"       rows per request
#   GRPC_FLAGS=...     more flags for the gRPC runs, such as "-raw" (inputs in
#                      raw_input_contents) or "-conns 4" (several connections)
# Needs: go and curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${SECS:-10}
conns=${CONNS:-"1 16 64"}
rows_list=${ROWS:-"1 100"}
grpc_flags=${GRPC_FLAGS:-}

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) CPUs, $(go version | cut -d' ' -f3)"
(cd "$root" && go build -o "$tmp/nn" ./cmd/nn && go build -o "$tmp/load" ./bench/serve/load)
# The model of serve_bench.sh: one hidden layer of 16 ReLU units on
# standardised inputs.
"$tmp/nn" train -data "$root/testdata/iris.csv" -target species -hidden 16 -activation relu -scale standard -o "$tmp/iris.json" -quiet

# One server for both protocols; it prints the address of each listener to
# standard error.
"$tmp/nn" serve -model iris="$tmp/iris.json" -addr 127.0.0.1:0 -grpc-addr 127.0.0.1:0 -log-level warn 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 200); do
  if grep -q 'listening on http://' "$tmp/serve.log" && grep -q 'gRPC listening on ' "$tmp/serve.log"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "nn serve exited:" >&2; cat "$tmp/serve.log" >&2; exit 1; fi
  sleep 0.05
done
http_addr=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$tmp/serve.log" | head -1 | sed 's|.*http://||')
grpc_addr=$(grep -o 'gRPC listening on [0-9.]*:[0-9]*' "$tmp/serve.log" | head -1 | awk '{print $NF}')
if [ -z "$http_addr" ] || [ -z "$grpc_addr" ]; then
  echo "nn serve did not print both addresses:" >&2; cat "$tmp/serve.log" >&2; exit 1
fi
for _ in $(seq 100); do curl -sf "http://$http_addr/v2/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://$http_addr/v2/health/ready" >/dev/null

# load PROTOCOL ROWS C [FLAGS]: one run of the load generator; prints its
# tab-separated line (protocol, rows, concurrency, requests/s, rows/s, p50,
# p99, errors).
# A ninth field is the server's CPU time (user and system, from
# /proc/PID/stat) per request answered, in microseconds: the client shares
# the machine, and this is the server's part.
tck=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
load() {
  local protocol=$1 rows=$2 c=$3 addr=$http_addr before after line
  shift 3
  [ "$protocol" = grpc ] && addr=$grpc_addr
  before=$(cpu)
  line=$("$tmp/load" -protocol "$protocol" -addr "$addr" -model iris -rows "$rows" -c "$c" -d "${secs}s" "$@")
  after=$(cpu)
  # The ticks cover the warm-up second too: count its requests at the
  # measured rate.
  echo "$line" | awk -F'\t' -v t=$((after - before)) -v hz="$tck" -v s="$secs" \
    '{ printf "%s\t%.1f\n", $0, t / hz * 1e6 / ($4 * (s + 1)) }'
}

# Warm both paths up before the first measurement.
load rest 1 64 -d 2s >/dev/null
# shellcheck disable=SC2086 # GRPC_FLAGS is a list of flags.
load grpc 1 64 -d 2s $grpc_flags >/dev/null

echo
echo "| protocol | rows/request | concurrency | requests/s | rows/s | p50 | p99 | errors | server CPU µs/request |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
: >"$tmp/lines"
for rows in $rows_list; do
  for c in $conns; do
    rest=$(load rest "$rows" "$c")
    # shellcheck disable=SC2086
    grpc=$(load grpc "$rows" "$c" $grpc_flags)
    for line in "$rest" "$grpc"; do
      echo "$line" | awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}'
    done
    printf '%s\n%s\n' "$rest" "$grpc" >>"$tmp/lines"
  done
done

# The ratios, one line per setting: gRPC's requests/s over REST's, and the
# two p99s with gRPC's over REST's.
echo
echo "| rows/request | concurrency | gRPC ÷ REST requests/s | p99 REST | p99 gRPC | gRPC ÷ REST p99 |"
echo "|---:|---:|---:|---:|---:|---:|"
awk -F'\t' '
  function us(s) {
    if (s ~ /us$/) return s + 0
    if (s ~ /ms$/) return (s + 0) * 1000
    return (s + 0) * 1000000
  }
  NR % 2 == 1 {rps = $4; p99 = $7; next}
  {
    r = rps > 0 ? sprintf("%.2f", $4 / rps) : "-"
    q = us(p99) > 0 ? sprintf("%.2f", us($7) / us(p99)) : "-"
    printf "| %s | %s | %s | %s | %s | %s |\n", $2, $3, r, p99, $7, q
  }' "$tmp/lines"
