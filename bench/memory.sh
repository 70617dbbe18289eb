#!/usr/bin/env bash
# Peak resident memory and epoch times of nn train on the synthetic table
# of internal/tablegen (10 features, 3 classes), in memory and streamed,
# and the rows/s of nn predict on the same file, for the README's memory
# section. Usage: bench/memory.sh [ROWS ...] (default 1000000 3000000
# 10000000). The tables go to $TMPDIR (about 97 bytes a row) and are
# deleted after; the in-memory runs stop at 3,000,000 rows.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/nn" ./cmd/nn
go build -o "$tmp/gentable" ./bench/memory/gentable
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(1000000 3000000 10000000)

# peak FILE CMD...: runs CMD, appends its stderr to FILE, prints the peak
# resident memory in MB and the wall time in seconds.
peak() {
	local log=$1
	shift
	/usr/bin/time -f '%M %e' -o "$tmp/time" "$@" 2>>"$log" >/dev/null
	awk '{printf "%d MB, %.2f s", $1/1024, $2}' "$tmp/time"
}

# epochs LOG: the time of each epoch after the first pass, from the
# elapsed times nn train prints.
epochs() {
	grep -o 'elapsed [0-9.]*m\?s' "$1" | awk '{v=$2; if (v ~ /ms$/) {sub("ms","",v); v/=1000} else sub("s","",v); printf "%s%.2f", (NR>1?" ":""), v-p; p=v}'
}

for n in "${rows[@]}"; do
	"$tmp/gentable" -rows "$n" >"$tmp/t.csv"
	size=$(du -m "$tmp/t.csv" | cut -f1)
	echo "== $n rows ($size MB of CSV, $((n * 10 * 8 / 1000000)) MB of features as float64)"
	if [ "$n" -le 3000000 ]; then
		: >"$tmp/mem.log"
		echo "in memory, 1 epoch: $(peak "$tmp/mem.log" "$tmp/nn" train -data "$tmp/t.csv" -epochs 1 -o "$tmp/m.json")"
		: >"$tmp/mem3.log"
		echo "in memory, 3 epochs: $(peak "$tmp/mem3.log" "$tmp/nn" train -data "$tmp/t.csv" -epochs 3 -patience 0 -o "$tmp/m.json"); epoch times $(epochs "$tmp/mem3.log") s"
		echo "predict: $(peak /dev/null "$tmp/nn" predict -model "$tmp/m.json" -data "$tmp/t.csv")"
	fi
	: >"$tmp/stream.log"
	echo "streamed, 3 epochs: $(peak "$tmp/stream.log" "$tmp/nn" train -stream -cache-dir "$tmp" -data "$tmp/t.csv" -epochs 3 -patience 0 -o "$tmp/s.json"); epoch times $(epochs "$tmp/stream.log") s"
	grep '^read ' "$tmp/stream.log"
	rm -f "$tmp/t.csv"
done
