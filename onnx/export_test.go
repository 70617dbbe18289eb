package onnx

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// elementwise lists the activations that may be hidden layers.
var elementwise = []nn.Activation{
	nn.Sigmoid, nn.Tanh, nn.ReLU, nn.Identity, nn.LeakyReLU, nn.ELU,
	nn.GELU, nn.GELUTanh, nn.SiLU, nn.Softplus,
}

// exportCase is a model to export and the rows to predict with it.
type exportCase struct {
	name  string
	model *nn.Model
	x     *mat.Dense
}

// randomModel returns a model of random weights: hidden layers of the
// activation hidden, an output layer of out with outputs units, trained
// for loss; with a random standardising scaler if scaled, and classes if
// classify.
func randomModel(t *testing.T, seed uint64, hidden, out nn.Activation, outputs int, loss nn.Loss, bias, scaled, classify bool) *nn.Model {
	t.Helper()
	const inputs = 5
	net, err := nn.New(nn.Config{
		Sizes:       []int{inputs, 7, 6, outputs},
		Activations: []nn.Activation{hidden, hidden, out},
		NoBias:      !bias,
		Loss:        loss,
		Seed:        seed,
		LeakySlope:  0.2,
	})
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(seed, 1))
	if bias {
		for l := range net.Layers() {
			for i := range net.Bias(l) {
				net.Bias(l)[i] = rnd.NormFloat64()
			}
		}
	}
	m := &nn.Model{Network: net}
	if scaled {
		s := &nn.Scaler{Kind: nn.Standardize, Offset: make([]float64, inputs), Scale: make([]float64, inputs)}
		for j := range inputs {
			s.Offset[j] = 10 * rnd.NormFloat64()
			s.Scale[j] = 0.1 + 5*rnd.Float64()
		}
		m.Scaler = s
	}
	m.Features = []string{"a", "b", "c", "d", "e"}
	if classify {
		k := max(outputs, 2)
		for i := range k {
			m.Classes = append(m.Classes, fmt.Sprintf("class %d", i))
		}
		m.Target = "class"
	} else {
		m.Target = "y0"
		for i := range outputs {
			m.Targets = append(m.Targets, fmt.Sprintf("y%d", i))
		}
		if outputs == 1 {
			m.Targets = nil
		}
	}
	return m
}

// randomRows returns r rows of c columns around the offsets of m's scaler
// (or 0), spread so that the weighted inputs of the first layer reach
// every range of the activations.
func randomRows(m *nn.Model, r, c int, seed uint64) *mat.Dense {
	rnd := rand.New(rand.NewPCG(seed, 2))
	x := mat.NewDense(r, c, nil)
	for i := range r {
		for j := range c {
			v := 2 * rnd.NormFloat64()
			if s := m.Scaler; s != nil {
				v = s.Offset[j] + s.Scale[j]*v
			}
			x.Set(i, j, v)
		}
	}
	return x
}

// exportCases returns random models of every activation and loss, with
// and without biases, scaled and unscaled, classifiers and regressions.
func exportCases(t *testing.T) []exportCase {
	var cases []exportCase
	add := func(name string, m *nn.Model, seed uint64) {
		cases = append(cases, exportCase{name, m, randomRows(m, 40, m.Columns(), seed)})
	}
	for i, a := range elementwise {
		seed := uint64(i + 1)
		bias, scaled := i%2 == 0, i%3 != 0
		add(a.String()+"/regression", randomModel(t, seed, a, a, 3, nn.SquaredError, bias, scaled, false), seed)
		add(a.String()+"/regression-one", randomModel(t, seed+100, a, nn.Identity, 1, nn.SquaredError, !bias, !scaled, false), seed)
		add(a.String()+"/softmax", randomModel(t, seed+200, a, nn.Softmax, 3, nn.CrossEntropy, bias, !scaled, true), seed)
		add(a.String()+"/sigmoid-binary", randomModel(t, seed+300, a, nn.Sigmoid, 1, nn.BinaryCrossEntropy, !bias, scaled, true), seed)
	}
	add("tanh-binary", randomModel(t, 401, nn.ReLU, nn.Tanh, 1, nn.SquaredError, true, true, true), 401)
	add("identity-classes", randomModel(t, 402, nn.Tanh, nn.Identity, 4, nn.SquaredError, true, false, true), 402)
	add("softmax-squared-error", randomModel(t, 403, nn.Sigmoid, nn.Softmax, 3, nn.SquaredError, false, true, true), 403)
	return cases
}

