package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/serve/inferencepb"
)

// parseConfig reads Triton's config.pbtxt: the version policies, the
// batching fields and the model file name, skips the fields of Triton
// it does not know, and refuses what it cannot serve, saying why.
func TestParseConfig(t *testing.T) {
	def := defaultConfig()
	with := func(f func(*modelConfig)) modelConfig {
		c := defaultConfig()
		f(&c)
		return c
	}
	tests := []struct {
		name, text string
		want       modelConfig
		err        string // a substring of the error; "" for none
	}{
		{name: "empty", text: "", want: def},
		{name: "comments only", text: "# a model of nn\n\n", want: def},
		{name: "latest 1", text: `version_policy: { latest: { num_versions: 1 } }`, want: def},
		{name: "latest 3", text: `version_policy { latest { num_versions: 3 } }`,
			want: with(func(c *modelConfig) { c.policy = versionPolicy{latest: 3} })},
		{name: "all", text: `version_policy: { all: {} }`,
			want: with(func(c *modelConfig) { c.policy = versionPolicy{all: true} })},
		{name: "all, no colons", text: `version_policy { all { } }`,
			want: with(func(c *modelConfig) { c.policy = versionPolicy{all: true} })},
		{name: "specific", text: `version_policy { specific { versions: [1, 3] } }`,
			want: with(func(c *modelConfig) { c.policy = versionPolicy{specific: []int64{1, 3}} })},
		{name: "specific, repeated field", text: "version_policy { specific { versions: 4 versions: 2 } }",
			want: with(func(c *modelConfig) { c.policy = versionPolicy{specific: []int64{4, 2}} })},
		{name: "max_batch_size", text: `max_batch_size: 8`,
			want: with(func(c *modelConfig) { c.batchRows = 8 })},
		{name: "max_batch_size 0: the server's", text: `max_batch_size: 0`, want: def},
		{name: "delay", text: `dynamic_batching { max_queue_delay_microseconds: 1500 }`,
			want: with(func(c *modelConfig) { c.batchDelay = 1500 * time.Microsecond })},
		{name: "delay 1s, the most", text: `dynamic_batching { max_queue_delay_microseconds: 1000000 }`,
			want: with(func(c *modelConfig) { c.batchDelay = time.Second })},
		// parseConfig's own rule: a delay of 0, given, batches only the
		// requests waiting (batchDelay -1), as Triton's delay of 0 does.
		{name: "delay 0", text: `dynamic_batching { max_queue_delay_microseconds: 0 }`,
			want: with(func(c *modelConfig) { c.batchDelay = -1 })},
		{name: "default_model_filename", text: `default_model_filename: "iris.json"`,
			want: with(func(c *modelConfig) { c.file = "iris.json" })},
		{name: "platform and backend", text: `name: "iris" platform: "neuralgo_nn" backend: "neuralgo_nn"`, want: def},
		{name: "a config of Triton's", text: `
name: "iris"
platform: "neuralgo_nn"
max_batch_size: 64
input [
  {
    name: "input"
    data_type: TYPE_FP64
    dims: [ 4 ]
    reshape: { shape: [ ] }
  }
]
output [
  {
    name: "probabilities"
    data_type: TYPE_FP64
    dims: [ 3 ]
    label_filename: "labels.txt"
  },
  {
    name: "label"
    data_type: TYPE_STRING
    dims: [ 1 ]
  }
]
instance_group [
  {
    count: 2
    kind: KIND_CPU
  }
]
dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 100
  preserve_ordering: true
  priority_levels: 2
}
parameters: { key: "threads" value: { string_value: "4" } }
model_warmup [ { name: "w" batch_size: 1 } ]
version_policy: { specific: { versions: [ 2 ] } }
default_model_filename: "model.json"
`, want: with(func(c *modelConfig) {
			c.batchRows = 64
			c.batchDelay = 100 * time.Microsecond
			c.policy = versionPolicy{specific: []int64{2}}
		})},

		{name: "bad syntax", text: `version_policy { latest { num_versions: 2 }`, err: "unexpected"},
		{name: "bad syntax, a string unclosed", text: `platform: "neuralgo_nn`, err: "unexpected EOF"},
		{name: "a known field of the wrong type", text: `max_batch_size: "eight"`, err: `invalid value for int32 type: "eight"`},
		{name: "a field given twice", text: `max_batch_size: 4 max_batch_size: 8`, err: "max_batch_size"},
		{name: "max_batch_size too large", text: `max_batch_size: 1000000`, err: "max_batch_size 1000000: want a number of rows from 0 to 65536"},
		{name: "num_versions 0", text: `version_policy { latest { num_versions: 0 } }`, err: "num_versions 0"},
		{name: "latest without num_versions", text: `version_policy { latest { } }`, err: "num_versions 0"},
		{name: "specific without versions", text: `version_policy { specific { } }`, err: "specific: no versions"},
		{name: "specific, empty list", text: `version_policy { specific { versions: [] } }`, err: "specific: no versions"},
		{name: "negative version", text: `version_policy { specific { versions: [2, -1] } }`, err: "version -1"},
		{name: "version 0", text: `version_policy { specific { versions: [0] } }`, err: "version 0"},
		{name: "platform onnxruntime_onnx", text: `platform: "onnxruntime_onnx"`, err: `platform "onnxruntime_onnx"`},
		{name: "backend python", text: `backend: "python"`, err: `backend "python"`},
		{name: "default_model_filename with a slash", text: `default_model_filename: "sub/model.json"`, err: `default_model_filename "sub/model.json"`},
		{name: "default_model_filename ..", text: `default_model_filename: ".."`, err: `default_model_filename ".."`},
		{name: "negative max_batch_size", text: `max_batch_size: -4`, err: "max_batch_size -4"},
		{name: "delay over a second", text: `dynamic_batching { max_queue_delay_microseconds: 2000000 }`, err: "max_queue_delay_microseconds 2000000"},
	}
	for _, test := range tests {
		c, err := parseConfig([]byte(test.text))
		switch {
		case test.err != "":
			if err == nil {
				t.Errorf("%s: no error, config %+v; want an error with %q", test.name, c, test.err)
			} else if !strings.Contains(err.Error(), test.err) {
				t.Errorf("%s: error %q, want one with %q", test.name, err, test.err)
			}
		case err != nil:
			t.Errorf("%s: %v", test.name, err)
		case !reflect.DeepEqual(c, test.want):
			t.Errorf("%s: config %+v, want %+v", test.name, c, test.want)
		}
	}
}

