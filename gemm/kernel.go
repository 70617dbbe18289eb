package gemm

import "sync/atomic"

// A kernel multiplies a packed MR×kc panel of op(A) by a kc×NR panel of
// op(B) and stores α·A·B + β·C into an MR×NR tile of C.
type kernel struct {
	name   string
	mr, nr int
	// widths are the widths of the panels of B that the kernel takes,
	// widest first: widths[0] is nr; the narrower ones cover the last
	// columns of C with little padding.
	widths []int
	// masked says the kernel has variants that load and store only the
	// lanes of the last vector of a row that are columns of C.
	masked bool
	// fused says the kernel sums each element by a chain of fused
	// multiply-adds and stores fma(β, c, α·acc): edge tiles must round
	// the same way.
	fused bool
	// id selects the kernel in call: the assembly kernels are reached
	// through a switch rather than a func value, so that their arguments
	// do not escape.
	id int
}

// Kernel ids.
const (
	goKernel = iota
	avx2Kernel
	avx512Kernel
)

// portable is the kernel in Go, for every processor.
var portable = &kernel{name: "go", mr: 4, nr: 4, widths: []int{4}, id: goKernel}

// active is the kernel in use, the fastest that the processor runs.
var active atomic.Pointer[kernel]

func init() { active.Store(best()) }

// Kernel returns the name of the micro-kernel in use: "avx512", "avx2" or
// "go" (see the package documentation).
func Kernel() string { return active.Load().name }

// call runs the micro-kernel k for panels of width w on a kc-long panel a
// of op(A) and a panel b of op(B) with rows ldb apart, storing into the
// tile of c with rows ldc apart; a mask other than 0 says which lanes of
// the last vector of each row are columns of C. The panel of A is packed, its columns lda
// apart, or with rows it lies in A, its rows lda apart. beta must be +0
// (not −0) for C to be left unread.
func (k *kernel) call(w int, rows bool, mask, kc int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	switch {
	case k.id != goKernel:
		asmKernel(k.id, w, rows, mask, kc, a, lda, b, ldb, c, ldc, alpha, beta)
	case rows:
		kern4x4(kc, a, lda, 1, b, ldb, c, ldc, alpha, beta)
	default:
		kern4x4(kc, a, 1, lda, b, ldb, c, ldc, alpha, beta)
	}
}

// mask returns the mask of the lanes of the last vector of a panel of
// width w that cover n columns, or 0 if they all do.
func (k *kernel) mask(w, n int) int {
	if n >= w || !k.masked {
		return 0
	}
	lanes := 8
	if w == 4 {
		lanes = 4
	}
	return 1<<(n-(w-lanes)) - 1
}

// width returns the width of the next panel of B when n columns remain:
// the widest that fits, or, for the last columns, the narrowest that
// covers them (for a masked kernel, the one that covers them at least
// cost).
func (k *kernel) width(n int) int {
	if k.masked {
		// A masked panel costs what its vectors cost: cover the last
		// columns with as few as one pass allows.
		switch {
		case n >= 21:
			return 24
		case n >= 13:
			return 16
		case n >= 5:
			return 8
		}
		return 4
	}
	for _, w := range k.widths {
		if w <= n {
			return w
		}
	}
	return k.widths[len(k.widths)-1]
}

// kern4x4 is the portable micro-kernel: a 4×4 tile held in sixteen local
// variables, A(i, p) at a[i·ai + p·ap]. Each product is rounded before it
// is added: the conversions to float64 keep the compiler from fusing them
// into multiply-adds (as it does on arm64, and on amd64 with GOAMD64=v3),
// so that the kernel, tiny and Dgemv round alike on every architecture.
func kern4x4(kc int, a []float64, ai, ap int, b []float64, ldb int, c []float64, ldc int, alpha, beta float64) {
	var c00, c01, c02, c03 float64
	var c10, c11, c12, c13 float64
	var c20, c21, c22, c23 float64
	var c30, c31, c32, c33 float64
	for p := 0; p < kc; p++ {
		bp := b[p*ldb : p*ldb+4 : p*ldb+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := a[p*ap]
		c00 += float64(a0 * b0)
		c01 += float64(a0 * b1)
		c02 += float64(a0 * b2)
		c03 += float64(a0 * b3)
		a1 := a[ai+p*ap]
		c10 += float64(a1 * b0)
		c11 += float64(a1 * b1)
		c12 += float64(a1 * b2)
		c13 += float64(a1 * b3)
		a2 := a[2*ai+p*ap]
		c20 += float64(a2 * b0)
		c21 += float64(a2 * b1)
		c22 += float64(a2 * b2)
		c23 += float64(a2 * b3)
		a3 := a[3*ai+p*ap]
		c30 += float64(a3 * b0)
		c31 += float64(a3 * b1)
		c32 += float64(a3 * b2)
		c33 += float64(a3 * b3)
	}
	store4(c[0:4:4], c00, c01, c02, c03, alpha, beta)
	store4(c[ldc:ldc+4:ldc+4], c10, c11, c12, c13, alpha, beta)
	store4(c[2*ldc:2*ldc+4:2*ldc+4], c20, c21, c22, c23, alpha, beta)
	store4(c[3*ldc:3*ldc+4:3*ldc+4], c30, c31, c32, c33, alpha, beta)
}

// store4 sets c[j] = α·s_j + β·c[j], leaving c unread when β is zero.
func store4(c []float64, s0, s1, s2, s3, alpha, beta float64) {
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
		return
	}
	c[0] = float64(alpha*s0) + float64(beta*c[0])
	c[1] = float64(alpha*s1) + float64(beta*c[1])
	c[2] = float64(alpha*s2) + float64(beta*c[2])
	c[3] = float64(alpha*s3) + float64(beta*c[3])
}
