package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralgo/nn"
)

// accuracyOf returns the accuracy that nn eval printed.
func accuracyOf(t *testing.T, out string) float64 {
	t.Helper()
	for _, l := range lines(out) {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "accuracy" {
			return mustFloat(t, f[1])
		}
	}
	t.Fatalf("nn eval printed no accuracy:\n%s", out)
	return 0
}

// nn train -precision float32 writes a model of float32 weights, which nn
// eval and nn predict score in float32 as the library does; lbfgs refuses
// it.
func TestPrecisionFloat32(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "iris32.json")
	mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-o", path, "-quiet", "-precision", "float32")
	m, err := nn.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Network.Params() {
		if float64(float32(v)) != v {
			t.Fatalf("parameter %d of the float32 model is %v, not a float32 value", i, v)
		}
	}
	ev := mustRun(t, "", "eval", "-model", path, "-data", irisPath, "-precision", "float32")
	if a := accuracyOf(t, ev.stdout); a < 0.9 {
		t.Errorf("nn eval -precision float32: accuracy %v, want at least 0.9", a)
	}
	rows := strings.Join(irisFeatureRows(t), "\n") + "\n"
	got := lines(mustRun(t, rows, "predict", "-model", path, "-precision", "float32", "-proba").stdout)
	m.Network.SetPrecision(nn.Float32)
	d, err := nn.LoadCSV(irisPath, m.CSVOptions())
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := m.PredictDataset(d, false)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := want.Dims()
	if len(got) != r+1 {
		t.Fatalf("nn predict printed %d lines for %d rows", len(got), r)
	}
	for i := 0; i < r; i++ {
		f := strings.Split(got[i+1], ",")
		for k, v := range want.RawRowView(i) {
			if p := mustFloat(t, f[len(f)-3+k]); p != v {
				t.Fatalf("row %d, probability %d: nn predict -precision float32 gives %v, the library %v", i, k, p, v)
			}
		}
	}
	// A stream trains in float32 too.
	spath := filepath.Join(dir, "iris32s.json")
	mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-o", spath, "-quiet", "-precision", "float32", "-stream", "-cache-dir", dir)
	sm, err := nn.LoadModel(spath)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range sm.Network.Params() {
		if float64(float32(v)) != v {
			t.Fatalf("parameter %d of the streamed float32 model is %v, not a float32 value", i, v)
		}
	}
	ev = mustRun(t, "", "eval", "-model", spath, "-data", irisPath)
	if a := accuracyOf(t, ev.stdout); a < 0.9 {
		t.Errorf("nn eval of the streamed float32 model: accuracy %v, want at least 0.9", a)
	}
	r2 := runNN(t, "", "train", "-data", irisPath, "-target", "species", "-o", filepath.Join(dir, "x.json"), "-method", "lbfgs", "-precision", "float32")
	if r2.code != 2 || !strings.Contains(r2.stderr, "lbfgs trains in float64 only") {
		t.Errorf("-method lbfgs -precision float32: exit %d, stderr %q", r2.code, r2.stderr)
	}
	r3 := runNN(t, "", "predict", "-model", path, "-precision", "float16")
	if r3.code != 2 || !strings.Contains(r3.stderr, "-precision") {
		t.Errorf("-precision float16: exit %d, stderr %q", r3.code, r3.stderr)
	}
}
