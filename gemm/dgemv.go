package gemm

import (
	"math"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemvParallel is the size of A, in elements, from which Dgemv splits its
// columns over goroutines.
var gemvParallel = 1 << 17

// Dgemv computes
//
//	y = α·op(A)·x + β·y
//
// for the row-major m×n matrix A with rows lda apart, as gonum's
// blas.Float64 Dgemv. The transposed product with unit increments, a
// layer's forward pass for one example, runs on the package's kernels and
// gives the bits of the one-row Dgemm; the other forms go to gonum's
// implementation.
//
// When β is zero, y is not read. Dgemv panics on bad arguments, as gonum's
// does.
func Dgemv(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int) {
	if tA == blas.NoTrans || incX != 1 || incY != 1 || m == 0 || n == 0 || alpha == 0 {
		gonum.Implementation{}.Dgemv(tA, m, n, alpha, a, lda, x, incX, beta, y, incY)
		return
	}
	checkTrans(tA, "tA")
	if m < 0 {
		panic("gemm: m < 0")
	}
	if n < 0 {
		panic("gemm: n < 0")
	}
	if lda < max(1, n) {
		panic("gemm: lda shorter than a row of A")
	}
	if !fits(len(a), m, n, lda) {
		panic("gemm: a too short")
	}
	if len(x) < m {
		panic("gemm: x too short")
	}
	if len(y) < n {
		panic("gemm: y too short")
	}
	if beta == 0 {
		beta = 0 // +0 for −0
	}
	procs := runtime.GOMAXPROCS(0)
	if procs == 1 || ops(m, n, 1) < gemvParallel || !hasAVX2 {
		gemvT(m, n, alpha, a, lda, x, y, beta)
		return
	}
	// Split the columns in strips of 32 over the goroutines.
	strips := (n + 31) / 32
	parts := min(procs, strips)
	if parts == 1 {
		gemvT(m, n, alpha, a, lda, x, y, beta)
		return
	}
	g := args{m: 0, n: n, k: m, alpha: alpha, a: a, lda: lda, b: x, beta: beta, c: y}
	j := getJob(&g, nil)
	j.gemv = true
	j.start(parts - 1)
	for q := parts - 1; q >= 0; q-- {
		t := task{j: j, j0: q * strips / parts * 32, j1: min((q+1)*strips/parts*32, n)}
		if q > 0 {
			submit(t, parts-1)
			continue
		}
		t.run(nil)
	}
	j.wait()
	putJob(j)
}

// gemvT sets y = α·Aᵀ·x + β·y for the m×n matrix A. It sums KC rows at a
// time and rounds as Dgemm's kernels do, so that y is bit for bit the row
// that Dgemm would give for the one-row product xᵀ·A.
func gemvT(m, n int, alpha float64, a []float64, lda int, x, y []float64, beta float64) {
	for p0 := 0; p0 < m; p0 += kc {
		k := min(kc, m-p0)
		if p0 > 0 {
			beta = 1
		}
		gemvBlock(k, n, alpha, a[p0*lda:], lda, x[p0:], y, beta)
	}
}

// gemvBlock is gemvT for at most KC rows.
func gemvBlock(m, n int, alpha float64, a []float64, lda int, x, y []float64, beta float64) {
	j := 0
	fused := hasAVX2 && active.Load().fused
	if fused {
		for ; j+32 <= n; j += 32 {
			gemvT32(m, a[j:], lda, x, y[j:], alpha, beta)
		}
		for ; j+4 <= n; j += 4 {
			gemvT4(m, a[j:], lda, x, y[j:], alpha, beta)
		}
	}
	for ; j < n; j++ {
		var s float64
		for i, v := range x[:m] {
			if fused {
				s = math.FMA(v, a[i*lda+j], s)
			} else {
				s += float64(v * a[i*lda+j])
			}
		}
		y[j] = store(s, y[j], alpha, beta, fused)
	}
}

// store returns α·s + β·c as the kernels round it, leaving c unused when
// β is zero.
func store(s, c, alpha, beta float64, fused bool) float64 {
	switch {
	case beta == 0:
		return alpha * s
	case fused:
		return math.FMA(beta, c, alpha*s)
	}
	return float64(alpha*s) + float64(beta*c)
}
