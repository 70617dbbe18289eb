package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestV2Health(t *testing.T) {
	_, ts := irisServer(t, nil)
	for i, test := range []struct {
		path, want string
	}{
		{"/v2/health/live", `{"live":true}`},
		{"/v2/health/ready", `{"ready":true}`},
		{"/v2/models/iris/ready", `{"name":"iris","ready":true}`},
		{"/v2/models/reg/ready", `{"name":"reg","ready":true}`},
		{"/ping", `{"ready":true}`},
		{"/health", `{"ready":true}`},
	} {
		r := do(t, nil, http.MethodGet, ts.URL+test.path, "", "")
		if r.status != http.StatusOK || strings.TrimSpace(r.body) != test.want {
			t.Errorf("%d: GET %s: %d %s, want 200 %s", i, test.path, r.status, r.body, test.want)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%d: GET %s: Content-Type %q", i, test.path, ct)
		}
	}
	// The server metadata of the specification: name, version, extensions.
	var meta struct {
		Name       string
		Version    string
		Extensions []string
	}
	r := do(t, nil, http.MethodGet, ts.URL+"/v2", "", "")
	r.decode(t, &meta)
	if r.status != http.StatusOK || meta.Name == "" || meta.Version == "" || meta.Extensions == nil {
		t.Errorf("GET /v2: %d %s", r.status, r.body)
	}
}

// metadata is a V2 $metadata_model_response.
type metadata struct {
	Name     string
	Platform string
	Inputs   []tensorMeta
	Outputs  []tensorMeta
}

func TestV2Metadata(t *testing.T) {
	_, ts := irisServer(t, nil)
	for _, test := range []struct {
		model   string
		inputs  []tensorMeta
		outputs []tensorMeta
	}{
		{"iris",
			[]tensorMeta{{"input", "FP64", []int{-1, 4}}},
			[]tensorMeta{{"label", "BYTES", []int{-1}}, {"probabilities", "FP64", []int{-1, 3}}}},
		{"reg",
			// The regression takes species as a category: one tensor per
			// feature, species as strings.
			[]tensorMeta{{"sepal_length", "FP64", []int{-1}}, {"sepal_width", "FP64", []int{-1}}, {"petal_length", "FP64", []int{-1}}, {"species", "BYTES", []int{-1}}},
			[]tensorMeta{{"prediction", "FP64", []int{-1}}}},
	} {
		r := do(t, nil, http.MethodGet, ts.URL+"/v2/models/"+test.model, "", "")
		var m metadata
		r.decode(t, &m)
		if r.status != http.StatusOK || m.Name != test.model || m.Platform != platform {
			t.Errorf("%s: %d %s", test.model, r.status, r.body)
		}
		if fmt.Sprint(m.Inputs) != fmt.Sprint(test.inputs) || fmt.Sprint(m.Outputs) != fmt.Sprint(test.outputs) {
			t.Errorf("%s: inputs %v outputs %v, want %v and %v", test.model, m.Inputs, m.Outputs, test.inputs, test.outputs)
		}
	}
}

// inferResponse is a V2 $inference_response.
type inferResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string
	Outputs      []struct {
		Name     string
		Datatype string
		Shape    []int
		Data     []any
	}
}

// output returns the output name of r, or fails.
func (r *inferResponse) output(t *testing.T, name string) (shape []int, data []any) {
	t.Helper()
	for _, o := range r.Outputs {
		if o.Name == name {
			return o.Shape, o.Data
		}
	}
	t.Fatalf("no output %q in %+v", name, r)
	return nil, nil
}

