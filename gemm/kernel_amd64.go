//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

var (
	avx512 = &kernel{name: "avx512", mr: 8, nr: 24, fused: true, id: avx512Kernel}
	avx2   = &kernel{name: "avx2", mr: 6, nr: 8, fused: true, id: avx2Kernel}
)

// hasAVX2 says whether the processor and the operating system run AVX2
// and FMA; the gemv kernels need it.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernels returns every kernel the processor runs, fastest first.
func kernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F && hasAVX2 {
		ks = append(ks, avx512)
	}
	if hasAVX2 {
		ks = append(ks, avx2)
	}
	return append(ks, portable)
}

func best() *kernel { return kernels()[0] }

// asmKernel runs the assembly kernel id.
func asmKernel(id, kc int, a, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	switch id {
	case avx512Kernel:
		kern8x24(kc, a, b, ldb, c, ldc, alpha, beta)
	case avx2Kernel:
		kern6x8(kc, a, b, ldb, c, ldc, alpha, beta)
	default:
		panic("gemm: no kernel")
	}
}

//go:generate go run gen.go

// The kernels are in kernels_amd64.s, written by gen.go.

//go:noescape
func kern8x24(kc int, a, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern6x8(kc int, a, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func gemvT32(m int, a []float64, lda int, x, y []float64, alpha, beta float64)

//go:noescape
func gemvT4(m int, a []float64, lda int, x, y []float64, alpha, beta float64)
