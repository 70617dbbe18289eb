package nn

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func TestPerceptronGates(t *testing.T) {
	x := mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 0, 1, 1})
	for _, test := range []struct {
		gate      string
		y         []float64
		learnable bool
	}{
		{"AND", []float64{0, 0, 0, 1}, true},
		{"OR", []float64{0, 1, 1, 1}, true},
		{"NAND", []float64{1, 1, 1, 0}, true},
		{"XOR", []float64{0, 1, 1, 0}, false},
	} {
		for seed := uint64(0); seed < 5; seed++ {
			p, hist, err := TrainPerceptron(x, test.y, &PerceptronSettings{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			wrong := 0
			for i := 0; i < 4; i++ {
				if p.Predict(x.RawRowView(i)) != test.y[i] {
					wrong++
				}
			}
			if test.learnable {
				if wrong != 0 || hist[len(hist)-1] != 1 {
					t.Errorf("%s seed %d: %d of 4 wrong after %d epochs, want 0", test.gate, seed, wrong, len(hist))
				}
				continue
			}
			// XOR is not linearly separable: no epoch of the 1000 is free
			// of mistakes, and the final perceptron gets a row wrong.
			if len(hist) != 1000 || floats.Max(hist) >= 1 || wrong == 0 {
				t.Errorf("%s seed %d: %d epochs, best accuracy %v, %d wrong; want 1000 epochs, accuracy below 1 and a mistake", test.gate, seed, len(hist), floats.Max(hist), wrong)
			}
		}
	}
}

func TestPerceptronBadInput(t *testing.T) {
	for _, test := range []struct {
		name string
		x    mat.Matrix
		y    []float64
	}{
		{"label not 0 or 1", mat.NewDense(2, 1, []float64{0, 1}), []float64{0, 2}},
		{"rows and labels differ", mat.NewDense(2, 1, []float64{0, 1}), []float64{0}},
		{"NaN input", mat.NewDense(2, 1, []float64{0, math.NaN()}), []float64{0, 1}},
	} {
		if _, _, err := TrainPerceptron(test.x, test.y, nil); err == nil {
			t.Errorf("%s: got no error", test.name)
		}
	}
}
