package main

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/beam/internal/beamtest"
)

// TestTrain trains on the iris rows in three shards, one without rows,
// by L-BFGS with the scaler fitted over the shards, and compares the
// model written with nn.FitScaler and nn.Train on all the rows at once,
// then scores the rows with it.
func TestTrain(t *testing.T) {
	dir := t.TempDir()
	header, rows := beamtest.IrisRows(t)
	beamtest.WriteFile(t, filepath.Join(dir, "shards", "a.csv"), header+"\n"+strings.Join(rows[:90], "\n")+"\n")
	beamtest.WriteFile(t, filepath.Join(dir, "shards", "b.csv"), header+"\n")
	beamtest.WriteFile(t, filepath.Join(dir, "shards", "c.csv"), header+"\n"+strings.Join(rows[90:], "\n")+"\n")
	model := filepath.Join(dir, "m.json")
	r := nnBeamRun(t, "train", "-data", filepath.Join(dir, "shards", "*.csv"), "-target", "species",
		"-classes", "setosa,versicolor,virginica", "-hidden", "6", "-activation", "tanh", "-method", "lbfgs", "-epochs", "12", "-l2", "0.001", "-o", model)
	if r.status != 0 {
		t.Fatalf("nn-beam train: status %d\n%s", r.status, r.stderr)
	}
	if !strings.Contains(r.stderr, "nn-beam: 12 epochs") {
		t.Errorf("summary: %s", r.stderr)
	}
	got, err := nn.LoadModel(model)
	if err != nil {
		t.Fatal(err)
	}

	d, err := nn.LoadCSV(irisData, &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	sc := nn.FitScaler(nn.Standardize, d.X)
	sc.Transform(d.X, d.X)
	net, err := nn.New(nn.Config{Sizes: []int{4, 6, 3}, Activations: []nn.Activation{nn.Tanh, nn.Softmax}, Loss: nn.CrossEntropy, Init: nn.Xavier, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nn.Train(context.Background(), net, d.X, d.Y, &nn.Settings{Method: nn.LBFGS, Epochs: 12, L2: 0.001}); err != nil {
		t.Fatal(err)
	}
	if diff := maxRel(got.Network.Params(), net.Params()); diff > 1e-12 {
		t.Errorf("weights differ from nn.Train's by %g relative", diff)
	}
	if diff := maxRel(got.Scaler.Scale, sc.Scale); diff > 1e-15 {
		t.Errorf("scaler differs from nn.FitScaler's by %g relative", diff)
	}
	if got.Target != "species" || strings.Join(got.Features, ",") != "sepal_length,sepal_width,petal_length,petal_width" || len(got.Classes) != 3 {
		t.Errorf("model names target %q, features %q, classes %q", got.Target, got.Features, got.Classes)
	}
	if labels := nnPredict(t, model, irisData); len(labels) != len(rows) {
		t.Errorf("nn predict with the model gave %d lines for %d rows", len(labels), len(rows))
	}
}

// maxRel returns max|a−b| / max|b|.
func maxRel(a, b []float64) float64 {
	var d, m float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
		m = max(m, math.Abs(b[i]))
	}
	return d / m
}

// TestTrainErrors checks the usage errors of train and the errors of
// shards that do not fit the flags.
func TestTrainErrors(t *testing.T) {
	dir := t.TempDir()
	header, rows := beamtest.IrisRows(t)
	data := filepath.Join(dir, "a.csv")
	beamtest.WriteFile(t, data, header+"\n"+strings.Join(rows[:10], "\n")+"\n"+strings.Join(rows[140:], "\n")+"\n")
	out := filepath.Join(dir, "m.json")
	for _, test := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"-data", data, "-target", "species", "-o", out}, 2, "-task classify needs -classes"},
		{[]string{"-data", data, "-o", out}, 2, "flag -target is required"},
		{[]string{"-data", data, "-target", "kind", "-classes", "a,b", "-o", out}, 1, `the header does not name the target "kind"`},
		{[]string{"-data", data, "-target", "species", "-classes", "a,b", "-o", filepath.Join(dir, "no", "m.json")}, 1, "does not exist"},
		{[]string{"-data", data, "-target", "species", "-classes", "setosa,versicolor", "-o", out, "-epochs", "2"}, 1, "job failed (fitting the scaler): " + data + `:12:5: unknown class "virginica"`},
		{[]string{"-data", filepath.Join(dir, "none*.csv"), "-target", "species", "-classes", "a,b", "-o", out}, 1, "no file"},
		{[]string{"-data", data, "-target", "species", "-classes", "a,b", "-o", out, "-hidden", "4,x"}, 2, "invalid value"},
		{[]string{"-data", data, "-target", "species", "-classes", "a,b", "-o", out, "-method", "newton"}, 2, "newton"},
	} {
		r := nnBeamRun(t, append([]string{"train"}, test.args...)...)
		if r.status != test.status || !strings.Contains(r.stderr, test.want) {
			t.Errorf("nn-beam train %s: status %d, stderr %q; want status %d and %q", strings.Join(test.args, " "), r.status, r.stderr, test.status, test.want)
		}
	}
}

