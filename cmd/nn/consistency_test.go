package main

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// TestConsistency predicts one table (testdata/consistency: text
// columns, missing cells, a category the model has not seen, a category
// missing from the file, the columns shuffled against the training file,
// an extra column) through every path of the module: the library (a
// Dataset read with the user's own options, and PredictCSV), nn predict,
// nn serve (V2 and MLflow, JSON and CSV) and the ONNX export in ONNX
// Runtime, for a classifier and for a regression on two targets. Labels
// must be equal everywhere; probabilities and outputs the same bits among
// the Go paths and within 1e-12 relative in ONNX Runtime. (Beam's Score is
// held to the library on the same table in the beam module's
// TestScoreConsistency.)
// openBLAS is true in a build with -tags openblas, whose products of
// small matrices go to OpenBLAS: its kernels may sum a row's products in
// another order for another number of rows, so that paths which predict
// the same row in blocks of other sizes agree to rounding there, and bit
// for bit in the default build, whose gemm kernels compute each row of a
// product alike whatever the number of rows.
var openBLAS = strings.Contains(nn.Backend(), "OpenBLAS")

func TestConsistency(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join("..", "..", "testdata", "consistency")
	test := filepath.Join(data, "test.csv")
	cls, reg := filepath.Join(dir, "cls.json"), filepath.Join(dir, "reg.json")
	mustRun(t, "", "train", "-data", filepath.Join(data, "classify.csv"), "-target", "label", "-epochs", "40", "-seed", "1", "-o", cls, "-quiet")
	mustRun(t, "", "train", "-data", filepath.Join(data, "regress.csv"), "-target", "t1,t2", "-task", "regress", "-epochs", "40", "-seed", "1", "-o", reg, "-quiet")

	srv := startServe(t, "-model", "cls="+cls, "-model", "reg="+reg)
	for _, c := range []struct {
		name, model string
		classify    bool
	}{{"classifier", cls, true}, {"regression", reg, false}} {
		t.Run(c.name, func(t *testing.T) {
			m, err := nn.LoadModel(c.model)
			if err != nil {
				t.Fatal(err)
			}
			s, err := m.Schema()
			if err != nil {
				t.Fatal(err)
			}
			// The library, as a user reads a file of their own: text
			// detected, missing values read, columns in the file's order.
			opts := &nn.CSVOptions{DetectCategorical: true, Missing: nn.DefaultMissing}
			if c.classify {
				opts.Target, opts.Classify = "label", true
			} else {
				opts.Targets = []string{"t2", "t1"}
			}
			d, err := nn.LoadCSV(test, opts)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(d.Features, s.Features()) {
				t.Fatalf("the test file's features %v are in the model's order: not a test of shuffled columns", d.Features)
			}
			want, unknown, err := m.PredictDataset(d, false)
			if err != nil {
				t.Fatal(err)
			}
			if c.classify && unknown == 0 {
				t.Fatal("the test file has no unknown category")
			}
			rows, _ := want.Dims()
			var wantLabels []string
			if c.classify {
				for _, k := range m.Network.ClassesTo(nil, want) {
					wantLabels = append(wantLabels, s.Label(k))
				}
			}
			// The probabilities (or outputs) of each row, as the paths
			// write them.
			wantRows := make([][]float64, rows)
			for i := range rows {
				wantRows[i] = slices.Clone(want.RawRowView(i))
				if c.classify {
					wantRows[i] = s.ProbabilitiesTo(nil, want.RawRowView(i))
				}
			}
			check := func(path string, labels []string, values [][]float64) {
				t.Helper()
				if labels != nil && !slices.Equal(labels, wantLabels) {
					t.Errorf("%s: labels differ from the library's:\n%v\nwant\n%v", path, labels, wantLabels)
				}
				if values == nil {
					return
				}
				if len(values) != rows {
					t.Errorf("%s: %d rows, want %d", path, len(values), rows)
					return
				}
				for i := range values {
					if !slices.Equal(values[i], wantRows[i]) && !(openBLAS && within(values[i], wantRows[i], 1e-12)) {
						t.Errorf("%s: row %d: %v, want %v (bit for bit)", path, i, values[i], wantRows[i])
						return
					}
				}
			}

			// Model.PredictCSV, and nn predict.
			o := nn.Labels
			if c.classify {
				o = nn.LabelsAndProbabilities
			}
			var out bytes.Buffer
			f, err := os.Open(test)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = m.PredictCSV(&out, f, &nn.PredictOptions{Output: o})
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			labels, values := parsePredictions(t, out.String(), c.classify, true)
			check("Model.PredictCSV", labels, values)
			if c.classify {
				labels, _ := parsePredictions(t, mustRun(t, "", "predict", "-model", c.model, "-data", test).stdout, true, false)
				_, values := parsePredictions(t, mustRun(t, "", "predict", "-model", c.model, "-data", test, "-proba").stdout, false, true)
				check("nn predict", labels, nil)
				check("nn predict -proba", nil, values)
			} else {
				_, values := parsePredictions(t, mustRun(t, "", "predict", "-model", c.model, "-data", test).stdout, false, true)
				check("nn predict", nil, values)
			}

			// nn serve: V2 with a tensor per column, MLflow records and
			// CSV.
			table := readCSVTable(t, test)
			name := filepath.Base(strings.TrimSuffix(c.model, ".json"))
			labels, values = serveV2(t, srv.url+"/v2/models/"+name+"/infer", table, s, c.classify)
			check("nn serve V2", labels, values)
			labels, values = serveMLflow(t, srv.url+"/invocations?model="+name, "application/json", mlflowRecords(t, table), c.classify, rows)
			check("nn serve MLflow records", labels, values)
			csvBody, err := os.ReadFile(test)
			if err != nil {
				t.Fatal(err)
			}
			labels, values = serveMLflow(t, srv.url+"/invocations?model="+name, "text/csv", csvBody, c.classify, rows)
			check("nn serve MLflow CSV", labels, values)

			// The ONNX export in ONNX Runtime, fed the model's table: the
			// category codes of the Schema, NaN for missing values.
			x, _, err := s.Table(d, false)
			if err != nil {
				t.Fatal(err)
			}
			onnxFile := filepath.Join(dir, name+".onnx")
			mustRun(t, "", "export", "-model", c.model, "-o", onnxFile)
			labels, values = inRuntime(t, onnxFile, x, s, c.classify)
			check("ONNX Runtime", labels, nil)
			for i := range values {
				for j, v := range values[i] {
					if w := wantRows[i][j]; math.Abs(v-w) > 1e-12*math.Max(math.Abs(w), 1e-300) && !(c.classify && math.Abs(v-w) < 1e-15) {
						t.Errorf("ONNX Runtime: row %d, output %d: %v, want %v within 1e-12 relative", i, j, v, w)
						return
					}
				}
			}
		})
	}
}

