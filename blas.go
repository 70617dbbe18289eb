package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// gemvT computes y = Wᵀ·x for the in×out matrix w: the forward pass of a
// single example.
func gemvT(w *mat.Dense, x, y []float64) {
	raw := w.RawMatrix()
	blas64.Implementation().Dgemv(blas.Trans, raw.Rows, raw.Cols, 1, raw.Data, raw.Stride, x, 1, 0, y, 1)
}

// gemm sets c = alpha·a·b + beta·c, where a is a *mat.Dense or a transposed
// view of one.
func gemm(c *mat.Dense, alpha float64, a mat.Matrix, b *mat.Dense, beta float64) {
	ta := blas.NoTrans
	var ar blas64.General
	switch m := a.(type) {
	case *mat.Dense:
		ar = m.RawMatrix()
	case *mat.Transpose:
		ar, ta = m.Matrix.(*mat.Dense).RawMatrix(), blas.Trans
	case mat.Transpose:
		ar, ta = m.Matrix.(*mat.Dense).RawMatrix(), blas.Trans
	default:
		panic("nn: gemm of an unexpected matrix type")
	}
	blas64.Gemm(ta, blas.NoTrans, alpha, ar, b.RawMatrix(), beta, c.RawMatrix())
}

// colSums sets dst to the column sums of m.
func colSums(dst []float64, m *mat.Dense) {
	raw := m.RawMatrix()
	for j := range dst {
		dst[j] = 0
	}
	for i := 0; i < raw.Rows; i++ {
		floats.Add(dst, raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols])
	}
}

// materializeTranspose says whether a weight gradient aᵀ·δ is faster with
// aᵀ copied into a matrix of its own than through a transposed view: gonum's
// pure-Go Dgemm multiplies Aᵀ·B about half as fast as A·B at these shapes,
// while OpenBLAS does both at the same speed.
var materializeTranspose = true

// transpose sets dst, c×r and contiguous, to the transpose of the r×c
// matrix m, in blocks that keep both sides in cache.
func transpose(dst, m *mat.Dense) {
	const block = 32
	s, d := m.RawMatrix(), dst.RawMatrix()
	for i0 := 0; i0 < s.Rows; i0 += block {
		i1 := min(i0+block, s.Rows)
		for j0 := 0; j0 < s.Cols; j0 += block {
			j1 := min(j0+block, s.Cols)
			for i := i0; i < i1; i++ {
				row := s.Data[i*s.Stride : i*s.Stride+j1]
				for j := j0; j < j1; j++ {
					d.Data[j*d.Stride+i] = row[j]
				}
			}
		}
	}
}

// backend names the BLAS implementation in use; blas_openblas.go changes it.
var backend = "gonum (pure Go)"

// kernels names the vector kernels of the element-wise loops, if any;
// sigmoid_amd64.go sets it.
var kernels = "scalar"

// Backend names the BLAS implementation that the package's matrix products
// run on (gonum's pure-Go BLAS by default, or OpenBLAS when built with
// -tags openblas) and the kernels of its element-wise loops.
func Backend() string { return backend + ", " + kernels + " element-wise loops" }
