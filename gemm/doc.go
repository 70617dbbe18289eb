// Package gemm multiplies float64 matrices fast, in Go and Go assembly,
// without cgo.
//
// # Overview
//
// Dgemm computes C = α·op(A)·op(B) + β·C and Dgemv y = α·op(A)·x + β·y, with
// gonum's row-major conventions and argument order (see
// gonum.org/v1/gonum/blas). Implementation is a gonum blas.Float64 that
// runs these two through the package and everything else through gonum's
// own pure-Go BLAS; install it with blas64.Use to speed up the rest of a
// program's gonum code. Importing the package changes nothing by itself.
//
// # How it works
//
// Dgemm is written in the style of GotoBLAS and BLIS. For each block of
// KC rows of op(B) (KC = 256) and NC of its columns, the block is packed
// into panels of NR columns, zero-padded, that stay in the level-2 cache;
// op(A) is packed MR rows at a time into a panel that stays in the level-1
// cache while a register-blocked micro-kernel multiplies it by every
// panel of B, with fused multiply-adds. When op(A) has few rows, B is not
// transposed, and packing would cost more than it saves, the kernel reads
// B where it lies. The smallest products (a few thousand multiply-adds)
// skip packing altogether.
//
// The micro-kernel is chosen once, from the processor's features as
// golang.org/x/sys/cpu reports them:
//
//   - "avx512": 8×24 tiles in the 32 zmm registers, on amd64 with AVX-512F;
//   - "avx2": 6×8 tiles in the 16 ymm registers, on amd64 with AVX2 and FMA;
//   - "go": 4×4 tiles in portable Go, on other processors and architectures,
//     and in builds with -tags purego.
//
// Kernel reports the choice.
//
// Products of more than about a million multiply-adds are split over
// GOMAXPROCS goroutines, by columns or by rows of C in whole tiles, each
// goroutine packing what it reads. The goroutines are started on first use
// and live as long as the program; buffers are kept and reused, so a warm
// call allocates nothing. Dgemm and Dgemv are safe for concurrent use.
//
// # Reproducibility
//
// Every element of C is summed over k in the same order whatever the shape
// of the split and the tile the element falls in, so results are
// bit-identical from run to run for the same inputs, and do not change with
// GOMAXPROCS. The avx512 and avx2 kernels round alike (a chain of fused
// multiply-adds per element), so they give identical results too; the
// portable Go kernel rounds each product separately on amd64 and may
// differ from them in the last bits. The smallest products, which skip
// packing, sum in their own order.
//
// # Errors
//
// As in gonum's BLAS, bad arguments (negative sizes, strides shorter than a
// row, slices too short) are programmer errors, and the functions panic
// with a message that names the argument. NaN and infinite values in A, B
// or x propagate into the elements they touch, as in reference BLAS; when β
// is zero, C and y are not read, so NaN there does not leak.
package gemm