// The repository tests serve three iris classifiers that predict
// differently, to tell which version answered: A, the classifier of
// models (seed 1, 16 hidden units), B (seed 2) and C (seed 3, 8 hidden
// units, so that its network has another shape).
var (
	repoClassifiersOnce  sync.Once
	repoFileB, repoFileC string
	repoClassifiersErr   error
)

// repoClassifiers returns the files of the classifiers A, B and C.
func repoClassifiers(t testing.TB) (a, b, c string) {
	t.Helper()
	a, _ = models(t) // creates modelsDir, removed by TestMain
	repoClassifiersOnce.Do(func() {
		d, err := nn.LoadCSV(irisPath, &nn.CSVOptions{Target: "species", Classify: true})
		if err != nil {
			repoClassifiersErr = err
			return
		}
		for _, x := range []struct {
			seed   uint64
			hidden int
			file   *string
			name   string
		}{{2, 16, &repoFileB, "iris-b.json"}, {3, 8, &repoFileC, "iris-c.json"}} {
			c := &nn.Classifier{Hidden: []int{x.hidden}, Epochs: 40, Seed: x.seed}
			if repoClassifiersErr = c.Fit(context.Background(), d); repoClassifiersErr != nil {
				return
			}
			*x.file = filepath.Join(modelsDir, x.name)
			if repoClassifiersErr = c.Model.Save(*x.file); repoClassifiersErr != nil {
				return
			}
		}
	})
	if repoClassifiersErr != nil {
		t.Fatal(repoClassifiersErr)
	}
	return a, repoFileB, repoFileC
}

