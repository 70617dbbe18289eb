package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// schemaTable returns a CSV table of n rows: numbers x and y (y missing
// in some rows), a text column color of three categories, and a class
// label that depends on all three; the columns in the order cols names
// them, and rows whose color is in skip left out.
func schemaTable(n int, seed uint64, cols []string, skip string) string {
	rnd := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString(strings.Join(cols, ",") + "\n")
	colors := []string{"red", "green", "blue"}
	for range n {
		x, y := rnd.NormFloat64(), rnd.NormFloat64()
		c := colors[rnd.IntN(3)]
		label := "low"
		if x+0.5*y+map[string]float64{"red": 1, "green": 0, "blue": -1}[c] > 0.3 {
			label = "high"
		}
		ys := fmt.Sprint(y)
		if rnd.IntN(10) == 0 {
			ys = "NA"
		}
		field := map[string]string{"x": fmt.Sprint(x), "y": ys, "color": c, "label": label, "extra": fmt.Sprint(rnd.IntN(100)), "noise": "n" + fmt.Sprint(rnd.IntN(5))}
		if c == skip {
			continue
		}
		row := make([]string, len(cols))
		for j, name := range cols {
			row[j] = field[name]
		}
		b.WriteString(strings.Join(row, ",") + "\n")
	}
	return b.String()
}

// userOptions are the options a user reading a file of their own would
// give: text columns detected, missing values read, the label a class.
var userOptions = &CSVOptions{Target: "label", Classify: true, DetectCategorical: true, Missing: DefaultMissing}

// TestDatasetsByName checks that every entry point that takes a Dataset
// finds the model's columns by name and recodes its categories: a test
// file with its columns shuffled, with an extra column, or lacking a
// category altogether gives the predictions of the original file, bit
// for bit, and one lacking a feature is a one-line error naming it.
func TestDatasetsByName(t *testing.T) {
	train, err := ReadCSV(strings.NewReader(schemaTable(300, 1, []string{"x", "y", "color", "label"}, "")), userOptions)
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Seed: 1, Epochs: 30}
	if err := c.Fit(context.Background(), train); err != nil {
		t.Fatal(err)
	}
	read := func(cols []string, skip string) *Dataset {
		t.Helper()
		d, err := ReadCSV(strings.NewReader(schemaTable(120, 2, cols, skip)), userOptions)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	orig := read([]string{"x", "y", "color", "label"}, "")
	want, err := c.PredictProba(orig)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels, _ := c.Predict(orig)
	wantScore, _ := c.Score(orig)

	// The rows of the original file whose color is not blue, in order.
	var notBlue []int
	for i := range orig.X.RawMatrix().Rows {
		if orig.Categories[2][int(orig.X.At(i, 2))] != "blue" {
			notBlue = append(notBlue, i)
		}
	}
	for _, test := range []struct {
		name string
		d    *Dataset
		rows []int // the rows of orig that d holds; nil for all
	}{
		{"shuffled columns", read([]string{"label", "color", "y", "x"}, ""), nil},
		{"an extra column", read([]string{"extra", "x", "noise", "y", "color", "label"}, ""), nil},
		{"no blue rows: two categories, coded 0 and 1", read([]string{"color", "x", "y", "label"}, "blue"), notBlue},
	} {
		if len(test.d.Categories[slices.Index(test.d.Features, "color")]) == 3 && test.rows != nil {
			t.Fatalf("%s: the file still has blue rows", test.name)
		}
		got, err := c.PredictProba(test.d)
		if err != nil {
			t.Errorf("%s: PredictProba: %v", test.name, err)
			continue
		}
		rows := test.rows
		if rows == nil {
			rows = make([]int, orig.X.RawMatrix().Rows)
			for i := range rows {
				rows[i] = i
			}
		}
		// Bit for bit, but under OpenBLAS, whose kernels may sum a row's
		// products in another order for a block of another number of
		// rows (the file without blue rows has fewer).
		openBLAS := strings.Contains(Backend(), "OpenBLAS") && test.rows != nil
		for i, k := range rows {
			if !slices.Equal(got.RawRowView(i), want.RawRowView(k)) && !(openBLAS && mat.EqualApprox(got.RowView(i), want.RowView(k), 1e-12)) {
				t.Errorf("%s: row %d: probabilities %v, want %v", test.name, i, got.RawRowView(i), want.RawRowView(k))
				break
			}
		}
		labels, err := c.Predict(test.d)
		if err != nil {
			t.Errorf("%s: Predict: %v", test.name, err)
		}
		for i, k := range rows {
			if labels[i] != wantLabels[k] {
				t.Errorf("%s: row %d: label %q, want %q", test.name, i, labels[i], wantLabels[k])
				break
			}
		}
		if test.rows == nil {
			if score, err := c.Score(test.d); err != nil || score != wantScore {
				t.Errorf("%s: Score %v, %v; want %v", test.name, score, err, wantScore)
			}
		}
		ev, err := c.Model.Evaluate(test.d, false)
		if err != nil || ev.Unknown != 0 || ev.Rows != len(rows) || math.IsNaN(ev.Classification.LogLoss) {
			t.Errorf("%s: Evaluate: %+v, %v", test.name, ev, err)
		}
	}

	// A file without one of the model's columns: a one-line error.
	lacking := read([]string{"x", "color", "label"}, "")
	for name, f := range map[string]func() error{
		"Predict":        func() error { _, err := c.Predict(lacking); return err },
		"PredictProba":   func() error { _, err := c.PredictProba(lacking); return err },
		"Score":          func() error { _, err := c.Score(lacking); return err },
		"Evaluate":       func() error { _, err := c.Evaluate(lacking); return err },
		"PredictDataset": func() error { _, _, err := c.Model.PredictDataset(lacking, false); return err },
	} {
		err := f()
		if !errors.Is(err, ErrNoFeature) || !strings.Contains(err.Error(), `"y"`) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s of data without y: got %v, want a one-line ErrNoFeature naming it", name, err)
		}
	}

	// An unseen category: counted, or an error with StrictCategories.
	purple := read([]string{"x", "y", "color", "label"}, "")
	k := slices.Index(purple.Categories[2], "green")
	purple.Categories[2][k] = "purple"
	ev, err := c.Model.Evaluate(purple, false)
	if err != nil || ev.Unknown == 0 {
		t.Errorf("unseen category: Evaluate %+v, %v; want it counted", ev, err)
	}
	strict := *c
	strict.StrictCategories = true
	if _, err := strict.Predict(purple); !errors.Is(err, ErrUnknownCategory) || !strings.Contains(err.Error(), `"purple"`) {
		t.Errorf("unseen category, strict: got %v, want ErrUnknownCategory naming it", err)
	}
}

