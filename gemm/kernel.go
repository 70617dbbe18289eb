package gemm

import (
	"math"
	"sync/atomic"
	"unsafe"
)

// float is the element type of the matrices: the driver is written once
// for both, and instantiated for each (their shapes differ, so each gets
// code of its own, as if written twice).
type float interface {
	float32 | float64
}

// single reports whether T is float32. It is a constant in each
// instantiation, so the branches it selects cost nothing.
func single[T float]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}

// A kernel multiplies a packed MR×kc panel of op(A) by a kc×NR panel of
// op(B) and stores α·A·B + β·C into an MR×NR tile of C. It has a set of
// micro-kernels for each precision, whose tiles differ: a vector register
// holds twice as many float32 values as float64 ones.
type kernel struct {
	name string
	// fused says the kernel sums each element by a chain of fused
	// multiply-adds and stores fma(β, c, α·acc): edge tiles must round
	// the same way.
	fused bool
	// id selects the kernel in call: the assembly kernels are reached
	// through a switch rather than a func value, so that their arguments
	// do not escape.
	id int
	// d and s are the tiles of the float64 and the float32 kernels.
	d, s tiles
}

// tiles describes the micro-kernels of one precision.
type tiles struct {
	mr, nr int
	// widths are the widths of the panels of B that the kernel takes,
	// widest first: widths[0] is nr; the narrower ones cover the last
	// columns of C with little padding.
	widths []int
	// lanes is the number of values in one of the kernel's widest
	// vectors; a panel of width w is made of vectors of min(w, lanes).
	lanes int
	// masked says the kernel has variants that load and store only the
	// lanes of the last vector of a row that are columns of C.
	masked bool
}

// tilesOf returns the tiles of kn for the element type T.
func tilesOf[T float](kn *kernel) *tiles {
	if single[T]() {
		return &kn.s
	}
	return &kn.d
}

// Kernel ids.
const (
	goKernel = iota
	avx2Kernel
	avx512Kernel
)

// portable is the kernel in Go, for every processor.
var portable = &kernel{
	name: "go",
	id:   goKernel,
	d:    tiles{mr: 4, nr: 4, widths: []int{4}, lanes: 4},
	s:    tiles{mr: 4, nr: 4, widths: []int{4}, lanes: 4},
}

// active is the kernel in use, the fastest that the processor runs.
var active atomic.Pointer[kernel]

func init() { active.Store(best()) }

// Kernel returns the name of the micro-kernel in use: "avx512", "avx2" or
// "go" (see the package documentation).
func Kernel() string { return active.Load().name }

// call runs the micro-kernel kn for panels of width w on a kc-long panel a
// of op(A) and a panel b of op(B) with rows ldb apart, storing into the
// tile of c with rows ldc apart; a mask other than 0 says which lanes of
// the last vector of each row are columns of C. The panel of A is packed,
// its columns lda apart, or with rows it lies in A, its rows lda apart.
// beta must be +0 (not −0) for C to be left unread.
func call[T float](kn *kernel, w int, rows bool, mask, kc int, a []T, lda int, b []T, ldb int, c []T, ldc int, alpha, beta T) {
	switch {
	case kn.id != goKernel:
		// One instantiation per precision: the conversions to []float64
		// or []float32 are the identity.
		switch a := any(a).(type) {
		case []float64:
			asmKernel(kn.id, w, rows, mask, kc, a, lda, any(b).([]float64), ldb, any(c).([]float64), ldc, float64(alpha), float64(beta))
		case []float32:
			asmKernel32(kn.id, w, rows, mask, kc, a, lda, any(b).([]float32), ldb, any(c).([]float32), ldc, float32(alpha), float32(beta))
		}
	case rows:
		kern4x4(kc, a, lda, 1, b, ldb, c, ldc, alpha, beta)
	default:
		kern4x4(kc, a, 1, lda, b, ldb, c, ldc, alpha, beta)
	}
}

// mask returns the mask of the lanes of the last vector of a panel of
// width w that cover n columns, or 0 if they all do.
func (t *tiles) mask(w, n int) int {
	if n >= w || !t.masked {
		return 0
	}
	lanes := min(w, t.lanes)
	return 1<<(n-(w-lanes)) - 1
}

// width returns the width of the next panel of B when n columns remain:
// the widest that fits, or, for the last columns, the narrowest that
// covers them (for a masked kernel, the one that covers them at least
// cost).
func (t *tiles) width(n int) int {
	last := t.widths[len(t.widths)-1]
	if t.masked {
		// A masked panel costs what its vectors cost: cover the last
		// columns with as few as one pass allows. A panel is taken if
		// its last vector would be more than half used; otherwise the
		// next narrower panel and a half-width one cover the columns
		// (24 columns for 21 to 24 float64 values, 16 for 13 to 20, 8
		// for 5 to 12, then 4).
		for _, w := range t.widths[:len(t.widths)-1] {
			if n > w-min(w, t.lanes)/2 {
				return w
			}
		}
		return last
	}
	for _, w := range t.widths {
		if w <= n {
			return w
		}
	}
	return last
}

