package nn

import (
	"fmt"
	"math"
)

// Activation is the function a layer applies to its weighted input z.
// The zero value is Sigmoid, the tutorial's activation.
type Activation int

const (
	// Sigmoid is σ(z) = 1/(1+e^−z), with σ′(z) = σ(z)(1−σ(z)).
	Sigmoid Activation = iota
	// Tanh is the hyperbolic tangent, with derivative 1−tanh²(z).
	Tanh
	// ReLU is max(0, z), with derivative 1 for z > 0 and 0 otherwise.
	ReLU
	// Identity is f(z) = z, for regression outputs.
	Identity
	// Softmax maps each row of z to probabilities exp(z_j)/Σ_k exp(z_k).
	// It is allowed on the output layer only.
	Softmax
)

var activations = enum[Activation]{"Activation", "activation", []string{
	Sigmoid:  "sigmoid",
	Tanh:     "tanh",
	ReLU:     "relu",
	Identity: "identity",
	Softmax:  "softmax",
}}

// String returns the activation's name as ParseActivation accepts it.
func (a Activation) String() string { return activations.name(a) }

// MarshalText returns the activation's name, or an error if a is not a
// valid Activation.
func (a Activation) MarshalText() ([]byte, error) { return activations.marshal(a) }

// UnmarshalText sets a to the activation named text, as ParseActivation
// reads it.
func (a *Activation) UnmarshalText(text []byte) error { return activations.unmarshal(a, text) }

// ParseActivation returns the activation named s: "sigmoid", "tanh", "relu",
// "identity" or "softmax".
func ParseActivation(s string) (Activation, error) {
	a, err := activations.parse(s)
	if err != nil {
		return 0, fmt.Errorf("nn: %w", err)
	}
	return a, nil
}

// apply replaces each weighted input in z, a matrix with cols columns stored
// row by row, by its activation after adding b to every row: z ← f(z + b).
// A nil b adds nothing. Adding the bias in the same pass saves reading and
// writing z twice.
func (a Activation) apply(z, b []float64, cols int) {
	if b == nil {
		a.applyFlat(z, cols)
		return
	}
	for off := 0; off < len(z); off += cols {
		row := z[off : off+cols]
		switch a {
		case Sigmoid:
			k, _ := sigmoidVec(row, b)
			for j, v := range b[k:] {
				row[k+j] = 1 / (1 + math.Exp(-(row[k+j] + v)))
			}
		case Tanh:
			for j, v := range b {
				row[j] = math.Tanh(row[j] + v)
			}
		case ReLU:
			for j, v := range b {
				row[j] = max(row[j]+v, 0)
			}
		case Identity:
			for j, v := range b {
				row[j] += v
			}
		case Softmax:
			for j, v := range b {
				row[j] += v
			}
			softmax(row)
		default:
			panic("nn: bad activation")
		}
	}
}

// applyFlat is apply without a bias.
func (a Activation) applyFlat(z []float64, cols int) {
	switch a {
	case Sigmoid:
		k, _ := sigmoidVec(z, nil)
		for i, v := range z[k:] {
			z[k+i] = 1 / (1 + math.Exp(-v))
		}
	case Tanh:
		for i, v := range z {
			z[i] = math.Tanh(v)
		}
	case ReLU:
		for i, v := range z {
			z[i] = max(v, 0)
		}
	case Identity:
	case Softmax:
		for off := 0; off < len(z); off += cols {
			softmax(z[off : off+cols])
		}
	default:
		panic("nn: bad activation")
	}
}

// softmax replaces row by exp(row)/Σexp(row), shifted by its maximum so no
// exponential overflows.
func softmax(row []float64) {
	max := math.Inf(-1)
	for _, v := range row {
		if v > max {
			max = v
		}
	}
	var sum float64
	for j, v := range row {
		e := math.Exp(v - max)
		row[j] = e
		sum += e
	}
	inv := 1 / sum
	for j := range row {
		row[j] *= inv
	}
}

// mulDerivative multiplies each element of d by the activation's derivative
// f′(z), computed from the activation's output out = f(z) so that no
// exponential is evaluated again: σ′ = a(1−a), tanh′ = 1−a², relu′ = [a>0].
// For Softmax, whose Jacobian is not diagonal, each row of d (cols wide) is
// replaced by its product with the Jacobian: d_j ← a_j(d_j − Σ_k d_k a_k).
func (a Activation) mulDerivative(d, out []float64, cols int) {
	out = out[:len(d)]
	switch a {
	case Sigmoid:
		for i, v := range out {
			d[i] *= v * (1 - v)
		}
	case Tanh:
		for i, v := range out {
			d[i] *= 1 - v*v
		}
	case ReLU:
		for i, v := range out {
			if v <= 0 {
				d[i] = 0
			}
		}
	case Identity:
	case Softmax:
		for off := 0; off < len(d); off += cols {
			dr, ar := d[off:off+cols], out[off:off+cols]
			var dot float64
			for j, v := range dr {
				dot += v * ar[j]
			}
			for j := range dr {
				dr[j] = ar[j] * (dr[j] - dot)
			}
		}
	default:
		panic("nn: bad activation")
	}
}

// addBias adds b to every row of z, which has len(b) columns.
func addBias(z, b []float64) {
	cols := len(b)
	for off := 0; off < len(z); off += cols {
		row := z[off : off+cols]
		for j, v := range b {
			row[j] += v
		}
	}
}
