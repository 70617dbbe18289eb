//go:build openblas

package nn

// Built with -tags openblas (and CGO_LDFLAGS=-lopenblas), the products of
// the package at which OpenBLAS is faster than the gemm kernels go to
// OpenBLAS, and every product of gonum's mat in the whole program goes to
// OpenBLAS by gonum's own route.

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

func init() {
	blas64.Use(netlib.Implementation{})
	backend = "OpenBLAS (gonum.org/v1/netlib) and " + backend
	useOpenBLAS = openBLASFaster
}

// openBLASFaster says whether OpenBLAS multiplies an m×k by a k×n matrix
// faster than the gemm kernels, as BenchmarkGemm and BenchmarkTrainStep
// measured them on an AVX-512 processor (README, "Speed"): for products
// too small to split over goroutines, such as those of the small workload
// and a 10-class output layer, OpenBLAS is as fast or faster; from there
// on the gemm kernels are. OpenBLAS runs those small products on one
// thread, so its threads do not wake up to spin beside the gemm
// goroutines.
func openBLASFaster(m, n, k int) bool {
	return m*n*k < 300_000
}
