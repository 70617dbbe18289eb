package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// round32 rounds every element of m to float32, in place, and returns m.
func round32(m *mat.Dense) *mat.Dense {
	raw := m.RawMatrix().Data
	for i, v := range raw {
		raw[i] = float64(float32(v))
	}
	return m
}

// gradient32 returns the float32 gradient of the cost of net on x and y,
// and the cost, from a float32 forward and backward pass.
func gradient32(net *Network, x, y *mat.Dense) ([]float64, float64) {
	r, _ := x.Dims()
	bp := newBackprop32(net, newParams32(net), r, false)
	bp.setBatch(x, y)
	bp.forward()
	cost := bp.cost()
	bp.backward(1, 0)
	g := make([]float64, len(bp.grad))
	toFloat64(g, bp.grad)
	return g, cost
}

// The float32 passes compute the gradient of the float64 ones to float32's
// precision, and the gradient of their own cost, by central differences
// taken in float32, for every activation and loss.
func TestGradients32(t *testing.T) {
	hidden := []Activation{Sigmoid, Tanh, ReLU, Identity, LeakyReLU, ELU, GELU, GELUTanh, SiLU, Softplus}
	outputs := []struct {
		act  Activation
		loss Loss
	}{
		{Sigmoid, SquaredError}, {Identity, SquaredError}, {Tanh, SquaredError},
		{Softmax, SquaredError}, {Softmax, CrossEntropy}, {Sigmoid, BinaryCrossEntropy},
	}
	rnd := rand.New(rand.NewPCG(3, 2))
	for _, sizes := range [][]int{{4, 6, 3}, {5, 7, 6, 3}, {3, 4, 2}} {
		for _, rows := range []int{1, 9} {
			for _, h := range hidden {
				for _, o := range outputs {
					name := fmt.Sprintf("%v/rows=%d/%v/%v+%v", sizes, rows, h, o.act, o.loss)
					L := len(sizes) - 1
					acts := make([]Activation, L)
					for l := range acts {
						acts[l] = h
					}
					acts[L-1] = o.act
					net, err := New(Config{Sizes: sizes, Activations: acts, Loss: o.loss, Init: Xavier, Seed: rnd.Uint64()})
					if err != nil {
						t.Fatal(err)
					}
					for i := range net.params {
						net.params[i] = float64(float32(net.params[i] + 0.2*(rnd.Float64()-0.5)))
					}
					x := round32(randDense(rnd, rows, sizes[0], -1, 1))
					var y *mat.Dense
					if o.loss == CrossEntropy {
						y = oneHotRows(rnd, rows, sizes[L])
					} else {
						y = round32(randDense(rnd, rows, sizes[L], 0, 1))
					}
					g64, err := net.Gradients(x, y)
					if err != nil {
						t.Fatal(err)
					}
					cost64, _ := net.Cost(x, y)
					g32, cost32 := gradient32(net, x, y)
					if math.Abs(cost32-cost64) > 1e-5*math.Max(cost64, 1) {
						t.Errorf("%s: cost %v in float32, %v in float64", name, cost32, cost64)
					}
					if norm, _ := gradErr(g32, g64.Flat); norm > 1e-5 {
						t.Errorf("%s: float32 gradient differs from float64's by %.2g norm-wise", name, norm)
					}

					// Central differences of the float32 cost, with a
					// step large enough for float32's rounding: too large
					// to keep off the kinks of ReLU and LeakyReLU, whose
					// float32 gradient is checked against float64's above,
					// and float64's against central differences in
					// TestGradientsMatchFiniteDifferences.
					if h == ReLU || h == LeakyReLU {
						continue
					}
					c := net.Clone()
					bp := newBackprop32(c, newParams32(c), rows, false)
					bp.setBatch(x, y)
					num := make([]float64, len(c.params))
					const step = 1e-3
					for i := range c.params {
						v := bp.p.flat[i]
						bp.p.flat[i] = v + step
						bp.forward()
						up := bp.cost()
						bp.p.flat[i] = v - step
						bp.forward()
						down := bp.cost()
						bp.p.flat[i] = v
						num[i] = (up - down) / float64((v+step)-(v-step))
					}
					if norm, _ := gradErr(g32, num); norm > 5e-3 {
						t.Errorf("%s: float32 gradient differs from central differences by %.2g norm-wise", name, norm)
					}
				}
			}
		}
	}
}

