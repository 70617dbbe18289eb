package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// The cells of a request and the outputs of its answer go through the
// model's nn.Schema: its RowParser reads the values as CSV files are read,
// its classes and probabilities are the library's, and so is the error
// of outputs that are not finite.

// saveModel saves m in dir as name.json and returns its path.
func saveModel(t *testing.T, m *nn.Model, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name+".json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// gradesModel returns an untrained regression of two columns: the number
// "size" and the category "grade", whose categories are spelt as numbers
// ("1", "2", "2.5"), with "NA" and "" for a missing value.
func gradesModel(t *testing.T) *nn.Model {
	t.Helper()
	net, err := nn.New(nn.Config{Sizes: []int{4, 1}, Activations: []nn.Activation{nn.Identity}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &nn.Model{
		Network:  net,
		Features: []string{"size", "grade"},
		Target:   "y",
		Encoding: &nn.Encoding{
			Columns: []nn.ColumnEncoding{{Fill: 1}, {Categories: []string{"1", "2", "2.5"}}},
			Missing: []string{"NA", ""},
		},
	}
}

// firstPrediction returns the first prediction of an answer of
// /invocations, or the first value of the first output of a V2 answer,
// as its JSON text.
func firstPrediction(t *testing.T, r response) string {
	t.Helper()
	var res struct {
		Predictions []any
		Outputs     []struct{ Data []any }
	}
	r.decode(t, &res)
	switch {
	case len(res.Predictions) > 0:
		return fmt.Sprint(res.Predictions[0])
	case len(res.Outputs) > 0 && len(res.Outputs[0].Data) > 0:
		return fmt.Sprint(res.Outputs[0].Data[0])
	}
	t.Fatalf("no prediction in %s", r.body)
	return ""
}

func TestCells(t *testing.T) {
	iris, _ := models(t)
	grades := gradesModel(t)
	_, ts := newTestServer(t, &Options{ReloadInterval: -1},
		ModelFile{"grades", saveModel(t, grades, t.TempDir(), "grades")}, ModelFile{"iris", iris})
	const gradesInv, irisInv = "/invocations?model=grades", "/invocations?model=iris"
	v2 := func(size, sizeType, grade, gradeType string) string {
		return `{"inputs":[{"name":"size","shape":[1],"datatype":"` + sizeType + `","data":[` + size + `]},` +
			`{"name":"grade","shape":[1],"datatype":"` + gradeType + `","data":[` + grade + `]}]}`
	}
	nan := math.NaN()
	unknown := 0
	for _, test := range []struct {
		name, path, ctype, body string
		// want is the row of the model's table that the body holds, and
		// msg the error if the body is refused.
		want    []float64
		unknown int // unknown categories in the body
		msg     string
	}{
		// A JSON number in a categorical column is the category that its
		// shortest form spells; a string is read as a CSV field.
		{"category as a number", gradesInv, "", `{"inputs":[[1.5, 2.50]]}`, []float64{1.5, 2}, 0, ""},
		{"category as a whole number", gradesInv, "", `{"inputs":[[1.5, 1]]}`, []float64{1.5, 0}, 0, ""},
		{"category as a number in a string", gradesInv, "", `{"inputs":[[1.5, " 1.0"]]}`, []float64{1.5, 0}, 0, ""},
		{"unknown category", gradesInv, "", `{"inputs":[[1.5, 3]]}`, []float64{1.5, -1}, 1, ""},
		{"unknown category in a string", gradesInv, "", `{"dataframe_records":[{"grade":"A","size":1.5}]}`, []float64{1.5, -1}, 1, ""},
		// null and the spellings of a missing value are missing values,
		// which the Encoding fills in.
		{"null", gradesInv, "", `{"inputs":[[null, null]]}`, []float64{nan, nan}, 0, ""},
		{"missing spellings", gradesInv, "", `{"inputs":[["NA", ""]]}`, []float64{nan, nan}, 0, ""},
		// A string in a numeric column is read as a CSV field is: a
		// number with spaces around it, or refused.
		{"number in a string", gradesInv, "", `{"inputs":[[" 5.5 ", 2]]}`, []float64{5.5, 1}, 0, ""},
		{"text in a numeric column", gradesInv, "", `{"inputs":[["abc", 2]]}`, nil, 0, `inputs[0][0]: feature "size": not a number: "abc"`},
		{"NaN in a string", gradesInv, "", `{"inputs":[["NaN", 2]]}`, nil, 0, `inputs[0][0]: feature "size": non-finite value: "NaN"`},
		// V2: BYTES holds strings, read as above, and numbers; a numeric
		// datatype holds numbers only.
		{"V2 BYTES", "/v2/models/grades/infer", "", v2(`"5.5"`, "BYTES", `"2.5"`, "BYTES"), []float64{5.5, 2}, 0, ""},
		{"V2 BYTES numbers", "/v2/models/grades/infer", "", v2(`5.5`, "BYTES", `2.5`, "BYTES"), []float64{5.5, 2}, 0, ""},
		{"V2 FP64 category", "/v2/models/grades/infer", "", v2(`5.5`, "FP64", `2`, "FP64"), []float64{5.5, 1}, 0, ""},
		{"V2 FP64 string", "/v2/models/grades/infer", "", v2(`"5.5"`, "FP64", `2`, "FP64"), nil, 0,
			`inputs[0].data[0] (row 0): feature "size": wrong datatype: a string, "5.5", in a tensor of numbers (BYTES holds strings)`},
		// CSV, with the same rules.
		{"CSV", gradesInv, "text/csv", "grade,size\n2.50,NA\n", []float64{nan, 2}, 0, ""},
		{"CSV unknown", gradesInv, "text/csv", "grade,size\n7,1\n", []float64{1, -1}, 1, ""},
		// A model without an Encoding takes strings of numbers, and no
		// missing values: neither null nor a spelling of one.
		{"iris, number in a string", irisInv, "", `{"inputs":[["5.1", 3.5, 1.4, 0.2]]}`, []float64{5.1, 3.5, 1.4, 0.2}, 0, ""},
		{"iris, null", irisInv, "", `{"inputs":[[5.1, null, 1.4, 0.2]]}`, nil, 0,
			`inputs[0][1]: feature "sepal_width" is missing, and the model takes no missing values (it was trained on data without them): not a number`},
		{"iris, NA", irisInv, "", `{"inputs":[[5.1, "NA", 1.4, 0.2]]}`, nil, 0, `inputs[0][1]: feature "sepal_width": not a number: "NA"`},
		{"iris, null in a column", irisInv, "", `{"inputs":{"sepal_length":[5.1],"sepal_width":[3.5],"petal_length":[1.4],"petal_width":[null]}}`, nil, 0,
			`inputs (row 0): feature "petal_width" is missing`},
		{"iris, V2 null", "/v2/models/iris/infer", "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,null,0.2]}]}`, nil, 0,
			`inputs[0].data[2] (row 0): feature "petal_length" is missing`},
	} {
		ctype := test.ctype
		if ctype == "" {
			ctype = "application/json"
		}
		r := do(t, nil, http.MethodPost, ts.URL+test.path, ctype, test.body)
		if test.want == nil {
			if msg := r.errorOf(t); r.status != http.StatusBadRequest || !strings.Contains(msg, test.msg) {
				t.Errorf("%s: %d %q, want 400 with %q", test.name, r.status, msg, test.msg)
			}
			continue
		}
		if r.status != http.StatusOK {
			t.Errorf("%s: %d %s", test.name, r.status, r.body)
			continue
		}
		unknown += test.unknown
		got := firstPrediction(t, r)
		if strings.Contains(test.path, "iris") {
			if labels, _ := wantLabels(t, iris, [][]float64{test.want}); got != labels[0] {
				t.Errorf("%s: label %s, want %s", test.name, got, labels[0])
			}
			continue
		}
		want := predictRows(t, grades, [][]float64{test.want})[0][0]
		if v, err := strconv.ParseFloat(got, 64); err != nil || !sameOutput(v, want) {
			t.Errorf("%s: prediction %s, want %v (Model.Predict of %v)", test.name, got, want, test.want)
		}
	}
	// Each request counted its own unknown categories, whatever the
	// requests that its pooled RowParser read before.
	if m, want := metricsText(t, ts.URL), fmt.Sprintf(`nn_serve_unknown_categories_total{model="grades"} %d`, unknown); !strings.Contains(m, want) {
		t.Errorf("unknown categories: want %s in\n%s", want, m)
	}
}

// A model whose outputs overflow for a row answers 422, with the
// library's error for the row.
func TestNonFiniteOutputs(t *testing.T) {
	net, err := nn.New(nn.Config{Sizes: []int{4, 3}, Activations: []nn.Activation{nn.Softmax}, Loss: nn.CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Weights of 1e308: an iris row makes every input of the softmax
	// +Inf, and its outputs NaN; a row of zeros stays finite.
	w := net.Weights(0)
	r, c := w.Dims()
	for i := range r {
		for j := range c {
			w.Set(i, j, 1e308)
		}
	}
	clear(net.Bias(0))
	m := &nn.Model{Network: net, Features: []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}, Classes: []string{"a", "b", "c"}}
	s, err := m.Schema()
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.Predict(mat.NewDense(1, 4, []float64{5.1, 3.5, 1.4, 0.2}))
	if err != nil {
		t.Fatal(err)
	}
	rowErr := s.CheckOutputs(out.RawRowView(0))
	if rowErr == nil {
		t.Fatalf("outputs %v, want NaN", out.RawRowView(0))
	}
	want := "row 1: " + rowErr.Error()
	for _, opts := range []*Options{{ReloadInterval: -1}, {ReloadInterval: -1, NoBatching: true}} {
		_, ts := newTestServer(t, opts, ModelFile{"big", saveModel(t, m, t.TempDir(), "big")})
		for _, req := range []struct{ path, body string }{
			{"/invocations", `{"inputs":[[0,0,0,0],[5.1,3.5,1.4,0.2]]}`},
			{"/v2/models/big/infer", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[0,0,0,0,5.1,3.5,1.4,0.2]}]}`},
		} {
			r := post(t, ts.URL+req.path, req.body)
			if msg := r.errorOf(t); r.status != http.StatusUnprocessableEntity || msg != want {
				t.Errorf("%s (batching %v): %d %q, want 422 %q", req.path, !opts.NoBatching, r.status, msg, want)
			}
		}
	}
}

// A classifier saved without names, of a single sigmoid output: its
// features are col0, col1, …, its classes "0" and "1", and its
// probabilities 1−p and p, as the library names and computes them.
func TestSingleSigmoid(t *testing.T) {
	net, err := nn.New(nn.Config{Sizes: []int{3, 1}, Activations: []nn.Activation{nn.Sigmoid}, Loss: nn.BinaryCrossEntropy, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	m := &nn.Model{Network: net}
	s, err := m.Schema()
	if err != nil {
		t.Fatal(err)
	}
	_, ts := newTestServer(t, &Options{ReloadInterval: -1}, ModelFile{"bin", saveModel(t, m, t.TempDir(), "bin")})

	var meta struct {
		Outputs []tensorMeta
		Model   struct{ Features, Classes []string } `json:"neuralgo_nn"`
	}
	do(t, nil, http.MethodGet, ts.URL+"/v2/models/bin", "", "").decode(t, &meta)
	if !slices.Equal(meta.Model.Features, s.Features()) || !slices.Equal(meta.Model.Classes, s.Classes()) ||
		fmt.Sprint(meta.Outputs) != fmt.Sprint([]tensorMeta{{"label", "BYTES", []int{-1}}, {"probabilities", "FP64", []int{-1, 2}}}) {
		t.Errorf("metadata %+v, want features %q, classes %q, label and probabilities [-1 2]", meta, s.Features(), s.Classes())
	}
	if want := []string{"col0", "col1", "col2"}; !slices.Equal(s.Features(), want) {
		t.Errorf("features %q, want %q", s.Features(), want)
	}

	rows := [][]float64{{1, 2, 3}, {-1, 0, 0.5}, {-3, -2, 1}}
	p := predictRows(t, m, rows)
	pm := mat.NewDense(len(rows), 1, nil)
	var wantLabels []string
	var wantProba []float64
	for i, o := range p {
		pm.Set(i, 0, o[0])
		wantProba = append(wantProba, s.ProbabilitiesTo(nil, o)...)
	}
	for _, c := range net.ClassesTo(nil, pm) {
		wantLabels = append(wantLabels, s.Label(c))
	}
	r := post(t, ts.URL+"/v2/models/bin/infer", `{"inputs":[{"name":"x","shape":[3,3],"datatype":"FP64","data":`+jsonRows(rows)+`}]}`)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var res inferResponse
	r.decode(t, &res)
	if _, data := res.output(t, "label"); fmt.Sprint(data) != fmt.Sprint(wantLabels) {
		t.Errorf("labels %v, want %v", data, wantLabels)
	}
	shape, data := res.output(t, "probabilities")
	if !slices.Equal(shape, []int{3, 2}) || len(data) != len(wantProba) {
		t.Fatalf("probabilities %v %v, want %v", shape, data, wantProba)
	}
	for k, v := range data {
		if got, _ := strconv.ParseFloat(string(v.(json.Number)), 64); !sameOutput(got, wantProba[k]) {
			t.Errorf("probability %d: got %v, want %v", k, got, wantProba[k])
		}
	}
	r = post(t, ts.URL+"/invocations", `{"inputs":`+jsonRows(rows)+`}`)
	if got := fmt.Sprint(predictions(t, r)); got != fmt.Sprint(wantLabels) {
		t.Errorf("MLflow predictions %s, want %v", got, wantLabels)
	}
}
