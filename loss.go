package nn

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// Loss is the cost J that training minimises, summed over the examples of a
// batch. The zero value is SquaredError, the tutorial's cost.
type Loss int

const (
	// SquaredError is J = ½·Σ(y−ŷ)², the tutorial's cost.
	SquaredError Loss = iota
	// CrossEntropy is J = −Σ y·log ŷ for a Softmax output layer and one-hot
	// (or probability) targets. It is computed from the output layer's
	// weighted input with log-sum-exp, so large logits give no NaN.
	CrossEntropy
	// BinaryCrossEntropy is J = −Σ y·log ŷ + (1−y)·log(1−ŷ) for a Sigmoid
	// output layer and targets in [0, 1], computed stably from the
	// weighted input.
	BinaryCrossEntropy
)

var losses = enum[Loss]{"Loss", "loss", []string{
	SquaredError:       "squared-error",
	CrossEntropy:       "cross-entropy",
	BinaryCrossEntropy: "binary-cross-entropy",
}}

// String returns the loss's name, as UnmarshalText reads it:
// "squared-error", "cross-entropy" or "binary-cross-entropy".
func (l Loss) String() string { return losses.name(l) }

// MarshalText returns the loss's name, or an error if l is not a valid
// Loss.
func (l Loss) MarshalText() ([]byte, error) { return losses.marshal(l) }

// UnmarshalText sets l to the loss named text, as String names it.
func (l *Loss) UnmarshalText(text []byte) error { return losses.unmarshal(l, text) }

func logSumExp(z []float64) float64 {
	max := floats.Max(z)
	var s float64
	for _, v := range z {
		s += math.Exp(v - max)
	}
	return max + math.Log(s)
}