// trainData32 returns a small classification problem.
func trainData32() (x, y *mat.Dense) {
	rnd := rand.New(rand.NewPCG(21, 4))
	x = randDense(rnd, 120, 5, -1, 1)
	labels := make([]int, 120)
	for i := range labels {
		row := x.RawRowView(i)
		switch {
		case row[0]+row[1] > 0.3:
			labels[i] = 0
		case row[2]-row[3] > 0:
			labels[i] = 1
		default:
			labels[i] = 2
		}
	}
	return x, OneHot(labels, 3)
}

// Every method trains in float32, reproducibly, to weights that float32
// holds, and to a loss near float64's.
func TestTrainFloat32(t *testing.T) {
	x, y := trainData32()
	cases := []struct {
		name string
		s    Settings
	}{
		{"gd", Settings{Method: GradientDescent, LearningRate: 0.5}},
		{"gd-dropout", Settings{Method: GradientDescent, LearningRate: 0.5, Dropout: []float64{0.2}}},
		{"sgd", Settings{Method: SGD, L2: 1e-3}},
		{"momentum", Settings{Method: Momentum, LearningRate: 0.05}},
		{"nesterov", Settings{Method: Nesterov, LearningRate: 0.05, ClipNorm: 1}},
		{"adam", Settings{Method: Adam, ValidationFraction: 0.2, Patience: -1}},
		{"adamw", Settings{Method: AdamW, Dropout: []float64{0.1}, Schedule: Cosine}},
		{"adam-weights", Settings{Method: Adam, Weights: func() []float64 {
			w := make([]float64, 120)
			for i := range w {
				w[i] = float64(1 + i%3)
			}
			return w
		}()}},
	}
	train := func(s Settings, p Precision) (*Network, *Report) {
		net, err := New(Config{Sizes: []int{5, 16, 3}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Init: Xavier, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		s.Epochs, s.BatchSize, s.Seed, s.Precision = 40, 16, 7, p
		rep, err := Train(context.Background(), net, x, y, &s)
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		return net, rep
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, ra := train(c.s, Float32)
			b, _ := train(c.s, Float32)
			if !floats.Same(a.params, b.params) {
				t.Error("two float32 runs from one seed differ")
			}
			for i, v := range a.params {
				if float64(float32(v)) != v {
					t.Fatalf("parameter %d is %v, not a float32 value", i, v)
				}
			}
			d, rd := train(c.s, Float64)
			if floats.Same(a.params, d.params) {
				t.Error("float32 and float64 runs give the same weights: the float32 path did not run")
			}
			l32, l64 := ra.History[len(ra.History)-1].Loss, rd.History[len(rd.History)-1].Loss
			if math.Abs(l32-l64) > 0.02*math.Max(l64, 0.1) {
				t.Errorf("last loss %v in float32, %v in float64", l32, l64)
			}
		})
	}
}

