package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is a gonum blas.Float64 and blas.Float32 whose Dgemm,
// Dgemv, Sgemm and Sgemv are the package's, and whose other routines are
// gonum's pure-Go ones. Install it for the whole program with
//
//	blas64.Use(gemm.Implementation{})
//	blas32.Use(gemm.Implementation{})
//
// and every product of gonum's mat package, among others, runs on the
// package's kernels.
type Implementation struct {
	gonum.Implementation
}

var (
	_ blas.Float64 = Implementation{}
	_ blas.Float32 = Implementation{}
)

// Dgemm is the package's Dgemm.
func (Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemv is the package's Dgemv.
func (Implementation) Dgemv(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	Dgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
}

// Sgemm is the package's Sgemm.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemv is the package's Sgemv.
func (Implementation) Sgemv(tA blas.Transpose, m, n int, alpha float32, a []float32, lda int, x []float32, incX int, beta float32, y []float32, incY int) {
	Sgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
}
