package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// gemvT computes y = Wᵀ·x for the in×out matrix w: the forward pass of a
// single example.
func gemvT(w *mat.Dense, x, y []float64) {
	raw := w.RawMatrix()
	blas64.Implementation().Dgemv(blas.Trans, raw.Rows, raw.Cols, 1, raw.Data, raw.Stride, x, 1, 0, y, 1)
}

// backend names the BLAS implementation in use; blas_openblas.go changes it.
var backend = "gonum (pure Go)"

// Backend names the BLAS implementation that the package's matrix products
// run on: gonum's pure-Go BLAS by default, or OpenBLAS when built with
// -tags openblas.
func Backend() string { return backend }
