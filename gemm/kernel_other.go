//go:build !amd64 || purego

package gemm

// Other architectures, and builds with -tags purego, run the portable
// kernel only.

var hasAVX2 = false

func kernels() []*kernel { return []*kernel{portable} }

func best() *kernel { return portable }

func asmKernel(id, w int, rows bool, mask, kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	panic("gemm: no assembly kernels in this build")
}

func gemvT32(m int, a []float64, lda int, x, y []float64, alpha, beta float64) {
	panic("gemm: no assembly kernels in this build")
}

func gemvT4(m int, a []float64, lda int, x, y []float64, alpha, beta float64) {
	panic("gemm: no assembly kernels in this build")
}
