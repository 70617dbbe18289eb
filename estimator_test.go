package nn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// TestWeightedGradients checks backpropagation of the row-weighted cost
// against central differences, for every loss.
func TestWeightedGradients(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		out  Activation
		loss Loss
		k    int
	}{
		{Sigmoid, SquaredError, 2},
		{Softmax, CrossEntropy, 3},
		{Sigmoid, BinaryCrossEntropy, 1},
	} {
		n, err := New(Config{Sizes: []int{3, 4, tc.k}, Activations: []Activation{Tanh, tc.out}, Loss: tc.loss, Init: Xavier, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		rows := 6
		x := mat.NewDense(rows, 3, nil)
		y := mat.NewDense(rows, tc.k, nil)
		w := make([]float64, rows)
		for i := range rows {
			for j := range 3 {
				x.Set(i, j, rnd.NormFloat64())
			}
			if tc.k == 1 {
				y.Set(i, 0, float64(rnd.IntN(2)))
			} else {
				y.Set(i, rnd.IntN(tc.k), 1)
			}
			w[i] = rnd.Float64() * 3
		}
		bp := newBackprop(n, rows)
		bp.weighted = true
		bp.setBatch(x, withWeights(y, w))
		bp.forward()
		bp.backward(1, 0)
		c := n.Clone()
		cbp := newBackprop(c, rows)
		cbp.weighted = true
		cbp.setBatch(x, withWeights(y, w))
		num := make([]float64, len(n.params))
		fd.Gradient(num, func(p []float64) float64 {
			copy(c.params, p)
			cbp.forward()
			return cbp.cost()
		}, n.params, &fd.Settings{Formula: fd.Central})
		for i := range num {
			if d := math.Abs(num[i] - bp.grad[i]); d > 1e-6*math.Max(1, math.Abs(num[i])) {
				t.Errorf("%v: gradient %d: backprop %v, central differences %v", tc.loss, i, bp.grad[i], num[i])
			}
		}
		// Integer weights count a row as that many copies of it.
		for i := range w {
			w[i] = float64(rnd.IntN(3))
		}
		w[0] = 1
		bp.setBatch(x, withWeights(y, w))
		bp.forward()
		var rx, ry []float64
		for i := range rows {
			for range int(w[i]) {
				rx = append(rx, x.RawRowView(i)...)
				ry = append(ry, y.RawRowView(i)...)
			}
		}
		nr := len(rx) / 3
		want, err := n.Cost(mat.NewDense(nr, 3, rx), mat.NewDense(nr, tc.k, ry))
		if err != nil {
			t.Fatal(err)
		}
		if got := bp.cost(); math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("%v: weighted cost %v, cost of repeated rows %v", tc.loss, got, want)
		}
	}
}

// TestTrainWeights checks that unit weights train exactly as no weights,
// and that bad weights are refused.
func TestTrainWeights(t *testing.T) {
	x, y := xorData()
	for _, m := range []Method{GradientDescent, Adam, LBFGS} {
		a, _ := New(Config{Sizes: []int{2, 4, 1}, Seed: 2})
		b := a.Clone()
		s := &Settings{Method: m, Epochs: 20, BatchSize: 2, Seed: 1}
		if _, err := Train(context.Background(), a, x, y, s); err != nil {
			t.Fatal(err)
		}
		s.Weights = []float64{1, 1, 1, 1}
		if _, err := Train(context.Background(), b, x, y, s); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.params, b.params) {
			t.Errorf("%v: unit weights train otherwise than none", m)
		}
	}
	n, _ := New(Config{Sizes: []int{2, 2, 1}})
	for _, w := range [][]float64{{1, 1, 1}, {1, -1, 1, 1}, {0, 0, 0, 0}, {1, math.NaN(), 1, 1}} {
		if _, err := Train(context.Background(), n, x, y, &Settings{Weights: w, Epochs: 1}); err == nil {
			t.Errorf("weights %v: no error", w)
		}
	}
}

func xorData() (x, y *mat.Dense) {
	return mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 0, 1, 1}), mat.NewDense(4, 1, []float64{0, 1, 1, 0})
}

