//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

var (
	// avx512 takes 8×24 float64 and 8×48 float32 tiles: 24 zmm
	// accumulators, three zmm of B and two broadcasts of A. The narrower
	// panels are two zmm, one zmm, and one ymm wide.
	avx512 = &kernel{
		name:  "avx512",
		fused: true,
		id:    avx512Kernel,
		d:     tiles{mr: 8, nr: 24, widths: []int{24, 16, 8, 4}, lanes: 8, masked: true},
		s:     tiles{mr: 8, nr: 48, widths: []int{48, 32, 16, 8}, lanes: 16, masked: true},
	}
	// avx2 takes 6×8 float64 and 6×16 float32 tiles: 12 ymm
	// accumulators, two ymm of B and two broadcasts of A.
	avx2 = &kernel{
		name:  "avx2",
		fused: true,
		id:    avx2Kernel,
		d:     tiles{mr: 6, nr: 8, widths: []int{8, 4}, lanes: 4},
		s:     tiles{mr: 6, nr: 16, widths: []int{16, 8}, lanes: 8},
	}
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

// asmKernel32 is asmKernel for float32: the kernels are those whose
// names begin with s, and their panels twice as wide.
func asmKernel32(id, w int, rows bool, mask, kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	if mask != 0 {
		switch {
		case w == 48 && !rows:
			skern8x48m(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 48 && rows:
			skern8x48rm(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 32 && !rows:
			skern8x32m(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 32 && rows:
			skern8x32rm(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 16 && !rows:
			skern8x16m(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 16 && rows:
			skern8x16rm(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 8 && !rows:
			skern8x8m(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		case w == 8 && rows:
			skern8x8rm(kc, a, lda, b, ldb, c, ldc, alpha, beta, mask)
		default:
			panic("gemm: no kernel")
		}
		return
	}
	switch {
	case id == avx512Kernel && w == 48 && !rows:
		skern8x48(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 48 && rows:
		skern8x48r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 32 && !rows:
		skern8x32(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 32 && rows:
		skern8x32r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 16 && !rows:
		skern8x16(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 16 && rows:
		skern8x16r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 8 && !rows:
		skern8x8(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx512Kernel && w == 8 && rows:
		skern8x8r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx2Kernel && w == 16 && !rows:
		skern6x16(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx2Kernel && w == 16 && rows:
		skern6x16r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx2Kernel && w == 8 && !rows:
		skern6x8(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case id == avx2Kernel && w == 8 && rows:
		skern6x8r(kc, a, lda, b, ldb, c, ldc, alpha, beta)
	default:
		panic("gemm: no kernel")
	}
}

// gemvStrips64 runs the float64 gemv kernels over the columns of an m×n
// block of A that they cover, strips of 32 then of 4, and returns how
// many that is.
func gemvStrips64(m, n int, alpha float64, a []float64, lda int, x, y []float64, beta float64) int {
	j := 0
	for ; j+32 <= n; j += 32 {
		gemvT32(m, a[j:], lda, x, y[j:], alpha, beta)
	}
	for ; j+4 <= n; j += 4 {
		gemvT4(m, a[j:], lda, x, y[j:], alpha, beta)
	}
	return j
}

// gemvStrips32 is gemvStrips64 for float32: strips of 64, 8 and 4.
func gemvStrips32(m, n int, alpha float32, a []float32, lda int, x, y []float32, beta float32) int {
	j := 0
	for ; j+64 <= n; j += 64 {
		sgemvT64(m, a[j:], lda, x, y[j:], alpha, beta)
	}
	for ; j+8 <= n; j += 8 {
		sgemvT8(m, a[j:], lda, x, y[j:], alpha, beta)
	}
	for ; j+4 <= n; j += 4 {
		sgemvT4(m, a[j:], lda, x, y[j:], alpha, beta)
	}
	return j
}

//go:generate go run gen.go

// The kernels are in kernels_amd64.s, written by gen.go; the names with
// an r take A where it lies, those ending in m a mask of the last lanes,
// and those that begin with s multiply float32 values.

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

//go:noescape
func skern8x48(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern8x48r(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern8x32(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern8x32r(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern8x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern8x16r(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern8x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern8x8r(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern6x16(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern6x16r(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern6x8(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern6x8r(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32)

//go:noescape
func skern8x48m(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mask int)

//go:noescape
func skern8x48rm(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mask int)

//go:noescape
func skern8x32m(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mask int)

//go:noescape
func skern8x32rm(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mask int)

//go:noescape
func skern8x16m(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mask int)

//go:noescape
func skern8x16rm(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mask int)

//go:noescape
func skern8x8m(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mask int)

//go:noescape
func skern8x8rm(kc int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mask int)

//go:noescape
func sgemvT64(m int, a []float32, lda int, x, y []float32, alpha, beta float32)

//go:noescape
func sgemvT8(m int, a []float32, lda int, x, y []float32, alpha, beta float32)

//go:noescape
func sgemvT4(m int, a []float32, lda int, x, y []float32, alpha, beta float32)
