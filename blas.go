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