// kern4x4 is the portable micro-kernel: a 4×4 tile held in sixteen local
// variables, A(i, p) at a[i·ai + p·ap]. Each product is rounded before it
// is added: the conversions to T keep the compiler from fusing them into
// multiply-adds (as it does on arm64, and on amd64 with GOAMD64=v3), so
// that the kernel, tiny and the gemv round alike on every architecture.
func kern4x4[T float](kc int, a []T, ai, ap int, b []T, ldb int, c []T, ldc int, alpha, beta T) {
	var c00, c01, c02, c03 T
	var c10, c11, c12, c13 T
	var c20, c21, c22, c23 T
	var c30, c31, c32, c33 T
	for p := 0; p < kc; p++ {
		bp := b[p*ldb : p*ldb+4 : p*ldb+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0 := a[p*ap]
		c00 += T(a0 * b0)
		c01 += T(a0 * b1)
		c02 += T(a0 * b2)
		c03 += T(a0 * b3)
		a1 := a[ai+p*ap]
		c10 += T(a1 * b0)
		c11 += T(a1 * b1)
		c12 += T(a1 * b2)
		c13 += T(a1 * b3)
		a2 := a[2*ai+p*ap]
		c20 += T(a2 * b0)
		c21 += T(a2 * b1)
		c22 += T(a2 * b2)
		c23 += T(a2 * b3)
		a3 := a[3*ai+p*ap]
		c30 += T(a3 * b0)
		c31 += T(a3 * b1)
		c32 += T(a3 * b2)
		c33 += T(a3 * b3)
	}
	store4(c[0:4:4], c00, c01, c02, c03, alpha, beta)
	store4(c[ldc:ldc+4:ldc+4], c10, c11, c12, c13, alpha, beta)
	store4(c[2*ldc:2*ldc+4:2*ldc+4], c20, c21, c22, c23, alpha, beta)
	store4(c[3*ldc:3*ldc+4:3*ldc+4], c30, c31, c32, c33, alpha, beta)
}

// store4 sets c[j] = α·s_j + β·c[j], leaving c unread when β is zero.
func store4[T float](c []T, s0, s1, s2, s3, alpha, beta T) {
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
		return
	}
	c[0] = T(alpha*s0) + T(beta*c[0])
	c[1] = T(alpha*s1) + T(beta*c[1])
	c[2] = T(alpha*s2) + T(beta*c[2])
	c[3] = T(alpha*s3) + T(beta*c[3])
}

// store returns α·s + β·c as the kernels round it, leaving c unused when
// β is zero.
func store[T float](s, c, alpha, beta T, fused bool) T {
	switch {
	case beta == 0:
		return alpha * s
	case fused:
		return fma(beta, c, alpha*s)
	}
	return T(alpha*s) + T(beta*c)
}

// fma returns x·y + z rounded once, as the kernels' fused multiply-adds
// round it.
func fma[T float](x, y, z T) T {
	if single[T]() {
		return T(fma32(float32(x), float32(y), float32(z)))
	}
	return T(math.FMA(float64(x), float64(y), float64(z)))
}

// fma32 returns x·y + z rounded once to float32, as VFMADD231PS does. The
// product is exact in float64 (24+24 bits), and the sum rounded to float64
// then to float32 is rounded once unless it fell exactly halfway between
// two float32 values; then the error of the float64 sum says which way
// the exact sum lies.
func fma32(x, y, z float32) float32 {
	xy := float64(x) * float64(y)
	zz := float64(z)
	r := xy + zz
	bits := math.Float64bits(r)
	e := int(bits>>52) & 0x7ff
	if e < 1023-126 || e > 1023+127 {
		// Zero, NaN, infinite, or outside the range of normal float32
		// values, where the halfway points are not where the test below
		// looks for them.
		return fma32Slow(xy, zz, r)
	}
	// The 29 bits below a float32's last are 1 then 0s: halfway.
	if bits&(1<<29-1) != 1<<28 {
		return float32(r)
	}
	if err := sumError(xy, zz, r); err != 0 {
		// Move r off the halfway point toward the exact sum.
		r = math.Nextafter(r, math.Inf(int(math.Copysign(1, err))))
	}
	return float32(r)
}

// fma32Slow is fma32 for the rare sums outside the normal float32 range:
// r = xy + z rounded to float64.
func fma32Slow(xy, z, r float64) float32 {
	f := float32(r)
	fv := float64(f)
	if fv == r || math.IsNaN(r) {
		return f
	}
	// g is the float32 on the other side of r, and mid the point halfway
	// between f and g. An infinite f stands for 2¹²⁸, beyond the largest
	// float32.
	g := math.Nextafter32(f, float32(math.Copysign(math.Inf(1), r-fv)))
	if math.IsInf(fv, 0) {
		fv = math.Copysign(0x1p128, fv)
	}
	gv := float64(g)
	if math.IsInf(gv, 0) {
		gv = math.Copysign(0x1p128, gv)
	}
	if mid := (fv + gv) / 2; r != mid {
		return f
	}
	err := sumError(xy, z, r)
	switch {
	case err == 0:
		return f // a true tie, rounded to even by the conversion
	case (err > 0) == (gv > fv):
		return g
	}
	return f
}

// sumError returns x + y − r exactly, where r is x + y rounded (Knuth's
// TwoSum).
func sumError(x, y, r float64) float64 {
	bv := r - x
	av := r - bv
	return (x - av) + (y - bv)
}