// repoRead returns the contents of the file path.
func repoRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// repoWrite writes a file, making its directory.
func repoWrite(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

var repoAsideCount atomic.Int64

// repoAside returns a fresh name in dir that is not a version number, for a
// directory or file written there before it is renamed into place.
func repoAside(dir, what string) string {
	return filepath.Join(dir, fmt.Sprintf(".%s-%d", what, repoAsideCount.Add(1)))
}

// repoPutVersion adds version v to the model directory dir, holding model
// as model.json, atomically: the version directory is written aside and
// renamed into place.
func repoPutVersion(t testing.TB, dir string, v int, model []byte) {
	t.Helper()
	tmp := repoAside(dir, "new")
	repoWrite(t, filepath.Join(tmp, defaultModelFile), model)
	if err := os.Rename(tmp, filepath.Join(dir, fmt.Sprint(v))); err != nil {
		t.Fatal(err)
	}
}

// repoReplaceFile replaces the file path atomically, renaming over it a file
// written beside it.
func repoReplaceFile(t testing.TB, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	repoWrite(t, tmp, b)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// repoDropVersion removes version v of the model directory dir atomically:
// renamed out of the way, then removed.
func repoDropVersion(t testing.TB, dir string, v int) {
	t.Helper()
	tmp := repoAside(dir, "gone")
	if err := os.Rename(filepath.Join(dir, fmt.Sprint(v)), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
}

// repoGarbage is a model file that does not load.
var repoGarbage = []byte(`{"format": "github.com/neuralgo/nn model", "version": 1, "sizes": [4]}`)

// repoPrediction is what a classifier answers for a row.
type repoPrediction struct {
	label string
	proba []float64
}

// repoPredictions returns the predictions of the model file path for
// rows, through Model.Predict.
func repoPredictions(t testing.TB, path string, rows [][]float64) []repoPrediction {
	t.Helper()
	labels, p := wantLabels(t, path, rows)
	out := make([]repoPrediction, len(rows))
	for i := range rows {
		out[i] = repoPrediction{labels[i], mat.Row(nil, i, p)}
	}
	return out
}

// is reports whether the label and probabilities are pr's, bit for bit
// (by sameOutput).
func (pr repoPrediction) is(label string, proba []float64) bool {
	return label == pr.label && sameProba(proba, pr.proba)
}

// repoIndex returns the repository index, POST /v2/repository/index with
// body.
func repoIndex(t *testing.T, url, body string) []indexEntry {
	t.Helper()
	r := post(t, url+"/v2/repository/index", body)
	if r.status != http.StatusOK {
		t.Fatalf("POST /v2/repository/index %s: %d %s", body, r.status, r.body)
	}
	var idx []indexEntry
	if err := json.Unmarshal([]byte(r.body), &idx); err != nil {
		t.Fatalf("the index %s: %v", r.body, err)
	}
	return idx
}

// repoRESTAnswer reads a V2 answer of a classifier to one row: its version,
// label and probabilities.
func repoRESTAnswer(body []byte) (version, label string, proba []float64, err error) {
	var res struct {
		ModelName    string `json:"model_name"`
		ModelVersion string `json:"model_version"`
		Outputs      []struct {
			Name  string
			Shape []int
			Data  json.RawMessage
		}
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return "", "", nil, err
	}
	var labels []string
	for _, o := range res.Outputs {
		switch o.Name {
		case "label":
			err = json.Unmarshal(o.Data, &labels)
		case "probabilities":
			err = json.Unmarshal(o.Data, &proba)
		}
		if err != nil {
			return "", "", nil, err
		}
	}
	if len(labels) != 1 || len(proba) != 3 {
		return "", "", nil, fmt.Errorf("not one label and 3 probabilities: %s", body)
	}
	return res.ModelVersion, labels[0], proba, nil
}

// repoInferBody is a V2 request of the row.
func repoInferBody(row []float64) string { return v2Body([][]float64{row}) }

// repoInferPath returns the path of the V2 inference of version v of the
// model name, or of its latest version if v is "".
func repoInferPath(name, v string) string {
	if v == "" {
		return "/v2/models/" + name + "/infer"
	}
	return "/v2/models/" + name + "/versions/" + v + "/infer"
}

// repoGRPCRequest is the gRPC request of a row.
func repoGRPCRequest(name, v string, row []float64) *pb.ModelInferRequest {
	return &pb.ModelInferRequest{ModelName: name, ModelVersion: v, Inputs: []*pb.ModelInferRequest_InferInputTensor{{
		Name: "input", Datatype: "FP64", Shape: []int64{1, int64(len(row))},
		Contents: &pb.InferTensorContents{Fp64Contents: row},
	}}}
}

// repoGRPCAnswer reads the gRPC answer of a classifier to one row.
func repoGRPCAnswer(res *pb.ModelInferResponse) (version, label string, proba []float64, err error) {
	var labels [][]byte
	for _, o := range res.Outputs {
		switch o.Name {
		case "label":
			labels = o.GetContents().GetBytesContents()
		case "probabilities":
			proba = o.GetContents().GetFp64Contents()
		}
	}
	if len(labels) != 1 || len(proba) != 3 {
		return "", "", nil, fmt.Errorf("not one label and 3 probabilities: %v", res)
	}
	return res.ModelVersion, string(labels[0]), proba, nil
}

// A repository in Triton's layout: models by directory, versions by
// number, a config.pbtxt's version policy, the entries that are not
// versions ignored; and a model file beside it, version 1.
func TestRepositoryLayout(t *testing.T) {
	a, b, c := repoClassifiers(t)
	_, reg := models(t)
	repo := t.TempDir()
	// cls serves all its versions, 1 (A) and 2 (B).
	repoWrite(t, filepath.Join(repo, "cls", configFile), []byte("# every version\nversion_policy: { all: {} }\n"))
	repoWrite(t, filepath.Join(repo, "cls", "1", "model.json"), repoRead(t, a))
	repoWrite(t, filepath.Join(repo, "cls", "2", "model.json"), repoRead(t, b))
	// Entries that are not versions, which would fail to load if they
	// were taken for versions: all of them are ignored.
	for _, v := range []string{"01", "0", "-1", "+4", "latest", "2.0", " 3", "99999999999999999999"} {
		repoWrite(t, filepath.Join(repo, "cls", v, "model.json"), repoGarbage)
	}
	repoWrite(t, filepath.Join(repo, "cls", "5"), repoGarbage) // a file, not a directory
	repoWrite(t, filepath.Join(repo, "cls", "model.json"), repoGarbage)
	// reg serves its latest version only, 3 (the regression), and not 1
	// (a classifier, C).
	repoWrite(t, filepath.Join(repo, "reg", "1", "model.json"), repoRead(t, c))
	repoWrite(t, filepath.Join(repo, "reg", "3", "model.json"), repoRead(t, reg))
	repoWrite(t, filepath.Join(repo, "README.md"), []byte("models\n")) // not a model
	// named, configured for Triton, has its file under another name: C.
	repoWrite(t, filepath.Join(repo, "named", configFile), []byte(`name: "named"
platform: "neuralgo_nn"
max_batch_size: 16
default_model_filename: "iris.json"
input [ { name: "input" data_type: TYPE_FP64 dims: [ 4 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
`))
	repoWrite(t, filepath.Join(repo, "named", "1", "iris.json"), repoRead(t, c))
	repoWrite(t, filepath.Join(repo, "named", "1", "model.json"), repoGarbage)
	s, ts := newTestServer(t, &Options{Repository: repo, ModelControl: true, ReloadInterval: -1}, ModelFile{"iris", a})

	if got, want := s.Models(), []string{"cls", "iris", "named", "reg"}; !slices.Equal(got, want) {
		t.Errorf("Models() = %q, want %q", got, want)
	}
	want := []indexEntry{
		{Name: "cls", Version: "1", State: "READY"},
		{Name: "cls", Version: "2", State: "READY"},
		{Name: "iris", Version: "1", State: "READY"},
		{Name: "named", Version: "1", State: "READY"},
		{Name: "reg", Version: "3", State: "READY"},
	}
	for _, body := range []string{"", `{}`, `{"ready":false}`, `{"ready":true}`} {
		if idx := repoIndex(t, ts.URL, body); !reflect.DeepEqual(idx, want) {
			t.Errorf("index %s: %+v, want %+v", body, idx, want)
		}
	}
	gc := grpcClient(t, s)
	ctx := context.Background()
	if res, err := gc.RepositoryIndex(ctx, &pb.RepositoryIndexRequest{}); err != nil || len(res.Models) != len(want) {
		t.Errorf("gRPC RepositoryIndex: %v %v", res, err)
	} else {
		for i, m := range res.Models {
			if got := (indexEntry{Name: m.Name, Version: m.Version, State: m.State, Reason: m.Reason}); got != want[i] {
				t.Errorf("gRPC RepositoryIndex[%d]: %+v, want %+v", i, got, want[i])
			}
		}
	}

	// Metadata: the versions served, whichever version is asked.
	for _, test := range []struct {
		path     string
		versions []string
		output   string
	}{
		{"/v2/models/cls", []string{"1", "2"}, "probabilities"},
		{"/v2/models/cls/versions/1", []string{"1", "2"}, "probabilities"},
		{"/v2/models/cls/versions/2", []string{"1", "2"}, "probabilities"},
		{"/v2/models/reg", []string{"3"}, "prediction"},
		{"/v2/models/reg/versions/3", []string{"3"}, "prediction"},
		{"/v2/models/iris", []string{"1"}, "probabilities"},
		{"/v2/models/iris/versions/1", []string{"1"}, "probabilities"},
	} {
		r := do(t, nil, http.MethodGet, ts.URL+test.path, "", "")
		var md struct {
			Name     string
			Versions []string
			Outputs  []tensorMeta
		}
		r.decode(t, &md)
		if r.status != http.StatusOK || !slices.Equal(md.Versions, test.versions) || !slices.ContainsFunc(md.Outputs, func(m tensorMeta) bool { return m.Name == test.output }) {
			t.Errorf("GET %s: %d %s; want versions %q and the output %s", test.path, r.status, r.body, test.versions, test.output)
		}
	}
	if res, err := gc.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "cls", Version: "1"}); err != nil || !slices.Equal(res.Versions, []string{"1", "2"}) {
		t.Errorf("gRPC ModelMetadata cls 1: %v %v", res, err)
	}

	// Inference: the version asked, or the latest; compared with the
	// file's own predictions.
	rows, _ := irisRows(t)
	probe := [][]float64{rows[0], rows[60], rows[77], rows[133]}
	pa, pb2, pc := repoPredictions(t, a, probe), repoPredictions(t, b, probe), repoPredictions(t, c, probe)
	for i, p := range probe {
		if pa[i].is(pb2[i].label, pb2[i].proba) {
			t.Fatalf("row %v: A and B predict the same; the test cannot tell them apart", p)
		}
	}
	for _, test := range []struct {
		name, v, wantV string
		want           []repoPrediction
	}{
		{"cls", "", "2", pb2},
		{"cls", "2", "2", pb2},
		{"cls", "1", "1", pa},
		{"iris", "", "1", pa},
		{"iris", "1", "1", pa},
		{"named", "", "1", pc},
	} {
		for i, row := range probe {
			r := post(t, ts.URL+repoInferPath(test.name, test.v), repoInferBody(row))
			if r.status != http.StatusOK {
				t.Errorf("%s: %d %s", repoInferPath(test.name, test.v), r.status, r.body)
				continue
			}
			v, label, proba, err := repoRESTAnswer([]byte(r.body))
			if err != nil || v != test.wantV || !test.want[i].is(label, proba) {
				t.Errorf("%s, row %d: version %q, %q %v (%v); want version %s, %q %v", repoInferPath(test.name, test.v), i, v, label, proba, err, test.wantV, test.want[i].label, test.want[i].proba)
			}
			res, err := gc.ModelInfer(ctx, repoGRPCRequest(test.name, test.v, row))
			if err != nil {
				t.Errorf("gRPC %s %q: %v", test.name, test.v, err)
				continue
			}
			v, label, proba, err = repoGRPCAnswer(res)
			if err != nil || v != test.wantV || !test.want[i].is(label, proba) {
				t.Errorf("gRPC %s %q, row %d: version %q, %q %v (%v); want version %s", test.name, test.v, i, v, label, proba, err, test.wantV)
			}
		}
	}
	// The regression, version 3.
	m := loadModel(t, reg)
	species := m.Encoding.Columns[3].Categories
	wantReg := predictRows(t, m, [][]float64{{5.1, 3.5, 1.4, 0}})[0][0]
	regBody := `{"inputs":[{"name":"x","shape":[1,4],"datatype":"BYTES","data":[5.1,3.5,1.4,"` + species[0] + `"]}]}`
	for _, v := range []string{"", "3"} {
		r := post(t, ts.URL+repoInferPath("reg", v), regBody)
		var res struct {
			ModelVersion string `json:"model_version"`
			Outputs      []struct {
				Name string
				Data []float64
			}
		}
		r.decode(t, &res)
		if r.status != http.StatusOK || res.ModelVersion != "3" || len(res.Outputs) != 1 || len(res.Outputs[0].Data) != 1 || !sameOutput(res.Outputs[0].Data[0], wantReg) {
			t.Errorf("%s: %d %s; want version 3, prediction %v", repoInferPath("reg", v), r.status, r.body, wantReg)
		}
	}

	// Versions not served: 404, over both protocols.
	for _, test := range []struct{ name, v string }{
		{"reg", "1"}, {"reg", "2"}, {"cls", "3"}, {"cls", "01"}, {"cls", "0"}, {"cls", "latest"}, {"cls", "5"}, {"iris", "2"}, {"iris", "01"},
	} {
		r := post(t, ts.URL+repoInferPath(test.name, test.v), repoInferBody(probe[0]))
		if msg := r.errorOf(t); r.status != http.StatusNotFound || !strings.Contains(msg, "version") {
			t.Errorf("%s: %d %s, want 404 naming the version", repoInferPath(test.name, test.v), r.status, r.body)
		}
		if r := do(t, nil, http.MethodGet, ts.URL+"/v2/models/"+test.name+"/versions/"+test.v, "", ""); r.status != http.StatusNotFound {
			t.Errorf("metadata of %s version %s: %d %s, want 404", test.name, test.v, r.status, r.body)
		}
		if _, err := gc.ModelInfer(ctx, repoGRPCRequest(test.name, test.v, probe[0])); status.Code(err) != codes.NotFound {
			t.Errorf("gRPC %s version %s: %v, want NotFound", test.name, test.v, err)
		}
		if _, err := gc.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: test.name, Version: test.v}); status.Code(err) != codes.NotFound {
			t.Errorf("gRPC metadata of %s version %s: %v, want NotFound", test.name, test.v, err)
		}
	}

	// Readiness, of models and of versions.
	for _, test := range []struct {
		path   string
		status int
		body   string
	}{
		{"/v2/models/cls/ready", 200, `{"name":"cls","ready":true}`},
		{"/v2/models/cls/versions/1/ready", 200, `{"name":"cls","version":"1","ready":true}`},
		{"/v2/models/cls/versions/2/ready", 200, `{"name":"cls","version":"2","ready":true}`},
		{"/v2/models/reg/ready", 200, `{"name":"reg","ready":true}`},
		{"/v2/models/reg/versions/3/ready", 200, `{"name":"reg","version":"3","ready":true}`},
		{"/v2/models/reg/versions/1/ready", 400, `{"name":"reg","version":"1","ready":false}`},
		{"/v2/models/iris/versions/1/ready", 200, `{"name":"iris","version":"1","ready":true}`},
		{"/v2/models/iris/versions/2/ready", 400, `{"name":"iris","version":"2","ready":false}`},
	} {
		r := do(t, nil, http.MethodGet, ts.URL+test.path, "", "")
		if r.status != test.status || compact(r.body) != test.body {
			t.Errorf("GET %s: %d %s, want %d %s", test.path, r.status, r.body, test.status, test.body)
		}
	}
	for _, test := range []struct {
		name, v string
		ready   bool
	}{{"cls", "", true}, {"cls", "1", true}, {"reg", "1", false}, {"reg", "3", true}, {"iris", "1", true}} {
		if res, err := gc.ModelReady(ctx, &pb.ModelReadyRequest{Name: test.name, Version: test.v}); err != nil || res.Ready != test.ready {
			t.Errorf("gRPC ModelReady %s %q: %v %v, want %v", test.name, test.v, res, err, test.ready)
		}
	}
	if r := do(t, nil, http.MethodGet, ts.URL+"/v2/models/nope/ready", "", ""); r.status != http.StatusNotFound {
		t.Errorf("ready of an unknown model: %d %s", r.status, r.body)
	}
	if _, err := gc.ModelReady(ctx, &pb.ModelReadyRequest{Name: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("gRPC ModelReady of an unknown model: %v", err)
	}
}

