package onnx

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
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
// double), and to 1e-5 with PyTorch in float for a float model.
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
	if len(models) < 10 {
		t.Fatalf("torch_mlp.py exported %d models, want 10", len(models))
	}
	var worst, worstNative float64
	for _, tm := range models {
		f, err := os.Open(tm.File)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Read(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: Read: %v", tm.Name, err)
			continue
		}
		got, err := m.Predict(rows(tm.X))
		if err != nil {
			t.Errorf("%s: Predict: %v", tm.Name, err)
			continue
		}
		norm, _ := relDiff(got, rows(tm.Want), 0)
		worst = max(worst, norm)
		if norm > 1e-12 {
			t.Errorf("%s: nn's predictions differ from PyTorch's in double by %.3g relative, want ≤ 1e-12", tm.Name, norm)
		}
		if tm.Float32 {
			norm, _ := relDiff(got, rows(tm.WantNative), 0)
			worstNative = max(worstNative, norm)
			if norm > 1e-5 {
				t.Errorf("%s: nn's predictions differ from PyTorch's in float by %.3g relative, want ≤ 1e-5", tm.Name, norm)
			}
		}
	}
	t.Logf("largest difference from PyTorch: %.3g relative in double, %.3g from float models run in float", worst, worstNative)
}
