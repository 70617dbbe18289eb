//go:build openblas

package gemm

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
)

// With -tags openblas (and CGO_LDFLAGS=-lopenblas), BenchmarkGemm also
// measures OpenBLAS. Set OPENBLAS_THREAD_TIMEOUT=4 so that OpenBLAS's
// threads stop spinning between calls and leave the cores to the others.
func init() {
	impls = append(impls, struct {
		name string
		f    func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	}{"openblas", netlib.Implementation{}.Dgemm})
}
