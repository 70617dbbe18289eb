package onnx

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// torchModel is a model of the manifest testdata/torch_mlp.py prints.
type torchModel struct {
	Name       string      `json:"name"`
	File       string      `json:"file"`
	X          [][]float64 `json:"x"`
	Want       [][]float64 `json:"want"`        // PyTorch's outputs in double
	WantNative [][]float64 `json:"want_native"` // in the model's own type
	Float32    bool        `json:"float32"`
	Error      string      `json:"error"` // what Read must say, if it refuses the model
}

// rows returns v as a matrix.
func rows(v [][]float64) *mat.Dense {
	m := mat.NewDense(len(v), len(v[0]), nil)
	for i, r := range v {
		m.SetRow(i, r)
	}
	return m
}

// TestImportPyTorch exports multilayer perceptrons with torch.onnx.export,
// reads them and compares nn's predictions with PyTorch's: to 1e-12 with
// PyTorch in double (a float model's weights are the same numbers in
// double), and to 1e-5 with PyTorch in float for a float model. GELU and
// SiLU reach the files as formulas of Erf or Tanh, and Sigmoid. A model
// nn does not read (a BatchNorm) must be refused with an error that names
// the node that blocks it. The float models also run in ONNX Runtime,
// whose predictions agree with nn's to 1e-5.
func TestImportPyTorch(t *testing.T) {
	py := python(t, "torch", "onnx")
	dir := t.TempDir()
	cmd := exec.Command(py, filepath.Join("testdata", "torch_mlp.py"), dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testdata/torch_mlp.py: %v", err)
	}
	var models []torchModel
	if err := json.Unmarshal(out, &models); err != nil {
		t.Fatal(err)
	}
	if len(models) < 18 {
		t.Fatalf("torch_mlp.py exported %d models, want 18", len(models))
	}
	var worst, worstNative float64
	predictions := map[string]*mat.Dense{} // of the float models read
	for _, tm := range models {
		t.Run(tm.Name, func(t *testing.T) {
			f, err := os.Open(tm.File)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Read(f)
			f.Close()
			if tm.Error != "" {
				if err == nil || !strings.Contains(err.Error(), tm.Error) {
					t.Errorf("Read: got %v, want an error with %q", err, tm.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			got, err := m.Predict(rows(tm.X))
			if err != nil {
				t.Fatalf("Predict: %v", err)
			}
			norm, _ := relDiff(got, rows(tm.Want), 0)
			worst = max(worst, norm)
			if norm > 1e-12 {
				t.Errorf("nn's predictions differ from PyTorch's in double by %.3g relative, want ≤ 1e-12", norm)
			}
			if tm.Float32 {
				norm, _ := relDiff(got, rows(tm.WantNative), 0)
				worstNative = max(worstNative, norm)
				if norm > 1e-5 {
					t.Errorf("nn's predictions differ from PyTorch's in float by %.3g relative, want ≤ 1e-5", norm)
				}
				predictions[tm.Name] = got
			}
		})
	}
	t.Logf("largest difference from PyTorch: %.3g relative in double, %.3g from float models run in float", worst, worstNative)

	t.Run("onnxruntime", func(t *testing.T) {
		var reqs []ortRequest
		var read []torchModel
		for _, tm := range models {
			if predictions[tm.Name] == nil {
				continue
			}
			read = append(read, tm)
			reqs = append(reqs, newRequest(tm.File, "input", rows(tm.X), true))
		}
		worst := 0.0
		for i, r := range runtime(t, reqs) {
			tm := read[i]
			if r.Error != "" {
				t.Errorf("%s: ONNX Runtime: %s", tm.Name, r.Error)
				continue
			}
			norm, _ := relDiff(predictions[tm.Name], r.Outputs["output"].dense(), 0)
			worst = max(worst, norm)
			if norm > 1e-5 {
				t.Errorf("%s: nn's predictions differ from ONNX Runtime's in float by %.3g relative, want ≤ 1e-5", tm.Name, norm)
			}
		}
		t.Logf("largest difference from ONNX Runtime in float: %.3g relative", worst)
	})
}
