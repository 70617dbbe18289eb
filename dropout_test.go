package nn

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

// TestDropoutGradients checks backpropagation through dropout: with the
// masks fixed, the gradient equals central differences of the cost.
func TestDropoutGradients(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	for _, acts := range [][]Activation{{ReLU, Tanh, Softmax}, {GELU, Sigmoid, Softmax}, {Softplus, ELU, Softmax}} {
		n, err := New(Config{Sizes: []int{4, 7, 6, 3}, Activations: acts, Loss: CrossEntropy, Init: Xavier, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		x := randDense(rnd, 9, 4, -1, 1)
		y := oneHotRows(rnd, 9, 3)
		bp := newBackprop(n, 9)
		bp.setDropout([]float64{0.5, 0.25}, rand.NewPCG(1, 2))
		bp.setBatch(x, y)
		bp.forward() // draws the masks
		zeros := 0
		for _, m := range bp.masks[0] {
			if m == 0 {
				zeros++
			} else if m != 1 {
				t.Fatalf("mask value %v, want 0 or 1", m)
			}
		}
		if zeros == 0 || zeros == len(bp.masks[0]) {
			t.Fatalf("%d of %d dropped", zeros, len(bp.masks[0]))
		}
		bp.rnd = nil // fixed masks from here on
		bp.forward()
		bp.backward(1, 0)
		c := n.Clone()
		cbp := newBackprop(c, 9)
		cbp.setDropout([]float64{0.5, 0.25}, nil)
		copy(cbp.masks[0], bp.masks[0])
		copy(cbp.masks[1], bp.masks[1])
		cbp.setBatch(x, y)
		num := make([]float64, len(n.params))
		fd.Gradient(num, func(p []float64) float64 {
			copy(c.params, p)
			cbp.forward()
			return cbp.cost()
		}, n.params, &fd.Settings{Formula: fd.Central})
		if norm, elem := gradErr(bp.grad, num); norm > 1e-6 || elem > 1e-6 {
			t.Errorf("%v: relative error %.2g (element-wise %.2g)", acts, norm, elem)
		}
	}
}

// TestDropoutTraining checks that masks drop about the rate's share of
// units, that a warm step allocates nothing, and that prediction and the
// cost use no masks.
func TestDropoutTraining(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 14))
	n, _ := New(Config{Sizes: []int{20, 64, 32, 4}, Activations: []Activation{ReLU, ReLU, Softmax}, Loss: CrossEntropy, Init: He, Seed: 3})
	x := randDense(rnd, 128, 20, -1, 1)
	y := oneHotRows(rnd, 128, 4)
	tr, err := NewTrainer(n, &Settings{Method: AdamW, Dropout: []float64{0.2, 0.5}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Step(x, y); err != nil {
		t.Fatal(err)
	}
	bp := tr.bp[128]
	for l, p := range []float64{0.2, 0.5} {
		zeros := 0
		for _, m := range bp.masks[l] {
			if m == 0 {
				zeros++
			}
		}
		if got := float64(zeros) / float64(len(bp.masks[l])); math.Abs(got-p) > 0.03 {
			t.Errorf("layer %d: dropped %.3f of units, want about %v", l, got, p)
		}
	}
	if allocs := testing.AllocsPerRun(20, func() { tr.Step(x, y) }); allocs != 0 {
		t.Errorf("a warm step with dropout allocates %v times", allocs)
	}
	p1, _ := n.Predict(x)
	p2, _ := n.Predict(x)
	c1, _ := n.Cost(x, y)
	c2, _ := n.Cost(x, y)
	if !mat.Equal(p1, p2) || c1 != c2 {
		t.Error("prediction or cost changes between calls: masks leak into them")
	}
	for _, tc := range []struct {
		s    Settings
		want string
	}{
		{Settings{Dropout: []float64{0.1}}, "Settings.Dropout has 1 rates, want 2"},
		{Settings{Dropout: []float64{0.1, 1}}, "Settings.Dropout[1] is 1, want a rate in [0, 1)"},
		{Settings{Dropout: []float64{-0.1, 0}}, "Settings.Dropout[0] is -0.1"},
		{Settings{Method: LBFGS, Dropout: []float64{0.1, 0}}, "Dropout does not apply to LBFGS"},
	} {
		s := tc.s
		s.Epochs = 1
		if _, err := Train(context.Background(), n, x, y, &s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.s, err, tc.want)
		}
	}
}
