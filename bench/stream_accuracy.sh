#!/usr/bin/env bash
# Test accuracy of nn train in memory and with -stream on the synthetic
# table of internal/tablegen, for seeds 1 to 5 (default settings: early
# stopping on 10% held out), scored by nn eval on another 200,000 rows.
# Usage: bench/stream_accuracy.sh [ROWS] (default 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/nn" ./cmd/nn
go run ./bench/memory/gentable -rows "${1:-1000000}" -seed 1 >"$tmp/train.csv"
go run ./bench/memory/gentable -rows 200000 -seed 2 >"$tmp/test.csv"
for mode in memory stream; do
	flags=()
	[ "$mode" = stream ] && flags=(-stream -cache-dir "$tmp")
	for seed in 1 2 3 4 5; do
		start=$(date +%s.%N)
		"$tmp/nn" train "${flags[@]}" -data "$tmp/train.csv" -seed "$seed" -o "$tmp/m.json" -quiet
		end=$(date +%s.%N)
		acc=$("$tmp/nn" eval -model "$tmp/m.json" -data "$tmp/test.csv" -json | grep -o '"accuracy": *[0-9.]*' | head -1 | grep -o '[0-9.]*$')
		printf '%s seed %d: test accuracy %s, %.0f s\n' "$mode" "$seed" "$acc" "$(echo "$end - $start" | bc)"
	done
done