// The versions of a model change while 64 clients, half over HTTP and
// half over gRPC, send it requests: a version is added, replaced in
// place, a corrupt one added and removed, one removed, and the model
// unloaded (over HTTP) and loaded again (over gRPC). No request fails
// but those that name a version while it is not served and, while the
// model is unloaded, those that name none (404, NotFound); and every
// answer is the prediction, bit for bit, of the file of the version that
// it says answered.
func TestRepositoryChangesUnderLoad(t *testing.T) {
	a, b, c := repoClassifiers(t)
	fa, fb, fc := repoRead(t, a), repoRead(t, b), repoRead(t, c)
	repo := t.TempDir()
	dir := filepath.Join(repo, "m")
	repoWrite(t, filepath.Join(dir, configFile), []byte("version_policy: { all: {} }\n"))
	repoPutVersion(t, dir, 1, fa)
	const poll = 20 * time.Millisecond
	s, ts := newTestServer(t, &Options{Repository: repo, ModelControl: true, ReloadInterval: poll})
	gc := grpcClient(t, s)
	ctx := context.Background()

	rows, _ := irisRows(t)
	var probe [][]float64
	for i := 0; i < len(rows); i += 15 {
		probe = append(probe, rows[i])
	}
	// The outcomes of a request: a version and its file, or 404.
	const nf = "404"
	preds := map[string][]repoPrediction{
		"1A": repoPredictions(t, a, probe), "2B": repoPredictions(t, b, probe), "2C": repoPredictions(t, c, probe),
	}
	for i := range probe {
		for _, x := range [][2]string{{"1A", "2B"}, {"1A", "2C"}, {"2B", "2C"}} {
			if p := preds[x[1]][i]; preds[x[0]][i].is(p.label, p.proba) {
				t.Fatalf("row %v: %s and %s predict the same; the test cannot tell them apart", probe[i], x[0], x[1])
			}
		}
	}
	outcome := func(version string, row int, label string, proba []float64) string {
		for _, o := range []string{"1A", "2B", "2C"} {
			if o[:1] == version && preds[o][row].is(label, proba) {
				return o
			}
		}
		return fmt.Sprintf("version %q answering %q %v, the prediction of no file of that version", version, label, proba)
	}

	// The phases of the test, which the driver below steps through: a
	// change (odd), then the state once the server shows it (even). A
	// request may have any outcome of a phase that it overlapped, by the
	// version it asks ("" for none).
	type state map[string][]string
	steady := state{"": {"2C"}, "1": {"1A"}, "2": {"2C"}, "3": {nf}}
	states := []state{
		0:  {"": {"1A"}, "1": {"1A"}, "2": {nf}, "3": {nf}},
		1:  {"": {"1A", "2B"}, "1": {"1A"}, "2": {nf, "2B"}, "3": {nf}}, // version 2 (B) added
		2:  {"": {"2B"}, "1": {"1A"}, "2": {"2B"}, "3": {nf}},
		3:  {"": {"2B", "2C"}, "1": {"1A"}, "2": {"2B", "2C"}, "3": {nf}}, // version 2 replaced (C)
		4:  steady,
		5:  steady, // a corrupt version 3 added: nothing changes
		6:  steady,
		7:  steady, // the corrupt version removed
		8:  steady,
		9:  {"": {"2C"}, "1": {"1A", nf}, "2": {"2C"}, "3": {nf}}, // version 1 removed
		10: {"": {"2C"}, "1": {nf}, "2": {"2C"}, "3": {nf}},
		11: {"": {"2C", nf}, "1": {nf}, "2": {"2C", nf}, "3": {nf}}, // unloaded over HTTP
		12: {"": {nf}, "1": {nf}, "2": {nf}, "3": {nf}},
		13: {"": {"2C", nf}, "1": {nf}, "2": {"2C", nf}, "3": {nf}}, // loaded over gRPC
		14: {"": {"2C"}, "1": {nf}, "2": {"2C"}, "3": {nf}},
	}
	var phase atomic.Int64

	type key struct {
		phase         int64
		grpc          bool
		kind, outcome string
	}
	var (
		mu       sync.Mutex
		counts   = map[key]int{}
		total    int
		failures []string
		nfailed  int
	)
	record := func(p0, p1 int64, grpc bool, kind, got string) {
		ok := false
		for p := p0; p <= p1 && !ok; p++ {
			ok = slices.Contains(states[p][kind], got)
		}
		mu.Lock()
		defer mu.Unlock()
		total++
		if ok {
			if p0 == p1 {
				counts[key{p0, grpc, kind, got}]++
			}
			return
		}
		nfailed++
		if len(failures) < 20 {
			proto := "HTTP"
			if grpc {
				proto = "gRPC"
			}
			failures = append(failures, fmt.Sprintf("%s, version %q, in phases %d to %d: %s; want one of %q", proto, kind, p0, p1, got, states[p0][kind]))
		}
	}

	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	rest := func(kind string, row int) string {
		resp, err := hc.Post(ts.URL+repoInferPath("m", kind), "application/json", strings.NewReader(repoInferBody(probe[row])))
		if err != nil {
			return "error: " + err.Error()
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return "error reading the answer: " + err.Error()
		case resp.StatusCode == http.StatusNotFound:
			return nf
		case resp.StatusCode != http.StatusOK:
			return fmt.Sprintf("status %d: %s", resp.StatusCode, body)
		}
		v, label, proba, err := repoRESTAnswer(body)
		if err != nil {
			return "bad answer: " + err.Error()
		}
		return outcome(v, row, label, proba)
	}
	viaGRPC := func(kind string, row int) string {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		res, err := gc.ModelInfer(ctx, repoGRPCRequest("m", kind, probe[row]))
		switch {
		case status.Code(err) == codes.NotFound:
			return nf
		case err != nil:
			return "error: " + err.Error()
		}
		v, label, proba, err := repoGRPCAnswer(res)
		if err != nil {
			return "bad answer: " + err.Error()
		}
		return outcome(v, row, label, proba)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var stopOnce sync.Once
	stopClients := func() {
		stopOnce.Do(func() {
			close(stop)
			wg.Wait()
		})
	}
	defer stopClients()
	kinds := []string{"", "", "", "", "", "1", "2", "3"}
	for g := range 64 {
		grpc := g%2 == 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				kind, row := kinds[i%len(kinds)], (i/len(kinds)+g)%len(probe)
				p0 := phase.Load()
				var got string
				if grpc {
					got = viaGRPC(kind, row)
				} else {
					got = rest(kind, row)
				}
				record(p0, phase.Load(), grpc, kind, got)
			}
		}()
	}

	// The driver.
	const dwell = 200 * time.Millisecond
	served := func() []string { return s.model("m").set.Load().labels() }
	settled := func(what string, ok func() bool) {
		t.Helper()
		waitFor(t, what, ok)
		phase.Add(1)
		time.Sleep(dwell)
	}
	failed := func() float64 {
		return metricValue(metricsText(t, ts.URL), `nn_serve_reloads_total{model="m",result="failure"}`)
	}
	wantIndex := func(when string, want ...indexEntry) {
		t.Helper()
		if idx := repoIndex(t, ts.URL, ""); !reflect.DeepEqual(idx, want) {
			t.Errorf("%s: index %+v, want %+v", when, idx, want)
		}
	}
	ready := func(v string) indexEntry { return indexEntry{Name: "m", Version: v, State: "READY"} }
	time.Sleep(dwell)

	phase.Add(1) // 1
	repoPutVersion(t, dir, 2, fb)
	settled("version 2", func() bool { return slices.Equal(served(), []string{"1", "2"}) })
	wantIndex("version 2 added", ready("1"), ready("2"))

	phase.Add(1) // 3
	path2 := filepath.Join(dir, "2", defaultModelFile)
	repoReplaceFile(t, path2, fc)
	st, err := statFile(path2)
	if err != nil {
		t.Fatal(err)
	}
	settled("the new file of version 2", func() bool {
		sl := s.model("m").set.Load().find("2")
		return sl != nil && sameStat(sl.cur.Load().stat, st)
	})

	phase.Add(1) // 5
	repoPutVersion(t, dir, 3, repoGarbage)
	settled("the failed load of version 3", func() bool { return failed() >= 1 })
	wantIndex("a corrupt version 3 added", ready("1"), ready("2"))
	time.Sleep(5 * poll)
	if n := failed(); n != 1 {
		t.Errorf("%v failed loads of one corrupt file over 5 polls, want 1: a poll tries a file again only once it changes", n)
	}

	phase.Add(1) // 7
	repoDropVersion(t, dir, 3)
	time.Sleep(5 * poll)
	settled("", func() bool { return true })
	wantIndex("the corrupt version 3 removed", ready("1"), ready("2"))

	phase.Add(1) // 9
	repoDropVersion(t, dir, 1)
	settled("version 1 dropped", func() bool { return slices.Equal(served(), []string{"2"}) })
	wantIndex("version 1 removed", ready("2"))

	phase.Add(1) // 11
	if r := post(t, ts.URL+"/v2/repository/models/m/unload", ""); r.status != http.StatusOK {
		t.Fatalf("unload: %d %s", r.status, r.body)
	}
	settled("the unload", func() bool { return len(served()) == 0 })
	// Polls, and Reload, leave it unloaded.
	if err := s.Reload(); err != nil {
		t.Errorf("Reload while unloaded: %v", err)
	}
	if got := served(); len(got) != 0 {
		t.Errorf("after Reload, an unloaded model serves %q", got)
	}
	wantIndex("unloaded", indexEntry{Name: "m", State: "UNAVAILABLE", Reason: "unloaded on request"})
	if idx := repoIndex(t, ts.URL, `{"ready":true}`); len(idx) != 0 {
		t.Errorf("unloaded: the index of ready models is %+v, want none", idx)
	}
	if r := do(t, nil, http.MethodGet, ts.URL+"/v2/models/m/ready", "", ""); r.status != http.StatusBadRequest || compact(r.body) != `{"name":"m","ready":false}` {
		t.Errorf("unloaded: ready: %d %s, want 400 {\"name\":\"m\",\"ready\":false}", r.status, r.body)
	}
	if res, err := gc.ModelReady(ctx, &pb.ModelReadyRequest{Name: "m"}); err != nil || res.Ready {
		t.Errorf("unloaded: gRPC ModelReady: %v %v, want not ready", res, err)
	}

	phase.Add(1) // 13
	if _, err := gc.RepositoryModelLoad(ctx, &pb.RepositoryModelLoadRequest{ModelName: "m"}); err != nil {
		t.Fatalf("gRPC RepositoryModelLoad: %v", err)
	}
	settled("the load", func() bool { return slices.Equal(served(), []string{"2"}) })
	wantIndex("loaded again", ready("2"))
	if res, err := gc.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "m"}); err != nil || !slices.Equal(res.Versions, []string{"2"}) {
		t.Errorf("loaded again: gRPC ModelMetadata: %v %v, want versions [2]", res, err)
	}
	stopClients()
	if int(phase.Load()) != len(states)-1 {
		t.Fatalf("the driver stopped at phase %d of %d", phase.Load(), len(states)-1)
	}

	for _, f := range failures {
		t.Error(f)
	}
	if nfailed > 0 {
		t.Errorf("%d of %d requests failed or answered what they should not", nfailed, total)
	}
	// Each protocol saw each state.
	for _, proto := range []bool{false, true} {
		for _, k := range []key{
			{0, proto, "", "1A"}, {2, proto, "", "2B"}, {2, proto, "1", "1A"}, {4, proto, "", "2C"}, {4, proto, "2", "2C"},
			{6, proto, "", "2C"}, {6, proto, "3", nf}, {10, proto, "1", nf}, {12, proto, "", nf}, {14, proto, "", "2C"}, {14, proto, "2", "2C"},
		} {
			if counts[k] == 0 {
				t.Errorf("no request answered %q in phase %d over gRPC %v, asking version %q: the test did not test it", k.outcome, k.phase, k.grpc, k.kind)
			}
		}
	}
	if n := failed(); n != 1 {
		t.Errorf("%v failed loads counted, want 1 (the corrupt version 3)", n)
	}
	t.Logf("%d requests", total)
}

