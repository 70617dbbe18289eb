package gemm

import (
	"math"

	"gonum.org/v1/gonum/blas"
)

// Dgemm computes
//
//	C = α·op(A)·op(B) + β·C
//
// where op(X) is X or Xᵀ as tA and tB say (blas.ConjTrans is blas.Trans),
// op(A) is m×k, op(B) is k×n and C is m×n, all row-major with rows lda, ldb
// and ldc elements apart, as gonum's blas.Float64 Dgemm.
//
// When β is zero, C is not read; when α is zero or k is zero, A and B are
// not read. Dgemm panics if a size is negative, a stride is shorter than
// its matrix's row, or a slice is too short for its matrix.
func Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemm is Dgemm and Sgemm.
func gemm[T float](tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	transA, transB := checkTrans(tA, "tA"), checkTrans(tB, "tB")
	if m < 0 {
		panic("gemm: m < 0")
	}
	if n < 0 {
		panic("gemm: n < 0")
	}
	if k < 0 {
		panic("gemm: k < 0")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) {
		panic("gemm: lda shorter than a row of A")
	}
	if ldb < max(1, bc) {
		panic("gemm: ldb shorter than a row of B")
	}
	if ldc < max(1, n) {
		panic("gemm: ldc shorter than a row of C")
	}
	if m == 0 || n == 0 {
		return
	}
	if !fits(len(c), m, n, ldc) {
		panic("gemm: c too short")
	}
	if !fits(len(a), ar, ac, lda) {
		panic("gemm: a too short")
	}
	if !fits(len(b), br, bc, ldb) {
		panic("gemm: b too short")
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	if beta == 0 {
		beta = 0 // +0 for −0: the kernels test the bits
	}
	g := args[T]{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}
	if ops(m, n, k) <= tinyOps {
		tiny(&g)
		return
	}
	run(&g, active.Load())
}

// tinyOps is the number of multiply-adds up to which Dgemm and Sgemm do
// not pack.
const tinyOps = 2048

// fits reports whether a slice of length l holds a rows×cols matrix whose
// rows are ld apart: (rows−1)·ld + cols ≤ l, computed without overflow, so
// that no stride, however large, lets a kernel past the end of the slice.
func fits(l, rows, cols, ld int) bool {
	switch {
	case rows == 0 || cols == 0:
		return true
	case l < cols:
		return false
	case rows == 1:
		return true
	}
	return ld <= (l-cols)/(rows-1)
}

// ops returns m·n·k, or math.MaxInt if that overflows.
func ops(m, n, k int) int {
	if m == 0 || n == 0 || k == 0 {
		return 0
	}
	if m > math.MaxInt/n || m*n > math.MaxInt/k {
		return math.MaxInt
	}
	return m * n * k
}

// checkTrans returns whether t transposes, and panics if t is not a
// transpose.
func checkTrans(t blas.Transpose, name string) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic("gemm: bad " + name)
}

// args are the arguments of one product.
type args[T float] struct {
	tA, tB  bool
	m, n, k int
	alpha   T
	a       []T
	lda     int
	b       []T
	ldb     int
	beta    T
	c       []T
	ldc     int
}

// scale sets C = β·C, leaving C unread when β is zero.
func scale[T float](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// tiny computes a product too small to pack, one dot product per element,
// in the order and with the rounding of the active kernel.
func tiny[T float](g *args[T]) {
	fused := active.Load().fused
	ai, ap := g.lda, 1 // A(i, p) = a[i·ai + p·ap]
	if g.tA {
		ai, ap = 1, g.lda
	}
	bp, bj := g.ldb, 1 // B(p, j) = b[p·bp + j·bj]
	if g.tB {
		bp, bj = 1, g.ldb
	}
	for i := 0; i < g.m; i++ {
		row := g.c[i*g.ldc : i*g.ldc+g.n]
		for j := range row {
			beta := g.beta
			for p0 := 0; p0 < g.k; p0 += kc {
				var s T
				for p := p0; p < min(p0+kc, g.k); p++ {
					if fused {
						s = fma(g.a[i*ai+p*ap], g.b[p*bp+j*bj], s)
					} else {
						// The conversion rounds the product, so that no
						// compiler fuses it into the sum (see kern4x4).
						s += T(g.a[i*ai+p*ap] * g.b[p*bp+j*bj])
					}
				}
				row[j] = store(s, row[j], g.alpha, beta, fused)
				beta = 1
			}
		}
	}
}
