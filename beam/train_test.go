package nnbeam

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/beam/internal/beamtest"
)

// irisShards writes the iris rows to files of dir, a header in each,
// with as many rows in each file as counts says (0 for a file with a
// header alone), in the order of the data set, and returns their glob.
func irisShards(t *testing.T, dir string, counts ...int) string {
	t.Helper()
	header, rows := beamtest.IrisRows(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	next := 0
	for i, c := range counts {
		text := header + "\n" + strings.Join(rows[next:next+c], "\n")
		if c > 0 {
			text += "\n"
		}
		beamtest.WriteFile(t, filepath.Join(dir, fmt.Sprintf("part-%02d.csv", i)), text)
		next += c
	}
	if next != len(rows) {
		t.Fatalf("shards of %d rows for %d", next, len(rows))
	}
	return filepath.Join(dir, "part-*.csv")
}

// irisData returns the options to read the iris shards, with a scaler
// fitted on every row, and the rows themselves for single-machine
// training.
func irisData(t *testing.T) (nn.CSVOptions, *nn.Scaler, *nn.Dataset) {
	t.Helper()
	opts := nn.CSVOptions{Target: "species", Classify: true, Classes: []string{"setosa", "versicolor", "virginica"}}
	d, err := nn.LoadCSV(beamtest.Testdata("iris.csv"), &opts)
	if err != nil {
		t.Fatal(err)
	}
	sc := nn.FitScaler(nn.Standardize, d.X)
	sc.Transform(d.X, d.X)
	return opts, sc, d
}

func irisNet(t *testing.T) *nn.Network {
	t.Helper()
	net, err := nn.New(nn.Config{Sizes: []int{4, 8, 3}, Activations: []nn.Activation{nn.Tanh, nn.Softmax}, Loss: nn.CrossEntropy, Init: nn.Xavier, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// relDiff returns max|a−b| / max|b|.
func relDiff(a, b []float64) float64 {
	var d, m float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
		m = max(m, math.Abs(b[i]))
	}
	return d / m
}

// TestTrainMatchesSingleMachine trains by full-batch gradient descent on
// Prism with the iris rows sharded three ways, one of them with a shard
// of zero rows, and compares the weights and losses with nn.Train's on
// all the rows at once.
func TestTrainMatchesSingleMachine(t *testing.T) {
	opts, sc, d := irisData(t)
	const epochs = 25
	settings := nn.Settings{Method: nn.GradientDescent, LearningRate: 0.5, Epochs: epochs, L2: 1e-3}
	single := irisNet(t)
	want, err := nn.Train(context.Background(), single, d.X, d.Y, &settings)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, counts := range [][]int{{150}, {50, 0, 60, 40}, {7, 61, 1, 81}} {
		glob := irisShards(t, filepath.Join(dir, fmt.Sprint(i)), counts...)
		net := irisNet(t)
		got, err := Train(context.Background(), net, &Data{Glob: glob, CSV: opts, Scaler: sc}, &TrainOptions{Settings: settings, BlockRows: 16})
		if err != nil {
			t.Fatal(err)
		}
		diff := relDiff(net.Params(), single.Params())
		t.Logf("shards %v: weights after %d epochs differ from nn.Train's by %.3g relative", counts, epochs, diff)
		if diff > 1e-12 {
			t.Errorf("shards %v: weights differ from nn.Train's by %g relative, want ≤ 1e-12", counts, diff)
		}
		if len(got.History) != epochs {
			t.Fatalf("shards %v: %d epochs, want %d", counts, len(got.History), epochs)
		}
		for e, ep := range got.History {
			if w := want.History[e].Loss; math.Abs(ep.Loss-w) > 1e-12*w {
				t.Errorf("shards %v, epoch %d: loss %v, nn.Train's %v", counts, e+1, ep.Loss, w)
			}
		}
	}
}

// TestTrainLBFGS compares L-BFGS on Prism with nn.Train's L-BFGS.
func TestTrainLBFGS(t *testing.T) {
	opts, sc, d := irisData(t)
	settings := nn.Settings{Method: nn.LBFGS, Epochs: 15, L2: 1e-3}
	single := irisNet(t)
	want, err := nn.Train(context.Background(), single, d.X, d.Y, &settings)
	if err != nil {
		t.Fatal(err)
	}
	glob := irisShards(t, t.TempDir(), 40, 0, 110)
	net := irisNet(t)
	got, err := Train(context.Background(), net, &Data{Glob: glob, CSV: opts, Scaler: sc}, &TrainOptions{Settings: settings, BlockRows: 32})
	if err != nil {
		t.Fatal(err)
	}
	diff := relDiff(net.Params(), single.Params())
	t.Logf("L-BFGS: %d epochs, weights differ from nn.Train's by %.3g relative; loss %v, nn.Train's %v", len(got.History), diff, got.Loss()[len(got.History)-1], want.Loss()[len(want.History)-1])
	if len(got.History) != len(want.History) || diff > 1e-12 {
		t.Errorf("L-BFGS: %d epochs and weights %g from nn.Train's, which ran %d", len(got.History), diff, len(want.History))
	}
}

// TestTrainMixing checks that parameter mixing with Adam lowers the loss
// and that two runs give the same weights.
func TestTrainMixing(t *testing.T) {
	opts, sc, _ := irisData(t)
	glob := irisShards(t, t.TempDir(), 75, 75)
	settings := nn.Settings{Method: nn.Adam, LearningRate: 0.01, Epochs: 6, BatchSize: 16, Seed: 3}
	var runs [2]*nn.Network
	var losses []float64
	for i := range runs {
		runs[i] = irisNet(t)
		rep, err := Train(context.Background(), runs[i], &Data{Glob: glob, CSV: opts, Scaler: sc}, &TrainOptions{Settings: settings})
		if err != nil {
			t.Fatal(err)
		}
		losses = rep.Loss()
	}
	t.Logf("Adam with parameter mixing over 2 shards: losses %.4f", losses)
	if !slices.Equal(runs[0].Params(), runs[1].Params()) {
		t.Error("two runs with the same seed gave different weights")
	}
	if losses[len(losses)-1] >= losses[0] {
		t.Errorf("the loss went from %v to %v", losses[0], losses[len(losses)-1])
	}
}

// TestTrainResume stops a run after 4 epochs and resumes it from its
// checkpoint to 9, which must give the weights and history of a run of 9
// epochs at once, and refuses the checkpoint for other settings.
func TestTrainResume(t *testing.T) {
	opts, sc, _ := irisData(t)
	dir := t.TempDir()
	glob := irisShards(t, filepath.Join(dir, "data"), 60, 90)
	data := &Data{Glob: glob, CSV: opts, Scaler: sc}
	settings := nn.Settings{Method: nn.GradientDescent, LearningRate: 0.3, Epochs: 9}
	whole := irisNet(t)
	want, err := Train(context.Background(), whole, data, &TrainOptions{Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, "state.json")
	first := settings
	first.Epochs = 4
	if _, err := Train(context.Background(), irisNet(t), data, &TrainOptions{Settings: first, Checkpoint: ckpt}); err != nil {
		t.Fatal(err)
	}
	resumed := irisNet(t)
	got, err := Train(context.Background(), resumed, data, &TrainOptions{Settings: settings, Checkpoint: ckpt})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(resumed.Params(), whole.Params()) || !slices.Equal(got.Loss(), want.Loss()) {
		t.Errorf("resumed run: losses %v, want %v, and weights differ by %g", got.Loss(), want.Loss(), relDiff(resumed.Params(), whole.Params()))
	}
	other := settings
	other.LearningRate = 0.2
	if _, err := Train(context.Background(), irisNet(t), data, &TrainOptions{Settings: other, Checkpoint: ckpt}); err == nil || !strings.Contains(err.Error(), "checkpoint of another run") {
		t.Errorf("a checkpoint of other settings: got %v", err)
	}
}

// TestTrainRereadsShards trains twice in one process on a shard whose
// file is rewritten in between, with other rows: the second Train must
// train on the new rows, as nn.Train does, not on the rows the first
// cached; and a Train leaves none of its shards in the cache of this
// process, Prism's worker.
func TestTrainRereadsShards(t *testing.T) {
	opts, sc, d := irisData(t)
	settings := nn.Settings{Method: nn.GradientDescent, LearningRate: 0.5, Epochs: 2}
	dir := t.TempDir()
	header, rows := beamtest.IrisRows(t)
	shard := filepath.Join(dir, "part-00.csv")
	data := &Data{Glob: shard, CSV: opts, Scaler: sc}
	beamtest.WriteFile(t, shard, header+"\n"+strings.Join(rows[75:], "\n")+"\n")
	if _, err := Train(context.Background(), irisNet(t), data, &TrainOptions{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	beamtest.WriteFile(t, shard, header+"\n"+strings.Join(rows, "\n")+"\n")
	net := irisNet(t)
	if _, err := Train(context.Background(), net, data, &TrainOptions{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	single := irisNet(t)
	if _, err := nn.Train(context.Background(), single, d.X, d.Y, &settings); err != nil {
		t.Fatal(err)
	}
	if diff := relDiff(net.Params(), single.Params()); diff > 1e-12 {
		t.Errorf("weights differ from nn.Train's on the rewritten shard by %g relative, want ≤ 1e-12", diff)
	}
	shards.Lock()
	n, bytes := len(shards.byKey), shards.bytes
	shards.Unlock()
	if n != 0 || bytes != 0 {
		t.Errorf("after Train the cache holds %d shards of %d bytes, want none", n, bytes)
	}
}

// TestTrainCheckpointFails checks that a checkpoint that cannot be
// written stops Train with the network and the report both as they were
// before the epoch, for each kind of method.
func TestTrainCheckpointFails(t *testing.T) {
	opts, sc, _ := irisData(t)
	dir := t.TempDir()
	data := &Data{Glob: irisShards(t, filepath.Join(dir, "data"), 70, 80), CSV: opts, Scaler: sc}
	ckpt := filepath.Join(dir, "missing", "state.json") // in no directory
	for _, m := range []nn.Method{nn.GradientDescent, nn.LBFGS, nn.Adam} {
		net := irisNet(t)
		rep, err := Train(context.Background(), net, data, &TrainOptions{Settings: nn.Settings{Method: m, Epochs: 3}, Checkpoint: ckpt})
		if err == nil || !strings.Contains(err.Error(), ckpt) {
			t.Errorf("%v: got error %v, want one naming %s", m, err, ckpt)
		}
		if len(rep.History) != 0 || !slices.Equal(net.Params(), irisNet(t).Params()) {
			t.Errorf("%v: %d epochs in the report, weights initial %v; want 0 and the initial weights", m, len(rep.History), slices.Equal(net.Params(), irisNet(t).Params()))
		}
	}
}

// TestTrainErrors checks the errors of bad data and options.
func TestTrainErrors(t *testing.T) {
	opts, sc, _ := irisData(t)
	dir := t.TempDir()
	header, rows := beamtest.IrisRows(t)
	beamtest.WriteFile(t, filepath.Join(dir, "a.csv"), header+"\n"+rows[0]+"\n"+strings.Replace(rows[1], "3.0", "x", 1)+"\n")
	_, err := Train(context.Background(), irisNet(t), &Data{Glob: filepath.Join(dir, "a.csv"), CSV: opts, Scaler: sc}, &TrainOptions{Settings: nn.Settings{Epochs: 1}})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "a.csv")+":3:2: not a number") {
		t.Errorf("a bad row: got %v, want its file, line and column", err)
	}
	beamtest.WriteFile(t, filepath.Join(dir, "e.csv"), header+"\n")
	_, err = Train(context.Background(), irisNet(t), &Data{Glob: filepath.Join(dir, "e.csv"), CSV: opts}, &TrainOptions{Settings: nn.Settings{Epochs: 1}})
	if !errors.Is(err, nn.ErrEmpty) {
		t.Errorf("no rows: got %v, want ErrEmpty", err)
	}
	_, err = Train(context.Background(), irisNet(t), &Data{Glob: filepath.Join(dir, "none-*.csv"), CSV: opts}, nil)
	if err == nil || !strings.Contains(err.Error(), "no file matches") {
		t.Errorf("no shard: got %v", err)
	}
	noClasses := opts
	noClasses.Classes = nil
	if _, err := Train(context.Background(), irisNet(t), &Data{Glob: filepath.Join(dir, "a.csv"), CSV: noClasses}, nil); err == nil || !strings.Contains(err.Error(), "Classes") {
		t.Errorf("no classes: got %v", err)
	}
	if _, err := Train(context.Background(), irisNet(t), &Data{Glob: filepath.Join(dir, "a.csv"), CSV: opts}, &TrainOptions{Settings: nn.Settings{Dropout: []float64{0.5}}}); err == nil {
		t.Error("dropout: no error")
	}
	if _, err := Train(context.Background(), irisNet(t), &Data{Glob: filepath.Join(dir, "a.csv"), CSV: opts}, &TrainOptions{Settings: nn.Settings{Precision: nn.Float32}}); err == nil || !strings.Contains(err.Error(), "Float32") {
		t.Errorf("float32: got %v", err)
	}
}

// TestSumOrder checks that sums merged in any order give the same
// float64 values, bit for bit, including terms that cancel, and that the
// coder reads back what it wrote.
func TestSumOrder(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 8))
	const n, parts = 6, 40
	var terms []Sum
	for range parts {
		s := newSum(n)
		s.Rows = 3
		for i := range n {
			s.Add(i, (rnd.Float64()-0.5)*math.Pow(10, float64(rnd.IntN(30)-15)))
			s.Add(i, (rnd.Float64()-0.5)*1e-3)
		}
		terms = append(terms, s)
	}
	// Terms that cancel: 1e17 + 1 − 1e17 is 1 in any order.
	big := newSum(n)
	big.Add(0, 1e17)
	small := newSum(n)
	small.Add(0, 1)
	negative := newSum(n)
	negative.Add(0, -1e17)
	terms = append(terms, big, small, negative)
	var want []float64
	for trial := range 30 {
		rnd.Shuffle(len(terms), func(i, j int) { terms[i], terms[j] = terms[j], terms[i] })
		// Merge as a runner might: partial sums of random groups, then
		// those.
		var partials []Sum
		for i := 0; i < len(terms); {
			k := 1 + rnd.IntN(5)
			var p Sum
			for _, s := range terms[i:min(i+k, len(terms))] {
				b, _ := encodeSum(s)
				s, err := decodeSum(b)
				if err != nil {
					t.Fatal(err)
				}
				p = sumFn{}.MergeAccumulators(p, s)
			}
			partials = append(partials, p)
			i += k
		}
		var total Sum
		for _, p := range partials {
			total = sumFn{}.MergeAccumulators(total, p)
		}
		got := make([]float64, n)
		for i := range got {
			got[i] = total.Value(i)
		}
		if total.Rows != 3*parts {
			t.Fatalf("rows %d, want %d", total.Rows, 3*parts)
		}
		if trial == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			t.Fatalf("trial %d: sums %v, first trial %v", trial, got, want)
		}
	}
	if want[0] == 0 {
		t.Error("1e17 + 1 − 1e17 summed to 0")
	}
	if _, err := decodeSum([]byte{1, 2, 3}); err == nil {
		t.Error("a truncated encoding decoded")
	}
	if _, err := decodeSum(append(make([]byte, 8), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)); err == nil {
		t.Error("an encoding of 2⁶⁴−1 elements decoded")
	}
}

// TestFitScaler compares the scaler fitted on Prism over shards with
// nn.FitScaler's on all the rows.
func TestFitScaler(t *testing.T) {
	opts, _, _ := irisData(t)
	d, err := nn.LoadCSV(beamtest.Testdata("iris.csv"), &opts)
	if err != nil {
		t.Fatal(err)
	}
	want := nn.FitScaler(nn.Standardize, d.X)
	glob := irisShards(t, t.TempDir(), 70, 0, 80)
	got, err := FitScaler(context.Background(), &Data{Glob: glob, CSV: opts}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != nn.Standardize || relDiff(got.Offset, want.Offset) > 1e-15 || relDiff(got.Scale, want.Scale) > 1e-15 {
		t.Errorf("scaler %+v, nn.FitScaler's %+v", got, want)
	}
}
