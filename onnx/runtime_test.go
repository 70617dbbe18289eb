package onnx

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The tests run the files they write in the real ONNX Runtime (through
// its Node.js binding), check them with ONNX's own checker and import
// networks exported by PyTorch. Without these tools a test skips and
// says what to install, unless NN_ONNX_REQUIRED=1 (as in .ci/run) makes
// it fail.

// required reports whether a missing tool fails the tests.
var required = os.Getenv("NN_ONNX_REQUIRED") == "1"

// missing skips t, or fails it under NN_ONNX_REQUIRED=1, for want of a
// tool.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if required {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// ortModules returns the node_modules directory that holds
// onnxruntime-node: $NN_ORT_NODE_MODULES, or testdata/node_modules.
func ortModules(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("NN_ORT_NODE_MODULES")
	if dir == "" {
		dir, _ = filepath.Abs(filepath.Join("testdata", "node_modules"))
	}
	if _, err := os.Stat(filepath.Join(dir, "onnxruntime-node", "package.json")); err != nil {
		missing(t, "ONNX Runtime not found in %s: run (cd onnx/testdata && npm install --ignore-scripts --no-save onnxruntime-node@1.30.0), or set NN_ORT_NODE_MODULES to the node_modules that holds it", dir)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node not found: apt-get install nodejs")
	}
	return dir
}

// ortRequest is a request to testdata/ort.js.
type ortRequest struct {
	Model string     `json:"model"`
	Input string     `json:"input"`
	Type  string     `json:"type"`
	Dims  []int      `json:"dims"`
	Data  []*float64 `json:"data"`
}

// ortTensor is an output tensor of testdata/ort.js.
type ortTensor struct {
	Type string     `json:"type"`
	Dims []int      `json:"dims"`
	Data []*float64 `json:"data"`
}

// values returns t's data, NaN for null.
func (t ortTensor) values() []float64 {
	v := make([]float64, len(t.Data))
	for i, p := range t.Data {
		v[i] = math.NaN()
		if p != nil {
			v[i] = *p
		}
	}
	return v
}

// dense returns t, of two dimensions, as a matrix.
func (t ortTensor) dense() *mat.Dense {
	if len(t.Dims) != 2 {
		panic(fmt.Sprintf("tensor of dims %v", t.Dims))
	}
	return mat.NewDense(t.Dims[0], t.Dims[1], t.values())
}

// ortReply is a reply of testdata/ort.js.
type ortReply struct {
	Outputs map[string]ortTensor `json:"outputs"`
	Error   string               `json:"error"`
}

// newRequest returns the request to run model on the rows of x, with
// NaN sent as null.
func newRequest(model, input string, x mat.Matrix, float32 bool) ortRequest {
	r, c := x.Dims()
	req := ortRequest{Model: model, Input: input, Type: "float64", Dims: []int{r, c}}
	if float32 {
		req.Type = "float32"
	}
	for i := range r {
		for j := range c {
			v := x.At(i, j)
			if math.IsNaN(v) {
				req.Data = append(req.Data, nil)
				continue
			}
			req.Data = append(req.Data, &v)
		}
	}
	return req
}

// runtime runs the requests in ONNX Runtime, in one Node.js process, and
// returns the replies in order.
func runtime(t *testing.T, reqs []ortRequest) []ortReply {
	t.Helper()
	modules := ortModules(t)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("node", filepath.Join("testdata", "ort.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/ort.js: %v: %s", err, stderr.String())
	}
	var replies []ortReply
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		var r ortReply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("reply of ort.js: %v", err)
		}
		replies = append(replies, r)
	}
	if len(replies) != len(reqs) {
		t.Fatalf("ort.js answered %d of %d requests: %s", len(replies), len(reqs), stderr.String())
	}
	return replies
}

// python returns the Python that has the modules, or skips t.
func python(t *testing.T, modules ...string) string {
	t.Helper()
	for _, py := range []string{os.Getenv("NN_PYTHON"), "/usr/bin/python3", "python3"} {
		if py == "" {
			continue
		}
		check := "import " + strings.Join(modules, ", ")
		if exec.Command(py, "-c", check).Run() == nil {
			return py
		}
	}
	missing(t, "no Python with %s: apt-get install python3-onnx python3-torch (or set NN_PYTHON)", strings.Join(modules, ", "))
	return ""
}

// checkModels runs onnx.checker.check_model(..., full_check=True) of
// python3-onnx on the files.
func checkModels(t *testing.T, files ...string) {
	t.Helper()
	py := python(t, "onnx")
	const script = `
import sys, onnx
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
    except Exception as e:
        print(path + ": " + str(e).splitlines()[0] if str(e) else path + ": " + repr(e))
`
	out, err := exec.Command(py, append([]string{"-c", script}, files...)...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("onnx.checker: %v\n%s", err, out)
	}
}

// relDiff returns the largest difference between got and want relative
// to the largest magnitude of want (the norm-wise relative difference),
// and the largest difference of an element relative to its own
// magnitude, counting elements of magnitude at least floor only.
func relDiff(got, want mat.Matrix, floor float64) (normwise, elementwise float64) {
	r, c := want.Dims()
	var scale, diff float64
	for i := range r {
		for j := range c {
			g, w := got.At(i, j), want.At(i, j)
			d := math.Abs(g - w)
			if math.IsNaN(d) && !(math.IsNaN(g) && math.IsNaN(w)) {
				return math.Inf(1), math.Inf(1)
			}
			if math.IsNaN(d) {
				continue
			}
			scale = max(scale, math.Abs(w))
			diff = max(diff, d)
			if math.Abs(w) >= floor {
				elementwise = max(elementwise, d/math.Abs(w))
			}
		}
	}
	if scale == 0 {
		return diff, elementwise
	}
	return diff / scale, elementwise
}