// A float32 run resumed from a checkpoint ends with the weights of an
// uninterrupted one, bit for bit.
func TestResumeFloat32(t *testing.T) {
	x, y := trainData32()
	for _, m := range []Method{GradientDescent, SGD, Momentum, Adam, AdamW} {
		settings := func() *Settings {
			return &Settings{Method: m, LearningRate: 0.05, Epochs: 8, BatchSize: 16, ValidationFraction: 0.2, Patience: 50, Seed: 3, Precision: Float32, Dropout: []float64{0.1}}
		}
		newNet := func(seed uint64) *Network {
			net, err := New(Config{Sizes: []int{5, 7, 3}, Activations: []Activation{Sigmoid, Softmax}, Loss: CrossEntropy, Init: Xavier, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			return net
		}
		whole := newNet(1)
		if _, err := Train(context.Background(), whole, x, y, settings()); err != nil {
			t.Fatal(err)
		}
		var saved *Checkpoint
		crash := errors.New("crash")
		s := settings()
		s.CheckpointEvery = 3
		s.Checkpoint = func(c *Checkpoint) error {
			if c.Epoch == 3 {
				cp := *c
				cp.Params = append([]float64(nil), c.Params...)
				cp.Moment1 = append([]float64(nil), c.Moment1...)
				cp.Moment2 = append([]float64(nil), c.Moment2...)
				cp.BestParams = append([]float64(nil), c.BestParams...)
				cp.History = append([]Epoch(nil), c.History...)
				saved = &cp
				return crash
			}
			return nil
		}
		if _, err := Train(context.Background(), newNet(1), x, y, s); !errors.Is(err, crash) {
			t.Fatalf("%v: got %v, want the checkpoint's error", m, err)
		}
		resumed := newNet(99)
		s = settings()
		s.Resume = saved
		if _, err := Train(context.Background(), resumed, x, y, s); err != nil {
			t.Fatal(err)
		}
		if !floats.Same(resumed.params, whole.params) {
			t.Errorf("%v: float32 weights after resuming differ from an uninterrupted run", m)
		}
		// The checkpoint of a float32 run does not resume in float64.
		s = settings()
		s.Resume, s.Precision = saved, Float64
		_, err := Train(context.Background(), newNet(1), x, y, s)
		if !errors.Is(err, ErrResumeChanged) || !strings.Contains(err.Error(), "precision float32, not float64") {
			t.Errorf("%v: resuming a float32 checkpoint in float64: got %v", m, err)
		}
	}
}

// A warm float32 step allocates nothing, and the network holds the
// trainer's weights after it.
func TestStep32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 9))
	x, y := randDense(rnd, 32, 20, -1, 1), oneHotRows(rnd, 32, 4)
	for _, m := range []Method{GradientDescent, SGD, Momentum, Nesterov, Adam, AdamW} {
		net, err := New(Config{Sizes: []int{20, 12, 4}, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Init: He, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(net, &Settings{Method: m, Precision: Float32, Dropout: []float64{0.2}, ClipNorm: 5, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		first, err := tr.Step(x, y)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range tr.f32.p.flat {
			if net.params[i] != float64(v) {
				t.Fatalf("%v: parameter %d is %v in the network, %v in the trainer", m, i, net.params[i], v)
			}
		}
		var last float64
		if a := testing.AllocsPerRun(20, func() { last, _ = tr.Step(x, y) }); a != 0 {
			t.Errorf("%v: %v allocations per warm float32 step", m, a)
		}
		if !(last < first) {
			t.Errorf("%v: loss %v after 21 steps, %v before", m, last, first)
		}
	}
}

func TestPrecisionRefused(t *testing.T) {
	net, err := New(Config{Sizes: []int{2, 3, 1}})
	if err != nil {
		t.Fatal(err)
	}
	x, y := tutorialData()
	if _, err := Train(context.Background(), net, x, y, &Settings{Method: LBFGS, Precision: Float32}); err == nil || !strings.Contains(err.Error(), "LBFGS trains in float64") {
		t.Errorf("LBFGS in float32: got %v", err)
	}
	if _, err := NewTrainer(net, &Settings{Precision: 7}); err == nil || !strings.Contains(err.Error(), "Precision") {
		t.Errorf("Precision(7): got %v", err)
	}
	var p Precision
	if err := p.UnmarshalText([]byte("float32")); err != nil || p != Float32 {
		t.Errorf("UnmarshalText(float32) = %v, %v", p, err)
	}
	if err := p.UnmarshalText([]byte("float16")); err == nil {
		t.Error("UnmarshalText(float16) succeeded")
	}
}

// A network set to predict in float32 gives float64's outputs to float32's
// precision, one row as in a batch, without allocating once warm, and
// those of the float32 forward pass of training.
func TestPredictFloat32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(8, 1))
	net, err := New(Config{Sizes: []int{30, 40, 20, 5}, Activations: []Activation{Sigmoid, ReLU, Softmax}, Loss: CrossEntropy, Init: Xavier, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	x := randDense(rnd, 50, 30, -1, 1)
	want, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	net.SetPrecision(Float32)
	if net.Precision() != Float32 || net.Clone().Precision() != Float32 {
		t.Fatal("the precision is not Float32 after SetPrecision, or not kept by Clone")
	}
	got, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if mat.Equal(got, want) {
		t.Error("float32 predictions equal float64's bit for bit: the float32 path did not run")
	}
	if !mat.EqualApprox(got, want, 1e-5) {
		t.Errorf("float32 predictions differ from float64's by more than 1e-5")
	}
	bp := newBackprop32(net, net.p32, 50, false)
	bp.setBatch(x, nil)
	bp.forward()
	for i, v := range bp.a[len(bp.a)-1] {
		if got.RawMatrix().Data[i] != float64(v) {
			t.Fatalf("output %d: Predict gives %v, the training pass %v", i, got.RawMatrix().Data[i], v)
		}
	}
	var ws Workspace
	row := mat.NewDense(1, 5, nil)
	for i := 0; i < 50; i++ {
		if err := net.PredictTo(row, x.Slice(i, i+1, 0, 30), &ws); err != nil {
			t.Fatal(err)
		}
		if !mat.Equal(row, got.Slice(i, i+1, 0, 5)) {
			t.Fatalf("row %d alone: %v, in the batch: %v", i, mat.Formatted(row), mat.Formatted(got.Slice(i, i+1, 0, 5)))
		}
	}
	dst := mat.NewDense(50, 5, nil)
	if a := testing.AllocsPerRun(10, func() { net.PredictTo(dst, x, &ws) }); a != 0 {
		t.Errorf("%v allocations per warm float32 prediction", a)
	}
	net.SetPrecision(Float64)
	if back, _ := net.Predict(x); !mat.Equal(back, want) {
		t.Error("predictions after SetPrecision(Float64) differ from the float64 ones")
	}
}

// The conversions give Go's conversions, rounding to nearest even, at
// every length (with -tags purego, the scalar loops alone).
func TestConvert32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 4))
	special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, 1e-300, 3.4028235677973366e38, 1 + 0x1p-24, 1 + 0x3p-24, math.SmallestNonzeroFloat32 / 2}
	for n := 0; n < 40; n++ {
		src := make([]float64, n)
		for i := range src {
			src[i] = rnd.NormFloat64() * math.Pow(10, float64(rnd.IntN(20)-10))
			if rnd.IntN(4) == 0 {
				src[i] = special[rnd.IntN(len(special))]
			}
		}
		f := make([]float32, n)
		toFloat32(f, src)
		back := make([]float64, n)
		toFloat64(back, f)
		for i, v := range src {
			if w := float32(v); math.Float32bits(f[i]) != math.Float32bits(w) && !(math.IsNaN(v) && f[i] != f[i]) {
				t.Fatalf("n=%d: toFloat32 of %v gives %v, want %v", n, v, f[i], w)
			}
			if w := float64(f[i]); math.Float64bits(back[i]) != math.Float64bits(w) && !(math.IsNaN(w) && back[i] != back[i]) {
				t.Fatalf("n=%d: toFloat64 of %v gives %v, want %v", n, f[i], back[i], w)
			}
		}
	}
}