// within reports whether a and b agree to tol relative, or tol absolute
// near zero.
func within(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol*math.Max(math.Abs(b[i]), 1) {
			return false
		}
	}
	return true
}

// parsePredictions reads the CSV that nn predict and PredictCSV write:
// with values (probabilities, or the outputs of a regression on several
// targets), a header line and then a label (if labels) and numbers per
// row; without, a label per line.
func parsePredictions(t *testing.T, out string, labels, values bool) ([]string, [][]float64) {
	t.Helper()
	ls := lines(out)
	if values && len(ls) > 0 {
		ls = ls[1:] // the header: class or target names
	}
	var got []string
	var nums [][]float64
	for _, l := range ls {
		fields := strings.Split(l, ",")
		if labels {
			got = append(got, fields[0])
			fields = fields[1:]
		}
		if values {
			row := make([]float64, len(fields))
			for j, f := range fields {
				row[j] = mustFloat(t, f)
			}
			nums = append(nums, row)
		}
	}
	if !labels {
		got = nil
	}
	return got, nums
}

// readCSVTable returns the header and rows of a CSV file without quotes.
func readCSVTable(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var table [][]string
	for _, l := range lines(string(b)) {
		table = append(table, strings.Split(l, ","))
	}
	return table
}

// serveV2 posts the rows of table to a V2 infer URL as one tensor per
// column of the model (BYTES for a categorical one, FP64 with null for a
// missing number), and returns the labels and probabilities (or the
// predictions of a regression).
func serveV2(t *testing.T, url string, table [][]string, s *nn.Schema, classify bool) ([]string, [][]float64) {
	t.Helper()
	header, rows := table[0], table[1:]
	var inputs []map[string]any
	for j, f := range s.Features() {
		k := slices.Index(header, f)
		var data []any
		for _, r := range rows {
			v := r[k]
			switch {
			case s.Categories(j) != nil:
				data = append(data, v)
			case v == "NA":
				data = append(data, nil)
			default:
				data = append(data, json.Number(v))
			}
		}
		dt := "FP64"
		if s.Categories(j) != nil {
			dt = "BYTES"
		}
		inputs = append(inputs, map[string]any{"name": f, "shape": []int{len(rows)}, "datatype": dt, "data": data})
	}
	body, err := json.Marshal(map[string]any{"inputs": inputs})
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Outputs []struct {
			Name string            `json:"name"`
			Data []json.RawMessage `json:"data"`
		} `json:"outputs"`
	}
	post(t, url, "application/json", body, &reply)
	var labels []string
	var values [][]float64
	for _, o := range reply.Outputs {
		switch o.Name {
		case "label":
			for _, d := range o.Data {
				var l string
				json.Unmarshal(d, &l)
				labels = append(labels, l)
			}
		case "probabilities", "prediction":
			width := max(s.Outputs(), 2)
			if !classify {
				width = s.Outputs()
			}
			for i := 0; i < len(o.Data); i += width {
				row := make([]float64, width)
				for j := range row {
					row[j] = jsonFloat(t, o.Data[i+j])
				}
				values = append(values, row)
			}
		}
	}
	if !classify {
		labels = nil
	}
	return labels, values
}

