package nn

import (
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// ScaleKind is a way to scale feature columns.
type ScaleKind int

const (
	// Standardize subtracts the column mean and divides by the column's
	// population standard deviation (divisor n, as scikit-learn's
	// StandardScaler), giving mean 0 and standard deviation 1. It is the
	// zero value.
	Standardize ScaleKind = iota
	// MinMax maps the column's range [min, max] onto [0, 1].
	MinMax
	// MaxAbs divides by the column's largest absolute value, as the
	// tutorial's X/np.amax(X, axis=0) does for non-negative data, giving
	// values in [-1, 1].
	MaxAbs
	// NoScaling leaves values as they are: offset 0, scale 1.
	NoScaling
)

var scaleKinds = enum[ScaleKind]{"ScaleKind", "scaler kind", []string{
	Standardize: "standard",
	MinMax:      "minmax",
	MaxAbs:      "maxabs",
	NoScaling:   "none",
}}

// String returns the name of k, as UnmarshalText reads it: "standard",
// "minmax", "maxabs" or "none".
func (k ScaleKind) String() string { return scaleKinds.name(k) }

// MarshalText returns the name of k, or an error if k is not a valid
// ScaleKind.
func (k ScaleKind) MarshalText() ([]byte, error) { return scaleKinds.marshal(k) }

// UnmarshalText sets k to the kind named text, as String names it.
func (k *ScaleKind) UnmarshalText(text []byte) error { return scaleKinds.unmarshal(k, text) }

// Scaler maps column j of a matrix as x' = (x - Offset[j]) / Scale[j].
// Its fields are exported so that model files can save it.
//
// Offset and Scale have the same length, the number of columns. The zero
// value (both nil) is the identity for matrices of any width.
type Scaler struct {
	// Kind records how the scaler was fitted.
	Kind ScaleKind
	// Offset and Scale are the per-column offsets and scales.
	Offset, Scale []float64
}

// FitScaler returns a Scaler of the given kind fitted to the columns of X.
// A column whose scale would be 0 (a constant column) gets scale 1, so
// Transform never divides by zero. FitScaler panics if X has no rows or
// kind is unknown.
func FitScaler(kind ScaleKind, X mat.Matrix) *Scaler {
	r, c := X.Dims()
	if r == 0 {
		panic("nn: FitScaler of an empty matrix")
	}
	return fitScaler(kind, r, c, func(col []float64, j int) { mat.Col(col, j, X) })
}

// fitScaler fits a Scaler of the kind to the c columns of r values that
// column stores in its first argument.
func fitScaler(kind ScaleKind, r, c int, column func(col []float64, j int)) *Scaler {
	s := &Scaler{Kind: kind, Offset: make([]float64, c), Scale: make([]float64, c)}
	col := make([]float64, r)
	for j := range c {
		column(col, j)
		var offset, scale float64
		switch kind {
		case NoScaling:
			offset, scale = 0, 1
		case Standardize:
			offset, scale = stat.PopMeanStdDev(col, nil)
		case MinMax:
			lo, hi := floats.Min(col), floats.Max(col)
			offset, scale = lo, hi-lo
		case MaxAbs:
			for _, v := range col {
				scale = math.Max(scale, math.Abs(v))
			}
		default:
			panic("nn: unknown " + kind.String())
		}
		if scale == 0 {
			scale = 1
		}
		s.Offset[j], s.Scale[j] = offset, scale
	}
	return s
}

// width returns the number of columns of s, or -1 for the identity.
func (s *Scaler) width() int {
	if len(s.Offset) != len(s.Scale) {
		panic("nn: Scaler with Offset and Scale of different lengths")
	}
	if s.Offset == nil {
		return -1
	}
	return len(s.Offset)
}

// prepare copies X into dst, sizing an empty dst, after checking shapes.
func (s *Scaler) prepare(dst *mat.Dense, X mat.Matrix) (identity bool) {
	r, c := X.Dims()
	w := s.width()
	if w >= 0 && c != w {
		panic(mat.ErrShape)
	}
	if dst.IsEmpty() {
		dst.ReuseAs(r, c)
	} else if dr, dc := dst.Dims(); dr != r || dc != c {
		panic(mat.ErrShape)
	}
	dst.Copy(X)
	return w < 0
}

// Transform stores the scaled X in dst: dst[i,j] = (X[i,j] - Offset[j]) /
// Scale[j]. dst may be X itself, to scale in place; an empty dst is sized
// to X. Transform panics if X does not have len(s.Scale) columns (unless s
// is the identity) or a non-empty dst is not the size of X.
func (s *Scaler) Transform(dst *mat.Dense, X mat.Matrix) {
	if s.prepare(dst, X) {
		return
	}
	r, _ := dst.Dims()
	for i := range r {
		row := dst.RawRowView(i)
		// x' = (x - offset) / scale
		floats.Sub(row, s.Offset)
		floats.Div(row, s.Scale)
	}
}

// TransformRow stores the scaled x in dst, without allocating. dst may be
// x itself. It panics if dst and x do not both have len(s.Scale) elements
// (or the same length, for the identity).
func (s *Scaler) TransformRow(dst, x []float64) {
	w := s.width()
	if len(dst) != len(x) || (w >= 0 && len(x) != w) {
		panic(mat.ErrShape)
	}
	if w < 0 {
		copy(dst, x)
		return
	}
	for j, v := range x {
		dst[j] = (v - s.Offset[j]) / s.Scale[j]
	}
}

// InverseTransform undoes Transform, storing X[i,j]·Scale[j] + Offset[j]
// in dst, for example to bring predicted regression targets back to their
// units. dst may be X itself; an empty dst is sized to X. It panics as
// Transform does.
func (s *Scaler) InverseTransform(dst *mat.Dense, X mat.Matrix) {
	if s.prepare(dst, X) {
		return
	}
	r, _ := dst.Dims()
	for i := range r {
		row := dst.RawRowView(i)
		// x = x'·scale + offset
		floats.Mul(row, s.Scale)
		floats.Add(row, s.Offset)
	}
}
