//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

var (
	avx512 = &kernel{name: "avx512", mr: 8, nr: 24, widths: []int{24, 16, 8, 4}, fused: true, masked: true, id: avx512Kernel}
	avx2   = &kernel{name: "avx2", mr: 6, nr: 8, widths: []int{8, 4}, fused: true, id: avx2Kernel}
)

// hasAVX2 says whether the processor and the operating system run AVX2
// and FMA; the gemv kernels need it.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernels returns every kernel the processor runs, fastest first.
func kernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && hasAVX2 {
		ks = append(ks, avx512)
	}
	if hasAVX2 {
		ks = append(ks, avx2)
	}
	return append(ks, portable)
}

func best() *kernel { return kernels()[0] }

// asmKernel runs the assembly kernel id for panels of width w, on A packed
// or, with rows, where it lies; a mask other than 0 selects the lanes of
// the last vector of each row that are columns of C (AVX-512 only).
func asmKernel(id, w int, rows bool, mask, kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	if mask != 0 {
		switch {
		case w == 24 && !rows:
			kern8x24m(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 24 && rows:
			kern8x24rm(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 16 && !rows:
			kern8x16m(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 16 && rows:
			kern8x16rm(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 8 && !rows:
			kern8x8m(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 8 && rows:
			kern8x8rm(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 4 && !rows:
			kern8x4m(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 4 && rows:
			kern8x4rm(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		default:
			panic("gemm: no kernel")
		}
		return
	}
	switch {
	case id == avx512Kernel && w == 24 && !rows:
		kern8x24(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 24 && rows:
		kern8x24r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 16 && !rows:
		kern8x16(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 16 && rows:
		kern8x16r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 8 && !rows:
		kern8x8(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 8 && rows:
		kern8x8r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 4 && !rows:
		kern8x4(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 4 && rows:
		kern8x4r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx2Kernel && w == 8 && !rows:
		kern6x8(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx2Kernel && w == 8 && rows:
		kern6x8r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx2Kernel && w == 4 && !rows:
		kern6x4(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx2Kernel && w == 4 && rows:
		kern6x4r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	default:
		panic("gemm: no kernel")
	}
}

//go:generate go run gen.go

// The kernels are in kernels_amd64.s, written by gen.go; the names with
// an r take A where it lies, those ending in m a mask of the last lanes.

//go:noescape
func kern8x24(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern8x16(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern8x8(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern8x4(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern6x4(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern6x8(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern8x24r(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern8x16r(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern8x8r(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern8x4r(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern6x4r(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern6x8r(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64)

//go:noescape
func kern8x24m(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, mask int)

//go:noescape
func kern8x24rm(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, mask int)

//go:noescape
func kern8x16m(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, mask int)

//go:noescape
func kern8x16rm(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, mask int)

//go:noescape
func kern8x8m(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, mask int)

//go:noescape
func kern8x8rm(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, mask int)

//go:noescape
func kern8x4m(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, mask int)

//go:noescape
func kern8x4rm(kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64, mask int)

//go:noescape
func gemvT32(m int, a []float64, lda int, x, y []float64, alpha, beta float64)

//go:noescape
func gemvT4(m int, a []float64, lda int, x, y []float64, alpha, beta float64)
