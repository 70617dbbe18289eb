package serve

import (
	"net/http"
	"strings"
	"testing"
)

// Bad requests are answered with a 4xx and a JSON error that says what
// and where, never a 5xx, a panic or a dropped connection.
func TestBadRequests(t *testing.T) {
	_, ts := irisServer(t, &Options{MaxBodyBytes: 4096, MaxRows: 50, Default: "iris"})
	const infer = "/v2/models/iris/infer"
	const inv = "/invocations"
	big := `{"inputs":[` + strings.Repeat(`[5.1,3.5,1.4,0.2],`, 300) + `[5.1,3.5,1.4,0.2]]}`
	rows51 := `{"inputs":[` + strings.Repeat(`[5,3,1,0],`, 50) + `[5,3,1,0]]}`
	for i, test := range []struct {
		method, path, ctype, body string
		status                    int
		want                      string
	}{
		// Routing.
		{"GET", "/nope", "", "", 404, `no endpoint "/nope"`},
		{"GET", "/v2/models/nope", "", "", 404, `unknown model "nope"; the models are "iris", "reg"`},
		{"POST", "/v2/models/nope/infer", "", "{}", 404, `unknown model "nope"`},
		{"GET", "/v2/models/iris/versions/2", "", "", 404, "has no version \"2\" loaded"},
		{"POST", "/v2/models/iris/versions/2/infer", "", "{}", 404, "the versions loaded are \"1\""},
		{"GET", "/v2/models/iris/versions/", "", "", 404, "no endpoint"},
		{"POST", "/v2/repository/models/iris/unload", "", "", 403, "model control"},
		{"GET", "/v2/repository/index", "", "", 405, "not allowed"},
		{"GET", "/v2/models/iris/explain", "", "", 404, "no endpoint"},
		{"GET", infer, "", "", 405, "method GET is not allowed here; use POST"},
		{"POST", "/v2/models/iris", "", "", 405, "use GET"},
		{"DELETE", inv, "", "", 405, "use POST"},
		{"POST", "/metrics", "", "", 405, "use GET"},
		{"PUT", "/v2/health/live", "", "", 405, "use GET"},
		// Malformed bodies.
		{"POST", infer, "", "", 400, "the body is not valid JSON"},
		{"POST", infer, "", `{"inputs":[`, 400, "the body is not valid JSON"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4]`, 400, "inputs: not valid JSON: malformed at byte 20"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4]]} x`, 400, "the body is not valid JSON: more after the object, at byte 23"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4]], "params": [}`, 400, "the body is not valid JSON: malformed at byte 34"},
		{"POST", inv, "", ``, 400, "the body is empty"},
		{"POST", inv, "", `[1,2]`, 400, "the body: want a JSON object"},
		{"POST", infer, "", `{"inputs":"x"}`, 400, "inputs: want an array"},
		{"POST", infer, "", `{"id":42,"inputs":[]}`, 400, "id: want a string"},
		// V2: datatypes, shapes, names.
		{"POST", infer, "", `{"inputs":[]}`, 400, "inputs: no input tensors"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64"}]}`, 400, "inputs[0]: no data"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"data":[1,2,3,4]}]}`, 400, "inputs[0]: no datatype"},
		{"POST", infer, "", `{"inputs":[{"name":"input","datatype":"FP64","data":[1,2,3,4]}]}`, 400, "inputs[0]: no shape"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP128","data":[1,2,3,4]}]}`, 400, `the datatype "FP128" is not one the model takes`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,"x",4]}]}`, 400, `inputs[0].data[2] (row 0): feature "petal_length": wrong datatype: a string, "x", in a tensor of numbers (BYTES holds strings)`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"BYTES","data":[1,2,"x",4]}]}`, 400, `inputs[0].data[2] (row 0): feature "petal_length": not a number: "x"`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,true,4]}]}`, 400, "want a number or a string, got a boolean"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,{},4]}]}`, 400, "got an object"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,null,4]}]}`, 400, `inputs[0].data[2] (row 0): feature "petal_length" is missing, and the model takes no missing values`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[1,2,3,4]}]}`, 400, "inputs[0].data: shape [2 4] says 8 values, more than its 9 bytes can hold"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[1,  2,  3,  4]}]}`, 400, "inputs[0].data: 4 values, want 8 for shape [2 4]"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,4,5]}]}`, 400, "inputs[0].data: more than the 4 values of shape [1 4]"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP64","data":[1,2,3]}]}`, 400, "inputs[0]: shape [1 3], want [N, 4]"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[4],"datatype":"FP64","data":[1,2,3,4]}]}`, 400, "want one tensor of shape [N, 4], or one tensor of shape [N] per feature"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[0,4],"datatype":"FP64","data":[]}]}`, 400, "no rows (an empty batch)"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[-1,4],"datatype":"FP64","data":[1,2,3,4]}]}`, 400, "inputs[0].shape[0]: -1 is negative"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,1e999,4]}]}`, 400, `inputs[0].data[2] (row 0): feature "petal_length": "1e999" is out of the range of float64`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,1.7e308]}]}`, 400, `row 0, feature "petal_width" is +Inf after scaling (1.7e+308 before)`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":"AAAAAAAAAA"}]}`, 400, "inputs[0].data: want an array"},
		{"POST", infer, "", `{"inputs":[{"name":"sepal_length","shape":[1],"datatype":"FP64","data":[1]},{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}`, 400, `inputs[1]: unknown input "x"; the inputs are the features "sepal_length", "sepal_width", "petal_length", "petal_width"`},
		{"POST", infer, "", `{"inputs":[{"name":"sepal_length","shape":[1],"datatype":"FP64","data":[1]},{"name":"sepal_width","shape":[1],"datatype":"FP64","data":[1]}]}`, 400, `inputs: no tensor for the feature "petal_length"`},
		{"POST", infer, "", `{"inputs":[{"name":"sepal_length","shape":[1],"datatype":"FP64","data":[1]},{"name":"sepal_length","shape":[1],"datatype":"FP64","data":[1]}]}`, 400, `inputs[1]: the feature "sepal_length" twice`},
		{"POST", infer, "", `{"inputs":[{"name":"sepal_length","shape":[1],"datatype":"FP64","data":[1]},{"name":"sepal_width","shape":[2],"datatype":"FP64","data":[1,2]},{"name":"petal_length","shape":[1],"datatype":"FP64","data":[1]},{"name":"petal_width","shape":[1],"datatype":"FP64","data":[1]}]}`, 400, `inputs[1] (feature "sepal_width"): shape [2], but inputs[0] has 1 rows`},
		{"POST", infer, "", `{"inputs":[{"name":"sepal_length","shape":[3],"datatype":"FP64","data":[1,2,3]},{"name":"sepal_width","shape":[3],"datatype":"FP64","data":[1]},{"name":"petal_length","shape":[3],"datatype":"FP64","data":[1,2,3]},{"name":"petal_width","shape":[3],"datatype":"FP64","data":[1,2,3]}]}`, 400, `inputs[1].data: shape [3] says 3 values, more than its 3 bytes can hold`},
		{"POST", infer, "", `{"inputs":[{"name":"a","shape":[1],"datatype":"FP64","data":[1]},{"name":"b","shape":[1],"datatype":"FP64","data":[1]},{"name":"c","shape":[1],"datatype":"FP64","data":[1]},{"name":"d","shape":[1],"datatype":"FP64","data":[1]},{}]}`, 400, `inputs: more than 4 input tensors; the model takes one of shape [N, 4], or one of shape [N] per feature`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,2,3,4,5,6,7,8,9],"datatype":"FP64","data":[1]}]}`, 400, `inputs[0].shape: more than 8 dimensions`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1.5,4],"datatype":"FP64","data":[1,2,3,4]}]}`, 400, `inputs[0].shape[0]: want a whole number, got "1.5"`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}],"inputs":[]}`, 400, `the body: the key "inputs" twice`},
		// V2: nested data must follow the shape at every level.
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[[1],[2,3,4,5,6],[7,8]]}]}`, 400, `inputs[0].data[0]: 1 elements, want 4 (shape [2 4])`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[[1,2,3,4],[5,6,7,8,9]]}]}`, 400, `inputs[0].data[1]: more than 4 elements (shape [2 4])`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[[1,2,3,4],[5,6,7,8],[]]}]}`, 400, `inputs[0].data: more than 2 elements (shape [2 4])`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[[1,2,3,4],5,6,7,8]}]}`, 400, `inputs[0].data[1]: want an array of 4 values (shape [2 4])`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[1,2,3,4,[5,6,7,8]]}]}`, 400, `inputs[0].data[4]: an array among values`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[[[1],2,3,4]]}]}`, 400, `inputs[0].data[0][0]: an array, deeper than the shape [1 4]`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[[1,2,3,4]]}],"outputs":[{"name":"label","parameters":{"binary_data":true}}]}`, 400, `outputs[0].parameters["binary_data"]: the binary data extension is not supported`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[[1,2,3,4]]}],"parameters":{"binary_data_output":true}}`, 400, `parameters["binary_data_output"]: the binary data extension is not supported`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[[1,2,3,4]]}],"outputs":[{}]}`, 400, `outputs[0]: no name`},
		// JSON as RFC 8259 has it, on both protocols.
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[01,2,3,4]}]}`, 400, "the body is not valid JSON: malformed at byte"},
		{"POST", inv, "", `{"inputs":[[01,2,3,4]]}`, 400, `inputs[0][0]: feature "sepal_length": not valid JSON: malformed at byte 12`},
		{"POST", inv, "", `{"inputs":[[+1,2,3,4]]}`, 400, "not valid JSON"},
		{"POST", inv, "", `{"inputs":[[1,2,.3,4]]}`, 400, "not valid JSON"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4.]]}`, 400, "not valid JSON"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4e]]}`, 400, "not valid JSON"},
		{"POST", inv, "", `{"inputs":[[1,2,3,-]]}`, 400, "not valid JSON"},
		{"POST", inv, "", "{\"inputs\":[{\"sepal_length\":1,\"sepal_width\":2,\"petal_length\":3,\"petal_width\":4,\"id\":\"a\tb\"}]}", 400, "not valid JSON"},
		{"POST", inv, "", "{\"inputs\":[[1,2,3,4]],\"\xff\":1}", 400, "the body is not valid JSON"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4]],"a\x":1}`, 400, "the body is not valid JSON"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4]],"a\u12":1}`, 400, "the body is not valid JSON"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}],"outputs":[{"name":"nope"}]}`, 400, `outputs[0]: unknown output "nope"`},
		{"POST", infer, "", `{"parameters":{"a":[1]},"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}]}`, 400, `parameters["a"]: want a string, a number or a boolean`},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}]}`, 400, "nested too deep"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[51,4],"datatype":"FP64","data":[1]}]}`, 413, "more than the 50 rows a request may hold"},
		{"POST", infer, "", `{"inputs":[{"name":"input","shape":[40,4],"datatype":"FP64","data":[1]}]}`, 400, "shape [40 4] says 160 values, more than its 3 bytes can hold"},
		// MLflow JSON.
		{"POST", inv, "", `{}`, 400, `exactly one of "inputs", "instances", "dataframe_split" and "dataframe_records"; it holds none`},
		{"POST", inv, "", `{"inputs":[[1,2,3,4]],"instances":[[1,2,3,4]]}`, 400, `it holds "inputs" and "instances"`},
		{"POST", inv, "", `{"inputs":[]}`, 400, "inputs: no rows (an empty batch)"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4],[1,2,3]]}`, 400, `inputs[1]: 3 values, want 4, one per feature: "sepal_length"`},
		{"POST", inv, "", `{"inputs":[[1,2,3,4,5]]}`, 400, "inputs[0]: more than 4 values"},
		{"POST", inv, "", `{"inputs":[[1,2,3,4],[1,2,"NaN",4]]}`, 400, `inputs[1][2]: feature "petal_length": non-finite value: "NaN"`},
		{"POST", inv, "", `{"inputs":[[1,2,3,4],[1,2,3,-1e400]]}`, 400, `inputs[1][3]: feature "petal_width": "-1e400" is out of the range of float64`},
		{"POST", inv, "", `{"inputs":[1,2,3,4]}`, 400, "inputs[0]: want a row"},
		{"POST", inv, "", `{"inputs":"x"}`, 400, "inputs: want an array of rows"},
		{"POST", inv, "", `{"instances":{"a":[1]}}`, 400, "instances: want an array of rows"},
		{"POST", inv, "", `{"inputs":[{"sepal_length":1,"sepal_width":2,"petal_length":3}]}`, 400, `inputs[0]: no value for the feature "petal_width"`},
		{"POST", inv, "", `{"dataframe_records":[{"sepal_length":1,"sepal_length":1}]}`, 400, `dataframe_records[0]: the feature "sepal_length" twice`},
		{"POST", inv, "", `{"inputs":{"sepal_length":[1,2],"sepal_width":[1],"petal_length":[1],"petal_width":[1]}}`, 400, `inputs["sepal_width"]: 1 values, but the columns before it have 2`},
		{"POST", inv, "", `{"inputs":{"sepal_length":[1]}}`, 400, `inputs: no column for the feature "sepal_width"`},
		{"POST", inv, "", `{"dataframe_split":{"columns":["sepal_length","sepal_width","petal_length"],"data":[[1,2,3]]}}`, 400, `dataframe_split.columns: no column for the feature "petal_width"`},
		{"POST", inv, "", `{"dataframe_split":{"columns":["sepal_length","sepal_width","petal_length","petal_width"],"data":[[1,2,3,4],[1,2,3]]}}`, 400, "dataframe_split.data[1]: 3 values, want 4, one per column"},
		{"POST", inv, "", `{"dataframe_split":{"columns":["sepal_length","sepal_width","petal_length","petal_width"],"data":[[1,2,"a",4]]}}`, 400, `dataframe_split.data[0][2]: feature "petal_length": not a number: "a"`},
		{"POST", inv, "", `{"dataframe_split":{"columns":["sepal_length","sepal_width","petal_length","petal_width"],"data":[]}}`, 400, "dataframe_split.data: no rows (an empty batch)"},
		{"POST", inv, "", `{"dataframe_split":{"columns":[1,2]}}`, 400, "dataframe_split"},
		{"POST", inv, "", `{"dataframe_split":{"data":[[1]]}}`, 400, `dataframe_split: no "columns"`},
		{"POST", inv, "", `{"inputs":[[1,2,3,4]],"params":[1]}`, 400, "params: want an object"},
		{"POST", inv, "", rows51, 413, "51 rows, more than the 50 rows a request may hold"},
		{"POST", inv, "", big, 413, "larger than the 4096 bytes"},
		// MLflow CSV.
		{"POST", inv, "text/csv", "", 400, "the CSV body"},
		{"POST", inv, "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n", 400, "the CSV body: no rows (an empty batch)"},
		{"POST", inv, "text/csv", "sepal_length,sepal_width,petal_length\n1,2,3\n", 400, "petal_width"},
		{"POST", inv, "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n1,2,3,4\n1,2,3,4\n1,2,x,4\n", 400, `line 5: not a number: "x" (column "petal_length")`},
		{"POST", inv, "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n1,2,3,NaN\n", 400, `line 3: non-finite value: "NaN" (column "petal_width")`},
		{"POST", inv, "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n1,2,3\n", 400, "line 3"},
		{"POST", inv, "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n1,2,\"3,4\n", 400, `line 2, byte 10: extraneous or missing " in quoted-field`},
		{"POST", inv, "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n1,2,3\"x\",4\n", 400, `line 2, byte 6: bare " in non-quoted-field`},
		{"POST", inv, "text/csv", strings.Repeat(",", 1100) + "sepal_length,sepal_width,petal_length,petal_width\n1,2,3,4\n", 400, "the CSV body: the header has 1104 columns, more than the 1088 a request may have; the model takes 4 features"},
		{"POST", inv, "", `{"dataframe_split":{"columns":[` + strings.Repeat(`"",`, 1100) + `"x"],"data":[]}}`, 400, "dataframe_split.columns: more than 1088 columns; the model takes 4 features"},
		{"POST", inv, "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n" + strings.Repeat("1,2,3,4\n", 51), 413, "more than the 50 rows"},
	} {
		r := do(t, nil, test.method, ts.URL+test.path, test.ctype, test.body)
		msg := r.errorOf(t)
		if r.status != test.status || !strings.Contains(msg, test.want) {
			t.Errorf("%d: %s %s %.60q: %d %q, want %d with %q", i, test.method, test.path, test.body, r.status, msg, test.status, test.want)
		}
		if r.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
			t.Errorf("%d: 405 without an Allow header", i)
		}
	}
	// The regression takes missing values; it refuses infinite ones and
	// strings in numeric columns that a CSV file could not hold there.
	for i, test := range []struct {
		body, want string
	}{
		{`{"inputs":[[5.1,3.5,"abc","setosa"]]}`, `inputs[0][2]: feature "petal_length": not a number: "abc"`},
		{`{"inputs":[[5.1,3.5,1e999,"setosa"]]}`, `out of the range of float64`},
	} {
		r := post(t, ts.URL+"/invocations?model=reg", test.body)
		if msg := r.errorOf(t); !strings.Contains(msg, test.want) {
			t.Errorf("reg %d: %q, want %q", i, msg, test.want)
		}
	}
	if r := post(t, ts.URL+"/invocations?model=reg", `{"inputs":[[5.1,null,1.4,null]]}`); r.status != http.StatusOK {
		t.Errorf("missing values of the regression: %d %s", r.status, r.body)
	}
	// The errors are counted.
	if m := metricsText(t, ts.URL); !strings.Contains(m, `nn_serve_request_errors_total{endpoint="infer",model="iris",protocol="http"}`) || !strings.Contains(m, `nn_serve_requests_total{code="413",endpoint="invocations",model="iris",protocol="http"}`) {
		t.Errorf("errors not counted:\n%s", m)
	}
}