func TestFitEncoding(t *testing.T) {
	nan := math.NaN()
	d := &Dataset{
		X: mat.NewDense(5, 3, []float64{
			1, 0, 10,
			2, 1, nan,
			nan, 1, 30,
			4, nan, 30,
			9, 2, 40,
		}),
		Features:   []string{"a", "color", "b"},
		Categories: [][]string{nil, {"blue", "green", "red"}, nil},
	}
	for _, tc := range []struct {
		how        Impute
		fillA      float64
		fillB      float64
		fillColour float64
	}{
		{ImputeMean, 4, 27.5, 1},
		{ImputeMedian, 3, 30, 1},
		{ImputeMostFrequent, 1, 30, 1},
	} {
		e, err := FitEncoding(d, tc.how, true)
		if err != nil {
			t.Fatal(err)
		}
		if got := []float64{e.Columns[0].Fill, e.Columns[1].Fill, e.Columns[2].Fill}; !slices.Equal(got, []float64{tc.fillA, tc.fillColour, tc.fillB}) {
			t.Errorf("%v: fills %v, want %v", tc.how, got, []float64{tc.fillA, tc.fillColour, tc.fillB})
		}
		if w := e.Width(); w != 2+4+2 {
			t.Errorf("width %d, want 8", w)
		}
		want := []string{"a", "a (missing)", "color=blue", "color=green", "color=red", "color (missing)", "b", "b (missing)"}
		if got := e.Inputs(d.Features); !slices.Equal(got, want) {
			t.Errorf("inputs %q, want %q", got, want)
		}
		dst := make([]float64, 8)
		if u := e.EncodeRow(dst, []float64{nan, nan, 5}); u != 0 || !slices.Equal(dst, []float64{tc.fillA, 1, 0, 1, 0, 1, 5, 0}) {
			t.Errorf("%v: encoded %v (%d unknown)", tc.how, dst, u)
		}
		if u := e.EncodeRow(dst, []float64{7, -1, 5}); u != 1 || !slices.Equal(dst, []float64{7, 0, 0, 0, 0, 0, 5, 0}) {
			t.Errorf("unknown category: encoded %v (%d unknown)", dst, u)
		}
	}
	e, _ := FitEncoding(d, ImputeMean, false)
	if w := e.Width(); w != 5 {
		t.Errorf("without indicators: width %d, want 5", w)
	}
	if err := e.CheckRows(mat.NewDense(1, 3, []float64{1, 3, 1})); err == nil {
		t.Error("code 3 of 3 categories: no error")
	}
	if err := e.CheckRows(mat.NewDense(1, 3, []float64{math.Inf(1), 0, 1})); !errors.Is(err, ErrNotFinite) {
		t.Errorf("infinite value: got %v", err)
	}
	allMissing := &Dataset{X: mat.NewDense(2, 1, []float64{nan, nan}), Features: []string{"z"}}
	if _, err := FitEncoding(allMissing, ImputeMean, false); err == nil || !strings.Contains(err.Error(), `"z"`) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("all missing: got %v", err)
	}
	badCode := &Dataset{X: mat.NewDense(2, 1, []float64{0, 1.5}), Features: []string{"c"}, Categories: [][]string{{"x", "y"}}}
	if _, err := FitEncoding(badCode, ImputeMean, false); err == nil {
		t.Error("code 1.5: no error")
	}
}

const tableCSV = `age,colour,size,label
31,red,1.5,yes
NA,blue,2.5,no
45, red ,,yes
22,green,0.5,no
,blue,3,no
50,red,2,yes
`

