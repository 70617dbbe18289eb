#!/usr/bin/env bash
# One sitting, interleaved rounds: a Fashion-MNIST epoch of the
# time-to-accuracy workload (784-256-128-10 ReLU, Adam, batch 128) in nn,
# float64 and float32 (BenchmarkFashionEpoch, BenchmarkFashionEpoch32, pure
# Go), and in PyTorch at both precisions (bench/anchors/tta_torch.py, the
# mean of 3 epochs). Each line is "round R TOOL SECONDS s/epoch"; the last
# lines are the medians.
#
# Usage, from the repository root:
#   apt-get install dataset-fashion-mnist python3-torch
#   OPENBLAS_CORETYPE=SkylakeX bash bench/fashion_epoch.sh [ROUNDS]
set -u
rounds=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$root"
go test -c -o "$w/nn.test" . >/dev/null
{
for r in $(seq "$rounds"); do
	"$w/nn.test" -test.run '^$' -test.bench '^BenchmarkFashionEpoch(32)?$' -test.benchtime 3x 2>/dev/null |
		awk -v r=$r '/s\/epoch/ {n = ($1 ~ /32/) ? "nn32" : "nn"; for(i=1;i<=NF;i++) if($(i)=="s/epoch") v=$(i-1); print "round", r, n, v, "s/epoch"}'
	for d in float64 float32; do
		(cd bench/anchors && /usr/bin/python3 tta_torch.py --dtype $d --epochs 3 2>/dev/null) |
			awk -v r=$r -v d=$d '/^RESULT/ {for(i=1;i<=NF;i++) if($(i)=="mean_epoch_s") v=$(i+1); print "round", r, (d == "float32") ? "torch32" : "torch", v, "s/epoch"}'
	done
done
} | tee "$w/all.txt"
echo "== medians over $rounds rounds"
sort -k3,3 -k4,4g "$w/all.txt" | awk '
	function flush() { if (n) printf "%-8s %8.3f s/epoch\n", k, (n % 2) ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2; n = 0 }
	{ if ($3 != k) { flush(); k = $3 } v[++n] = $4 }
	END { flush() }'