// An explicit load of a model whose new version is corrupt fails,
// naming the version and its file, and the versions served stay as they
// were; once the file is good, the load succeeds.
func TestRepositoryLoadFailureKeepsVersions(t *testing.T) {
	a, b, c := repoClassifiers(t)
	repo := t.TempDir()
	dir := filepath.Join(repo, "m")
	repoPutVersion(t, dir, 1, repoRead(t, a)) // the default policy: the latest version
	s, ts := newTestServer(t, &Options{Repository: repo, ModelControl: true, ReloadInterval: -1})
	gc := grpcClient(t, s)
	ctx := context.Background()
	rows, _ := irisRows(t)
	row := rows[77]
	want := map[string]repoPrediction{
		"1A": repoPredictions(t, a, [][]float64{row})[0],
		"2B": repoPredictions(t, b, [][]float64{row})[0],
		"2C": repoPredictions(t, c, [][]float64{row})[0],
	}
	// answers checks that version v of m (the latest if "") answers as
	// the file of the outcome o does, or 404 for o "404".
	answers := func(when, v, o string) {
		t.Helper()
		r := post(t, ts.URL+repoInferPath("m", v), repoInferBody(row))
		if o == "404" {
			if r.status != http.StatusNotFound {
				t.Errorf("%s: %s: %d %s, want 404", when, repoInferPath("m", v), r.status, r.body)
			}
			return
		}
		if r.status != http.StatusOK {
			t.Errorf("%s: %s: %d %s", when, repoInferPath("m", v), r.status, r.body)
			return
		}
		version, label, proba, err := repoRESTAnswer([]byte(r.body))
		if err != nil || version != o[:1] || !want[o].is(label, proba) {
			t.Errorf("%s: %s: version %q, %q %v (%v); want version %s, %q %v", when, repoInferPath("m", v), version, label, proba, err, o[:1], want[o].label, want[o].proba)
		}
	}
	load := func() response {
		t.Helper()
		return post(t, ts.URL+"/v2/repository/models/m/load", "")
	}
	answers("at first", "", "1A")

	// A corrupt version 2: the load fails, and version 1 serves on.
	repoPutVersion(t, dir, 2, repoGarbage)
	path2 := filepath.Join(dir, "2", defaultModelFile)
	r := load()
	if msg := r.errorOf(t); r.status != http.StatusBadRequest || !strings.Contains(msg, "version 2") || !strings.Contains(msg, path2) {
		t.Errorf("load of a corrupt version 2: %d %s; want 400 naming version 2 and %s", r.status, r.body, path2)
	}
	if _, err := gc.RepositoryModelLoad(ctx, &pb.RepositoryModelLoadRequest{ModelName: "m"}); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("gRPC load of a corrupt version 2: %v, want InvalidArgument naming version 2", err)
	}
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("Reload with a corrupt version 2: %v, want an error naming version 2", err)
	}
	if idx := repoIndex(t, ts.URL, ""); !reflect.DeepEqual(idx, []indexEntry{{Name: "m", Version: "1", State: "READY"}}) {
		t.Errorf("after the failed load: index %+v, want version 1 only", idx)
	}
	answers("after the failed load", "", "1A")
	answers("after the failed load", "1", "1A")
	answers("after the failed load", "2", "404")

	// Fixed: the load succeeds, and the policy keeps version 2 only.
	repoReplaceFile(t, path2, repoRead(t, b))
	if r := load(); r.status != http.StatusOK || compact(r.body) != `{"name":"m","versions":["2"]}` {
		t.Errorf("load of a good version 2: %d %s, want 200 {\"name\":\"m\",\"versions\":[\"2\"]}", r.status, r.body)
	}
	answers("after the load", "", "2B")
	answers("after the load", "2", "2B")
	answers("after the load", "1", "404")

	// A version served whose file is replaced by a corrupt one: the load
	// fails, and it serves on from the file it loaded.
	repoReplaceFile(t, path2, repoGarbage)
	r = load()
	if msg := r.errorOf(t); r.status != http.StatusBadRequest || !strings.Contains(msg, path2) {
		t.Errorf("load of a corrupt replacement of version 2: %d %s; want 400 naming %s", r.status, r.body, path2)
	}
	answers("after a corrupt replacement", "", "2B")
	repoReplaceFile(t, path2, repoRead(t, c))
	if r := load(); r.status != http.StatusOK {
		t.Errorf("load of a good replacement of version 2: %d %s", r.status, r.body)
	}
	answers("after a good replacement", "", "2C")

	// A model that is neither served nor in the repository.
	if r := post(t, ts.URL+"/v2/repository/models/nope/load", ""); r.status != http.StatusNotFound {
		t.Errorf("load of an unknown model: %d %s, want 404", r.status, r.body)
	}
	if r := post(t, ts.URL+"/v2/repository/models/nope/unload", ""); r.status != http.StatusNotFound {
		t.Errorf("unload of an unknown model: %d %s, want 404", r.status, r.body)
	}
	if _, err := gc.RepositoryModelLoad(ctx, &pb.RepositoryModelLoadRequest{ModelName: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("gRPC load of an unknown model: %v, want NotFound", err)
	}
}