// The float32 sigmoid, eight at a time in AVX2 or one at a time, is
// within two units in the last place of σ computed in float64 and
// rounded, with or without a bias, at every length, and saturates to 0
// and 1 without NaN; NaN stays NaN.
func TestSigmoid32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 6))
	for n := 1; n < 70; n++ {
		z := make([]float32, n)
		b := make([]float32, n)
		for i := range z {
			z[i] = float32(rnd.NormFloat64() * 8)
			b[i] = float32(rnd.NormFloat64())
		}
		for _, bias := range []bool{false, true} {
			got := append([]float32(nil), z...)
			if bias {
				Sigmoid.apply32(got, b, n, 0)
			} else {
				Sigmoid.apply32(got, nil, n, 0)
			}
			for i, v := range z {
				if bias {
					v += b[i]
				}
				want := float32(1 / (1 + math.Exp(-float64(v))))
				if d := math.Abs(float64(got[i] - want)); d > 2*float64(math.Nextafter32(want, 2)-want) {
					t.Fatalf("n=%d bias=%t: σ(%v) = %v, want %v", n, bias, v, got[i], want)
				}
			}
		}
	}
	ext := []float32{0, 87, -87, 88, -88, 100, -100, 1e30, -1e30, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-30}
	got := append([]float32(nil), ext...)
	Sigmoid.apply32(got, nil, len(got), 0)
	for i, v := range ext {
		want := float32(1 / (1 + math.Exp(-float64(v))))
		if math.IsNaN(float64(v)) {
			if !math.IsNaN(float64(got[i])) {
				t.Errorf("σ(NaN) = %v", got[i])
			}
			continue
		}
		if d := math.Abs(float64(got[i] - want)); d > 1e-37 && d > 2*float64(math.Nextafter32(want, 2)-want) {
			t.Errorf("σ(%v) = %v, want %v", v, got[i], want)
		}
	}
}

