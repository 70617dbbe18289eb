package nn

import (
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
	// LeakyReLU is z for z > 0 and s·z otherwise, with the slope s of
	// Config.LeakySlope (0.01 by default, as PyTorch's).
	LeakyReLU
	// ELU is z for z > 0 and e^z − 1 otherwise (α = 1).
	ELU
	// GELU is z·Φ(z), Φ the standard normal distribution function:
	// ½·z·(1 + erf(z/√2)), the exact form.
	GELU
	// GELUTanh is the tanh approximation of GELU,
	// ½·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))).
	GELUTanh
	// SiLU (swish) is z·σ(z).
	SiLU
	// Softplus is log(1 + e^z), computed without overflow.
	Softplus
)

var activations = enum[Activation]{"Activation", "activation", []string{
	Sigmoid:   "sigmoid",
	Tanh:      "tanh",
	ReLU:      "relu",
	Identity:  "identity",
	Softmax:   "softmax",
	LeakyReLU: "leaky-relu",
	ELU:       "elu",
	GELU:      "gelu",
	GELUTanh:  "gelu-tanh",
	SiLU:      "silu",
	Softplus:  "softplus",
}}

// needsInput reports whether the derivative of a is computed from the
// weighted input z rather than from the output f(z): GELU, GELUTanh and
// SiLU are not invertible, and ELU's e^z from its output e^z − 1 loses
// every digit below −40, so backpropagation keeps their z.
func (a Activation) needsInput() bool {
	return a == GELU || a == GELUTanh || a == SiLU || a == ELU
}

// modern reports whether a was added in version 3 of the model format.
func (a Activation) modern() bool { return a >= LeakyReLU }

// scalar returns f(v) for the activations applied element by element;
// slope is LeakyReLU's.
func (a Activation) scalar(v, slope float64) float64 {
	switch a {
	case LeakyReLU:
		if v > 0 {
			return v
		}
		return slope * v
	case ELU:
		if v > 0 {
			return v
		}
		return math.Expm1(v)
	case GELU:
		return 0.5 * v * math.Erfc(-v/math.Sqrt2)
	case GELUTanh:
		return 0.5 * v * (1 + math.Tanh(geluTanhK*(v+0.044715*v*v*v)))
	case SiLU:
		return v / (1 + math.Exp(-v))
	case Softplus:
		// max(z,0) + log(1 + e^−|z|)
		return max(v, 0) + math.Log1p(math.Exp(-math.Abs(v)))
	}
	panic("nn: bad activation")
}

// geluTanhK is √(2/π).
const geluTanhK = 0.7978845608028654

// derivative returns f′ at the weighted input z with output out, for the
// activations applied element by element.
func (a Activation) derivative(z, out, slope float64) float64 {
	switch a {
	case LeakyReLU:
		if out > 0 {
			return 1
		}
		return slope
	case ELU:
		if z > 0 {
			return 1
		}
		return math.Exp(z)
	case Softplus:
		// σ(z) = 1 − e^−f(z)
		return -math.Expm1(-out)
	case GELU:
		// Φ(z) + z·φ(z)
		return 0.5*math.Erfc(-z/math.Sqrt2) + z*math.Exp(-0.5*z*z)/math.Sqrt(2*math.Pi)
	case GELUTanh:
		u := geluTanhK * (z + 0.044715*z*z*z)
		t := math.Tanh(u)
		if t*t == 1 {
			return 0.5 * (1 + t) // the second term is 0·∞ far out
		}
		return 0.5*(1+t) + 0.5*z*(1-t*t)*geluTanhK*(1+3*0.044715*z*z)
	case SiLU:
		s := 1 / (1 + math.Exp(-z))
		return s * (1 + z*(1-s))
	}
	panic("nn: bad activation")
}

// String returns the activation's name, as UnmarshalText reads it:
// "sigmoid", "tanh", "relu", "identity", "softmax", "leaky-relu", "elu",
// "gelu", "gelu-tanh", "silu" or "softplus".
func (a Activation) String() string { return activations.name(a) }

// MarshalText returns the activation's name, or an error if a is not a
// valid Activation.
func (a Activation) MarshalText() ([]byte, error) { return activations.marshal(a) }

// UnmarshalText sets a to the activation named text, as String names it.
func (a *Activation) UnmarshalText(text []byte) error { return activations.unmarshal(a, text) }

// apply replaces each weighted input in z, a matrix with cols columns stored
// row by row, by its activation after adding b to every row: z ← f(z + b).
// A nil b adds nothing. Adding the bias in the same pass saves reading and
// writing z twice.
func (a Activation) apply(z, b []float64, cols int, slope float64) {
	if b == nil {
		a.applyFlat(z, cols, slope)
		return
	}
	if a.modern() {
		for off := 0; off < len(z); off += cols {
			row := z[off : off+cols]
			for j, v := range b {
				row[j] = a.scalar(row[j]+v, slope)
			}
		}
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
func (a Activation) applyFlat(z []float64, cols int, slope float64) {
	if a.modern() {
		for i, v := range z {
			z[i] = a.scalar(v, slope)
		}
		return
	}
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
// The activations added later take their derivative from out where they
// can (LeakyReLU, ELU, Softplus) and from the weighted input z, laid out
// as d, where they cannot (see needsInput); slope is LeakyReLU's.
func (a Activation) mulDerivative(d, out, z []float64, cols int, slope float64) {
	out = out[:len(d)]
	if a.modern() {
		if a.needsInput() {
			z = z[:len(d)]
			for i, v := range z {
				d[i] *= a.derivative(v, out[i], slope)
			}
			return
		}
		for i, v := range out {
			d[i] *= a.derivative(0, v, slope)
		}
		return
	}
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
		// d ← 0 where the output is +0, without a branch, which the
		// signs of a layer's inputs would make unpredictable: an output
		// of ReLU is +0, positive or NaN, and its bits are 0 only for +0.
		for i, v := range out {
			b := math.Float64bits(v)
			keep := uint64(int64(b|-b) >> 63) // all ones unless b is 0
			d[i] = math.Float64frombits(math.Float64bits(d[i]) & keep)
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
