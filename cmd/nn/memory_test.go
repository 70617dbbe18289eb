package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/neuralgo/nn/internal/tablegen"
)

// TestTrainMemory checks that nn train holds a table in memory about
// twice at most: its peak resident memory on 300,000 rows of 10 features
// (24 MB as float64) stays within twice that and 40 MB for the program.
func TestTrainMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and trains on a 29 MB file")
	}
	dir := t.TempDir()
	rows := 300000
	f, err := os.Create(filepath.Join(dir, "table.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tablegen.Write(f, rows, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r := runLimited(t, dir, false, nil, "", "train", "-data", "table.csv", "-epochs", "1", "-o", "m.json", "-quiet")
	if r.code != 0 {
		t.Fatalf("exit status %d: %s", r.code, r.stderr)
	}
	data := int64(rows * 10 * 8)
	t.Logf("peak resident memory %d MB for %d MB of data", r.maxRSS>>20, data>>20)
	if want := 2*data + 40<<20; r.maxRSS > want {
		t.Errorf("peak resident memory %d MB, want at most %d MB", r.maxRSS>>20, want>>20)
	}
}
