package nn

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/neuralgo/nn/internal/tablegen"
	"gonum.org/v1/gonum/mat"
)

// tableChunks returns n Datasets of rows rows of the synthetic table,
// read with every class listed, as PartialFit's callers read chunks.
func tableChunks(t *testing.T, n, rows int, seed uint64) []*Dataset {
	t.Helper()
	var out []*Dataset
	for i := range n {
		var b bytes.Buffer
		if err := tablegen.Write(&b, rows, seed+uint64(i)); err != nil {
			t.Fatal(err)
		}
		d, err := ReadCSV(&b, &CSVOptions{Classify: true, Classes: []string{"a", "b", "c"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestPartialFitOneCallIsFit checks that one call of PartialFit is Fit
// for one epoch, bit for bit: the same held-out rows, scaler, shuffle and
// steps.
func TestPartialFitOneCallIsFit(t *testing.T) {
	d := tableChunks(t, 1, 1000, 1)[0]
	ctx := context.Background()
	fit := &Classifier{Epochs: 1, Seed: 4, Balanced: true}
	if err := fit.Fit(ctx, d); err != nil {
		t.Fatal(err)
	}
	part := &Classifier{Epochs: 1, Seed: 4, Balanced: true}
	if err := part.PartialFit(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := sameModel(fit.Model, part.Model); err != nil {
		t.Error(err)
	}
	if a, b := fit.Report.History[0], part.Report.History[0]; a.Loss != b.Loss || a.ValLoss != b.ValLoss {
		t.Errorf("Fit's epoch %+v, PartialFit's %+v", a, b)
	}
	reg, err := ReadCSV(bytes.NewReader([]byte("x,y,t\n1,2,3\n2,1,4\n3,3,7\n4,0,3\n5,2,9\n6,1,8\n")), &CSVOptions{Target: "t"})
	if err != nil {
		t.Fatal(err)
	}
	rf := &Regressor{Epochs: 1, Seed: 2, BatchSize: 2, ValidationFraction: -1}
	rp := &Regressor{Epochs: 1, Seed: 2, BatchSize: 2, ValidationFraction: -1}
	if err := rf.Fit(ctx, reg); err != nil {
		t.Fatal(err)
	}
	if err := rp.PartialFit(ctx, reg); err != nil {
		t.Fatal(err)
	}
	if err := sameModel(rf.Model, rp.Model); err != nil {
		t.Errorf("regressor: %v", err)
	}
}

// TestPartialFit trains on chunks of rows one call each and checks that
// the model learns, that later chunks are read by the names of their
// columns and classes, whatever their order, and that a class the model
// lacks is an error.
func TestPartialFit(t *testing.T) {
	chunks := tableChunks(t, 8, 1500, 10)
	test := tableChunks(t, 1, 3000, 99)[0]
	ctx := context.Background()
	c := &Classifier{Hidden: []int{16}, Seed: 1}
	for i, d := range chunks {
		if i == 3 {
			// Columns and classes in another order.
			perm := []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
			x := gatherCols(d.X, perm)
			names := make([]string, 10)
			for k, j := range perm {
				names[k] = d.Features[j]
			}
			y := gatherCols(d.Y, []int{2, 0, 1})
			d = &Dataset{X: x, Y: y, Features: names, Target: d.Target, Classes: []string{"c", "a", "b"}}
		}
		if err := c.PartialFit(ctx, d); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if n := len(c.Report.History); n != 8 {
		t.Errorf("%d epochs in the report after 8 calls", n)
	}
	acc, err := c.Score(test)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test accuracy %.4f after 8 calls of 1500 rows", acc)
	if acc < 0.9 {
		t.Errorf("test accuracy %.4f, want ≥ 0.9", acc)
	}
	odd := &Dataset{X: chunks[0].X, Y: chunks[0].Y, Features: chunks[0].Features, Classes: []string{"a", "b", "z"}}
	if err := c.PartialFit(ctx, odd); !errors.Is(err, ErrUnknownClass) {
		t.Errorf("a Dataset with a class the model lacks: error %v, want ErrUnknownClass", err)
	}
}

// TestPartialFitEarlyStopping feeds rows whose classes are noise after a
// first good chunk: the validation loss stops improving, PartialFit stops
// after Patience calls with the weights of the best, and then returns
// ErrStopped.
func TestPartialFitEarlyStopping(t *testing.T) {
	chunks := tableChunks(t, 6, 1000, 20)
	ctx := context.Background()
	c := &Classifier{Hidden: []int{16}, Seed: 1, Patience: 2, LearningRate: 0.05}
	if err := c.PartialFit(ctx, chunks[0]); err != nil {
		t.Fatal(err)
	}
	best := slices.Clone(c.Model.Network.Params())
	calls := 1
	for _, d := range chunks[1:] {
		noise := &Dataset{X: d.X, Y: gatherCols(d.Y, []int{1, 2, 0}), Features: d.Features, Classes: d.Classes}
		calls++
		err := c.PartialFit(ctx, noise)
		if errors.Is(err, ErrStopped) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.Report.Stop != NoImprovement || calls != 3 || len(c.Report.History) != 3 {
		t.Fatalf("stopped for %v after %d calls and %d epochs, want no improvement at the third", c.Report.Stop, calls, len(c.Report.History))
	}
	if c.Report.BestEpoch == 1 && !slices.Equal(c.Model.Network.Params(), best) {
		t.Error("the model does not hold the weights of the best call")
	}
	if err := c.PartialFit(ctx, chunks[1]); !errors.Is(err, ErrStopped) || len(c.Report.History) != 3 {
		t.Errorf("a call after stopping: error %v and %d epochs, want ErrStopped and no training", err, len(c.Report.History))
	}
}

// gatherCols returns the columns cols of m, in that order.
func gatherCols(m *mat.Dense, cols []int) *mat.Dense {
	r, _ := m.Dims()
	out := mat.NewDense(r, len(cols), nil)
	for k, j := range cols {
		out.SetCol(k, mat.Col(nil, j, m))
	}
	return out
}

// TestPartialFitAfterFit checks that PartialFit continues from a model of
// Fit, with its scaler and classes, and that Fit after PartialFit starts
// afresh.
func TestPartialFitAfterFit(t *testing.T) {
	chunks := tableChunks(t, 3, 1000, 30)
	ctx := context.Background()
	c := &Classifier{Hidden: []int{8}, Epochs: 3, Seed: 1}
	if err := c.Fit(ctx, chunks[0]); err != nil {
		t.Fatal(err)
	}
	scaler := c.Model.Scaler
	before := slices.Clone(c.Model.Network.Params())
	if err := c.PartialFit(ctx, chunks[1]); err != nil {
		t.Fatal(err)
	}
	if c.Model.Scaler != scaler || slices.Equal(c.Model.Network.Params(), before) {
		t.Error("PartialFit after Fit did not train the fitted model with its scaler")
	}
	if n := len(c.Report.History); n != 1 {
		t.Errorf("%d epochs in the report of a PartialFit after Fit, want 1", n)
	}
	if err := c.Fit(ctx, chunks[2]); err != nil {
		t.Fatal(err)
	}
	if c.partial != nil {
		t.Error("Fit kept the state of PartialFit")
	}
}

// TestPartialFitAfterFitKeepsTheModel checks that PartialFit after Fit
// leaves the Model that Fit returned as it was, weighs classes as the
// estimator asks, and continues a regression on standardised targets, as
// Fit trained it, rather than diverging on targets in their own units.
func TestPartialFitAfterFitKeepsTheModel(t *testing.T) {
	ctx := context.Background()
	chunks := tableChunks(t, 2, 1000, 40)
	c := &Classifier{Hidden: []int{8}, Epochs: 2, Seed: 1, Balanced: true}
	if err := c.Fit(ctx, chunks[0]); err != nil {
		t.Fatal(err)
	}
	old := c.Model
	params := slices.Clone(old.Network.Params())
	if err := c.PartialFit(ctx, chunks[1]); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(old.Network.Params(), params) || c.Model == old {
		t.Error("PartialFit changed the Model that Fit returned")
	}
	if c.partial.classW == nil {
		t.Error("PartialFit after Fit of a Balanced classifier weighs no class")
	}

	// Targets about 5e4: trained raw by SGD they diverge.
	rnd := rand.New(rand.NewPCG(1, 1))
	x := mat.NewDense(400, 2, nil)
	y := mat.NewDense(400, 1, nil)
	for i := range 400 {
		a, b := rnd.NormFloat64(), rnd.NormFloat64()
		x.SetRow(i, []float64{a, b})
		y.Set(i, 0, 5e4+1e4*a-3e3*b)
	}
	d := &Dataset{X: x, Y: y, Features: []string{"a", "b"}, Target: "t"}
	r := &Regressor{Hidden: []int{8}, Method: "sgd", LearningRate: 0.01, Epochs: 30, Seed: 1}
	if err := r.Fit(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := r.PartialFit(ctx, d); err != nil {
		t.Fatal(err)
	}
	if r2, err := r.Score(d); err != nil || r2 < 0.9 {
		t.Errorf("R² %v (%v) after PartialFit continued Fit, want ≥ 0.9", r2, err)
	}
}

// TestPartialFitFailedCall checks that a call that fails leaves the
// training as it was: a Dataset without a feature leaves a fitted
// regressor's predictions alone, and a cancelled call, made again, ends
// where a run without the cancellation does, bit for bit.
func TestPartialFitFailedCall(t *testing.T) {
	ctx := context.Background()
	x := mat.NewDense(200, 2, nil)
	y := mat.NewDense(200, 1, nil)
	for i := range 200 {
		a, b := float64(i%13), float64(i%7)
		x.SetRow(i, []float64{a, b})
		y.Set(i, 0, 300+40*a-20*b)
	}
	d := &Dataset{X: x, Y: y, Features: []string{"a", "b"}, Target: "t"}
	r := &Regressor{Hidden: []int{8}, Epochs: 20, Seed: 1}
	if err := r.Fit(ctx, d); err != nil {
		t.Fatal(err)
	}
	before, err := r.Predict(d)
	if err != nil {
		t.Fatal(err)
	}
	lacking := &Dataset{X: mat.NewDense(200, 1, nil), Y: y, Features: []string{"a"}, Target: "t"}
	report := r.Report
	if err := r.PartialFit(ctx, lacking); !errors.Is(err, ErrNoFeature) {
		t.Fatalf("a Dataset without feature b: error %v", err)
	}
	if r.partial != nil || r.Report != report {
		t.Error("a first PartialFit that failed kept its training, or replaced Fit's report")
	}
	after, err := r.Predict(d)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(before, after) {
		t.Error("a PartialFit that failed changed the predictions of the fitted model")
	}

	chunks := tableChunks(t, 2, 600, 50)
	plain := &Classifier{Hidden: []int{8}, Seed: 2}
	cancelledOnce := &Classifier{Hidden: []int{8}, Seed: 2}
	for _, c := range []*Classifier{plain, cancelledOnce} {
		if err := c.PartialFit(ctx, chunks[0]); err != nil {
			t.Fatal(err)
		}
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := cancelledOnce.PartialFit(done, chunks[1]); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled call: error %v", err)
	}
	for _, c := range []*Classifier{plain, cancelledOnce} {
		if err := c.PartialFit(ctx, chunks[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sameModel(plain.Model, cancelledOnce.Model); err != nil {
		t.Errorf("a call made again after it was cancelled: %v", err)
	}
}
