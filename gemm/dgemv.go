package gemm

import (
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
	gemv(tA, m, n, alpha, a, lda, x, beta, y)
}

// gemv is Dgemv and Sgemv for the transposed product with unit
// increments: y = α·Aᵀ·x + β·y.
func gemv[T float](tA blas.Transpose, m, n int, alpha T, a []T, lda int, x []T, beta T, y []T) {
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
	// Split the columns in strips of the widest gemv kernel over the
	// goroutines.
	sw := gemvStrip[T]()
	strips := (n + sw - 1) / sw
	parts := min(procs, strips)
	if parts == 1 {
		gemvT(m, n, alpha, a, lda, x, y, beta)
		return
	}
	g := args[T]{m: 0, n: n, k: m, alpha: alpha, a: a, lda: lda, b: x, beta: beta, c: y}
	j := getJob(&g, nil)
	j.gemv = true
	j.start(parts - 1)
	for q := parts - 1; q >= 0; q-- {
		t := task{j: j, j0: q * strips / parts * sw, j1: min((q+1)*strips/parts*sw, n)}
		if q > 0 {
			submit(t, parts-1)
			continue
		}
		t.run(nil)
	}
	j.wait()
	putJob(j)
}

// gemvStrip returns the width of the widest gemv kernel for T: 32
// float64 or 64 float32 values.
func gemvStrip[T float]() int {
	if single[T]() {
		return 64
	}
	return 32
}

// gemvT sets y = α·Aᵀ·x + β·y for the m×n matrix A. It sums KC rows at a
// time and rounds as the gemm kernels do, so that y is bit for bit the row
// that Dgemm or Sgemm would give for the one-row product xᵀ·A.
func gemvT[T float](m, n int, alpha T, a []T, lda int, x, y []T, beta T) {
	for p0 := 0; p0 < m; p0 += kc {
		k := min(kc, m-p0)
		if p0 > 0 {
			beta = 1
		}
		gemvBlock(k, n, alpha, a[p0*lda:], lda, x[p0:], y, beta)
	}
}

// gemvBlock is gemvT for at most KC rows.
func gemvBlock[T float](m, n int, alpha T, a []T, lda int, x, y []T, beta T) {
	j := 0
	fused := hasAVX2 && active.Load().fused
	if fused {
		switch a := any(a).(type) {
		case []float64:
			j = gemvStrips64(m, n, float64(alpha), a, lda, any(x).([]float64), any(y).([]float64), float64(beta))
		case []float32:
			j = gemvStrips32(m, n, float32(alpha), a, lda, any(x).([]float32), any(y).([]float32), float32(beta))
		}
	}
	for ; j < n; j++ {
		var s T
		for i, v := range x[:m] {
			if fused {
				s = fma(v, a[i*lda+j], s)
			} else {
				s += T(v * a[i*lda+j])
			}
		}
		y[j] = store(s, y[j], alpha, beta, fused)
	}
}
