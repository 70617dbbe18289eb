#!/usr/bin/env bash
# Runs the Fashion-MNIST recipe of bench/FASHION_RECIPE.md in nn (pure-Go
# build) and in PyTorch float64, one after the other in one sitting, for
# the seeds given (default 1,2,3), and prints both sides' per-seed test
# accuracy and time per training epoch.
#
#   bench/fashion_recipe.sh [seeds]
#
# Needs dataset-fashion-mnist and, for the PyTorch side, Debian's
# python3-torch (run with /usr/bin/python3). PyTorch's matrix products go
# through OpenBLAS: OPENBLAS_CORETYPE picks its kernels (SkylakeX for
# AVX-512, Haswell for AVX2) where Debian's 0.3.21 does not recognise the
# processor.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-1,2,3}
if grep -q avx512f /proc/cpuinfo; then
	export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
else
	export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
fi
echo "== $(date -u '+%Y-%m-%d %H:%M:%S') UTC, $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE"
echo "== nn, pure Go (go test -run '^TestFashionMNISTRecipe\$')"
NN_LONG_TESTS=1 NN_RECIPE_SEEDS=$seeds go test -count=1 -run '^TestFashionMNISTRecipe$' -v -timeout 60m . | grep -E 'seed|median|backend|PASS|FAIL'
echo "== PyTorch float64 (bench/fashion_recipe_torch.py)"
/usr/bin/python3 bench/fashion_recipe_torch.py --seeds "$seeds" --epochs 30 --dropout 0.2,0.1 --lr 1e-3 --weight-decay 1e-2 --warmup-epochs 1 --batch 128 2>/dev/null
