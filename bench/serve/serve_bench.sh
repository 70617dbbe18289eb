#!/usr/bin/env bash
# Load test of nn serve against the Python anchor (a scikit-learn MLP behind
# Flask and gunicorn), with wrk on the same machine, in one sitting.
#
# Usage (from anywhere):
#   bench/serve/serve_bench.sh            # the table: 1-row and 100-row requests at
#                                         # 1, 16 and 64 connections, nn serve with
#                                         # batching on and off, then the anchor
#   bench/serve/serve_bench.sh -soak      # 10 minutes of 1-row requests at 64
#                                         # connections; RSS before and after
# Environment:
#   SECS=15           seconds per wrk run (the issue's setting)
#   CONNS="1 16 64"   connection counts
#   SOAK_SECS=600     length of the soak
#   ANCHOR_DIR=...    the anchor's directory (app.py); default ../shared/bench/anchors/serve
#                     beside the repository; SKIP_ANCHOR=1 leaves it out
# Needs: go, wrk, curl; for the anchor gunicorn and python3 with flask and
# scikit-learn (Debian: apt-get install wrk gunicorn python3-flask python3-sklearn).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${SECS:-15}
conns=${CONNS:-"1 16 64"}
anchor=${ANCHOR_DIR:-"$root/../shared/bench/anchors/serve"}
mode=table
if [ "${1:-}" = "-soak" ]; then mode=soak; fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) CPUs, $(go version | cut -d' ' -f3), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)" >&2
(cd "$root" && go build -o "$tmp/nn" ./cmd/nn)
# The anchor's model: one hidden layer of 16 ReLU units on standardised inputs.
"$tmp/nn" train -data "$root/testdata/iris.csv" -target species -hidden 16 -activation relu -scale standard -o "$tmp/iris.json" -quiet

# wait_up URL: wait for a server to answer.
wait_up() {
  for _ in $(seq 100); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server at $1 did not come up" >&2; exit 1
}

# start_nn [FLAGS]: start nn serve on a free port; sets url and pid.
start_nn() {
  "$tmp/nn" serve -model iris="$tmp/iris.json" -addr 127.0.0.1:0 -log-level warn "$@" 2>"$tmp/serve.log" &
  pid=$!; pids+=("$pid")
  for _ in $(seq 100); do grep -q 'listening on' "$tmp/serve.log" 2>/dev/null && break; sleep 0.05; done
  url=$(grep -o 'http://[0-9.:]*' "$tmp/serve.log" | head -1)
  wait_up "$url/v2/health/ready"
}

stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

rss() { awk '/VmRSS/ {print $2/1024 " MiB"}' "/proc/$1/status"; }

# run LABEL CONNS SCRIPT: one wrk run, printed as a row of the table.
run() {
  local label=$1 c=$2 script=$3 t=2 out
  [ "$c" -lt 2 ] && t=1
  out=$(wrk -t "$t" -c "$c" -d "${secs}s" --latency -s "$here/$script.lua" "$url/invocations")
  echo "$out" > "$tmp/wrk-$label-$c-$script.txt"
  echo "$out" | awk -v label="$label" -v c="$c" -v rows="${script#post}" '
    /Requests\/sec/ {rps=$2}
    /^ +50%/ {p50=$2}
    /^ +99%/ {p99=$2}
    /Non-2xx/ {non2xx=$NF}
    /Socket errors/ {gsub(",", ""); errs=$4+$6+$8+$10}
    END {printf "| %s | %s | %s | %\047.0f | %\047.0f | %s | %s | %d |\n", label, rows, c, rps, rps*rows, p50, p99, non2xx+errs}'
}

if [ "$mode" = soak ]; then
  soak=${SOAK_SECS:-600}
  start_nn
  curl -sf -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' "$url/invocations" >/dev/null
  wrk -t 2 -c 64 -d 5s -s "$here/post1.lua" "$url/invocations" >/dev/null # warm up
  echo "RSS before the soak: $(rss "$pid")"
  wrk -t 2 -c 64 -d "${soak}s" --latency -s "$here/post1.lua" "$url/invocations" > "$tmp/soak.txt" &
  w=$!
  for i in $(seq $((soak / 60))); do sleep 60; echo "RSS after $i min: $(rss "$pid")"; done
  wait "$w"
  echo "RSS after the soak: $(rss "$pid")"
  grep -E 'Requests/sec|Latency|50%|99%|Non-2xx|Socket errors|requests in' "$tmp/soak.txt"
  exit 0
fi

echo "| server | rows/request | connections | requests/s | rows/s | p50 | p99 | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for batching in on off; do
  if [ "$batching" = on ]; then start_nn; else start_nn -no-batch; fi
  curl -sf -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' "$url/invocations" >/dev/null
  wrk -t 2 -c 64 -d 3s -s "$here/post1.lua" "$url/invocations" >/dev/null # warm up
  for script in post1 post100; do
    for c in $conns; do run "nn serve, batching $batching" "$c" "$script"; done
  done
  stop
done

if [ -z "${SKIP_ANCHOR:-}" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  IRIS_CSV="$root/testdata/iris.csv" gunicorn -w 2 -b "127.0.0.1:$port" --chdir "$anchor" --log-level warning app:app 2>"$tmp/gunicorn.log" &
  pid=$!; pids+=("$pid")
  url="http://127.0.0.1:$port"
  wait_up "$url/health"
  wrk -t 2 -c 64 -d 3s -s "$here/post1.lua" "$url/invocations" >/dev/null # warm up
  for script in post1 post100; do
    for c in $conns; do run "Python anchor (gunicorn -w 2)" "$c" "$script"; done
  done
  stop
fi
