package nn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func TestNetworkLearnsXOR(t *testing.T) {
	x := mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 0, 1, 1})
	y := mat.NewDense(4, 1, []float64{0, 1, 1, 0})
	for _, m := range []Method{GradientDescent, Adam, LBFGS} {
		net, err := New(Config{Sizes: []int{2, 4, 1}, Activations: []Activation{Tanh, Sigmoid}, Loss: BinaryCrossEntropy, Init: Xavier, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		s := &Settings{Method: m, LearningRate: 0.5, Epochs: 3000}
		if m == Adam {
			s.LearningRate, s.BatchSize = 0.05, 4
		}
		if _, err := Train(context.Background(), net, x, y, s); err != nil {
			t.Fatalf("%v: %v", m, err)
		}
		got, err := net.Classify(x)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{0, 1, 1, 0} {
			if got[i] != want {
				t.Errorf("%v: XOR row %d: got %d, want %d", m, i, got[i], want)
			}
		}
	}
}

// Every optimizer finds the least-squares weights of a linear regression,
// which a single Identity layer with a bias can represent exactly.
func TestOptimizersFindLeastSquares(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 4))
	const n = 64
	x := randDense(rnd, n, 3, -1, 1)
	y := mat.NewDense(n, 1, nil)
	for i := 0; i < n; i++ {
		y.Set(i, 0, 2*x.At(i, 0)-x.At(i, 1)+0.5*x.At(i, 2)+0.3+0.05*rnd.NormFloat64())
	}
	// The least-squares solution of [X 1]·β = y.
	a := mat.NewDense(n, 4, nil)
	for i := 0; i < n; i++ {
		a.SetRow(i, append(mat.Row(nil, i, x), 1))
	}
	var beta mat.VecDense
	if err := beta.SolveVec(a, y.ColView(0)); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		s   Settings
		tol float64
	}{
		{Settings{Method: GradientDescent, LearningRate: 0.5, Epochs: 2000}, 1e-6},
		{Settings{Method: LBFGS, Epochs: 100}, 1e-6},
		// Mini-batch methods end in a noise ball around the optimum; a
		// decaying step shrinks it.
		{Settings{Method: SGD, LearningRate: 0.1, Epochs: 400, BatchSize: 8, Schedule: InverseTime, DecayRate: 0.05}, 2e-2},
		{Settings{Method: Momentum, LearningRate: 0.02, Epochs: 400, BatchSize: 8, Schedule: InverseTime, DecayRate: 0.05}, 2e-2},
		{Settings{Method: Nesterov, LearningRate: 0.02, Epochs: 400, BatchSize: 8, Schedule: StepDecay, DecayRate: 0.5, DecaySteps: 50}, 2e-2},
		{Settings{Method: Adam, LearningRate: 0.02, Epochs: 600, BatchSize: 8, Schedule: StepDecay, DecayRate: 0.5, DecaySteps: 100}, 2e-2},
	} {
		net, err := New(Config{Sizes: []int{3, 1}, Activations: []Activation{Identity}})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Train(context.Background(), net, x, y, &test.s)
		if err != nil {
			t.Fatalf("%v: %v", test.s.Method, err)
		}
		got := append(mat.Col(nil, 0, net.Weights(0)), net.Bias(0)[0])
		for i, v := range got {
			if d := math.Abs(v - beta.AtVec(i)); d > test.tol {
				t.Errorf("%v: β[%d] = %.6f, want %.6f ± %g (after %d epochs, %v)", test.s.Method, i, v, beta.AtVec(i), test.tol, len(rep.History), rep.Stop)
			}
		}
	}
}

