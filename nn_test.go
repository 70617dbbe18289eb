package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/neuralgo/nn/gemm"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// tutorialData returns the tutorial's test-score data: X = [[3,5],[5,1],[10,2]]
// divided by its column maxima and y = [75,82,93]/100.
func tutorialData() (x, y *mat.Dense) {
	x = mat.NewDense(3, 2, []float64{3.0 / 10, 5.0 / 5, 5.0 / 10, 1.0 / 5, 10.0 / 10, 2.0 / 5})
	y = mat.NewDense(3, 1, []float64{0.75, 0.82, 0.93})
	return x, y
}

// randDense returns an r×c matrix of values drawn uniformly from [lo, hi).
func randDense(rnd *rand.Rand, r, c int, lo, hi float64) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	raw := m.RawMatrix().Data
	for i := range raw {
		raw[i] = lo + (hi-lo)*rnd.Float64()
	}
	return m
}

// oneHotRows returns r one-hot rows over c classes drawn at random.
func oneHotRows(rnd *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		m.Set(i, rnd.IntN(c), 1)
	}
	return m
}

// gradErr returns the norm-wise relative error ‖a−b‖/(‖a‖+‖b‖) and the
// largest element-wise error |a−b|/max(|a|+|b|, 1e-3).
func gradErr(a, b []float64) (norm, elem float64) {
	d := make([]float64, len(a))
	floats.SubTo(d, a, b)
	norm = floats.Norm(d, 2) / math.Max(floats.Norm(a, 2)+floats.Norm(b, 2), 1e-12)
	for i := range a {
		elem = math.Max(elem, math.Abs(a[i]-b[i])/math.Max(math.Abs(a[i])+math.Abs(b[i]), 1e-3))
	}
	return norm, elem
}

func TestGradientsMatchFiniteDifferences(t *testing.T) {
	// Weights from Xavier keep every unit away from saturation, and inputs
	// in [-1, 1) keep ReLU's kink away from the finite-difference step.
	type shape struct {
		sizes []int
		rows  int
	}
	// One row goes forward through a matrix-vector product.
	shapes := []shape{{[]int{2, 3, 1}, 3}, {[]int{4, 5, 3}, 7}, {[]int{3, 6, 5, 4, 2}, 5}, {[]int{5, 2}, 4}, {[]int{3, 4, 2}, 1}}
	hidden := []Activation{Sigmoid, Tanh, ReLU, Identity}
	outputs := []struct {
		act  Activation
		loss Loss
	}{
		{Sigmoid, SquaredError}, {Tanh, SquaredError}, {Identity, SquaredError}, {ReLU, SquaredError},
		{Softmax, SquaredError}, {Softmax, CrossEntropy}, {Sigmoid, BinaryCrossEntropy},
	}
	rnd := rand.New(rand.NewPCG(1, 1))
	for _, sh := range shapes {
		for _, h := range hidden {
			for _, o := range outputs {
				for _, noBias := range []bool{false, true} {
					name := fmt.Sprintf("%v/%v/%v+%v/nobias=%t", sh.sizes, h, o.act, o.loss, noBias)
					L := len(sh.sizes) - 1
					if o.act == Softmax && sh.sizes[L] < 2 {
						continue // a softmax of one output is refused by New
					}
					acts := make([]Activation, L)
					for l := range acts {
						acts[l] = h
					}
					acts[L-1] = o.act
					net, err := New(Config{Sizes: sh.sizes, Activations: acts, NoBias: noBias, Loss: o.loss, Init: Xavier, Seed: rnd.Uint64()})
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for _, b := range net.b {
						for j := range b {
							b[j] = rnd.Float64() - 0.5
						}
					}
					out := sh.sizes[L]
					x := randDense(rnd, sh.rows, sh.sizes[0], -1, 1)
					var y *mat.Dense
					switch {
					case o.loss == CrossEntropy && noBias:
						// Targets that do not sum to one (label
						// smoothing, several labels) have the gradient
						// ŷ·Σy − y.
						y = randDense(rnd, sh.rows, out, 0, 1)
					case o.loss == CrossEntropy:
						y = oneHotRows(rnd, sh.rows, out)
					default:
						y = randDense(rnd, sh.rows, out, 0, 1)
					}
					g, err := net.Gradients(x, y)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					num, err := net.NumericalGradients(x, y, nil)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					norm, elem := gradErr(g.Flat, num.Flat)
					if norm > 1e-6 || elem > 1e-6 {
						t.Errorf("%s: relative error %.2g (element-wise %.2g), want below 1e-6\nanalytic  %.6g\nnumerical %.6g", name, norm, elem, g.Flat, num.Flat)
					}
				}
			}
		}
	}
}