// A model whose directory leaves the repository is UNAVAILABLE, with the
// reason, and requests to it are 404; other models serve on, and the
// model is served again once its directory is back.
func TestRepositoryModelRemoved(t *testing.T) {
	a, b, _ := repoClassifiers(t)
	repo := t.TempDir()
	repoPutVersion(t, filepath.Join(repo, "m"), 1, repoRead(t, a))
	repoPutVersion(t, filepath.Join(repo, "n"), 1, repoRead(t, b))
	s, ts := newTestServer(t, &Options{Repository: repo, ModelControl: true, ReloadInterval: 10 * time.Millisecond})
	gc := grpcClient(t, s)
	ctx := context.Background()
	rows, _ := irisRows(t)
	body := repoInferBody(rows[0])
	if r := post(t, ts.URL+"/v2/models/m/infer", body); r.status != http.StatusOK {
		t.Fatalf("at first: %d %s", r.status, r.body)
	}

	gone := filepath.Join(t.TempDir(), "m")
	if err := os.Rename(filepath.Join(repo, "m"), gone); err != nil {
		t.Fatal(err)
	}
	const reason = "its directory is not in the repository"
	var idx []indexEntry
	waitFor(t, "m unavailable", func() bool {
		idx = repoIndex(t, ts.URL, "")
		return len(idx) > 0 && idx[0].State == "UNAVAILABLE"
	})
	want := []indexEntry{{Name: "m", State: "UNAVAILABLE", Reason: reason}, {Name: "n", Version: "1", State: "READY"}}
	if !reflect.DeepEqual(idx, want) {
		t.Errorf("index %+v, want %+v", idx, want)
	}
	if idx := repoIndex(t, ts.URL, `{"ready":true}`); !reflect.DeepEqual(idx, want[1:]) {
		t.Errorf("index of ready models %+v, want %+v", idx, want[1:])
	}
	if res, err := gc.RepositoryIndex(ctx, &pb.RepositoryIndexRequest{}); err != nil || len(res.Models) != 2 || res.Models[0].State != "UNAVAILABLE" || res.Models[0].Reason != reason {
		t.Errorf("gRPC index: %v %v", res, err)
	}
	if got := s.Models(); !slices.Equal(got, []string{"m", "n"}) {
		t.Errorf("Models() = %q: a model removed stays a model, with no version", got)
	}
	for _, v := range []string{"", "1"} {
		r := post(t, ts.URL+repoInferPath("m", v), body)
		if msg := r.errorOf(t); r.status != http.StatusNotFound || v == "" && !strings.Contains(msg, reason) {
			t.Errorf("%s of a removed model: %d %s, want 404 saying %q", repoInferPath("m", v), r.status, r.body, reason)
		}
		if _, err := gc.ModelInfer(ctx, repoGRPCRequest("m", v, rows[0])); status.Code(err) != codes.NotFound {
			t.Errorf("gRPC infer of a removed model, version %q: %v, want NotFound", v, err)
		}
	}
	if r := do(t, nil, http.MethodGet, ts.URL+"/v2/models/m/ready", "", ""); r.status != http.StatusBadRequest || compact(r.body) != `{"name":"m","ready":false}` {
		t.Errorf("ready of a removed model: %d %s, want 400 {\"name\":\"m\",\"ready\":false}", r.status, r.body)
	}
	if r := do(t, nil, http.MethodGet, ts.URL+"/v2/models/m", "", ""); r.status != http.StatusNotFound {
		t.Errorf("metadata of a removed model: %d %s, want 404", r.status, r.body)
	}
	if r := post(t, ts.URL+"/v2/models/n/infer", body); r.status != http.StatusOK {
		t.Errorf("the other model: %d %s", r.status, r.body)
	}
	// Nothing to load: the load fails, as Triton's does, rather than
	// answer that it loaded no version.
	if r := post(t, ts.URL+"/v2/repository/models/m/load", ""); r.status < 400 || r.status >= 500 {
		t.Errorf("load of a model whose directory is gone: %d %s, want a 4xx: no version can be served", r.status, r.body)
	}

	// Back: served again at the next poll.
	if err := os.Rename(gone, filepath.Join(repo, "m")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "m back", func() bool {
		return reflect.DeepEqual(repoIndex(t, ts.URL, ""), []indexEntry{{Name: "m", Version: "1", State: "READY"}, {Name: "n", Version: "1", State: "READY"}})
	})
	if r := post(t, ts.URL+"/v2/models/m/infer", body); r.status != http.StatusOK {
		t.Errorf("back: %d %s", r.status, r.body)
	}
}