// mlflowRecords returns the rows of table as MLflow's dataframe_records:
// an object per row keyed by column, with the file's text ("NA" as null,
// numbers as JSON numbers).
func mlflowRecords(t *testing.T, table [][]string) []byte {
	t.Helper()
	header, rows := table[0], table[1:]
	var records []map[string]any
	for _, r := range rows {
		rec := map[string]any{}
		for j, h := range header {
			v := r[j]
			if _, err := strconv.ParseFloat(v, 64); err == nil {
				rec[h] = json.Number(v)
			} else if v == "NA" {
				rec[h] = nil
			} else {
				rec[h] = v
			}
		}
		records = append(records, rec)
	}
	body, err := json.Marshal(map[string]any{"dataframe_records": records})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// serveMLflow posts body to /invocations and returns the labels of a
// classifier, or the predictions of a regression.
func serveMLflow(t *testing.T, url, contentType string, body []byte, classify bool, rows int) ([]string, [][]float64) {
	t.Helper()
	var reply struct {
		Predictions []json.RawMessage `json:"predictions"`
	}
	post(t, url, contentType, body, &reply)
	if len(reply.Predictions) != rows {
		t.Fatalf("MLflow (%s): %d predictions, want %d", contentType, len(reply.Predictions), rows)
	}
	var labels []string
	var values [][]float64
	for _, p := range reply.Predictions {
		if classify {
			var l string
			if err := json.Unmarshal(p, &l); err != nil {
				t.Fatal(err)
			}
			labels = append(labels, l)
			continue
		}
		var row []json.RawMessage
		if err := json.Unmarshal(p, &row); err != nil {
			row = []json.RawMessage{p}
		}
		v := make([]float64, len(row))
		for j, r := range row {
			v[j] = jsonFloat(t, r)
		}
		values = append(values, v)
	}
	return labels, values
}

// post posts body and decodes the JSON answer into reply, failing the
// test on any status but 200.
func post(t *testing.T, url, contentType string, body []byte, reply any) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s (%s): %s: %s", url, contentType, resp.Status, b)
	}
	if err := json.Unmarshal(b, reply); err != nil {
		t.Fatalf("POST %s: %v in %s", url, err, b)
	}
}

// jsonFloat returns the JSON number b, exactly.
func jsonFloat(t *testing.T, b json.RawMessage) float64 {
	t.Helper()
	return mustFloat(t, string(b))
}

// inRuntime runs the ONNX file in ONNX Runtime on the model's table x and
// returns the labels and the probabilities (or predictions).
func inRuntime(t *testing.T, file string, x *mat.Dense, s *nn.Schema, classify bool) ([]string, [][]float64) {
	t.Helper()
	modules := os.Getenv("NN_ORT_NODE_MODULES")
	if modules == "" {
		modules, _ = filepath.Abs(filepath.Join("..", "..", "onnx", "testdata", "node_modules"))
	}
	if _, err := os.Stat(filepath.Join(modules, "onnxruntime-node")); err != nil {
		msg := "ONNX Runtime not found in " + modules + ": run (cd onnx/testdata && npm install --ignore-scripts --no-save onnxruntime-node@1.30.0)"
		if os.Getenv("NN_ONNX_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	r, c := x.Dims()
	data := make([]any, 0, r*c)
	for _, v := range x.RawMatrix().Data {
		if math.IsNaN(v) {
			data = append(data, nil)
		} else {
			data = append(data, v)
		}
	}
	req, err := json.Marshal(map[string]any{"model": file, "input": "X", "type": "float64", "dims": []int{r, c}, "data": data})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("..", "..", "onnx", "testdata", "ort.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(append(req, '\n'))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node ort.js: %v", err)
	}
	var reply struct {
		Outputs map[string]struct {
			Dims []int     `json:"dims"`
			Data []float64 `json:"data"`
		} `json:"outputs"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(out, &reply); err != nil || reply.Error != "" {
		t.Fatalf("ONNX Runtime: %v %s", err, reply.Error)
	}
	name, width := "prediction", s.Outputs()
	if classify {
		name, width = "probabilities", len(s.Classes())
	}
	vals := reply.Outputs[name].Data
	if len(vals) != r*width {
		t.Fatalf("ONNX Runtime: %d values of %q, want %d", len(vals), name, r*width)
	}
	var values [][]float64
	for i := range r {
		values = append(values, vals[i*width:(i+1)*width])
	}
	var labels []string
	if classify {
		for _, k := range reply.Outputs["label"].Data {
			labels = append(labels, s.Label(int(k)))
		}
	}
	return labels, values
}
