package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Sgemm computes
//
//	C = α·op(A)·op(B) + β·C
//
// in single precision, where op(X) is X or Xᵀ as tA and tB say
// (blas.ConjTrans is blas.Trans), op(A) is m×k, op(B) is k×n and C is
// m×n, all row-major with rows lda, ldb and ldc elements apart, as
// gonum's blas.Float32 Sgemm. It runs on the same driver as Dgemm, with
// the float32 kernels.
//
// When β is zero, C is not read; when α is zero or k is zero, A and B are
// not read. Sgemm panics if a size is negative, a stride is shorter than
// its matrix's row, or a slice is too short for its matrix.
func Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemv computes
//
//	y = α·op(A)·x + β·y
//
// in single precision for the row-major m×n matrix A with rows lda apart,
// as gonum's blas.Float32 Sgemv. The transposed product with unit
// increments, a layer's forward pass for one example, runs on the
// package's kernels and gives the bits of the one-row Sgemm; the other
// forms go to gonum's implementation.
//
// When β is zero, y is not read. Sgemv panics on bad arguments, as gonum's
// does.
func Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	if tA == blas.NoTrans || incX != 1 || incY != 1 || m == 0 || n == 0 || alpha == 0 {
		gonum.Implementation{}.Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	gemv(tA, m, n, alpha, a, lda, x, beta, y)
}