// TestTrainChecks checks the flags and paths that train refuses before
// any pipeline runs, and the summary of a run without an epoch.
func TestTrainChecks(t *testing.T) {
	dir := t.TempDir()
	header, rows := beamtest.IrisRows(t)
	data := filepath.Join(dir, "a.csv")
	beamtest.WriteFile(t, data, header+"\n"+strings.Join(rows, "\n")+"\n")
	out := filepath.Join(dir, "m.json")
	base := []string{"train", "-data", data, "-target", "species", "-classes", "setosa,versicolor,virginica"}
	for _, test := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"-o", dir}, 1, "is a directory, not a model file"},
		{[]string{"-o", out, "-checkpoint", filepath.Join(dir, "no", "c.json")}, 1, "-checkpoint"},
		{[]string{"-o", out, "-lr", "NaN"}, 2, "-lr and -l2 finite"},
		{[]string{"-o", out, "-l2", "-1"}, 2, "-lr and -l2 finite"},
	} {
		r := nnBeamRun(t, append(base, test.args...)...)
		if r.status != test.status || !strings.Contains(r.stderr, test.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("nn-beam %s: status %d, stderr %q; want status %d and one line with %q", strings.Join(test.args, " "), r.status, r.stderr, test.status, test.want)
		}
	}
	// A job that fails says why in one line, without the runner's
	// reports.
	r := nnBeamRun(t, "train", "-data", data, "-target", "species", "-classes", "setosa,versicolor", "-o", out)
	want := "nn-beam: job failed (fitting the scaler): " + data + `:102:5: unknown class "virginica" (column "species"): classes are "setosa", "versicolor"` + "\n"
	if r.status != 1 || r.stderr != want {
		t.Errorf("a failed job: status %d, stderr %q; want %q", r.status, r.stderr, want)
	}
	r = nnBeamRun(t, "train", "-data", data, "-target", "species", "-classes", "setosa,,virginica", "-o", out)
	if r.status != 2 || !strings.Contains(r.stderr, "distinct, non-empty labels") {
		t.Errorf("an empty class label: status %d, %q", r.status, r.stderr)
	}
	// A constant target: L-BFGS stops at the starting weights, with no
	// epoch to report.
	flat := filepath.Join(dir, "flat", "p0.csv")
	beamtest.WriteFile(t, flat, "a,b,y\n1,2,0\n1,2,0\n1,2,0\n")
	r = nnBeamRun(t, "train", "-data", flat, "-target", "y", "-task", "regress", "-method", "lbfgs", "-epochs", "5", "-hidden", "none", "-o", filepath.Join(dir, "flat.json"))
	if r.status != 0 || strings.Contains(r.stderr, "internal error") {
		t.Errorf("a run without an epoch: status %d, %q", r.status, r.stderr)
	}
}