// The training objective, mean cost plus ½·λ·Σ‖W‖², has the gradient that
// the optimizers follow.
func TestTrainingObjectiveGradient(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 2))
	for _, l2 := range []float64{0, 0.3} {
		net, err := New(Config{Sizes: []int{3, 4, 2}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Init: Xavier, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		x := randDense(rnd, 6, 3, -1, 1)
		y := oneHotRows(rnd, 6, 2)
		bp := newBackprop(net, 6)
		bp.setBatch(x, y)
		bp.forward()
		bp.backward(1.0/6, l2)
		analytic := append([]float64(nil), bp.grad...)
		numeric := make([]float64, len(analytic))
		c := net.Clone()
		cbp := newBackprop(c, 6)
		cbp.setBatch(x, y)
		for i := range c.params {
			h := 1e-6
			orig := c.params[i]
			c.params[i] = orig + h
			cbp.forward()
			fp := cbp.cost()/6 + c.l2Penalty(l2)
			c.params[i] = orig - h
			cbp.forward()
			fm := cbp.cost()/6 + c.l2Penalty(l2)
			c.params[i] = orig
			numeric[i] = (fp - fm) / (2 * h)
		}
		if norm, elem := gradErr(analytic, numeric); norm > 1e-6 || elem > 1e-6 {
			t.Errorf("l2=%v: relative error %.2g (element-wise %.2g), want below 1e-6", l2, norm, elem)
		}
	}
}

func TestCrossEntropyLargeLogits(t *testing.T) {
	for _, c := range []struct {
		act  Activation
		loss Loss
		out  int
	}{{Softmax, CrossEntropy, 3}, {Sigmoid, BinaryCrossEntropy, 1}} {
		net, err := New(Config{Sizes: []int{2, c.out}, Activations: []Activation{c.act}, Loss: c.loss})
		if err != nil {
			t.Fatal(err)
		}
		// Weights of ±1000 push the logits to ±1000, where a naive log(ŷ)
		// is log(0) = −Inf.
		for i := range net.params {
			net.params[i] = 1000 * float64(1-2*(i%2))
		}
		x := mat.NewDense(2, 2, []float64{1, -1, -1, 1})
		y := mat.NewDense(2, c.out, nil)
		y.Set(0, c.out-1, 1)
		y.Set(1, 0, 1)
		J, err := net.Cost(x, y)
		if err != nil {
			t.Fatal(err)
		}
		g, err := net.Gradients(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if math.IsNaN(J) || math.IsInf(J, 0) || J <= 0 {
			t.Errorf("%v: cost %v, want finite and positive", c.loss, J)
		}
		for _, v := range g.Flat {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%v: gradient %v, want finite", c.loss, g.Flat)
			}
		}
	}
}

func TestTutorialNetwork(t *testing.T) {
	x, y := tutorialData()
	// Seed 1, η = 0.5 on the mean cost and 5000 iterations: the settings of
	// ExampleTrain.
	net, err := New(Config{Sizes: []int{2, 3, 1}, NoBias: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	report, err := Train(context.Background(), net, x, y, &Settings{LearningRate: 0.5, Epochs: 5000})
	if err != nil {
		t.Fatal(err)
	}
	loss := report.Loss()
	if len(loss) != 5000 || report.Stop != MaxEpochs {
		t.Fatalf("got %d epochs and stop %v, want 5000 and max epochs", len(loss), report.Stop)
	}
	for i := 1; i < len(loss); i++ {
		if !(loss[i] < loss[i-1]) {
			t.Fatalf("cost rose at iteration %d: %v then %v; want it to fall monotonically", i+1, loss[i-1], loss[i])
		}
	}
	if last := loss[len(loss)-1]; last >= 1e-3 {
		t.Errorf("final cost %v, want below 1e-3", last)
	}
	J, err := net.Cost(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if want := loss[len(loss)-1] * 3; math.Abs(J-want) > 1e-15 {
		t.Errorf("Cost %v, want 3× the reported mean %v", J, want)
	}
	yHat, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if d := math.Abs(yHat.At(i, 0) - y.At(i, 0)); d > 0.05 {
			t.Errorf("prediction %d is %.3f, want within 0.05 of %.2f", i, yHat.At(i, 0), y.At(i, 0))
		}
	}
	g, err := net.Gradients(x, y)
	if err != nil {
		t.Fatal(err)
	}
	// The tutorial's trained gradients lie between 1e-7 and 1e-3.
	if m := floats.Norm(g.Flat, math.Inf(1)); m > 1e-3 {
		t.Errorf("largest gradient %v, want at most 1e-3", m)
	}
}

func TestBadInput(t *testing.T) {
	net, err := New(Config{Sizes: []int{2, 3, 1}})
	if err != nil {
		t.Fatal(err)
	}
	good := mat.NewDense(2, 2, []float64{1, 2, 3, 4})
	goodY := mat.NewDense(2, 1, []float64{0, 1})
	for _, test := range []struct {
		name string
		x, y mat.Matrix
		want error
	}{
		{"X with 3 columns", mat.NewDense(2, 3, nil), goodY, ErrShape},
		{"Y with 2 rows for 3", mat.NewDense(3, 2, nil), goodY, ErrShape},
		{"Y with 2 columns", good, mat.NewDense(2, 2, nil), ErrShape},
		{"empty X", &mat.Dense{}, goodY, ErrEmpty},
		{"NaN in X", mat.NewDense(2, 2, []float64{1, math.NaN(), 3, 4}), goodY, ErrNotFinite},
		{"Inf in Y", good, mat.NewDense(2, 1, []float64{math.Inf(1), 0}), ErrNotFinite},
	} {
		if _, err := net.Cost(test.x, test.y); !errors.Is(err, test.want) {
			t.Errorf("Cost, %s: got %v, want %v", test.name, err, test.want)
		}
		if _, err := net.Gradients(test.x, test.y); !errors.Is(err, test.want) {
			t.Errorf("Gradients, %s: got %v, want %v", test.name, err, test.want)
		}
		if _, err := Train(context.Background(), net, test.x, test.y, nil); !errors.Is(err, test.want) {
			t.Errorf("Train, %s: got %v, want %v", test.name, err, test.want)
		}
	}
	for _, x := range []mat.Matrix{mat.NewDense(1, 3, nil), &mat.Dense{}, mat.NewDense(1, 2, []float64{math.Inf(-1), 0})} {
		if _, err := net.Predict(x); err == nil {
			t.Errorf("Predict of %v: got no error", mat.Formatted(x))
		}
	}
	for _, c := range []Config{
		{Sizes: []int{2}},
		{Sizes: []int{2, 0, 1}},
		{Sizes: []int{2, 3, 1}, Activations: []Activation{Sigmoid}},
		{Sizes: []int{2, 3, 1}, Activations: []Activation{Softmax, Sigmoid}},
		{Sizes: []int{2, 3, 1}, Loss: CrossEntropy},
		{Sizes: []int{2, 3}, Activations: []Activation{Softmax}, Loss: BinaryCrossEntropy},
		{Sizes: []int{2, 1}, Activations: []Activation{Softmax}, Loss: CrossEntropy},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): got %v, want ErrConfig", c, err)
		}
	}
	for _, test := range []struct {
		s     Settings
		field string
	}{
		{Settings{LearningRate: -1}, "LearningRate"},
		{Settings{Epochs: -1}, "Epochs"},
		{Settings{L2: math.NaN()}, "L2"},
		{Settings{ValidationFraction: 1}, "ValidationFraction"},
		{Settings{Method: Method(99)}, "Method"},
		{Settings{Schedule: StepDecay}, "DecayRate"}, // a zero factor would stop training
		{Settings{Schedule: InverseTime, DecayRate: math.Inf(1)}, "DecayRate"},
		{Settings{MinDelta: math.NaN()}, "MinDelta"},
		{Settings{TargetLoss: -1}, "TargetLoss"},
		{Settings{Epsilon: -1e-8}, "Epsilon"},
		{Settings{Momentum: 1}, "Momentum"},
		{Settings{Method: LBFGS, CheckpointEvery: 1}, "LBFGS"},
	} {
		_, err := Train(context.Background(), net, good, goodY, &test.s)
		if err == nil || !strings.Contains(err.Error(), test.field) {
			t.Errorf("Train with %+v: got %v, want an error naming %s", test.s, err, test.field)
		}
	}
	// PredictTo reports empty input as an error before it looks at dst.
	var ws Workspace
	if err := net.PredictTo(mat.NewDense(1, 1, nil), &mat.Dense{}, &ws); !errors.Is(err, ErrEmpty) {
		t.Errorf("PredictTo of empty input: got %v, want ErrEmpty", err)
	}
}

func TestPredictConcurrent(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 9))
	net, err := New(Config{Sizes: []int{6, 10, 4}, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Init: He, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	x := randDense(rnd, 50, 6, -1, 1)
	want, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ws Workspace
			dst := mat.NewDense(1, 4, nil)
			for i := 0; i < 50; i++ {
				if err := net.PredictTo(dst, x.Slice(i, i+1, 0, 6), &ws); err != nil {
					t.Error(err)
					return
				}
				for j := 0; j < 4; j++ {
					if math.Abs(dst.At(0, j)-want.At(i, j)) > 1e-12 {
						t.Errorf("row %d: got %v, want %v", i, mat.Row(nil, 0, dst), mat.Row(nil, i, want))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestPredictParallel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 13))
	net, err := New(Config{Sizes: []int{20, 32, 5}, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Init: He, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, rows := range []int{1, 255, 256, 1000, 2049} {
		x := randDense(rnd, rows, 20, -1, 1)
		want, err := net.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		got, err := net.PredictParallel(x)
		if err != nil {
			t.Fatal(err)
		}
		if !mat.EqualApprox(got, want, 1e-12) {
			t.Errorf("%d rows: PredictParallel differs from Predict", rows)
		}
	}
	if _, err := net.PredictParallel(mat.NewDense(3, 19, nil)); !errors.Is(err, ErrShape) {
		t.Errorf("got %v, want ErrShape", err)
	}
}

// TestBackend checks that Backend names the gemm kernel in use.
func TestBackend(t *testing.T) {
	b := Backend()
	t.Log(b)
	if want := "gemm " + gemm.Kernel() + " kernel"; !strings.Contains(b, want) {
		t.Errorf("Backend() = %q, want it to name %q", b, want)
	}
}

// TestCostGradient checks that CostGradient gives Cost and the Flat
// gradient of Gradients bit for bit, over batches of two sizes and back,
// that it allocates nothing once warm, and that it refuses bad input.
func TestCostGradient(t *testing.T) {
	rnd := rand.New(rand.NewPCG(2, 3))
	for _, cfg := range []Config{
		{Sizes: []int{4, 6, 3}, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Init: Xavier, Seed: 1},
		{Sizes: []int{3, 5, 4, 1}, Activations: []Activation{Tanh, GELU, Sigmoid}, Loss: BinaryCrossEntropy, Init: Xavier, Seed: 2},
		{Sizes: []int{2, 3, 2}, NoBias: true, Seed: 3},
	} {
		net, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ws GradientWorkspace
		grad := make([]float64, len(net.Params()))
		out := cfg.Sizes[len(cfg.Sizes)-1]
		for _, rows := range []int{7, 3, 7, 1, 7} {
			x := randDense(rnd, rows, cfg.Sizes[0], -1, 1)
			y := randDense(rnd, rows, out, 0, 1)
			if cfg.Loss == CrossEntropy {
				y = oneHotRows(rnd, rows, out)
			}
			cost, err := net.CostGradient(grad, x, y, &ws)
			if err != nil {
				t.Fatal(err)
			}
			wantCost, err := net.Cost(x, y)
			if err != nil {
				t.Fatal(err)
			}
			want, err := net.Gradients(x, y)
			if err != nil {
				t.Fatal(err)
			}
			if cost != wantCost || !slices.Equal(grad, want.Flat) {
				t.Errorf("%v, %d rows: CostGradient gives %v and %v, want %v and %v", cfg.Sizes, rows, cost, grad, wantCost, want.Flat)
			}
			if allocs := testing.AllocsPerRun(5, func() { net.CostGradient(grad, x, y, &ws) }); allocs != 0 {
				t.Errorf("%v, %d rows: %v allocations once warm, want 0", cfg.Sizes, rows, allocs)
			}
		}
		x := randDense(rnd, 2, cfg.Sizes[0], -1, 1)
		x.Set(1, 0, math.NaN())
		if _, err := net.CostGradient(grad, x, randDense(rnd, 2, out, 0, 1), &ws); !errors.Is(err, ErrNotFinite) {
			t.Errorf("NaN input: got %v, want ErrNotFinite", err)
		}
		if _, err := net.CostGradient(grad, randDense(rnd, 2, cfg.Sizes[0]+1, -1, 1), randDense(rnd, 2, out, 0, 1), &ws); !errors.Is(err, ErrShape) {
			t.Errorf("wrong width: got %v, want ErrShape", err)
		}
	}
	net, _ := New(Config{Sizes: []int{2, 2}})
	defer func() {
		if recover() == nil {
			t.Error("a short dst did not panic")
		}
	}()
	net.CostGradient(make([]float64, 1), mat.NewDense(1, 2, nil), mat.NewDense(1, 2, nil), &GradientWorkspace{})
}
