package nn

import (
	"gonum.org/v1/gonum/mat"
)

// dataPanics reports whether f panics.
func dataPanics(f func()) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	f()
	return false
}

// denseRows returns the rows of m as slices, for comparing in tests.
func denseRows(m mat.Matrix) [][]float64 {
	r, _ := m.Dims()
	out := make([][]float64, r)
	for i := range out {
		out[i] = mat.Row(nil, i, m)
	}
	return out
}