// A version directory without its model file (made, say, by mkdir before
// cp) is a failed load that leaves the versions served as they were; it
// is reported once, as a missing model file is, not at every poll; and
// once the file is there, the version loads.
func TestRepositoryVersionWithoutFile(t *testing.T) {
	a, b, _ := repoClassifiers(t)
	repo := t.TempDir()
	dir := filepath.Join(repo, "m")
	repoPutVersion(t, dir, 1, repoRead(t, a))
	const poll = 10 * time.Millisecond
	s, ts := newTestServer(t, &Options{Repository: repo, ModelControl: true, ReloadInterval: poll})
	if err := os.Mkdir(filepath.Join(dir, "2"), 0o755); err != nil {
		t.Fatal(err)
	}
	failed := func() float64 {
		return metricValue(metricsText(t, ts.URL), `nn_serve_reloads_total{model="m",result="failure"}`)
	}
	waitFor(t, "the failed load of version 2", func() bool { return failed() >= 1 })
	time.Sleep(20 * poll)
	if got := s.model("m").set.Load().labels(); !slices.Equal(got, []string{"1"}) {
		t.Errorf("with version 2 empty, versions %q are served, want [1]", got)
	}
	if n := failed(); n != 1 {
		t.Errorf("an empty version directory left for 20 polls counts %v failed loads (and logs as many warnings), want 1: a missing model file is reported once", n)
	}
	repoReplaceFile(t, filepath.Join(dir, "2", defaultModelFile), repoRead(t, b))
	waitFor(t, "version 2", func() bool { return slices.Equal(s.model("m").set.Load().labels(), []string{"2"}) })
}
