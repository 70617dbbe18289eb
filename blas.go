package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn/gemm"
)

// The matrix products of the package run on the kernels of
// github.com/neuralgo/nn/gemm, called directly so that the user's own
// gonum code is left as it was. Built with -tags openblas, the products at
// which OpenBLAS is faster go to it instead (blas_openblas.go).

// useOpenBLAS says whether a product of an m×k and a k×n matrix goes to
// OpenBLAS; only the OpenBLAS build sets it.
var useOpenBLAS func(m, n, k int) bool

// mul sets c = alpha·op(a)·op(b) + beta·c, where op transposes its matrix
// when tA or tB says so.
func mul(c *mat.Dense, alpha float64, tA blas.Transpose, a *mat.Dense, tB blas.Transpose, b *mat.Dense, beta float64) {
	ar, br, cr := a.RawMatrix(), b.RawMatrix(), c.RawMatrix()
	k := ar.Cols
	if tA != blas.NoTrans {
		k = ar.Rows
	}
	if useOpenBLAS != nil && useOpenBLAS(cr.Rows, cr.Cols, k) {
		blas64.Implementation().Dgemm(tA, tB, cr.Rows, cr.Cols, k, alpha, ar.Data, ar.Stride, br.Data, br.Stride, beta, cr.Data, cr.Stride)
		return
	}
	gemm.Dgemm(tA, tB, cr.Rows, cr.Cols, k, alpha, ar.Data, ar.Stride, br.Data, br.Stride, beta, cr.Data, cr.Stride)
}

// gemvT computes y = Wᵀ·x for the in×out matrix w: the forward pass of a
// single example. It gives the same bits as the example's row of a·W.
func gemvT(w *mat.Dense, x, y []float64) {
	raw := w.RawMatrix()
	gemm.Dgemv(blas.Trans, raw.Rows, raw.Cols, 1, raw.Data, raw.Stride, x, 1, 0, y, 1)
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

// backend names the BLAS that the matrix products run on; blas_openblas.go
// changes it.
var backend = "gemm " + gemm.Kernel() + " kernel (Go and Go assembly, no cgo)"

// kernels names the vector kernels of the element-wise loops, if any;
// sigmoid_amd64.go sets it.
var kernels = "scalar"

// Backend names the matrix kernels that the package's products run on (the
// gemm package's, chosen for the processor, and with -tags openblas
// OpenBLAS for the shapes where it is faster) and the kernels of its
// element-wise loops.
func Backend() string { return backend + ", " + kernels + " element-wise loops" }