// TestTableRecodes checks that Schema.Table reads numbers as categories
// and categories as numbers where the data and the model disagree, reads
// a model's spelling of a missing value as missing, and returns the
// data's matrix itself when it is laid out as the model's table.
func TestTableRecodes(t *testing.T) {
	net, err := New(Config{Sizes: []int{4, 2}, Activations: []Activation{Softmax}, Loss: CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{
		Network:  net,
		Features: []string{"zip", "size"},
		Classes:  []string{"a", "b"},
		Encoding: &Encoding{Columns: []ColumnEncoding{
			{Categories: []string{"10", "20", "NA"}, Fill: 0},
			{Fill: 1},
		}, Missing: []string{"?"}},
	}
	m.Encoding.Columns[0].Categories = []string{"10", "20", "30"}
	s, err := m.Schema()
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	for _, test := range []struct {
		name string
		d    *Dataset
		want []float64 // the model's table, row by row
		unk  int
	}{
		{
			"zip as numbers, size as categories",
			&Dataset{
				X:          mat.NewDense(3, 2, []float64{2, 30, 0, 10, 1, 40}),
				Features:   []string{"size", "zip"},
				Categories: [][]string{{"1.5", "2.5", "?"}, nil},
			},
			[]float64{2, nan, 0, 1.5, -1, 2.5},
			1, // zip 40
		},
		{
			"codes in another order, and a missing spelling",
			&Dataset{
				X:          mat.NewDense(3, 2, []float64{0, 7, 1, 8, 2, nan}),
				Features:   []string{"zip", "size"},
				Categories: [][]string{{"30", "?", "10"}, nil},
			},
			[]float64{2, 7, nan, 8, 0, nan},
			0,
		},
	} {
		x, unk, err := s.Table(test.d, false)
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		if got := x.RawMatrix().Data; !sameFloats(got, test.want) || unk != test.unk {
			t.Errorf("%s: got %v and %d unknown, want %v and %d", test.name, got, unk, test.want, test.unk)
		}
	}
	same := &Dataset{X: mat.NewDense(1, 2, []float64{1, 3}), Features: []string{"zip", "size"}, Categories: [][]string{{"10", "20", "30"}, nil}}
	if x, _, err := s.Table(same, false); err != nil || x != same.X {
		t.Errorf("a Dataset laid out as the model's table: got a copy (%v)", err)
	}
	text := &Dataset{X: mat.NewDense(1, 2, []float64{0, 0}), Features: []string{"zip", "size"}, Categories: [][]string{nil, {"big"}}}
	if _, _, err := s.Table(text, false); !errors.Is(err, ErrNotNumber) || !strings.Contains(err.Error(), `"big"`) {
		t.Errorf("text in a numeric column: got %v, want ErrNotNumber naming it", err)
	}
}

// sameFloats reports whether a and b hold the same values, NaN equal to
// NaN.
func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) })
}

