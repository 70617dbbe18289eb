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

func asmKernel32(id, w int, rows bool, mask, kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	panic("gemm: no assembly kernels in this build")
}

func gemvStrips64(m, n int, alpha float64, a []float64, lda int, x, y []float64, beta float64) int {
	panic("gemm: no assembly kernels in this build")
}

func gemvStrips32(m, n int, alpha float32, a []float32, lda int, x, y []float32, beta float32) int {
	panic("gemm: no assembly kernels in this build")
}