func TestReadCSVTable(t *testing.T) {
	opts := &CSVOptions{Target: "label", Classify: true, DetectCategorical: true, Missing: DefaultMissing}
	d, err := ReadCSV(strings.NewReader(tableCSV), opts)
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{nil, {"blue", "green", "red"}, nil}; !equalCategories(d.Categories, want) {
		t.Errorf("categories %q, want %q", d.Categories, want)
	}
	nan := math.NaN()
	want := []float64{31, 2, 1.5, nan, 0, 2.5, 45, 2, nan, 22, 1, 0.5, nan, 0, 3, 50, 2, 2}
	if got := d.X.RawMatrix().Data; !floats.Same(got, want) {
		t.Errorf("X %v, want %v", got, want)
	}

	// A column of numbers with a text is an error: more likely a typo
	// than categories.
	_, err = ReadCSV(strings.NewReader("z,y\n1,a\n02,b\nx,a\n1.0,b\n"), &CSVOptions{Classify: true, DetectCategorical: true})
	if err == nil || !strings.Contains(err.Error(), `line 4, column 1: not a number: "x" (column "z"), in a column of numbers (3 of its 4 values are)`) {
		t.Errorf("a text among numbers: got %v", err)
	}
	// A numeric column turns categorical at its first text: the numbers
	// before are categories too.
	d, err = ReadCSV(strings.NewReader("z,y\n1,a\n02,b\nx,a\nw,a\n1.0,b\nv,a\nv,b\n"), &CSVOptions{Classify: true, DetectCategorical: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"1", "2", "v", "w", "x"}}; !equalCategories(d.Categories, want) {
		t.Errorf("categories %q, want %q", d.Categories, want)
	}
	if got := d.X.RawMatrix().Data; !slices.Equal(got, []float64{0, 1, 4, 3, 0, 2, 2}) {
		t.Errorf("codes %v", got)
	}

	// Fixed categories: unknown ones are coded −1 and counted, or are
	// errors.
	fixed := &CSVOptions{Features: []string{"colour", "size"}, Categories: map[string][]string{"colour": {"red", "blue"}}, Missing: DefaultMissing}
	r := NewCSVReader(strings.NewReader(tableCSV), fixed)
	x := make([]float64, 2)
	var codes []float64
	for {
		_, err := r.Read(x)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, x[0])
	}
	if !slices.Equal(codes, []float64{0, 1, 0, -1, 1, 0}) || r.Unknown() != 1 {
		t.Errorf("codes %v, %d unknown", codes, r.Unknown())
	}
	fixed.StrictCategories = true
	_, err = ReadCSV(strings.NewReader(tableCSV), &CSVOptions{Target: "label", Classify: true, Features: fixed.Features, Categories: fixed.Categories, Missing: DefaultMissing, StrictCategories: true})
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrUnknownCategory) || pe.Line != 5 || pe.Column != 2 {
		t.Errorf("strict: got %v, want an unknown category at line 5, column 2", err)
	}

	for _, tc := range []struct {
		opts *CSVOptions
		want string
	}{
		{&CSVOptions{Target: "label", Categorical: []string{"nope"}}, `Categorical names "nope"`},
		{&CSVOptions{Target: "label", Classify: true, Missing: DefaultMissing}, `line 2, column 2: not a number: "red" (column "colour"); to read text as categories, set CSVOptions.DetectCategorical`},
		{&CSVOptions{Target: "label", DetectCategorical: true, Missing: DefaultMissing}, `not a number: "yes" (column "label"); for a target of class labels, set CSVOptions.Classify`},
	} {
		_, err := ReadCSV(strings.NewReader(tableCSV), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.opts, err, tc.want)
		}
	}
	if _, err := ReadCSV(strings.NewReader("a,y\n1,2\n,3\n"), nil); err == nil || !strings.Contains(err.Error(), `line 3, column 1: not a number: "" (column "a"); to read it as a missing value, set CSVOptions.Missing`) {
		t.Errorf("an empty field: got %v", err)
	}
	if _, err := ReadCSV(strings.NewReader("a,y\n1,2\n,3\n"), &CSVOptions{Missing: []string{""}}); err != nil {
		t.Errorf("a missing feature: %v", err)
	}
	if _, err := ReadCSV(strings.NewReader("a,y\n1,2\n2,\n"), &CSVOptions{Missing: []string{""}}); err == nil || !strings.Contains(err.Error(), "target") {
		t.Errorf("a missing target: got %v", err)
	}
}

func equalCategories(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return (x == nil) == (y == nil) && slices.Equal(x, y) })
}

// tableData returns n rows of a table whose class is decided by a
// categorical column and a numeric one, with missing values.
func tableData(n int, seed uint64) string {
	rnd := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("x,shape,noise,class\n")
	shapes := []string{"circle", "square", "triangle"}
	for range n {
		s := rnd.IntN(3)
		x := rnd.NormFloat64()
		class := "low"
		if (s == 0) != (x > 0.3) {
			class = "high"
		}
		xs := fmt.Sprint(x)
		if rnd.IntN(20) == 0 {
			xs = "NA"
		}
		fmt.Fprintf(&b, "%s,%s,%v,%s\n", xs, shapes[s], rnd.NormFloat64(), class)
	}
	return b.String()
}