// TestRegressorTargetsByName checks that a regression on several
// targets predicts a file with shuffled columns as the original, and
// that Evaluate matches the targets by name and reports each.
func TestRegressorTargetsByName(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	var a, b strings.Builder
	a.WriteString("u,v,t1,t2\n")
	b.WriteString("t2,v,t1,u\n")
	for range 200 {
		u, v := rnd.NormFloat64(), rnd.NormFloat64()
		t1, t2 := 3*u-v, u*v
		fmt.Fprintf(&a, "%v,%v,%v,%v\n", u, v, t1, t2)
		fmt.Fprintf(&b, "%v,%v,%v,%v\n", t2, v, t1, u)
	}
	d1, err := ReadCSV(strings.NewReader(a.String()), &CSVOptions{Targets: []string{"t1", "t2"}})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := ReadCSV(strings.NewReader(b.String()), &CSVOptions{Targets: []string{"t2", "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	r := &Regressor{Seed: 1, Epochs: 40}
	if err := r.Fit(context.Background(), d1); err != nil {
		t.Fatal(err)
	}
	p1, err := r.Predict(d1)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := r.Predict(d2)
	if err != nil || !mat.Equal(p1, p2) {
		t.Errorf("shuffled columns predict differently (%v)", err)
	}
	e1, err1 := r.Evaluate(d1)
	e2, err2 := r.Evaluate(d2)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !slices.Equal(e1.Targets, []string{"t1", "t2"}) || e1.PerTarget[0] != e2.PerTarget[0] || e1.PerTarget[1] != e2.PerTarget[1] || e1.PerTarget[0].R2 < 0.9 {
		t.Errorf("reports differ or are poor: %+v, %+v", e1, e2)
	}
	if s, _ := r.Score(d2); s != e1.Mean.R2 {
		t.Errorf("Score %v, want the mean R² %v", s, e1.Mean.R2)
	}
	if !strings.Contains(e1.String(), "t2") || !strings.Contains(e1.String(), "mean") {
		t.Errorf("report:\n%s", e1)
	}
}

func TestAppendCSVField(t *testing.T) {
	for _, test := range []struct{ in, want string }{
		{"setosa", "setosa"},
		{"", `""`},
		{"a,b", `"a,b"`},
		{`say "hi"`, `"say ""hi"""`},
		{" lead", `" lead"`},
		{"trail ", `"trail "`},
		{"tab\t", "\"tab\t\""},
		{"two\nlines", "\"two\nlines\""},
		{`\.`, `"\."`},
		{"é", "é"},
	} {
		if got := string(AppendCSVField(nil, test.in)); got != test.want {
			t.Errorf("AppendCSVField(%q) = %q, want %q", test.in, got, test.want)
		}
		// What is written reads back as it was.
		d, err := ReadCSV(strings.NewReader("x,y\n1,"+string(AppendCSVField(nil, test.in))+"\n"), &CSVOptions{Classify: true})
		if test.in == strings.TrimSpace(test.in) && test.in != "" && (err != nil || d.Classes[0] != test.in) {
			t.Errorf("%q does not read back: %v", test.in, err)
		}
	}
}

// TestPredictCSVOutputs checks the headers and the number format of what
// PredictCSV writes, and that a row whose outputs are not finite is an
// error naming its line, after the rows before it.
func TestPredictCSVOutputs(t *testing.T) {
	net, err := New(Config{Sizes: []int{2, 3}, Activations: []Activation{Softmax}, Loss: CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Network: net, Features: []string{"a", "b"}, Classes: []string{"x", "y,z", ""}}
	in := "b,a\n0.5,1\n-1,2\n"
	var out strings.Builder
	if _, _, err := m.PredictCSV(&out, strings.NewReader(in), &PredictOptions{Output: LabelsAndProbabilities}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if lines[0] != `label,x,"y,z",""` || len(lines) != 4 {
		t.Fatalf("output %q", out.String())
	}
	p, _ := m.Predict(mat.NewDense(1, 2, []float64{1, 0.5}))
	want := string(AppendFloat(nil, p.At(0, 0)))
	if fields := strings.Split(lines[1], ","); len(fields) < 2 || fields[len(fields)-3] != want {
		t.Errorf("line %q, want the probabilities in the shortest form, as %s", lines[1], want)
	}

	reg, err := New(Config{Sizes: []int{2, 2}, Activations: []Activation{Identity}, Loss: SquaredError, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	r := &Model{Network: reg, Features: []string{"a", "b"}, Targets: []string{"t1", "t2"}}
	out.Reset()
	if _, _, err := r.PredictCSV(&out, strings.NewReader("a,b\n1,2\n"), nil); err != nil || !strings.HasPrefix(out.String(), "t1,t2\n") {
		t.Errorf("several targets: %q, %v; want a header of their names", out.String(), err)
	}
	if _, _, err := r.PredictCSV(&out, strings.NewReader("a,b\n1,2\n"), &PredictOptions{Output: Probabilities}); err == nil {
		t.Error("probabilities of a regression: no error")
	}

	// Weights that overflow for large inputs: NaN outputs are an error.
	big := &Model{Network: reg, Features: []string{"a", "b"}}
	big.Network.Weights(0).Set(0, 0, 1e308)
	big.Network.Weights(0).Set(1, 0, 1e308)
	out.Reset()
	rows, _, err := big.PredictCSV(&out, strings.NewReader("a,b\n0,0\n1,1\n"), nil)
	var pe *ParseError
	if rows != 1 || !errors.As(err, &pe) || pe.Line != 3 || !errors.Is(err, ErrNotFinite) || out.String() != "output0,output1\n0,0\n" {
		t.Errorf("overflow: %d rows, %q, %v; want 1 row and ErrNotFinite at line 3", rows, out.String(), err)
	}
	if _, err := big.Predict(mat.NewDense(1, 2, []float64{1, 1})); !errors.Is(err, ErrNotFinite) {
		t.Errorf("Model.Predict of an overflow: %v, want ErrNotFinite", err)
	}
}

// TestPredictorAllocs checks that a warm Predictor allocates nothing per
// block.
func TestPredictorAllocs(t *testing.T) {
	net, err := New(Config{Sizes: []int{4, 8, 3}, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Network: net, Scaler: &Scaler{Offset: make([]float64, 4), Scale: []float64{1, 2, 3, 4}}, Classes: []string{"a", "b", "c"}}
	s, err := m.Schema()
	if err != nil {
		t.Fatal(err)
	}
	p := s.NewPredictor(16)
	row := []float64{1, 2, 3, 4}
	var b []byte
	block := func() {
		for !p.Full() {
			if err := p.Add(row); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Predict(); err != nil {
			t.Fatal(err)
		}
		for i := range p.Len() {
			b = p.AppendPrediction(b[:0], i, LabelsAndProbabilities)
		}
		p.Reset()
	}
	block()
	if n := testing.AllocsPerRun(10, block); n != 0 {
		t.Errorf("%v allocations per block, want 0", n)
	}
}

// TestSchemaReviewCases holds the cases a review found: logits are not
// probabilities, a −1 code cannot be read as a number, numbers are not
// codes of text categories, a number that spells a missing value is
// missing, column names are unique, and a named target is matched by its
// name.
func TestSchemaReviewCases(t *testing.T) {
	// A classifier whose outputs are logits, as an imported PyTorch model
	// with class labels given is.
	logits, err := New(Config{Sizes: []int{2, 2}, Activations: []Activation{Identity}, Loss: SquaredError, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, err := (&Model{Network: logits, Classes: []string{"p", "q"}}).Schema()
	if err != nil {
		t.Fatal(err)
	}
	if s.Probabilities() {
		t.Error("identity outputs taken for probabilities")
	}
	if _, err := s.Header(Probabilities); err == nil || !strings.Contains(err.Error(), "2 outputs") {
		t.Errorf("Header(Probabilities) of logits: %v", err)
	}

	net, err := New(Config{Sizes: []int{4, 2}, Activations: []Activation{Softmax}, Loss: CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{
		Network:  net,
		Features: []string{"colour", "size"},
		Classes:  []string{"a", "b"},
		Encoding: &Encoding{Columns: []ColumnEncoding{
			{Categories: []string{"red", "green", "blue"}, Fill: 0},
			{Fill: 1},
		}, Missing: []string{"-999", "NA"}},
	}
	ms, err := m.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name string
		d    *Dataset
		want error
		text string
	}{
		{"codes without categories", &Dataset{X: mat.NewDense(1, 2, []float64{0, 1}), Features: []string{"colour", "size"}}, ErrNotNumber, "Dataset.Categories"},
		{"an unknown code in a numeric column", &Dataset{X: mat.NewDense(1, 2, []float64{0, -1}), Features: []string{"colour", "size"}, Categories: [][]string{{"red"}, {"5", "7"}}}, ErrNotNumber, "code −1"},
		{"a column named twice", &Dataset{X: mat.NewDense(1, 3, []float64{0, 1, 2}), Features: []string{"colour", "size", "size"}, Categories: [][]string{{"red"}, nil, nil}}, ErrDuplicateColumn, `"size"`},
	} {
		if _, _, err := ms.Table(test.d, false); !errors.Is(err, test.want) || !strings.Contains(err.Error(), test.text) {
			t.Errorf("%s: got %v, want %v mentioning %s", test.name, err, test.want, test.text)
		}
	}
	x, _, err := ms.Table(&Dataset{X: mat.NewDense(2, 2, []float64{0, -999, 1, 3}), Features: []string{"colour", "size"}, Categories: [][]string{{"red", "green", "blue"}, nil}}, false)
	if err != nil || !math.IsNaN(x.At(0, 1)) || x.At(1, 1) != 3 {
		t.Errorf("a number spelling a missing value: %v, %v; want NaN, then 3", x, err)
	}
	p, err := ms.Parser(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.Number(1, -999); err != nil || !math.IsNaN(v) {
		t.Errorf("RowParser.Number(-999): %v, %v; want NaN as a CSV field reads it", v, err)
	}
	if v, err := p.Value(1, "-999"); err != nil || !math.IsNaN(v) {
		t.Errorf("RowParser.Value(-999): %v, %v; want NaN", v, err)
	}

	reg, err := New(Config{Sizes: []int{1, 1}, Activations: []Activation{Identity}, Loss: SquaredError, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	price := &Model{Network: reg, Features: []string{"x"}, Target: "price"}
	qty := &Dataset{X: mat.NewDense(2, 1, []float64{1, 2}), Y: mat.NewDense(2, 1, []float64{3, 4}), Features: []string{"x"}, Target: "qty"}
	if _, err := price.Evaluate(qty, false); !errors.Is(err, ErrNoTarget) {
		t.Errorf("a model of price scored against qty: %v, want ErrNoTarget", err)
	}
	if err := (&Classifier{}).Fit(context.Background(), &Dataset{X: mat.NewDense(2, 2, []float64{1, 2, 3, 4}), Y: OneHot([]int{0, 1}, 2), Features: []string{"a", "a"}, Classes: []string{"u", "v"}}); !errors.Is(err, ErrDuplicateColumn) {
		t.Errorf("Fit of a Dataset naming a column twice: %v", err)
	}

	// WithDefaults of its own result is that result.
	set := &Settings{ValidationFraction: 0.1, Patience: -1}
	once := set.WithDefaults()
	twice := once.WithDefaults()
	if once.Patience != twice.Patience || once.LearningRate != twice.LearningRate {
		t.Errorf("WithDefaults is not idempotent: patience %d then %d", once.Patience, twice.Patience)
	}
}

// TestPredictCSVKeepsRowsBeforeAnError checks that the rows predicted
// before a bad row are written even when an earlier row's outputs are not
// finite, which is then the error.
func TestPredictCSVKeepsRowsBeforeAnError(t *testing.T) {
	net, err := New(Config{Sizes: []int{1, 1}, Activations: []Activation{Identity}, Loss: SquaredError, NoBias: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	net.Weights(0).Set(0, 0, 1e200)
	m := &Model{Network: net, Features: []string{"a"}}
	var out strings.Builder
	rows, _, err := m.PredictCSV(&out, strings.NewReader("a\n1\n2\n1e200\nabc\n"), nil)
	var pe *ParseError
	if rows != 2 || !errors.As(err, &pe) || pe.Line != 4 || !errors.Is(err, ErrNotFinite) || out.String() != "1e+200\n2e+200\n" {
		t.Errorf("%d rows, %q, %v; want the 2 rows written and the overflow of line 4", rows, out.String(), err)
	}
	// A file without the model's column: the error, and nothing written.
	out.Reset()
	if _, _, err := m.PredictCSV(&out, strings.NewReader("b\n1\n"), &PredictOptions{}); !errors.Is(err, ErrNoFeature) || out.Len() != 0 {
		t.Errorf("missing column: %q, %v", out.String(), err)
	}
}
