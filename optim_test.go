package nn

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestOptimizersAgainstPyTorch runs six steps of AdamW and of SGD with
// gradient clipping on a 3-4-2 network and compares the parameters with
// those of PyTorch's AdamW, SGD and clip_grad_norm_ from the same start
// (testdata/optim_torch.json, written by testdata/gen_optim_torch.py).
func TestOptimizersAgainstPyTorch(t *testing.T) {
	data, err := os.ReadFile("testdata/optim_torch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		X      [][]float64 `json:"x"`
		Labels []int       `json:"labels"`
		Cases  []struct {
			Name        string    `json:"name"`
			Method      string    `json:"method"`
			LR          float64   `json:"lr"`
			WeightDecay float64   `json:"weight_decay"`
			Clip        float64   `json:"clip"`
			Steps       int       `json:"steps"`
			Start       []float64 `json:"start"`
			End         []float64 `json:"end"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	x := mat.NewDense(len(ref.X), 3, nil)
	for i, row := range ref.X {
		x.SetRow(i, row)
	}
	y := OneHot(ref.Labels, 2)
	for _, c := range ref.Cases {
		n, err := New(Config{Sizes: []int{3, 4, 2}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy})
		if err != nil {
			t.Fatal(err)
		}
		copy(n.Params(), c.Start)
		var m Method
		if err := m.UnmarshalText([]byte(c.Method)); err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(n, &Settings{Method: m, LearningRate: c.LR, WeightDecay: c.WeightDecay, ClipNorm: c.Clip})
		if err != nil {
			t.Fatal(err)
		}
		for range c.Steps {
			if _, err := tr.Step(x, y); err != nil {
				t.Fatal(err)
			}
		}
		want := c.End
		for i, v := range n.Params() {
			if math.Abs(v-want[i]) > 1e-12*max(1, math.Abs(want[i])) {
				t.Errorf("%s: parameter %d is %v after %d steps, PyTorch %v", c.Name, i, v, c.Steps, want[i])
			}
		}
	}
}

func TestOptimizerSettingsErrors(t *testing.T) {
	n, _ := New(Config{Sizes: []int{2, 2, 1}})
	x, y := xorData()
	for _, tc := range []struct {
		s    Settings
		want string
	}{
		{Settings{Method: AdamW, WeightDecay: -1}, "Settings.WeightDecay is -1"},
		{Settings{Method: Adam, WeightDecay: 0.1}, "WeightDecay is for AdamW, not adam"},
		{Settings{ClipNorm: -1}, "Settings.ClipNorm is -1"},
		{Settings{Method: LBFGS, ClipNorm: 1}, "ClipNorm does not apply to LBFGS"},
	} {
		s := tc.s
		s.Epochs = 1
		if _, err := Train(t.Context(), n, x, y, &s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.s, err, tc.want)
		}
	}
}