func TestTrainReproducible(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 5))
	x := randDense(rnd, 200, 8, -1, 1)
	y := oneHotRows(rnd, 200, 3)
	run := func() (*Network, *Report) {
		net, err := New(Config{Sizes: []int{8, 16, 3}, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Init: He, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Train(context.Background(), net, x, y, &Settings{Method: Adam, Epochs: 5, BatchSize: 16, ValidationFraction: 0.2, Seed: 11})
		if err != nil {
			t.Fatal(err)
		}
		return net, rep
	}
	n1, r1 := run()
	n2, r2 := run()
	if !floats.Same(n1.params, n2.params) {
		t.Error("weights differ between two runs with the same seeds")
	}
	for i := range r1.History {
		a, b := r1.History[i], r2.History[i]
		if a.Loss != b.Loss || a.ValLoss != b.ValLoss || a.ValAccuracy != b.ValAccuracy {
			t.Errorf("epoch %d differs: %+v and %+v", i+1, a, b)
		}
	}
}

func TestTrainCancel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 6))
	x := randDense(rnd, 100, 4, -1, 1)
	y := randDense(rnd, 100, 1, 0, 1)
	net, err := New(Config{Sizes: []int{4, 8, 1}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var atEpoch3 []float64
	s := &Settings{Method: SGD, Epochs: 100, BatchSize: 10, Progress: func(e Epoch) {
		if e.Epoch == 3 {
			atEpoch3 = append([]float64(nil), net.params...)
			cancel()
		}
	}}
	rep, err := Train(ctx, net, x, y, s)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got error %v, want context.Canceled", err)
	}
	if rep.Stop != Cancelled || len(rep.History) != 3 {
		t.Errorf("got stop %v after %d epochs, want cancelled after 3", rep.Stop, len(rep.History))
	}
	if !floats.Same(net.params, atEpoch3) {
		t.Error("weights after cancelling differ from those at the end of epoch 3")
	}
}

func TestTrainDiverges(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	x := randDense(rnd, 50, 3, -10, 10)
	y := randDense(rnd, 50, 1, -100, 100)
	net, err := New(Config{Sizes: []int{3, 8, 1}, Activations: []Activation{ReLU, Identity}, Init: He, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Train(context.Background(), net, x, y, &Settings{Method: SGD, LearningRate: 10, Epochs: 100, BatchSize: 5})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("got error %v, want ErrDiverged", err)
	}
	if rep.Stop != Diverged {
		t.Errorf("got stop %v, want diverged", rep.Stop)
	}
	for _, v := range net.params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatal("weights are not finite after divergence; want those from before the step")
		}
	}
}