func TestV2InferIris(t *testing.T) {
	iris, _ := models(t)
	_, ts := irisServer(t, nil)
	rows, _ := irisRows(t)
	rows = rows[40:60] // both sides of a class boundary
	labels, p := wantLabels(t, iris, rows)
	flat := slices.Concat(rows...)
	flatJSON, _ := json.Marshal(flat)
	cols := make([][]float64, 4)
	for _, r := range rows {
		for j, v := range r {
			cols[j] = append(cols[j], v)
		}
	}
	col := func(j int) string { b, _ := json.Marshal(cols[j]); return string(b) }
	n := len(rows)
	for _, test := range []struct {
		name, body string
	}{
		{"flat", fmt.Sprintf(`{"id":"42","inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":%s}]}`, n, flatJSON)},
		{"nested", fmt.Sprintf(`{"id":"42","inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":%s}]}`, n, jsonRows(rows))},
		{"FP32 any name", fmt.Sprintf(`{"id":"42","inputs":[{"name":"input-0","shape":[%d,4],"datatype":"FP32","data":%s}]}`, n, flatJSON)},
		{"per feature", fmt.Sprintf(`{"id":"42","inputs":[
			{"name":"petal_width","shape":[%[1]d],"datatype":"FP64","data":%[5]s},
			{"name":"sepal_length","shape":[%[1]d],"datatype":"FP64","data":%[2]s},
			{"name":"petal_length","shape":[%[1]d,1],"datatype":"FP64","data":%[4]s},
			{"name":"sepal_width","shape":[%[1]d],"datatype":"FP64","data":%[3]s}],
			"parameters":{"content_type":"np","x":1,"y":true}}`, n, col(0), col(1), col(2), col(3))},
	} {
		r := post(t, ts.URL+"/v2/models/iris/infer", test.body)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", test.name, r.status, r.body)
		}
		var res inferResponse
		r.decode(t, &res)
		if res.ModelName != "iris" || res.ID != "42" || res.ModelVersion != "1" || len(res.Outputs) != 2 {
			t.Errorf("%s: %s", test.name, r.body)
		}
		shape, data := res.output(t, "label")
		if !slices.Equal(shape, []int{n}) || fmt.Sprint(data) != fmt.Sprint(labels) {
			t.Errorf("%s: labels %v %v, want %v", test.name, shape, data, labels)
		}
		shape, data = res.output(t, "probabilities")
		if !slices.Equal(shape, []int{n, 3}) || len(data) != 3*n {
			t.Fatalf("%s: probabilities shape %v, %d values", test.name, shape, len(data))
		}
		for k, v := range data {
			got, _ := strconv.ParseFloat(string(v.(json.Number)), 64)
			if want := p.At(k/3, k%3); !sameOutput(got, want) {
				t.Errorf("%s: probability %d: got %v, want %v (Model.Predict)", test.name, k, got, want)
				break
			}
		}
	}
	// Outputs asked for: only them, in the order asked.
	r := post(t, ts.URL+"/v2/models/iris/infer", fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":%s}],"outputs":[{"name":"label"}]}`, n, flatJSON))
	var res inferResponse
	r.decode(t, &res)
	if len(res.Outputs) != 1 || res.Outputs[0].Name != "label" || res.ID != "" || strings.Contains(r.body, `"id"`) {
		t.Errorf("outputs [label]: %s", r.body)
	}
	// An empty list of outputs asks for all of them, as none does; so
	// does null, as encoding/json reads it.
	for _, outputs := range []string{`[]`, `null`, `[{"name":"probabilities","parameters":{"binary_data":false}},{"name":"label"}]`} {
		r = post(t, ts.URL+"/v2/models/iris/infer", fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":%s}],"outputs":%s}`, n, flatJSON, outputs))
		res = inferResponse{}
		r.decode(t, &res)
		if r.status != http.StatusOK || len(res.Outputs) != 2 {
			t.Errorf("outputs %s: %d %s", outputs, r.status, r.body)
		}
	}
}

// The examples of the specification (kserve/open-inference-protocol,
// inference_rest.md), adapted to the iris model where they name inputs
// of their own.
func TestV2SpecificationExamples(t *testing.T) {
	iris, _ := models(t)
	_, ts := irisServer(t, nil)
	labels, _ := wantLabels(t, iris, [][]float64{{1, 2, 4, 5}, {1, 2, 4, 5}})
	for _, test := range []struct {
		name, body string
		status     int
		want       string // in the answer
	}{
		// The request example as it is: its UINT32 [2, 2] input does not
		// fit the model, which takes [N, 4].
		{"request example", `{
			"id" : "42",
			"inputs" : [
				{"name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ]},
				{"name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "data" : [ true ]}
			],
			"outputs" : [ { "name" : "output0" } ]}`, 400, `outputs[0]: unknown output \"output0\"; the model's outputs are label and probabilities`},
		{"request example, outputs of the model", `{
			"id" : "42",
			"inputs" : [
				{"name" : "input0", "shape" : [ 2, 2 ], "datatype" : "UINT32", "data" : [ 1, 2, 3, 4 ]},
				{"name" : "input1", "shape" : [ 3 ], "datatype" : "BOOL", "data" : [ true ]}
			],
			"outputs" : [ { "name" : "label" } ]}`, 400, `inputs[1]: the datatype \"BOOL\" is not one the model takes`},
		// The tensor data example: [[1, 2], [4, 5]] natural or flat; here
		// rows of four.
		{"natural", `{"id":"42","inputs":[{"name":"input0","shape":[2,4],"datatype":"UINT32","data":[[1,2,4,5],[1,2,4,5]]}],"outputs":[{"name":"label"}]}`,
			200, fmt.Sprintf(`{"model_name":"iris","model_version":"1","id":"42","outputs":[{"name":"label","datatype":"BYTES","shape":[2],"data":["%s","%s"]}]}`, labels[0], labels[1])},
		{"flattened", `{"id":"42","inputs":[{"name":"input0","shape":[2,4],"datatype":"UINT32","data":[1,2,4,5,1,2,4,5]}],"outputs":[{"name":"label"}]}`,
			200, fmt.Sprintf(`{"model_name":"iris","model_version":"1","id":"42","outputs":[{"name":"label","datatype":"BYTES","shape":[2],"data":["%s","%s"]}]}`, labels[0], labels[1])},
		// Seldon's iris example.
		{"seldon", `{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}`, 200, `"name":"label","datatype":"BYTES","shape":[1],"data":["setosa"]`},
	} {
		r := post(t, ts.URL+"/v2/models/iris/infer", test.body)
		if r.status != test.status || !strings.Contains(r.body, test.want) {
			t.Errorf("%s: %d %s, want %d with %s", test.name, r.status, r.body, test.status, test.want)
		}
	}
}

func TestV2Regression(t *testing.T) {
	_, reg := models(t)
	_, ts := irisServer(t, nil)
	m := loadModel(t, reg)
	// Rows of the table: species as category codes; an unseen species is
	// −1, all zeros.
	species := m.Encoding.Columns[3].Categories
	rows := [][]float64{{5.1, 3.5, 1.4, 0}, {6.3, 2.9, 5.6, 2}, {5.9, 3.0, 4.2, 1}, {6.0, 3.0, 4.8, -1}}
	want := predictRows(t, m, rows)
	body := `{"inputs":[
		{"name":"species","shape":[4],"datatype":"BYTES","data":["` + species[0] + `","` + species[2] + `","` + species[1] + `","hybrid"]},
		{"name":"sepal_length","shape":[4],"datatype":"FP64","data":[5.1,6.3,5.9,6.0]},
		{"name":"sepal_width","shape":[4],"datatype":"FP64","data":[3.5,2.9,3.0,3.0]},
		{"name":"petal_length","shape":[4],"datatype":"FP32","data":[1.4,5.6,4.2,4.8]}]}`
	r := post(t, ts.URL+"/v2/models/reg/infer", body)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var res inferResponse
	r.decode(t, &res)
	shape, data := res.output(t, "prediction")
	if !slices.Equal(shape, []int{4}) || len(data) != 4 {
		t.Fatalf("prediction %v %v", shape, data)
	}
	for i, v := range data {
		if got, _ := strconv.ParseFloat(string(v.(json.Number)), 64); !sameOutput(got, want[i][0]) {
			t.Errorf("row %d: got %v, want %v", i, got, want[i][0])
		}
	}
	// One matrix of mixed values, BYTES.
	r = post(t, ts.URL+"/v2/models/reg/infer", `{"inputs":[{"name":"x","shape":[1,4],"datatype":"BYTES","data":[5.1,3.5,1.4,"`+species[0]+`"]}]}`)
	if r.status != http.StatusOK {
		t.Fatalf("BYTES matrix: %d %s", r.status, r.body)
	}
	r.decode(t, &res)
	// One row here, four above: with OpenBLAS the sums may differ in the
	// last bits.
	if _, data := res.output(t, "prediction"); len(data) != 1 {
		t.Errorf("BYTES matrix: %s, want one prediction", r.body)
	} else if got, _ := strconv.ParseFloat(string(data[0].(json.Number)), 64); !sameOutput(got, want[0][0]) {
		t.Errorf("BYTES matrix: %v, want %v", got, want[0][0])
	}
	if !strings.Contains(metricsText(t, ts.URL), `nn_serve_unknown_categories_total{model="reg"} 1`) {
		t.Errorf("the unknown category is not counted:\n%s", metricsText(t, ts.URL))
	}
}

// metricsText returns the answer to GET /metrics.
func metricsText(t *testing.T, url string, header ...string) string {
	t.Helper()
	r := do(t, nil, http.MethodGet, url+"/metrics", "", "", header...)
	if r.status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", r.status, r.body)
	}
	return r.body
}
