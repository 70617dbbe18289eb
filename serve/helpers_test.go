package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// The tests serve small models trained here on testdata/iris.csv: a
// classifier of the species, and a regression of petal_width on the
// other columns, species among them as a categorical column.

var irisPath = filepath.Join("..", "testdata", "iris.csv")

var (
	modelsOnce        sync.Once
	modelsDir         string
	irisFile, regFile string
	modelsErr         error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if modelsDir != "" {
		os.RemoveAll(modelsDir)
	}
	os.Exit(code)
}

// trainIris trains the iris classifier with seed.
func trainIris(seed uint64) (*nn.Model, error) {
	d, err := nn.LoadCSV(irisPath, &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		return nil, err
	}
	c := &nn.Classifier{Hidden: []int{16}, Epochs: 40, Seed: seed}
	if err := c.Fit(context.Background(), d); err != nil {
		return nil, err
	}
	return c.Model, nil
}

// trainRegression trains the regression of petal_width.
func trainRegression() (*nn.Model, error) {
	d, err := nn.LoadCSV(irisPath, &nn.CSVOptions{Target: "petal_width", DetectCategorical: true})
	if err != nil {
		return nil, err
	}
	r := &nn.Regressor{Hidden: []int{8}, Epochs: 30, Seed: 1}
	if err := r.Fit(context.Background(), d); err != nil {
		return nil, err
	}
	return r.Model, nil
}

// models returns the files of the iris classifier and the regression,
// trained once.
func models(t testing.TB) (iris, reg string) {
	t.Helper()
	modelsOnce.Do(func() {
		modelsDir, modelsErr = os.MkdirTemp("", "serve-test")
		if modelsErr != nil {
			return
		}
		var m *nn.Model
		if m, modelsErr = trainIris(1); modelsErr != nil {
			return
		}
		irisFile = filepath.Join(modelsDir, "iris.json")
		if modelsErr = m.Save(irisFile); modelsErr != nil {
			return
		}
		if m, modelsErr = trainRegression(); modelsErr != nil {
			return
		}
		regFile = filepath.Join(modelsDir, "reg.json")
		modelsErr = m.Save(regFile)
	})
	if modelsErr != nil {
		t.Fatal(modelsErr)
	}
	return irisFile, regFile
}

// copyFile copies the model file src into dir and returns its path.
func copyFile(t testing.TB, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// newTestServer serves the models through an httptest.Server, both closed
// at the end of the test.
// heapInuse returns the bytes of the heap in use.
func heapInuse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// sampleHeap samples the heap in use every 5 ms until the function it
// returns is called, which returns the most it saw.
func sampleHeap() func() int64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak.Store(max(peak.Load(), heapInuse()))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-sampled
		return peak.Load()
	}
}

func newTestServer(t testing.TB, opts *Options, models ...ModelFile) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(models, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// irisServer serves the iris classifier as "iris" and the regression as
// "reg".
func irisServer(t testing.TB, opts *Options) (*Server, *httptest.Server) {
	iris, reg := models(t)
	return newTestServer(t, opts, ModelFile{"iris", iris}, ModelFile{"reg", reg})
}

// response is an answer to a request.
type response struct {
	status int
	body   string
	header http.Header
}

// do sends a request and reads the answer.
func do(t testing.TB, c *http.Client, method, url, ctype, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, url, err)
	}
	return response{resp.StatusCode, string(b), resp.Header}
}

// post posts a JSON body.
func post(t testing.TB, url, body string) response {
	t.Helper()
	return do(t, nil, http.MethodPost, url, "application/json", body)
}

// decode decodes the JSON answer r into v, failing the test if it is not
// valid JSON.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(r.body))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("answer %q is not JSON: %v", r.body, err)
	}
}

// errorOf returns the message of a JSON error answer, failing the test if
// the answer is not {"error": "..."} with a 4xx status, or MLflow's
// {"error_code": "...", "message": "...", "error": "..."}, the same
// message twice.
func (r response) errorOf(t testing.TB) string {
	t.Helper()
	if r.status < 400 || r.status >= 500 {
		t.Errorf("status %d, want a 4xx; body %s", r.status, r.body)
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("error answer %q is not JSON: %v", r.body, err)
	}
	msg, ok := e["error"].(string)
	if code, mlflow := e["error_code"].(string); mlflow {
		if code == "" || e["message"] != msg || len(e) != 3 {
			t.Fatalf("MLflow error answer %s, want {\"error_code\": \"...\", \"message\": m, \"error\": m}", r.body)
		}
	} else if len(e) != 1 {
		ok = false
	}
	if !ok || msg == "" {
		t.Fatalf("error answer %s, want {\"error\": \"...\"}", r.body)
	}
	return msg
}

// irisRows returns the feature rows of iris.csv and their species.
func irisRows(t testing.TB) ([][]float64, []string) {
	t.Helper()
	d, err := nn.LoadCSV(irisPath, &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := d.X.Dims()
	rows := make([][]float64, r)
	for i := range rows {
		rows[i] = mat.Row(nil, i, d.X)
	}
	var labels []string
	for _, c := range d.Labels() {
		labels = append(labels, d.Classes[c])
	}
	return rows, labels
}

// wantLabels returns the labels that the model file path predicts for
// rows, through the library.
func wantLabels(t testing.TB, path string, rows [][]float64) ([]string, *mat.Dense) {
	t.Helper()
	m, err := nn.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	x := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		x.SetRow(i, r)
	}
	p, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	cls := m.Network.ClassesTo(nil, p)
	labels := make([]string, len(cls))
	for i, c := range cls {
		labels[i] = m.Classes[c]
	}
	return labels, p
}

// jsonRows formats rows as a JSON array of arrays.
func jsonRows(rows [][]float64) string {
	b, _ := json.Marshal(rows)
	return string(b)
}

// compact removes the insignificant white space of a JSON text.
func compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return s
	}
	return b.String()
}