func TestEarlyStoppingRestoresBest(t *testing.T) {
	rnd := rand.New(rand.NewPCG(8, 8))
	// Few, noisy examples and a large network overfit quickly.
	x := randDense(rnd, 40, 5, -1, 1)
	y := randDense(rnd, 40, 1, 0, 1)
	vx := randDense(rnd, 40, 5, -1, 1)
	vy := randDense(rnd, 40, 1, 0, 1)
	net, err := New(Config{Sizes: []int{5, 64, 1}, Activations: []Activation{Tanh, Identity}, Init: Xavier, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Train(context.Background(), net, x, y, &Settings{Method: Adam, LearningRate: 0.01, Epochs: 2000, BatchSize: 8, ValidationX: vx, ValidationY: vy, Patience: 20})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stop != NoImprovement {
		t.Fatalf("got stop %v after %d epochs, want patience", rep.Stop, len(rep.History))
	}
	best := math.Inf(1)
	for _, e := range rep.History {
		best = math.Min(best, e.ValLoss)
	}
	if got := rep.History[rep.BestEpoch-1].ValLoss; got != best {
		t.Errorf("best epoch %d has validation loss %v, want the lowest, %v", rep.BestEpoch, got, best)
	}
	J, err := net.Cost(vx, vy)
	if err != nil {
		t.Fatal(err)
	}
	if got := J / 40; math.Abs(got-best) > 1e-12 {
		t.Errorf("validation loss of the final weights %v, want the best epoch's %v", got, best)
	}
}

// Once warm, a training step and a prediction allocate nothing.
func TestStepAllocatesNothing(t *testing.T) {
	rnd := rand.New(rand.NewPCG(10, 10))
	for _, test := range []struct {
		sizes []int
		batch int
		m     Method
	}{{[]int{2, 3, 1}, 3, GradientDescent}, {[]int{64, 128, 10}, 32, GradientDescent}, {[]int{64, 128, 10}, 32, Adam}} {
		net, err := New(Config{Sizes: test.sizes, Init: Xavier})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(net, &Settings{Method: test.m})
		if err != nil {
			t.Fatal(err)
		}
		x := randDense(rnd, test.batch, test.sizes[0], 0, 1)
		y := randDense(rnd, test.batch, test.sizes[len(test.sizes)-1], 0, 1)
		if got := testing.AllocsPerRun(10, func() { tr.Step(x, y) }); got != 0 {
			t.Errorf("%v %v: Step allocates %v times, want 0", test.sizes, test.m, got)
		}
		var ws Workspace
		dst := mat.NewDense(test.batch, test.sizes[len(test.sizes)-1], nil)
		if got := testing.AllocsPerRun(10, func() { net.PredictTo(dst, x, &ws) }); got != 0 {
			t.Errorf("%v: PredictTo allocates %v times, want 0", test.sizes, got)
		}
	}
}

// A run stopped after a checkpoint and resumed from it ends where an
// uninterrupted run ends.
func TestCheckpointResume(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 12))
	x := randDense(rnd, 90, 5, -1, 1)
	y := oneHotRows(rnd, 90, 3)
	newNet := func(seed uint64) *Network {
		net, err := New(Config{Sizes: []int{5, 7, 3}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Init: Xavier, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
	for _, m := range []Method{GradientDescent, SGD, Momentum, Nesterov, Adam} {
		settings := func() *Settings {
			return &Settings{Method: m, LearningRate: 0.05, Epochs: 10, BatchSize: 16, ValidationFraction: 0.2, Patience: 50, Seed: 3}
		}
		whole := newNet(1)
		want, err := Train(context.Background(), whole, x, y, settings())
		if err != nil {
			t.Fatal(err)
		}

		var saved *Checkpoint
		crash := errors.New("crash")
		s := settings()
		s.CheckpointEvery = 3
		s.Checkpoint = func(c *Checkpoint) error {
			if c.Epoch == 6 {
				cp := *c
				cp.Params = append([]float64(nil), c.Params...)
				cp.History = append([]Epoch(nil), c.History...)
				saved = &cp
				return crash
			}
			return nil
		}
		if _, err := Train(context.Background(), newNet(1), x, y, s); !errors.Is(err, crash) {
			t.Fatalf("%v: got %v, want the checkpoint's error", m, err)
		}
		resumed := newNet(99) // resuming replaces every weight
		s = settings()
		s.Resume = saved
		got, err := Train(context.Background(), resumed, x, y, s)
		if err != nil {
			t.Fatal(err)
		}
		if !floats.Same(resumed.params, whole.params) {
			t.Errorf("%v: weights after resuming differ from an uninterrupted run", m)
		}
		if len(got.History) != len(want.History) {
			t.Fatalf("%v: got %d epochs, want %d", m, len(got.History), len(want.History))
		}
		for i := range want.History {
			if got.History[i].Loss != want.History[i].Loss || !sameFloat(got.History[i].ValLoss, want.History[i].ValLoss) {
				t.Errorf("%v: epoch %d: got %+v, want %+v", m, i+1, got.History[i], want.History[i])
			}
		}
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// An update that overflows the weights while the loss before it was finite
// is caught, and the weights from before it are restored.
func TestTrainDivergesInUpdate(t *testing.T) {
	x := mat.NewDense(2, 1, []float64{1, 1})
	y := mat.NewDense(2, 1, []float64{3, 3})
	for _, m := range []Method{SGD, Momentum, Adam} {
		net, err := New(Config{Sizes: []int{1, 1}, Activations: []Activation{Identity}, NoBias: true})
		if err != nil {
			t.Fatal(err)
		}
		net.Params()[0] = 1
		// With the mean cost ½(w−3)², the gradient is w−3 = −2 and a step
		// of 1e308 overflows w; Adam's steps are bounded by η, so its η is
		// large too.
		rep, err := Train(context.Background(), net, x, y, &Settings{Method: m, LearningRate: 1e308, Epochs: 5, BatchSize: 1})
		if !errors.Is(err, ErrDiverged) {
			t.Fatalf("%v: got error %v, want ErrDiverged", m, err)
		}
		if w := net.Params()[0]; math.IsNaN(w) || math.IsInf(w, 0) {
			t.Errorf("%v: weight %v after divergence, want the finite one from before the step", m, w)
		}
		if rep.Stop != Diverged {
			t.Errorf("%v: stop %v, want diverged", m, rep.Stop)
		}
	}
}

// Steps on alternating batch buffers and a shorter batch, with momentum,
// L2 and a network large enough to share its update with a second
// goroutine, allocate nothing.
func TestStepAllocatesNothingVaried(t *testing.T) {
	rnd := rand.New(rand.NewPCG(16, 16))
	sizes := []int{200, 200, 10} // 42,210 parameters: above parallelMin
	net, err := New(Config{Sizes: sizes, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Init: He})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []Method{Momentum, Nesterov, Adam, SGD} {
		tr, err := NewTrainer(net, &Settings{Method: m, L2: 1e-4, LearningRate: 1e-3})
		if err != nil {
			t.Fatal(err)
		}
		in := sizes[0]
		xs := []*mat.Dense{randDense(rnd, 16, in, 0, 1), randDense(rnd, 16, in, 0, 1), randDense(rnd, 5, in, 0, 1)}
		ys := []*mat.Dense{oneHotRows(rnd, 16, 10), oneHotRows(rnd, 16, 10), oneHotRows(rnd, 5, 10)}
		for i := range xs {
			if _, err := tr.Step(xs[i], ys[i]); err != nil {
				t.Fatal(err)
			}
		}
		i := 0
		allocs := testing.AllocsPerRun(30, func() {
			if _, err := tr.Step(xs[i%3], ys[i%3]); err != nil {
				t.Fatal(err)
			}
			i++
		})
		if allocs != 0 {
			t.Errorf("%v, %v: Step allocates %v times, want 0", sizes, m, allocs)
		}
	}
}

// Resuming with early stopping from a checkpoint that kept no best weights
// is refused rather than restoring the new network's initial weights.
func TestResumeNeedsBestWeights(t *testing.T) {
	rnd := rand.New(rand.NewPCG(17, 17))
	x := randDense(rnd, 20, 3, -1, 1)
	y := randDense(rnd, 20, 1, 0, 1)
	net, err := New(Config{Sizes: []int{3, 4, 1}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var saved Checkpoint
	s := &Settings{Method: SGD, Epochs: 2, CheckpointEvery: 1, Checkpoint: func(c *Checkpoint) error {
		saved = *c
		saved.Params = append([]float64(nil), c.Params...)
		saved.History = append([]Epoch(nil), c.History...)
		return nil
	}}
	if _, err := Train(context.Background(), net, x, y, s); err != nil {
		t.Fatal(err)
	}
	// Past the fingerprint, which tells of the new patience, as a
	// checkpoint of version 1 would be.
	_, err = Train(context.Background(), net, x, y, &Settings{Method: SGD, Epochs: 4, Patience: 2, Resume: &saved, ResumeChanged: true})
	if err == nil || !strings.Contains(err.Error(), "best weights") {
		t.Errorf("got %v, want an error about the best weights", err)
	}
}

// A gradient-descent step, whose update is fused into the weight-gradient
// products, moves the weights by −η·(∂J/∂W/n + λ·W) and the biases by
// −η·∂J/∂b/n, as Gradients computes them.
func TestFusedDescentStep(t *testing.T) {
	rnd := rand.New(rand.NewPCG(19, 19))
	for _, m := range []Method{GradientDescent, SGD} {
		net, err := New(Config{Sizes: []int{5, 7, 3}, Activations: []Activation{Tanh, Sigmoid}, Init: Xavier, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		for i := range net.params {
			net.params[i] += 0.1 * rnd.NormFloat64() // biases too
		}
		x := randDense(rnd, 9, 5, -1, 1)
		y := randDense(rnd, 9, 3, 0, 1)
		g, err := net.Gradients(x, y)
		if err != nil {
			t.Fatal(err)
		}
		const lr, l2 = 0.3, 0.05
		want := append([]float64(nil), net.params...)
		ws, _ := layerViews(want, net.sizes, net.bias)
		for i := range want {
			want[i] -= lr * g.Flat[i] / 9
		}
		for l, w := range ws {
			floats.AddScaled(w.RawMatrix().Data, -lr*l2, net.w[l].RawMatrix().Data)
		}
		tr, err := NewTrainer(net, &Settings{Method: m, LearningRate: lr, L2: l2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Step(x, y); err != nil {
			t.Fatal(err)
		}
		for i, v := range net.params {
			if math.Abs(v-want[i]) > 1e-14*math.Max(1, math.Abs(want[i])) {
				t.Fatalf("%v: parameter %d is %v after the step, want %v", m, i, v, want[i])
			}
		}
	}
}

// Weights that overflow while the loss stays finite (a saturated sigmoid
// hides them) are caught, and finite weights are restored.
func TestTrainDivergesSilently(t *testing.T) {
	x := mat.NewDense(4, 1, []float64{100, 100, 100, 100})
	y := mat.NewDense(4, 1, []float64{0, 0, 0, 0})
	for _, m := range []Method{GradientDescent, SGD, Momentum, Adam} {
		net, err := New(Config{Sizes: []int{1, 1}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range net.params {
			net.params[i] = 0
		}
		_, err = Train(context.Background(), net, x, y, &Settings{Method: m, LearningRate: 1e308, Epochs: 5, BatchSize: 2})
		if !errors.Is(err, ErrDiverged) {
			t.Errorf("%v: got error %v, want ErrDiverged", m, err)
		}
		if !paramsFinite(net.params) {
			t.Errorf("%v: weights %v after divergence, want finite ones", m, net.params)
		}
	}
}

// Training gives the same weights whatever GOMAXPROCS is, although large
// updates are shared with a second goroutine when it is above one.
func TestTrainIndependentOfGOMAXPROCS(t *testing.T) {
	rnd := rand.New(rand.NewPCG(22, 22))
	x := randDense(rnd, 64, 60, 0, 1)
	y := oneHotRows(rnd, 64, 10)
	run := func(procs int) []float64 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		// 60·555 + 555 + 555·10 + 10 = 39,415 parameters: above parallelMin.
		net, err := New(Config{Sizes: []int{60, 555, 10}, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Init: He, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Train(context.Background(), net, x, y, &Settings{Method: Adam, Epochs: 3, BatchSize: 16, Seed: 4}); err != nil {
			t.Fatal(err)
		}
		return net.params
	}
	if a, b := run(1), run(2); !floats.Same(a, b) {
		t.Error("weights differ between GOMAXPROCS 1 and 2")
	}
}

// Resuming with other settings or data than the checkpoint's is refused,
// unless Settings.ResumeChanged says to go on; settings that the run does
// not use, and defaults given as their values, may change.
func TestResumeFingerprint(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 13))
	x := randDense(rnd, 90, 5, -1, 1)
	y := oneHotRows(rnd, 90, 3)
	net := func() *Network {
		n, err := New(Config{Sizes: []int{5, 7, 3}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	settings := func() *Settings {
		return &Settings{Method: Adam, LearningRate: 0.05, Epochs: 6, ValidationFraction: 0.2, Seed: 3}
	}
	var saved *Checkpoint
	s := settings()
	s.Epochs, s.CheckpointEvery = 3, 3
	s.Checkpoint = func(c *Checkpoint) error {
		cp := *c
		cp.History = slices.Clone(c.History)
		saved = &cp
		return nil
	}
	if _, err := Train(context.Background(), net(), x, y, s); err != nil || saved == nil || saved.Fingerprint == nil {
		t.Fatalf("no checkpoint with a fingerprint: %v", err)
	}
	x2 := mat.DenseCopyOf(x)
	x2.Set(0, 0, 0.5)
	for _, c := range []struct {
		name   string
		change func(*Settings)
		x      *mat.Dense
		want   string // in the error; "" for none
	}{
		{"the same", func(*Settings) {}, x, ""},
		{"the default batch size given", func(s *Settings) { s.BatchSize = 32 }, x, ""},
		{"a momentum Adam does not use", func(s *Settings) { s.Momentum = 0.5 }, x, ""},
		{"a decay rate without a schedule", func(s *Settings) { s.DecayRate = 0.5 }, x, ""},
		{"another learning rate", func(s *Settings) { s.LearningRate = 0.1 }, x, "learning rate 0.05, not 0.1"},
		{"another batch size", func(s *Settings) { s.BatchSize = 8 }, x, "batch size 32, not 8"},
		{"another β₁", func(s *Settings) { s.Beta1 = 0.8 }, x, "beta1 0.9, not 0.8"},
		{"other data", func(*Settings) {}, x2, "data digest"},
		{"other data, resumed all the same", func(s *Settings) { s.ResumeChanged = true }, x2, ""},
	} {
		s := settings()
		c.change(s)
		s.Resume = saved
		_, err := Train(context.Background(), net(), c.x, y, s)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (!errors.Is(err, ErrResumeChanged) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want ErrResumeChanged saying %q", c.name, err, c.want)
		}
	}
}
