package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// TestExportImport exports the iris model with nn export, runs it in ONNX
// Runtime (when installed, see package onnx's tests), imports it with nn
// import and exports that again.
func TestExportImport(t *testing.T) {
	dir := t.TempDir()
	model := trainedIris(t)
	file := filepath.Join(dir, "iris.onnx")
	mustRun(t, "", "export", "-model", model, "-o", file)
	back := filepath.Join(dir, "back.json")
	mustRun(t, "", "import", "-onnx", file, "-o", back)
	a, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("nn import of nn export: the model file differs:\n%s\nwant:\n%s", b, a)
	}
	again := filepath.Join(dir, "again.onnx")
	mustRun(t, "", "export", "-model", back, "-o", again)
	first, _ := os.ReadFile(file)
	second, _ := os.ReadFile(again)
	if !bytes.Equal(first, second) {
		t.Error("export → import → export changed the ONNX file")
	}
	rows := irisFeatureRows(t)
	want := mustRun(t, strings.Join(rows, "\n")+"\n", "predict", "-model", back).stdout
	if got := mustRun(t, strings.Join(rows, "\n")+"\n", "predict", "-model", model).stdout; got != want {
		t.Error("predictions of the imported model differ")
	}

	t.Run("runtime", func(t *testing.T) { irisInRuntime(t, model, file, rows) })

	// Errors: a missing flag, a file that is not ONNX, the wrong count of
	// classes; nothing is written.
	for _, test := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "-model", model}, 2, "flag -o is required"},
		{[]string{"export", "-model", model, "-o", model}, 2, "is the model file"},
		{[]string{"import", "-onnx", model, "-o", filepath.Join(dir, "x.json")}, 1, "not an ONNX model"},
		{[]string{"import", "-onnx", file, "-o", filepath.Join(dir, "x.json"), "-classes", "a,b"}, 1, "classes"},
		{[]string{"export", "-model", irisPath, "-o", filepath.Join(dir, "x.onnx")}, 1, "iris.csv"},
	} {
		r := runNN(t, "", test.args...)
		if r.code != test.code || !strings.Contains(r.stderr, test.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("nn %s: status %d, stderr %q; want %d and one line with %q", strings.Join(test.args, " "), r.code, r.stderr, test.code, test.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); err == nil {
		t.Error("a failed import wrote its output")
	}
}

// irisInRuntime runs the exported iris model in ONNX Runtime and compares
// its probabilities with nn's to 1e-12 and its labels with nn predict's.
func irisInRuntime(t *testing.T, model, file string, rows []string) {
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
	m, err := nn.LoadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	x := mat.NewDense(len(rows), 4, nil)
	var data []float64
	for i, r := range rows {
		for j, f := range strings.Split(r, ",") {
			x.Set(i, j, mustFloat(t, f))
		}
		data = append(data, x.RawRowView(i)...)
	}
	req, err := json.Marshal(map[string]any{"model": file, "input": "X", "type": "float64", "dims": []int{len(rows), 4}, "data": data})
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
	want, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	probs := reply.Outputs["probabilities"].Data
	var worst float64
	for i, v := range want.RawMatrix().Data {
		worst = max(worst, math.Abs(probs[i]-v))
	}
	if worst > 1e-12 {
		t.Errorf("iris in ONNX Runtime: probabilities differ from nn's by %.3g, want ≤ 1e-12", worst)
	}
	labels := lines(mustRun(t, strings.Join(rows, "\n")+"\n", "predict", "-model", model).stdout)
	for i, l := range reply.Outputs["label"].Data {
		if got := irisClasses[int(l)]; got != labels[i] {
			t.Errorf("row %d: ONNX Runtime's label %s, nn predict's %s", i, got, labels[i])
		}
	}
	t.Logf("iris in ONNX Runtime: probabilities within %.3g of nn's, %d labels equal", worst, len(labels))
}
