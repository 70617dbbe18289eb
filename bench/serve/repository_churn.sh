#!/usr/bin/env bash
# Versions of a model added, replaced, corrupted, removed and reloaded in
# a model repository while nn serve answers 64 concurrent streams of
# single-row requests to the model's latest version, over gRPC and over
# REST at once: every request must succeed, whatever version answers.
#
# Usage (from anywhere):
#   bench/serve/repository_churn.sh
# Environment:
#   SECS=20   seconds of load; the repository changes every second
#   C=64      concurrent requests (half over gRPC, half over REST)
# Needs: go, curl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${SECS:-20}
c=${C:-64}

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) $(uname -m), $(nproc) CPUs, $(go version | cut -d' ' -f3)" >&2
(cd "$root" && go build -o "$tmp/nn" ./cmd/nn && go build -o "$tmp/load" ./bench/serve/load)
# Three versions that differ: hidden layers of 8, 16 and 32 units.
for h in 8 16 32; do
  "$tmp/nn" train -data "$root/testdata/iris.csv" -target species -hidden "$h" -o "$tmp/v$h.json" -quiet
done
repo=$tmp/repo
mkdir -p "$repo/iris/1"
cp "$tmp/v8.json" "$repo/iris/1/model.json"
printf 'version_policy: { latest: { num_versions: 2 } }\n' >"$repo/iris/config.pbtxt"

"$tmp/nn" serve -repository "$repo" -model-control -addr 127.0.0.1:0 -grpc-addr 127.0.0.1:0 -reload-interval 100ms -log-level info 2>"$tmp/serve.log" &
pid=$!
pids+=("$pid")
for _ in $(seq 200); do
  if grep -q 'listening on http://' "$tmp/serve.log" && grep -q 'gRPC listening on ' "$tmp/serve.log"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "nn serve exited:" >&2; cat "$tmp/serve.log" >&2; exit 1; fi
  sleep 0.05
done
http=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$tmp/serve.log" | head -1 | sed 's|.*http://||')
grpc=$(grep -o 'gRPC listening on [0-9.]*:[0-9]*' "$tmp/serve.log" | head -1 | awk '{print $NF}')

"$tmp/load" -protocol grpc -addr "$grpc" -c $((c / 2)) -d "${secs}s" -warmup 0s >"$tmp/grpc.out" 2>"$tmp/grpc.err" &
pids+=("$!")
"$tmp/load" -protocol rest -addr "$http" -c $((c - c / 2)) -d "${secs}s" -warmup 0s >"$tmp/rest.out" 2>"$tmp/rest.err" &
pids+=("$!")

# put DIR VERSION FILE: a version directory made aside and renamed in, so
# that the server never sees it half written.
put() {
  mkdir -p "$tmp/stage"
  cp "$3" "$tmp/stage/model.json"
  mv "$tmp/stage" "$repo/$1/$2"
}
# replace DIR VERSION FILE: the model file of a version replaced in place,
# by a rename, as nn train and Model.Save replace it.
replace() {
  cp "$3" "$repo/$1/$2/model.json.tmp"
  mv "$repo/$1/$2/model.json.tmp" "$repo/$1/$2/model.json"
}
steps=0
step() {
  echo "  $(date -u +%T.%N | cut -c1-12) $*" >&2
  steps=$((steps + 1))
  sleep 1
}
# The changes, in a cycle, until the load ends: version v is served, and
# v-1 with it once the policy keeps two.
v=1
end=$((SECONDS + secs - 1))
k=0
while [ $SECONDS -lt "$end" ]; do
  case $((k % 6)) in
  0) v=$((v + 1)); put iris $v "$tmp/v16.json"; step "add version $v" ;;
  1) replace iris $v "$tmp/v32.json"; step "replace version $v in place" ;;
  2) printf 'not a model' >"$tmp/corrupt.json"; put iris $((v + 1)) "$tmp/corrupt.json"; step "add a corrupt version $((v + 1))" ;;
  3) rm -rf "${repo:?}/iris/$((v + 1))"; step "remove the corrupt version $((v + 1))" ;;
  4) rm -rf "${repo:?}/iris/$((v - 1))"; step "remove version $((v - 1))" ;;
  5) curl -sf -X POST "http://$http/v2/repository/models/iris/load" >/dev/null; step "load through the repository endpoint" ;;
  esac
  k=$((k + 1))
done
wait "${pids[1]}" "${pids[2]}"
idx=$(curl -sf -X POST "http://$http/v2/repository/index")
loaded=$(grep -c 'model version loaded' "$tmp/serve.log" || true)
failed=$(grep -c 'failed to load' "$tmp/serve.log" || true)
reloaded=$(grep -c 'model reloaded' "$tmp/serve.log" || true)

echo
echo "$steps changes of the repository in ${secs}s; $loaded versions loaded, $reloaded versions served loaded again (replaced files, and by the load endpoint), $failed failed loads reported (the corrupt versions); index at the end: $idx"
echo
echo "| protocol | rows/request | concurrency | requests/s | rows/s | p50 | p99 | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for f in grpc rest; do
  awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$tmp/$f.out"
  if [ -s "$tmp/$f.err" ]; then echo "$f: first error: $(head -1 "$tmp/$f.err")" >&2; fi
done
