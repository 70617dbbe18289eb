package serve

import (
	"net/http"
	"strings"
	"testing"
)

// Details of the protocols: HEAD wherever GET, /v2/ as /v2, MLflow's
// error fields, encoded bodies refused, the model metadata's own field.
func TestProtocolDetails(t *testing.T) {
	_, ts := irisServer(t, &Options{Default: "iris", Token: "tok"})
	auth := []string{"Authorization", "Bearer tok"}
	for _, path := range []string{"/v2/health/live", "/v2/health/ready", "/ping", "/health", "/v2", "/v2/", "/v2/models/iris", "/v2/models/iris/ready", "/metrics"} {
		r := do(t, nil, http.MethodHead, ts.URL+path, "", "", auth...)
		if r.status != http.StatusOK || r.body != "" {
			t.Errorf("HEAD %s: %d %q", path, r.status, r.body)
		}
	}
	r := do(t, nil, http.MethodPost, ts.URL+"/v2/health/ready", "", "", auth...)
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /v2/health/ready: %d, Allow %q", r.status, r.header.Get("Allow"))
	}
	r = do(t, nil, http.MethodGet, ts.URL+"/v2/", "", "", auth...)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"extensions":["model_repository"]`) {
		t.Errorf("GET /v2/: %d %s", r.status, r.body)
	}
	// MLflow's errors: error_code and message besides error.
	for _, test := range []struct {
		path, body string
		header     []string
		status     int
		code, want string
	}{
		{"/invocations", `{"inputs":[[1,2,3]]}`, auth, 400, "BAD_REQUEST", "inputs[0]: 3 values"},
		{"/invocations?model=nope", `{}`, auth, 404, "RESOURCE_DOES_NOT_EXIST", `unknown model "nope"`},
		{"/invocations", `{}`, nil, 401, "UNAUTHENTICATED", "bearer token"},
		{"/invocations", "\x1f\x8b\x08", append([]string{"Content-Encoding", "gzip"}, auth...), 415, "BAD_REQUEST", `the body is encoded (Content-Encoding: "gzip")`},
		{"/v2/models/iris/infer", "\x1f\x8b\x08", append([]string{"Content-Encoding", "gzip"}, auth...), 415, "", `the body is encoded`},
	} {
		r := do(t, nil, http.MethodPost, ts.URL+test.path, "application/json", test.body, test.header...)
		msg := r.errorOf(t)
		var e struct {
			ErrorCode string `json:"error_code"`
		}
		r.decode(t, &e)
		if r.status != test.status || e.ErrorCode != test.code || !strings.Contains(msg, test.want) {
			t.Errorf("POST %s: %d %s, want %d, error_code %q, %q", test.path, r.status, r.body, test.status, test.code, test.want)
		}
	}
	// identity is no encoding.
	r = do(t, nil, http.MethodPost, ts.URL+"/invocations", "", `{"inputs":[[5.1,3.5,1.4,0.2]]}`, append([]string{"Content-Encoding", "identity"}, auth...)...)
	if r.status != http.StatusOK {
		t.Errorf("Content-Encoding identity: %d %s", r.status, r.body)
	}
	// The model metadata has the specification's fields and one of the
	// server's own, not "parameters", which the specification does not
	// define there.
	r = do(t, nil, http.MethodGet, ts.URL+"/v2/models/iris", "", "", auth...)
	var m map[string]any
	r.decode(t, &m)
	if _, ok := m["parameters"]; ok || m["neuralgo_nn"] == nil || !strings.Contains(r.body, `"neuralgo_nn":{"features":["sepal_length","sepal_width","petal_length","petal_width"],"classes":["setosa","versicolor","virginica"]}`) {
		t.Errorf("model metadata: %s", r.body)
	}
}