func TestClassifierTable(t *testing.T) {
	opts := &CSVOptions{Target: "class", Classify: true, DetectCategorical: true, Missing: DefaultMissing}
	d, err := ReadCSV(strings.NewReader(tableData(600, 1)), opts)
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := d.Split(0.25, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Seed: 3, MissingIndicator: true}
	if err := c.Fit(context.Background(), train); err != nil {
		t.Fatal(err)
	}
	acc, err := c.Score(test)
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.9 {
		t.Errorf("test accuracy %.3f, want at least 0.9", acc)
	}
	if c.Model.Encoding == nil || c.Model.Encoding.Width() != 1+1+3+1 {
		t.Fatalf("encoding %+v, want x, its indicator, 3 shapes and noise", c.Model.Encoding)
	}
	// The model file keeps the encoding: the model read back predicts the
	// same bits.
	var buf bytes.Buffer
	if err := c.Model.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"version": 2`) || !strings.Contains(buf.String(), `"categories":["circle","square","triangle"]`) {
		t.Errorf("model file:\n%s", buf.String())
	}
	m, err := DecodeModel(&buf)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := c.Model.Predict(test.X)
	p2, err := m.Predict(test.X)
	if err != nil || !mat.Equal(p1, p2) {
		t.Errorf("predictions differ after a round trip (%v)", err)
	}
	// Rows read for the model: an unseen category counts, and predicts.
	r := NewCSVReader(strings.NewReader("noise,shape,x\n0.1,hexagon,1\n0,circle,NA\n"), m.CSVOptions())
	x := make([]float64, m.Columns())
	in := make([]float64, m.Network.Sizes()[0])
	s, err := m.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := r.Read(x); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if err := s.Prepare(in, x); err != nil {
			t.Fatal(err)
		}
	}
	if r.Unknown() != 1 {
		t.Errorf("%d unknown categories, want 1", r.Unknown())
	}
	labels, err := c.Predict(test)
	if err != nil {
		t.Fatal(err)
	}
	truth := test.Labels()
	right := 0
	for i, l := range labels {
		if l == test.Classes[truth[i]] {
			right++
		}
	}
	if got := float64(right) / float64(len(labels)); got != acc {
		t.Errorf("Predict's labels score %v, Score %v", got, acc)
	}
	// The same seed gives the same model.
	c2 := &Classifier{Seed: 3, MissingIndicator: true}
	if err := c2.Fit(context.Background(), train); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Model.Network.Params(), c2.Model.Network.Params()) {
		t.Error("two fits with the same seed differ")
	}
	rep, err := c.Evaluate(test)
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.String(); !strings.Contains(s, "high") || !strings.Contains(s, "confusion matrix") || !strings.Contains(s, fmt.Sprintf("%.4f", acc)) {
		t.Errorf("report:\n%s", s)
	}
}

func TestClassifierOptions(t *testing.T) {
	d, err := ReadCSV(strings.NewReader(tableData(200, 4)), &CSVOptions{Target: "class", Classify: true, DetectCategorical: true, Missing: DefaultMissing})
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Seed: 1, Refit: true, Epochs: 60, Balanced: true, ClassWeights: map[string]float64{"high": 2}}
	if err := c.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Report.History); n != c.Report.BestEpoch {
		t.Errorf("refit ran %d epochs, want the %d early stopping chose", n, c.Report.BestEpoch)
	}
	for _, tc := range []struct {
		c    *Classifier
		want string
	}{
		{&Classifier{Activation: "softmax"}, "hidden layers"},
		{&Classifier{Activation: "swish"}, "unknown activation"},
		{&Classifier{Method: "rmsprop"}, "Method"},
		{&Classifier{Hidden: []int{0}}, "Hidden[0]"},
		{&Classifier{LearningRate: -1}, "LearningRate"},
		{&Classifier{ValidationFraction: 1}, "ValidationFraction"},
		{&Classifier{ClassWeights: map[string]float64{"high": -1}}, `ClassWeights["high"]`},
	} {
		if err := tc.c.Fit(context.Background(), d); err == nil || !strings.Contains(err.Error(), tc.want) || strings.Count(err.Error(), "nn:") != 1 {
			t.Errorf("%+v: got %v, want %q after one prefix", tc.c, err, tc.want)
		}
	}
	if err := (&Regressor{}).Fit(context.Background(), d); err == nil || !strings.Contains(err.Error(), "Classifier") {
		t.Errorf("Regressor on classes: got %v", err)
	}
	if _, err := (&Classifier{}).Predict(d); err == nil || !strings.Contains(err.Error(), "not fitted") {
		t.Errorf("Predict before Fit: got %v", err)
	}
}

func TestRegressor(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	rows := 400
	x := mat.NewDense(rows, 3, nil)
	y := mat.NewDense(rows, 2, nil)
	for i := range rows {
		a, b, c := rnd.NormFloat64(), rnd.NormFloat64()*10, rnd.NormFloat64()
		x.SetRow(i, []float64{a, b, c})
		y.SetRow(i, []float64{1000 + 300*a - 20*b, a * a})
	}
	r := &Regressor{Seed: 1, Epochs: 300, Patience: 40}
	if err := r.FitMatrix(context.Background(), x, y); err != nil {
		t.Fatal(err)
	}
	score, err := r.Score(&Dataset{X: x, Y: y})
	if err != nil {
		t.Fatal(err)
	}
	if score < 0.97 {
		t.Errorf("R² %.4f, want at least 0.97", score)
	}
	p, _ := r.Predict(&Dataset{X: mat.DenseCopyOf(x.Slice(0, 1, 0, 3))})
	if got, want := p.At(0, 0), y.At(0, 0); math.Abs(got-want) > 0.1*math.Abs(want) {
		t.Errorf("prediction %v for %v: not in the target's units", got, want)
	}
}

func TestClassificationReport(t *testing.T) {
	r := NewClassificationReport([]string{"a", "b", "c"}, []int{0, 0, 1, 1, 2, 2}, []int{0, 1, 1, 1, 0, 0})
	if r.PerClass[1].Precision != 2.0/3 || r.PerClass[1].Recall != 1 || r.PerClass[2].Support != 2 {
		t.Errorf("per class %+v", r.PerClass)
	}
	if r.PerClass[2].Precision != 0 {
		t.Errorf("precision of a class never predicted: %v, want 0", r.PerClass[2].Precision)
	}
	if want := (1.0/3 + 2.0/3 + 0) / 3; math.Abs(r.Macro.Precision-want) > 1e-15 {
		t.Errorf("macro precision %v, want %v", r.Macro.Precision, want)
	}
	s := r.String()
	for _, want := range []string{"precision", "accuracy", "0.5000", "3 of 6 right"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
}

func TestFolds(t *testing.T) {
	d, err := ReadCSV(strings.NewReader(tableData(103, 5)), &CSVOptions{Target: "class", Classify: true, DetectCategorical: true, Missing: DefaultMissing})
	if err != nil {
		t.Fatal(err)
	}
	folds, err := d.Folds(5, 1)
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]int, 103)
	labels := d.Labels()
	for _, f := range folds {
		if len(f) < 20 || len(f) > 21 {
			t.Errorf("fold of %d rows, want 20 or 21", len(f))
		}
		high := 0
		for _, i := range f {
			seen[i]++
			high += labels[i]
		}
		t.Logf("fold: %d rows, %d of class 1", len(f), high)
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("row %d in %d folds", i, n)
		}
	}
	again, _ := d.Folds(5, 1)
	if !slices.EqualFunc(folds, again, slices.Equal) {
		t.Error("folds differ for the same seed")
	}
	one := d.Subset([]int{0, 1, 2, 3, 4, 5})
	one.Y = OneHot([]int{0, 0, 0, 0, 0, 1}, 2)
	if _, err := one.Folds(3, 1); err == nil || !strings.Contains(err.Error(), "has 1 rows, fewer than the 3 folds") {
		t.Errorf("a class of one row: got %v", err)
	}
	if _, err := d.Folds(1, 1); err == nil {
		t.Error("1 fold: no error")
	}
}

func TestSearch(t *testing.T) {
	d, err := ReadCSV(strings.NewReader(tableData(240, 6)), &CSVOptions{Target: "class", Classify: true, DetectCategorical: true, Missing: DefaultMissing})
	if err != nil {
		t.Fatal(err)
	}
	base := &Classifier{Seed: 1, Epochs: 40, ValidationFraction: -1}
	cv, err := CrossValidate(context.Background(), func() Estimator { c := *base; return &c }, d, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(cv.Scores) != 4 || cv.Mean < 0.8 {
		t.Errorf("cross-validation %+v", cv)
	}
	grid := &Grid{Hidden: [][]int{{}, {16}}, LearningRate: []float64{0.01, 1e-5}}
	cands := grid.Candidates()
	if len(cands) != 4 || cands[1].String() != "hidden=none lr=1e-05" {
		t.Fatalf("candidates %v", cands)
	}
	r, err := Search(context.Background(), base, cands, d, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Candidates[r.Best]; c.LearningRate != 0.01 {
		t.Errorf("best candidate %s, want a rate of 0.01 (1e-5 barely moves in 40 epochs)", c)
	}
	for i, res := range r.Results {
		if res.Mean > r.Results[r.Best].Mean {
			t.Errorf("candidate %d scores %v, above the best's %v", i, res.Mean, r.Results[r.Best].Mean)
		}
	}
	// The search's result for a candidate is its cross-validation.
	c3 := *base
	c3.Hidden, c3.LearningRate = []int{16}, 0.01
	cv3, err := CrossValidate(context.Background(), func() Estimator { c := c3; return &c }, d, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cv3.Scores, r.Results[2].Scores) {
		t.Errorf("search scores %v, cross-validation %v", r.Results[2].Scores, cv3.Scores)
	}
	if best := r.Estimator.(*Classifier); best.Model == nil || base.Model != nil {
		t.Error("the best is not fitted, or the base was")
	}
	if s := r.String(); !strings.Contains(s, "1 *") {
		t.Errorf("table:\n%s", s)
	}
	if _, err := Search(context.Background(), base, []Candidate{{Activation: "nope"}}, d, 4, 2); err == nil {
		t.Error("bad candidate: no error")
	}
	if s := grid.Sample(2, 9); len(s) != 2 {
		t.Errorf("sample %v", s)
	}
}

func TestTrainWarnings(t *testing.T) {
	d, err := LoadCSV("testdata/iris.csv", &CSVOptions{Target: "species", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{Sizes: []int{4, 5, 3}}, "one-hot class labels (3 classes) trained as a regression"},
		{Config{Sizes: []int{4, 5, 3}, Activations: []Activation{Tanh, Softmax}}, "softmax output trained on squared error"},
		{Config{Sizes: []int{4, 5, 3}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy}, ""},
	} {
		n, err := New(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Train(context.Background(), n, d.X, d.Y, &Settings{Epochs: 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(r.Warnings, "; "); !strings.Contains(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%+v: warnings %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestReadCSVTargetsWeight(t *testing.T) {
	in := "a,y1,w,b,y2\n1,10,1,2,-1\n2,20,0.5,3,-2\n3,30,2,4,-3\n"
	d, err := ReadCSV(strings.NewReader(in), &CSVOptions{Targets: []string{"y2", "y1"}, Weight: "w"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Features, []string{"a", "b"}) || !slices.Equal(d.Targets, []string{"y2", "y1"}) || d.Target != "y2" {
		t.Errorf("features %q, targets %q, target %q", d.Features, d.Targets, d.Target)
	}
	if !slices.Equal(d.Y.RawMatrix().Data, []float64{-1, 10, -2, 20, -3, 30}) || !slices.Equal(d.Weights, []float64{1, 0.5, 2}) {
		t.Errorf("Y %v, weights %v", d.Y.RawMatrix().Data, d.Weights)
	}
	if s := d.Subset([]int{2, 0}); !slices.Equal(s.Weights, []float64{2, 1}) {
		t.Errorf("subset weights %v", s.Weights)
	}
	for _, tc := range []struct {
		opts *CSVOptions
		in   string
		want string
	}{
		{&CSVOptions{Weight: "w"}, "a,w,y\n1,-2,3\n", `line 2, column 2: not a number: weight "-2" is negative (column "w", the row weights; want a number ≥ 0)`},
		{&CSVOptions{Weight: "w"}, "a,w,y\n1,,3\n", `line 2, column 2: not a number: "" (column "w", the row weights`},
		{&CSVOptions{Weight: "v"}, "a,w,y\n1,2,3\n", `the weight column "v" not among`},
		{&CSVOptions{Targets: []string{"y", "z"}}, "a,y,z\n1,2,x\n", `line 2, column 3: not a number: "x" (column "z", a target)`},
		{&CSVOptions{Targets: []string{"y"}, Target: "y"}, "a,y\n1,2\n", "Target and Targets are both set"},
		{&CSVOptions{Targets: []string{"y"}, Classify: true}, "a,y\n1,2\n", "several targets are for regression"},
	} {
		_, err := ReadCSV(strings.NewReader(tc.in), tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestRegressorTargetsAndWeights(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,w,y1,y2\n")
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		x := rnd.Float64()*4 - 2
		w := 1.0
		y1 := 3*x + 1
		if i%10 == 0 {
			// Rows of zero weight that contradict the others.
			w, y1 = 0, -100
		}
		fmt.Fprintf(&b, "%v,%v,%v,%v\n", x, w, y1, x*x)
	}
	d, err := ReadCSV(strings.NewReader(b.String()), &CSVOptions{Targets: []string{"y1", "y2"}, Weight: "w"})
	if err != nil {
		t.Fatal(err)
	}
	r := &Regressor{Seed: 2, ValidationFraction: -1, Epochs: 300}
	if err := r.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	p, err := r.Predict(&Dataset{X: mat.NewDense(1, 1, []float64{1}), Features: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.At(0, 0)-4) > 0.3 || math.Abs(p.At(0, 1)-1) > 0.3 {
		t.Errorf("prediction at x=1: %v, want about (4, 1): the rows of zero weight count", p.RawRowView(0))
	}
	var buf bytes.Buffer
	if err := r.Model.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	m, err := DecodeModel(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Targets, []string{"y1", "y2"}) {
		t.Errorf("targets read back %q", m.Targets)
	}
}

// TestClassificationReportAverages checks the averages against
// scikit-learn's classification_report for truth {A,A}, predictions {A,B}:
// macro precision 0.5, recall 0.25, F1 1/3; weighted precision 1, recall
// 0.5, F1 2/3.
func TestClassificationReportAverages(t *testing.T) {
	r := NewClassificationReport([]string{"A", "B", "C"}, []int{0, 0}, []int{0, 1})
	const eps = 1e-15
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"macro precision", r.Macro.Precision, 0.5},
		{"macro recall", r.Macro.Recall, 0.25},
		{"macro F1", r.Macro.F1, 1.0 / 3},
		{"weighted precision", r.Weighted.Precision, 1},
		{"weighted recall", r.Weighted.Recall, 0.5},
		{"weighted F1", r.Weighted.F1, 2.0 / 3},
	} {
		if math.Abs(c.got-c.want) > eps {
			t.Errorf("%s %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSearchFailures(t *testing.T) {
	d, err := ReadCSV(strings.NewReader(tableData(120, 7)), &CSVOptions{Target: "class", Classify: true, DetectCategorical: true, Missing: DefaultMissing})
	if err != nil {
		t.Fatal(err)
	}
	base := &Classifier{Method: "sgd", Epochs: 20, Seed: 1}
	r, err := Search(context.Background(), base, (&Grid{LearningRate: []float64{1e300, 0.05}}).Candidates(), d, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Best != 1 || r.Results[0].Err == nil || !errors.Is(r.Results[0].Err, ErrDiverged) || !math.IsNaN(r.Results[0].Mean) {
		t.Errorf("best %d, results[0] %+v: want the diverging candidate failed and never best", r.Best, r.Results[0])
	}
	if s := r.String(); !strings.Contains(s, "failed: fold") {
		t.Errorf("table:\n%s", s)
	}
	if _, err := Search(context.Background(), base, (&Grid{LearningRate: []float64{1e300}}).Candidates(), d, 3, 1); err == nil || !strings.Contains(err.Error(), "no candidate could be scored") {
		t.Errorf("every candidate failing: got %v", err)
	}
	if _, err := Search(context.Background(), base, nil, d, 3, 1); err == nil {
		t.Error("no candidates: no error")
	}
	type other struct{ Estimator }
	if _, err := Search(context.Background(), other{}, []Candidate{{}}, d, 3, 1); err == nil || !strings.Contains(err.Error(), "*Classifier or a *Regressor") {
		t.Errorf("another estimator: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Search(ctx, base, []Candidate{{}}, d, 3, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if _, err := CrossValidate(context.Background(), func() Estimator { return &Classifier{Method: "sgd", LearningRate: 1e300, Epochs: 5} }, d, 3, 1); !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), " of 3: ") {
		t.Errorf("cross-validation of a diverging fit: got %v", err)
	}
	// A regression: R² of the folds.
	x := mat.NewDense(40, 1, nil)
	y := mat.NewDense(40, 1, nil)
	for i := range 40 {
		x.Set(i, 0, float64(i))
		y.Set(i, 0, 2*float64(i)+1)
	}
	reg := &Dataset{X: x, Y: y, Features: []string{"x"}}
	rr, err := Search(context.Background(), &Regressor{Epochs: 100, ValidationFraction: -1, Seed: 1}, (&Grid{Hidden: [][]int{{}, {8}}}).Candidates(), reg, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if m := rr.Results[rr.Best].Mean; !(m > 0.9) {
		t.Errorf("regression search: best mean R² %v", m)
	}
	if _, err := reg.Folds(25, 1); err == nil || !strings.Contains(err.Error(), "R² needs at least 2 rows") {
		t.Errorf("folds of one row for R²: got %v", err)
	}
}

func TestFoldsStratified(t *testing.T) {
	labels := make([]int, 100)
	for i := range labels {
		labels[i] = i % 10 / 7 // 70 of class 0, 30 of class 1
	}
	d := &Dataset{X: mat.NewDense(100, 1, nil), Y: OneHot(labels, 2), Classes: []string{"a", "b"}}
	folds, err := d.Folds(5, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range folds {
		ones := 0
		for _, i := range f {
			ones += labels[i]
		}
		if len(f) != 20 || ones != 6 {
			t.Errorf("fold of %d rows with %d of class b, want 20 with 6", len(f), ones)
		}
	}
}

func TestFitDatasetErrors(t *testing.T) {
	d, err := ReadCSV(strings.NewReader(tableData(60, 8)), &CSVOptions{Target: "class", Classify: true, DetectCategorical: true, Missing: DefaultMissing})
	if err != nil {
		t.Fatal(err)
	}
	short := d.Subset(slices.Collect(func(yield func(int) bool) {
		for i := range 60 {
			if !yield(i) {
				return
			}
		}
	}))
	short.Weights = []float64{1, 2}
	if err := (&Classifier{}).Fit(context.Background(), short); err == nil || !strings.Contains(err.Error(), "2 weights for 60 rows") {
		t.Errorf("short weights: got %v", err)
	}
	bad := d.Subset([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	bad.X.Set(11, 1, 7) // not a code of the 3 shapes
	for seed := range uint64(5) {
		if err := (&Classifier{Seed: seed}).Fit(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "X(11,1): 7 is not the code") {
			t.Errorf("seed %d, a bad code: got %v", seed, err)
		}
	}
	if err := (&Classifier{ClassWeights: map[string]float64{"hihg": 2}}).Fit(context.Background(), d); err == nil || !strings.Contains(err.Error(), `ClassWeights names the class "hihg"`) {
		t.Errorf("a misspelt class weight: got %v", err)
	}
	unknown := &Dataset{X: mat.NewDense(2, 1, []float64{-1, -1}), Features: []string{"c"}, Categories: [][]string{{"x"}}}
	if _, err := FitEncoding(unknown, ImputeMean, false); err == nil || !strings.Contains(err.Error(), "no row holds a known category") {
		t.Errorf("no known category: got %v", err)
	}
	for _, tc := range []struct {
		opts *CSVOptions
		want string
	}{
		{&CSVOptions{Targets: []string{"a", "a"}}, `Targets lists "a" twice`},
		{&CSVOptions{Targets: []string{"a"}, Weight: "a"}, `Weight "a" is also a target`},
		{&CSVOptions{Features: []string{"col0"}, Targets: []string{"col1", "col2"}, Header: HeaderNo}, "need a header"},
	} {
		if _, err := ReadCSV(strings.NewReader("a,b,c\n1,2,3\n"), tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestModelFileVersions(t *testing.T) {
	n, _ := New(Config{Sizes: []int{2, 1}, Activations: []Activation{Identity}, Seed: 1})
	var b bytes.Buffer
	if err := (&Model{Network: n, Features: []string{"a", "b"}}).Encode(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"version": 1`) {
		t.Errorf("a model without encoding or targets is not version 1:\n%s", b.String())
	}
	head := `{"format":"github.com/neuralgo/nn model","version":2,"sizes":[4,1],"activations":["identity"],"bias":true,"loss":"squared-error","weights":[[1,2,3,4]],"biases":[[0]]`
	for _, tc := range []struct{ tail, want string }{
		{`,"features":["a","c"],"encoding":[{"fill":1.5,"indicator":true},{"categories":["x","y"],"fill":1}]}`, ""},
		{`,"encoding":[{"fill":1.5,"indicator":true},{"categories":["x","y"],"fill":1}]}`, `no "features"`},
		{`,"features":["a","c"],"encoding":[{"indicator":true},{"categories":["x","y"],"fill":1}]}`, `encoding[0] has no "fill"`},
		{`,"features":["a","c"],"encoding":[{"fill":1,"indicator":true},{"categories":["x","y"],"fill":2}]}`, "fill 2 is not the code"},
		{`,"features":["a","c"],"encoding":[{"fill":1,"indicator":true},{"categories":["x","x"],"fill":0}]}`, `lists category "x" twice`},
		{`,"features":["a","c"],"encoding":[{"fill":1},{"categories":["x","y"],"fill":0}]}`, "makes 3 inputs of its 2 columns, want 4"},
		{`,"features":["a","c"],"encoding":[{"fill":1.5,"indicator":true},{"categories":["x","y"],"fill":1}],"missing":["NA"]}`, ""},
		{`,"features":["a","b","c","d"],"missing":["NA"]}`, `"missing" spellings but no "encoding"`},
		{`,"features":["a","b","c","d"],"targets":["y","z"]}`, "has 2 targets, want 1"},
		{`,"features":["a","b","c","d"],"targets":["y"],"classes":["p","q"]}`, "classes and several targets"},
	} {
		_, err := DecodeModel(strings.NewReader(head + tc.tail))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: got %v, want %q", tc.tail, err, tc.want)
		}
	}
	v1 := strings.Replace(head, `"version":2`, `"version":1`, 1) + `,"targets":["y"]}`
	if _, err := DecodeModel(strings.NewReader(v1)); err == nil || !strings.Contains(err.Error(), `version 1 has a "targets" field`) {
		t.Errorf("targets in version 1: got %v", err)
	}
}