// A network predicting in float32 refuses an input beyond float32's
// range, naming it, as it refuses NaN; in float64 the input is fine.
func TestPredictFloat32Range(t *testing.T) {
	net, err := New(Config{Sizes: []int{3, 4, 2}, Init: Xavier, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := mat.NewDense(2, 3, []float64{1, 2, 3, 4, 1e39, 6})
	if _, err := net.Predict(x); err != nil {
		t.Fatalf("float64: %v", err)
	}
	net.SetPrecision(Float32)
	var ws Workspace
	for _, predict := range []func() error{
		func() error { _, err := net.Predict(x); return err },
		func() error { return net.PredictTo(mat.NewDense(2, 2, nil), x, &ws) },
		func() error { _, err := net.PredictParallel(x); return err },
	} {
		err := predict()
		if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "X[1, 1] is 1e+39, beyond float32's range") {
			t.Errorf("got %v", err)
		}
	}
	x.Set(1, 1, math.NaN())
	if _, err := net.Predict(x); !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "X[1, 1] is NaN") {
		t.Errorf("NaN: got %v", err)
	}
}

// Training in float32 on a value beyond float32's range stops with an
// error that says so, rather than blaming the learning rate.
func TestTrainFloat32Range(t *testing.T) {
	x, y := trainData32()
	x = mat.DenseCopyOf(x)
	x.Set(7, 2, -1e39)
	for _, m := range []Method{GradientDescent, Adam} {
		net, err := New(Config{Sizes: []int{5, 4, 3}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Init: Xavier, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Train(context.Background(), net, x, y, &Settings{Method: m, Epochs: 3, Precision: Float32, Seed: 1})
		if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "beyond float32's range") {
			t.Errorf("%v: got %v", m, err)
		}
		tr, err := NewTrainer(net, &Settings{Method: m, Precision: Float32})
		if err != nil {
			t.Fatal(err)
		}
		before := append([]float64(nil), net.params...)
		_, err = tr.Step(x.Slice(0, 10, 0, 5).(*mat.Dense), y.Slice(0, 10, 0, 3).(*mat.Dense))
		if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "row 7, column 2 of the batch") {
			t.Errorf("%v: Step: got %v", m, err)
		}
		if !floats.Same(before, net.params) {
			t.Errorf("%v: Step changed the network", m)
		}
	}
}

// A Regressor set to predict in float32 predicts in its targets' units
// after PartialFit continues its Fit, as in float64: the float32 copy of
// the weights follows the output layer's rescaling. Training in Float32
// gives the same score as in Float64, near enough.
func TestPartialFitRegressorFloat32(t *testing.T) {
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(1, 1))
	x := mat.NewDense(400, 2, nil)
	y := mat.NewDense(400, 1, nil)
	for i := range 400 {
		a, b := rnd.NormFloat64(), rnd.NormFloat64()
		x.SetRow(i, []float64{a, b})
		y.Set(i, 0, 500+100*a-30*b)
	}
	d := &Dataset{X: x, Y: y, Features: []string{"a", "b"}, Target: "t"}
	score := make(map[Precision]float64)
	for _, p := range []Precision{Float64, Float32} {
		r := &Regressor{Hidden: []int{8}, Epochs: 30, Seed: 1, Precision: p}
		if err := r.Fit(ctx, d); err != nil {
			t.Fatal(err)
		}
		r.Model.Network.SetPrecision(Float32)
		if err := r.PartialFit(ctx, d); err != nil {
			t.Fatal(err)
		}
		r2, err := r.Score(d)
		if err != nil || r2 < 0.95 {
			t.Errorf("%v: R² %v (%v) after PartialFit, predicting in float32; want ≥ 0.95", p, r2, err)
		}
		score[p] = r2
	}
	if d := score[Float32] - score[Float64]; math.Abs(d) > 0.01 {
		t.Errorf("R² %v trained in float32, %v in float64", score[Float32], score[Float64])
	}
}
