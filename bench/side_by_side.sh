#!/usr/bin/env bash
# One sitting, interleaved rounds: nn in both builds (pure Go, -tags openblas)
# and both precisions (the tools ending in 32 are float32) against NumPy and
# PyTorch (float64, and torch32: float32) on the workloads of
# shared/bench/WORKLOADS.md (training step, mnist inference), then the matrix
# products of gemm.BenchmarkGemm for the gemm kernels and OpenBLAS (sgemm and
# openblas-s: float32), and NumPy's matrix multiply at n = 1024 (numpy-s:
# float32).
#
# Usage, from the repository root:
#   apt-get install libopenblas-dev python3-numpy python3-torch
#   OPENBLAS_CORETYPE=SkylakeX bash bench/side_by_side.sh [ROUNDS]   # Haswell on AVX2-only processors
#
# OPENBLAS_CORETYPE is passed to every OpenBLAS user (nn -tags openblas, NumPy,
# PyTorch): Debian's OpenBLAS 0.3.21 may not recognise a new processor and fall
# back to its SSE3 kernels. The first lines printed say which kernel OpenBLAS
# chose. Each line of the output is "round R TOOL SHAPE VALUE UNIT"; the last
# lines are the medians over the rounds.
set -u
rounds=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
py=$root/bench/anchors
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$root"
go test -c -o "$w/nn.test" . >/dev/null
CGO_LDFLAGS=-lopenblas go test -tags openblas -c -o "$w/nnblas.test" . >/dev/null
CGO_LDFLAGS=-lopenblas go test -tags openblas -c -o "$w/gemm.test" ./gemm >/dev/null
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}: OpenBLAS chooses $(OPENBLAS_VERBOSE=2 "$w/nnblas.test" -test.run '^$' 2>&1 | grep -i '^core' | head -1)"
echo "gemm kernel: $("$w/nn.test" -test.run "^TestBackend$" -test.v 2>/dev/null | grep -o "gemm [a-z0-9]* kernel" | head -1)"
go version
{
for r in $(seq "$rounds"); do
	for s in seed small mnist wide; do
		bt=1000000x; case $s in small) bt=20000x;; mnist) bt=600x;; wide) bt=30x;; esac
		for b in nn nnblas; do
			for p in "" 32; do
				"$w/$b.test" -test.run '^$' -test.bench "^BenchmarkTrainStep$p\$/^$s\$" -test.benchtime $bt -test.benchmem 2>/dev/null |
					awk -v b=$b$p -v s=$s -v r=$r '/steps\/s/ {for(i=1;i<=NF;i++) if($(i)=="steps/s") v=$(i-1); for(i=1;i<=NF;i++) if($(i)=="allocs/op") a=$(i-1); print "round", r, b, "step-" s, v, "steps/s", a, "allocs/op"}'
			done
		done
		(cd "$py" && RUNS=3 MIN_RUN_S=0.5 MAX_WAIT_S=10 /usr/bin/python3 step_numpy.py $s 2>/dev/null) |
			awk -v s=$s -v r=$r '$0 ~ s && $3+0 > 0 {print "round", r, "numpy", "step-" s, $3, "steps/s"; exit}'
		# torch: its first line (float64, manual backward); torch32: float32 autograd.
		(cd "$py" && RUNS=3 MIN_RUN_S=0.5 MAX_WAIT_S=10 /usr/bin/python3 step_torch.py $s 2>/dev/null) |
			awk -v s=$s -v r=$r '$2 == s && $3+0 > 0 && !t64 {print "round", r, "torch", "step-" s, $3, "steps/s"; t64 = 1}
				$1 == "torch32-autograd" && $2 == s {print "round", r, "torch32", "step-" s, $3, "steps/s"}'
	done
	for b in nn nnblas; do
		"$w/$b.test" -test.run '^$' -test.bench 'Inference' -test.benchtime 2s 2>/dev/null |
			awk -v b=$b -v r=$r '/ns\/sample/ {for(i=1;i<=NF;i++) if($(i)=="ns/sample") v=$(i-1); split($1, n, "/"); sub(/-[0-9]+$/, "", n[3]); p = (n[1] ~ /32$/) ? "32" : ""; print "round", r, b p, "infer-" n[3], v, "ns/sample"}'
	done
	for t in numpy torch; do
		(cd "$py" && RUNS=3 MIN_RUN_S=0.5 MAX_WAIT_S=10 /usr/bin/python3 step_$t.py infer 2>/dev/null) |
			awk -v t=$t -v r=$r '{p = ($1 ~ /32/) ? "32" : ""} /infer-b1 / {print "round", r, t p, "infer-batch1", $3, "ns/sample"} /infer-b1024/ {print "round", r, t p, "infer-batch1024", 1e9/$3, "ns/sample"}'
	done
	for im in gemm openblas sgemm openblas-s; do
		"$w/gemm.test" -test.run '^$' -test.bench "Gemm/shape=.*/impl=$im\$" -test.benchtime 0.3s 2>/dev/null |
			awk -v im=$im -v r=$r '/GFLOP/ {split($1, n, "/"); sub(/^shape=/, "", n[2]); print "round", r, im, "gemm-" n[2], $5, "GFLOP/s"}'
	done
	(cd "$py" && /usr/bin/python3 gemm_numpy.py 1024 2>/dev/null) | awk -v r=$r '/^numpy-[ds]gemm/ {for(i=1;i<=NF;i++) if($(i) ~ /GFLOP/) v=$(i-1); t = ($1 == "numpy-sgemm") ? "numpy-s" : "numpy"; print "round", r, t, "gemm-n=1024", v, "GFLOP/s"}'
done
} | tee "$w/all.txt"
echo "== medians over $rounds rounds"
sort -k3,3 -k4,4 -k5,5g "$w/all.txt" | awk '
	function flush() { if (n) printf "%-8s %-24s %12.4g %s\n", k3, k4, (n % 2) ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2, u; n = 0 }
	{ if ($3 != k3 || $4 != k4) { flush(); k3 = $3; k4 = $4; u = $6 } v[++n] = $5 }
	END { flush() }'