func TestPredictCSV(t *testing.T) {
	d, err := LoadCSV("testdata/iris.csv", &CSVOptions{Target: "species", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Seed: 1}
	if err := c.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	in := "petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.1\n2.3,5.2,3.0,6.7\n0.2,1.4,oops,5.1\n0.2,1.4,3.5,5.1\n"
	rows, _, err := c.Model.PredictCSV(&out, strings.NewReader(in), nil)
	var pe *ParseError
	if rows != 2 || out.String() != "setosa\nvirginica\n" || !errors.As(err, &pe) || pe.Line != 4 || pe.Column != 3 {
		t.Errorf("%d rows, output %q, error %v: want 2 predictions and an error at line 4, column 3", rows, out.String(), err)
	}
	var big strings.Builder
	big.WriteString("sepal_length,sepal_width,petal_length,petal_width\n")
	for range 600 {
		big.WriteString("6.7,3.0,5.2,2.3\n")
	}
	out.Reset()
	if rows, _, err := c.Model.PredictCSV(&out, strings.NewReader(big.String()), nil); err != nil || rows != 600 || strings.Count(out.String(), "virginica\n") != 600 {
		t.Errorf("600 rows in batches: %d rows, %v", rows, err)
	}
}

// TestRefitWithToolbox checks that a refit after early stopping keeps the
// schedule's warm-up within its shorter run and monitors the loss, having
// no held-out rows.
func TestRefitWithToolbox(t *testing.T) {
	d, err := LoadCSV("testdata/iris.csv", &CSVOptions{Target: "species", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Seed: 1, Refit: true, Configure: func(s *Settings) {
		s.Monitor, s.Schedule, s.Warmup = MonitorAccuracy, Cosine, 150
	}}
	if err := c.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Report.History); n >= 150 {
		t.Errorf("refit ran %d epochs", n)
	}
}

// withWeights returns a copy of y with a column after its own holding w,
// as batches gather the targets of weighted rows.
func withWeights(y *mat.Dense, w []float64) *mat.Dense {
	r, c := y.Dims()
	yw := mat.NewDense(r, c+1, nil)
	yw.Slice(0, r, 0, c).(*mat.Dense).Copy(y)
	yw.SetCol(c, w)
	return yw
}
