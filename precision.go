package nn

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Precision is the floating-point type in which a network is trained: its
// weights, activations, gradients and optimizer state. The zero value is
// Float64.
//
// Whatever the precision, a Network's weights are read and written as
// float64, through mat.Dense, and model files keep their format: a network
// trained in Float32 holds float32 values, which float64 represents
// exactly. (A Regressor then folds its targets' scaling into the output
// layer in float64; see Classifier.Precision.)
type Precision int

const (
	// Float64 trains in double precision, the zero value.
	Float64 Precision = iota
	// Float32 trains in single precision, as PyTorch does by default:
	// the matrix products move half the bytes and run twice the lanes of
	// every vector instruction. Sums that lose accuracy in float32 (the
	// loss of a batch, log-sum-exp, the norm of a clipped gradient) are
	// accumulated in float64. The validation loss and accuracy of each
	// epoch are measured in float64, on the float32 weights. Data beyond
	// float32's range (±3.4e38) is an error wrapping ErrNotFinite. LBFGS
	// refuses Float32.
	Float32
)

var precisions = enum[Precision]{"Precision", "precision", []string{
	Float64: "float64",
	Float32: "float32",
}}

// String returns the precision's name, as UnmarshalText reads it:
// "float64" or "float32".
func (p Precision) String() string { return precisions.name(p) }

// MarshalText returns the precision's name, or an error if p is not a
// valid Precision.
func (p Precision) MarshalText() ([]byte, error) { return precisions.marshal(p) }

// UnmarshalText sets p to the precision named text, as String names it.
func (p *Precision) UnmarshalText(text []byte) error { return precisions.unmarshal(p, text) }

// float32Bytes is the size of a float32.
const float32Bytes = 4

// toFloat32 sets dst[i] = float32(src[i]), rounding to nearest, and
// reports whether every value it wrote is finite: false if a value of src
// is NaN, infinite or beyond float32's range.
func toFloat32(dst []float32, src []float64) bool {
	dst = dst[:len(src)]
	i, acc := narrowVec(dst, src)
	for ; i < len(src); i++ {
		f := float32(src[i])
		dst[i] = f
		acc += f - f
	}
	return acc == 0
}

// toFloat64 sets dst[i] = float64(src[i]), which is exact.
func toFloat64(dst []float64, src []float32) {
	dst = dst[:len(src)]
	for i := widenVec(dst, src); i < len(src); i++ {
		dst[i] = float64(src[i])
	}
}

// SetPrecision sets the floating-point type of n's predictions (Predict,
// PredictTo, PredictParallel, Classify, and those of a Model holding n):
// Float64, the default, or Float32, in which the forward pass runs on a
// float32 copy of the weights, rounded when SetPrecision is called, and
// again when Train ends: call it again after changing the weights
// otherwise. (A Classifier's or Regressor's Fit makes a new network, which
// predicts in Float64.) Inputs and outputs stay float64 matrices, rounded
// to float32 on the way in; an input beyond float32's range is an error
// wrapping ErrNotFinite. Cost, Gradients and training are not affected
// (see Settings.Precision). SetPrecision must not be called while n
// predicts. It panics if p is not a valid Precision.
func (n *Network) SetPrecision(p Precision) {
	switch p {
	case Float64:
		n.p32 = nil
	case Float32:
		n.p32 = newParams32(n)
	default:
		panic(fmt.Sprintf("nn: SetPrecision(%v)", p))
	}
}

// refresh32 rounds n's weights again into the float32 copy its
// predictions use, if it has one.
func (n *Network) refresh32() {
	if n.p32 != nil {
		toFloat32(n.p32.flat, n.params)
	}
}

// Precision returns the floating-point type of n's predictions.
func (n *Network) Precision() Precision {
	if n.p32 != nil {
		return Float32
	}
	return Float64
}

// buf32 returns float32 buffer k of ws, of n elements.
func (ws *Workspace) buf32(k, n int) []float32 {
	if cap(ws.f32[k]) < n {
		ws.f32[k] = make([]float32, n)
	}
	return ws.f32[k][:n]
}

// forwardBlock32 is forwardBlock in float32: a is rounded into a buffer
// of ws, the layers run on float32 buffers, and the output is widened
// into dst.
func (n *Network) forwardBlock32(dst, a *mat.Dense, ws *Workspace) {
	r, _ := a.Dims()
	x := ws.buf32(0, r*n.sizes[0])
	denseTo32(x, a)
	L := len(n.w)
	for l := 0; l < L; l++ {
		next := ws.buf32(1+l%2, r*n.sizes[l+1])
		layer32(n, n.p32, l, next, x, r, nil)
		x = next
	}
	out := n.sizes[L]
	d := dst.RawMatrix()
	for i := 0; i < r; i++ {
		toFloat64(d.Data[i*d.Stride:i*d.Stride+out], x[i*out:(i+1)*out])
	}
}
