package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Perceptron is Rosenblatt's perceptron: a weighted sum of the inputs plus a
// bias, passed through a step activation.
type Perceptron struct {
	// Weights holds one weight per input.
	Weights []float64
	// Bias is added to the weighted sum.
	Bias float64
	// Threshold is where the step activation fires: the output is 1 when
	// w·x + b ≥ Threshold and 0 otherwise. The tutorial's perceptron uses a
	// threshold of 2; with a bias, a threshold of 0 is the usual form.
	Threshold float64
}

// Predict returns the perceptron's output, 0 or 1, for the input x. It
// panics if len(x) differs from len(p.Weights).
func (p *Perceptron) Predict(x []float64) float64 {
	if len(x) != len(p.Weights) {
		panic(fmt.Sprintf("nn: perceptron input has %d values, want %d", len(x), len(p.Weights)))
	}
	if floats.Dot(p.Weights, x)+p.Bias >= p.Threshold {
		return 1
	}
	return 0
}

// PerceptronSettings configures TrainPerceptron. A nil *PerceptronSettings
// means the zero value.
type PerceptronSettings struct {
	// Epochs is the largest number of passes over the data; zero means
	// 1000, the tutorial's.
	Epochs int
	// LearningRate is η in the perceptron rule; zero means 0.1, the
	// tutorial's.
	LearningRate float64
	// Threshold is the step activation's threshold (see
	// Perceptron.Threshold); the zero value fires at w·x + b ≥ 0, and the
	// tutorial's is 2.
	Threshold float64
	// Seed seeds the initial weights, drawn uniformly from [0, 1) as in the
	// tutorial. The bias starts at zero.
	Seed uint64
}

// TrainPerceptron learns a perceptron from the rows of x and their labels y,
// each 0 or 1, by the perceptron rule: after each example,
// w ← w + η·(y−ŷ)·x and b ← b + η·(y−ŷ). It stops after an epoch without a
// mistake, or after s.Epochs epochs, and returns the perceptron and the
// fraction of examples it got right in each epoch (before each example's
// update). It returns an error if x is empty, holds NaN or infinite values,
// or has a different number of rows than y, or if a label is not 0 or 1.
func TrainPerceptron(x mat.Matrix, y []float64, s *PerceptronSettings) (*Perceptron, []float64, error) {
	var c PerceptronSettings
	if s != nil {
		c = *s
	}
	if c.Epochs == 0 {
		c.Epochs = 1000
	}
	if c.LearningRate == 0 {
		c.LearningRate = 0.1
	}
	if c.Epochs < 0 || !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0) || math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		return nil, nil, fmt.Errorf("nn: PerceptronSettings has Epochs %d, LearningRate %v, Threshold %v; want positive epochs and rate and a finite threshold", c.Epochs, c.LearningRate, c.Threshold)
	}
	r, cols := x.Dims()
	if r == 0 || cols == 0 {
		return nil, nil, fmt.Errorf("nn: perceptron data X is %d×%d: %w", r, cols, ErrEmpty)
	}
	if len(y) != r {
		return nil, nil, fmt.Errorf("nn: perceptron data has %d rows but %d labels: %w", r, len(y), ErrShape)
	}
	if err := checkFinite("X", x); err != nil {
		return nil, nil, err
	}
	for i, v := range y {
		if v != 0 && v != 1 {
			return nil, nil, fmt.Errorf("nn: perceptron label y[%d] is %v, want 0 or 1", i, v)
		}
	}

	rnd := rand.New(rand.NewPCG(c.Seed, 0x70657263)) // "perc"
	p := &Perceptron{Weights: make([]float64, cols), Threshold: c.Threshold}
	for i := range p.Weights {
		p.Weights[i] = rnd.Float64()
	}
	row := make([]float64, cols)
	var history []float64
	for e := 0; e < c.Epochs; e++ {
		right := 0
		for i := 0; i < r; i++ {
			mat.Row(row, i, x)
			loss := y[i] - p.Predict(row)
			if loss == 0 {
				right++
				continue
			}
			floats.AddScaled(p.Weights, loss*c.LearningRate, row)
			p.Bias += loss * c.LearningRate
		}
		history = append(history, float64(right)/float64(r))
		if right == r {
			break
		}
	}
	return p, history, nil
}