// writeFile writes m as ONNX to a file in dir and returns its path.
func writeFile(t *testing.T, dir, name string, m *nn.Model, o *Options) string {
	t.Helper()
	path := filepath.Join(dir, name+".onnx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(f, m, o); err != nil {
		t.Fatalf("%s: Write: %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExportRuntime runs models exported in double and in float in ONNX
// Runtime and compares their outputs with nn's predictions.
func TestExportRuntime(t *testing.T) {
	ortModules(t)
	dir := t.TempDir()
	cases := exportCases(t)
	cases = append(cases, tableCases(t)...)
	var reqs []ortRequest
	var files []string
	for _, c := range cases {
		for _, f32 := range []bool{false, true} {
			name := c.name
			if f32 {
				name += "/float32"
			}
			path := writeFile(t, dir, fmt.Sprintf("model%d", len(reqs)), c.model, &Options{Float32: f32})
			files = append(files, path)
			reqs = append(reqs, newRequest(path, "X", c.x, f32))
		}
	}
	replies := runtime(t, reqs)
	var worst, worst32, worstElem float64
	for i, c := range cases {
		want, err := c.model.Predict(c.x)
		if err != nil {
			t.Fatalf("%s: Predict: %v", c.name, err)
		}
		for k, f32 := range []bool{false, true} {
			name := c.name
			if f32 {
				name += "/float32"
			}
			rep := replies[2*i+k]
			if rep.Error != "" {
				t.Errorf("%s: ONNX Runtime: %s", name, rep.Error)
				continue
			}
			if c.model.Classes == nil {
				got := rep.Outputs[OutputPrediction].dense()
				norm, elem := relDiff(got, want, 1e-3)
				if f32 {
					worst32 = max(worst32, norm)
					if norm > 1e-5 {
						t.Errorf("%s: prediction differs by %.3g relative, want ≤ 1e-5", name, norm)
					}
					continue
				}
				worst, worstElem = max(worst, norm), max(worstElem, elem)
				if norm > 1e-12 {
					t.Errorf("%s: prediction differs by %.3g relative, want ≤ 1e-12", name, norm)
				}
				continue
			}
			probs := rep.Outputs[OutputProbabilities].dense()
			wantProbs := want
			if _, k := want.Dims(); k == 1 {
				r, _ := want.Dims()
				wantProbs = mat.NewDense(r, 2, nil)
				for j := range r {
					p := want.At(j, 0)
					wantProbs.Set(j, 0, 1-p)
					wantProbs.Set(j, 1, p)
				}
			}
			norm, elem := relDiff(probs, wantProbs, 1e-3)
			tol := 1e-12
			if f32 {
				tol = 1e-5
				worst32 = max(worst32, norm)
			} else {
				worst, worstElem = max(worst, norm), max(worstElem, elem)
			}
			if norm > tol {
				t.Errorf("%s: probabilities differ by %.3g relative, want ≤ %g", name, norm, tol)
			}
			labels := c.model.Network.ClassesTo(nil, want)
			got := rep.Outputs[OutputLabel]
			if rep.Outputs[OutputLabel].Type != "int64" {
				t.Errorf("%s: label of type %s, want int64", name, got.Type)
			}
			for j, v := range got.values() {
				// In float, a row whose two best classes are within
				// 1e-5 may go either way.
				if int(v) != labels[j] && (!f32 || margin(wantProbs, j, c.model.Network) > 1e-5) {
					t.Errorf("%s: row %d: label %v, want %d", name, j, v, labels[j])
				}
			}
		}
	}
	t.Logf("largest difference from nn in ONNX Runtime: %.3g norm-wise relative in double (%.3g element-wise, elements ≥ 1e-3), %.3g in float", worst, worstElem, worst32)
	checkModels(t, files...)
}

// margin returns how far row i of the probabilities p is from another
// label: the difference of its two largest values, or for a single output
// its distance from the threshold.
func margin(p mat.Matrix, i int, n *nn.Network) float64 {
	_, k := p.Dims()
	if n.Sizes()[n.Layers()] == 1 {
		threshold := 0.5
		if n.Config().Activations[n.Layers()-1] == nn.Tanh {
			threshold = 0
		}
		return math.Abs(p.At(i, 1) - threshold)
	}
	first, second := math.Inf(-1), math.Inf(-1)
	for j := range k {
		v := p.At(i, j)
		switch {
		case v > first:
			first, second = v, first
		case v > second:
			second = v
		}
	}
	return first - second
}

// TestExportExtremes runs each activation alone, f(x) for x from −800 to
// 800 and near 0, in ONNX Runtime, and compares every value with nn's to
// 1e-12 relative: the functions of the activations that are not ONNX
// operators are as accurate as nn's own, near 0 and far out. Sigmoid and
// GELUTanh may also differ by 1e-15·max(1, |x|): ONNX Runtime's Sigmoid
// gives 0 below about −37, and GELUTanh's 1 + tanh(u) cancels for
// negative x in nn as in the graph, so that both lose the digits of tiny
// values.
func TestExportExtremes(t *testing.T) {
	ortModules(t)
	xs := []float64{-800, -700, -100, -40, -37, -30, -20, -10, -6.5, -3, -1.3, -1, -0.9, -0.5, -0.1, -1e-5, -1e-10, -1e-14, -1e-300, 0,
		1e-300, 1e-14, 1e-10, 1e-5, 0.1, 0.5, 0.9, 1, 1.3, 3, 6.5, 10, 20, 30, 37, 40, 100, 700, 800}
	x := mat.NewDense(len(xs), 1, xs)
	dir := t.TempDir()
	var reqs []ortRequest
	var models []*nn.Model
	for _, a := range elementwise {
		net, err := nn.New(nn.Config{Sizes: []int{1, 1}, Activations: []nn.Activation{a}, LeakySlope: 0.2})
		if err != nil {
			t.Fatal(err)
		}
		net.Weights(0).Set(0, 0, 1)
		net.Bias(0)[0] = 0
		m := &nn.Model{Network: net}
		models = append(models, m)
		reqs = append(reqs, newRequest(writeFile(t, dir, a.String(), m, nil), "X", x, false))
	}
	replies := runtime(t, reqs)
	for i, m := range models {
		a := elementwise[i]
		if replies[i].Error != "" {
			t.Errorf("%s: ONNX Runtime: %s", a, replies[i].Error)
			continue
		}
		want, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		got := replies[i].Outputs[OutputPrediction].values()
		for j, v := range xs {
			w := want.At(j, 0)
			floor := 0.0
			if a == nn.Sigmoid || a == nn.GELUTanh {
				floor = 1e-15 * max(1, math.Abs(v))
			}
			if d := math.Abs(got[j] - w); !(d <= 1e-12*math.Abs(w)+floor) {
				t.Errorf("%s(%v): ONNX Runtime %v, nn %v", a, v, got[j], w)
			}
		}
	}
}

// tableCases returns models with an encoding: categorical columns,
// missing values and indicators.
func tableCases(t *testing.T) []exportCase {
	t.Helper()
	enc := &nn.Encoding{Columns: []nn.ColumnEncoding{
		{Fill: 1.5},
		{Categories: []string{"red", "green", "blue"}, Fill: 1, Indicator: true},
		{Fill: -2, Indicator: true},
		{Categories: []string{"s", "m"}, Fill: 0},
	}}
	width := enc.Width() // 1 + 4 + 2 + 2
	var cases []exportCase
	for i, classify := range []bool{true, false} {
		net, err := nn.New(nn.Config{Sizes: []int{width, 6, 3}, Activations: []nn.Activation{nn.ReLU, map[bool]nn.Activation{true: nn.Softmax, false: nn.Identity}[classify]}, Loss: map[bool]nn.Loss{true: nn.CrossEntropy, false: nn.SquaredError}[classify], Seed: uint64(i + 7)})
		if err != nil {
			t.Fatal(err)
		}
		m := &nn.Model{Network: net, Encoding: enc, Features: []string{"x", "colour", "z", "size"}, Target: "t"}
		s := &nn.Scaler{Kind: nn.Standardize, Offset: make([]float64, width), Scale: make([]float64, width)}
		for j := range width {
			s.Offset[j], s.Scale[j] = 0.1*float64(j), 1+0.5*float64(j)
		}
		m.Scaler = s
		if classify {
			m.Classes = []string{"a", "b", "c"}
		} else {
			m.Targets = []string{"t", "u", "v"}
		}
		rnd := rand.New(rand.NewPCG(uint64(i), 3))
		x := mat.NewDense(60, 4, nil)
		for r := range 60 {
			x.Set(r, 0, rnd.NormFloat64())
			x.Set(r, 1, float64(rnd.IntN(4)-1)) // −1 is an unknown category
			x.Set(r, 2, 3*rnd.NormFloat64())
			x.Set(r, 3, float64(rnd.IntN(2)))
			for j := range 4 {
				if rnd.IntN(5) == 0 {
					x.Set(r, j, math.NaN())
				}
			}
		}
		cases = append(cases, exportCase{map[bool]string{true: "table/classifier", false: "table/regression"}[classify], m, x})
	}
	return cases
}

// A network trained in float32 (nn.Settings.Precision), exported in float
// (Options.Float32), gives in ONNX Runtime the outputs of nn's float32
// prediction (nn.Network.SetPrecision) to float's precision.
func TestExportFloat32Trained(t *testing.T) {
	ortModules(t)
	rnd := rand.New(rand.NewPCG(5, 5))
	const rows = 200
	x := mat.NewDense(rows, 5, nil)
	labels := make([]int, rows)
	for i := range rows {
		for j := range 5 {
			x.Set(i, j, rnd.NormFloat64())
		}
		labels[i] = 0
		if x.At(i, 0)+x.At(i, 1) > 0 {
			labels[i] = 1 + int(rnd.Uint64()%2)
		}
	}
	net, err := nn.New(nn.Config{Sizes: []int{5, 16, 8, 3}, Activations: []nn.Activation{nn.Tanh, nn.Sigmoid, nn.Softmax}, Loss: nn.CrossEntropy, Init: nn.Xavier, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nn.Train(context.Background(), net, x, nn.OneHot(labels, 3), &nn.Settings{Method: nn.Adam, Epochs: 20, Seed: 1, Precision: nn.Float32}); err != nil {
		t.Fatal(err)
	}
	m := &nn.Model{Network: net, Classes: []string{"a", "b", "c"}}
	path := writeFile(t, t.TempDir(), "trained32", m, &Options{Float32: true})
	rep := runtime(t, []ortRequest{newRequest(path, "X", x, true)})[0]
	if rep.Error != "" {
		t.Fatalf("ONNX Runtime: %s", rep.Error)
	}
	got := rep.Outputs[OutputProbabilities].dense()
	net.SetPrecision(nn.Float32)
	want, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	norm, _ := relDiff(got, want, 1e-3)
	t.Logf("float32 model in ONNX Runtime (float) against nn -precision float32: %.3g norm-wise relative", norm)
	if norm > 1e-6 {
		t.Errorf("probabilities differ by %.3g relative, want ≤ 1e-6", norm)
	}
}
