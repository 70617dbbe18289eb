package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// predictions decodes an MLflow answer.
func predictions(t *testing.T, r response) []any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var res struct{ Predictions []any }
	r.decode(t, &res)
	return res.Predictions
}

// The forms of MLflow's documentation (mlflow models serve --help), with
// the iris features for its columns a and b.
func TestInvocationsForms(t *testing.T) {
	iris, _ := models(t)
	_, ts := newTestServer(t, nil, ModelFile{"iris", iris})
	rows, _ := irisRows(t)
	rows = [][]float64{rows[0], rows[55], rows[120]}
	labels, _ := wantLabels(t, iris, rows)
	want := fmt.Sprint(labels)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	record := func(r []float64) string {
		return fmt.Sprintf(`{"petal_width":%s,"sepal_length":%s,"id":"x","sepal_width":%s,"petal_length":%s}`, f(r[3]), f(r[0]), f(r[1]), f(r[2]))
	}
	records := "[" + record(rows[0]) + "," + record(rows[1]) + "," + record(rows[2]) + "]"
	column := func(j int) string {
		return "[" + f(rows[0][j]) + "," + f(rows[1][j]) + "," + f(rows[2][j]) + "]"
	}
	split := func(r []float64) string { return fmt.Sprintf(`["a",%s,%s,%s,%s]`, f(r[2]), f(r[0]), f(r[3]), f(r[1])) }
	csvRow := func(r []float64) string { return fmt.Sprintf("%s,%s,%s,x,%s\n", f(r[3]), f(r[1]), f(r[0]), f(r[2])) }
	for _, test := range []struct {
		name, ctype, body string
	}{
		{"inputs", "application/json", `{"inputs": ` + jsonRows(rows) + `}`},
		{"inputs records", "application/json", `{"inputs": ` + records + `}`},
		{"inputs columns", "application/json", `{"inputs": {"sepal_width":` + column(1) + `,"sepal_length":` + column(0) + `,"petal_width":` + column(3) + `,"petal_length":` + column(2) + `}}`},
		{"instances", "application/json", `{"instances": ` + jsonRows(rows) + `}`},
		{"instances records", "application/json", `{"instances": ` + records + `}`},
		{"dataframe_records", "application/json", `{"dataframe_records": ` + records + `}`},
		{"dataframe_split", "application/json", `{"dataframe_split": {"columns": ["id","petal_length","sepal_length","petal_width","sepal_width"], "index": [0, 1, 2], "data": [` +
			split(rows[0]) + "," + split(rows[1]) + "," + split(rows[2]) + `]}}`},
		{"params", "application/json", `{"inputs": ` + jsonRows(rows) + `, "params": {"x": 1}}`},
		{"curl's form type", "application/x-www-form-urlencoded", `{"inputs": ` + jsonRows(rows) + `}`},
		{"csv", "text/csv", "petal_width,sepal_width,sepal_length,species,petal_length\n" + csvRow(rows[0]) + csvRow(rows[1]) + csvRow(rows[2])},
		{"csv charset", "text/csv; charset=utf-8", "\ufeffpetal_width,sepal_width,sepal_length,species,petal_length\r\n" + csvRow(rows[0]) + csvRow(rows[1]) + csvRow(rows[2])},
	} {
		r := do(t, nil, http.MethodPost, ts.URL+"/invocations", test.ctype, test.body)
		if got := fmt.Sprint(predictions(t, r)); got != want {
			t.Errorf("%s: predictions %s, want %s", test.name, got, want)
		}
	}
}

func TestInvocationsRegression(t *testing.T) {
	_, reg := models(t)
	_, ts := irisServer(t, nil)
	m := loadModel(t, reg)
	species := m.Encoding.Columns[3].Categories
	rows := [][]float64{{5.1, 3.5, 1.4, 0}, {6.3, 2.9, 5.6, 2}, {6.0, 3.0, 4.8, -1}}
	want := predictRows(t, m, rows)
	for _, test := range []struct {
		name, ctype, body string
	}{
		{"csv", "text/csv", "species,petal_length,sepal_width,sepal_length\n" + species[0] + ",1.4,3.5,5.1\n" + species[2] + ",5.6,2.9,6.3\nhybrid,4.8,3.0,6.0\n"},
		{"dataframe_split", "application/json", `{"dataframe_split":{"columns":["species","petal_length","sepal_width","sepal_length"],"data":[["` + species[0] + `",1.4,3.5,5.1],["` + species[2] + `",5.6,2.9,6.3],["hybrid",4.8,3.0,6.0]]}}`},
		{"inputs", "application/json", `{"inputs":[[5.1,3.5,1.4,"` + species[0] + `"],[6.3,2.9,5.6,"` + species[2] + `"],[6.0,3.0,4.8,"hybrid"]]}`},
	} {
		r := do(t, nil, http.MethodPost, ts.URL+"/invocations?model=reg", test.ctype, test.body)
		p := predictions(t, r)
		if len(p) != len(want) {
			t.Fatalf("%s: %d predictions, want %d", test.name, len(p), len(want))
		}
		for i, v := range p {
			if got, _ := strconv.ParseFloat(string(v.(json.Number)), 64); !sameOutput(got, want[i][0]) {
				t.Errorf("%s: row %d: prediction %v, want %v", test.name, i, got, want[i][0])
			}
		}
	}
}

func TestInvocationsModelChoice(t *testing.T) {
	iris, reg := models(t)
	_, ts := irisServer(t, nil)
	body := `{"inputs":[[5.1,3.5,1.4,0.2]]}`
	r := post(t, ts.URL+"/invocations", body)
	if msg := r.errorOf(t); !strings.Contains(msg, "?model=NAME") {
		t.Errorf("two models, none named: %s", msg)
	}
	r = post(t, ts.URL+"/invocations?model=nope", body)
	if r.status != http.StatusNotFound || !strings.Contains(r.errorOf(t), `unknown model "nope"; the models are "iris", "reg"`) {
		t.Errorf("unknown model: %d %s", r.status, r.body)
	}
	if r := post(t, ts.URL+"/invocations?model=iris", body); r.status != http.StatusOK {
		t.Errorf("?model=iris: %d %s", r.status, r.body)
	}
	_, ts2 := newTestServer(t, &Options{Default: "iris"}, ModelFile{"reg", reg}, ModelFile{"iris", iris})
	if r := post(t, ts2.URL+"/invocations", body); r.status != http.StatusOK || !strings.Contains(r.body, "setosa") {
		t.Errorf("Default iris: %d %s", r.status, r.body)
	}
}
