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
// layer's forward pass for one example, runs on the package's kernels;
// the others go to gonum's implementation.
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
	if len(a) < (m-1)*lda+n {
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
	if procs == 1 || m*n < gemvParallel || !hasAVX2 {
		gemvT(m, n, alpha, a, lda, x, y, beta)
		return
	}
	// Split the columns in strips of 32 over the goroutines.
	strips := (n + 31) / 32
	parts := min(procs, strips)
	g := args{m: 0, n: n, k: m, alpha: alpha, a: a, lda: lda, b: x, beta: beta, c: y}
	j := getJob(&g, nil)
	j.gemv = true
	j.wg.Add(parts - 1)
	for q := parts - 1; q >= 0; q-- {
		t := task{j: j, j0: q * strips / parts * 32, j1: min((q+1)*strips/parts*32, n)}
		if q > 0 {
			submit(t, parts-1)
			continue
		}
		t.run(nil)
	}
	j.wg.Wait()
	putJob(j)
}

// gemvT sets y = α·Aᵀ·x + β·y for the m×n matrix A.
func gemvT(m, n int, alpha float64, a []float64, lda int, x, y []float64, beta float64) {
	j := 0
	if hasAVX2 {
		for ; j+32 <= n; j += 32 {
			gemvT32(m, a[j:], lda, x, y[j:], alpha, beta)
		}
		for ; j+4 <= n; j += 4 {
			gemvT4(m, a[j:], lda, x, y[j:], alpha, beta)
		}
	}
	for ; j < n; j++ {
		var s float64
		for i := 0; i < m; i++ {
			if hasAVX2 {
				s = math.FMA(a[i*lda+j], x[i], s)
			} else {
				s += a[i*lda+j] * x[i]
			}
		}
		switch {
		case beta == 0:
			y[j] = alpha * s
		case hasAVX2:
			y[j] = math.FMA(beta, y[j], alpha*s)
		default:
			y[j] = float64(alpha*s) + float64(beta*y[j])
		}
	}
}
