//go:build openblas

package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/netlib/blas/netlib"
)

// With -tags openblas (and CGO_LDFLAGS=-lopenblas), BenchmarkGemm also
// measures OpenBLAS's Dgemm (openblas) and Sgemm (openblas-s). Set
// OPENBLAS_THREAD_TIMEOUT=4 so that OpenBLAS's threads stop spinning
// between calls and leave the cores to the others.
func init() {
	impls = append(impls,
		impl{name: "openblas", d: netlib.Implementation{}.Dgemm},
		impl{name: "openblas-s", s: netlib.Implementation{}.Sgemm})
}

// BenchmarkPaired measures the package against OpenBLAS call by call,
// alternating, so that the noise of a shared host falls on both alike:
// GFLOP/s is the package's, openblas-GFLOP/s OpenBLAS's, and ratio the
// package's rate over OpenBLAS's.
func BenchmarkPaired(b *testing.B) {
	for _, sh := range benchShapes() {
		b.Run(fmt.Sprintf("shape=%s/type=float64", sh.name), func(b *testing.B) {
			benchPaired(b, sh, Dgemm, netlib.Implementation{}.Dgemm)
		})
		b.Run(fmt.Sprintf("shape=%s/type=float32", sh.name), func(b *testing.B) {
			benchPaired(b, sh, Sgemm, netlib.Implementation{}.Sgemm)
		})
	}
}

func benchPaired[T float](b *testing.B, sh gemmShape, ours, theirs gemmFunc[T]) {
	rnd := rand.New(rand.NewPCG(1, 2))
	pr := newProblem(rnd, sh.tA, sh.tB, sh.m, sh.n, sh.k, 0, 1, 0)
	pa, pb, pc := convert[T](pr.a), convert[T](pr.b), convert[T](pr.c)
	// Time batches of at least 3 million multiply-adds (tens of µs), so
	// that reading the clock costs little beside the smallest products.
	reps := 1 + 3_000_000/(sh.m*sh.n*sh.k)
	batch := func(f gemmFunc[T]) time.Duration {
		t := time.Now()
		for range reps {
			f(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, pa, pr.lda, pb, pr.ldb, 0, pc, pr.ldc)
		}
		return time.Since(t)
	}
	batch(ours)
	batch(theirs)
	var tOurs, tTheirs time.Duration
	for b.Loop() {
		tOurs += batch(ours)
		tTheirs += batch(theirs)
	}
	flops := 2 * float64(sh.m*sh.n*sh.k) * float64(reps*b.N)
	b.ReportMetric(flops/tOurs.Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flops/tTheirs.Seconds()/1e9, "openblas-GFLOP/s")
	b.ReportMetric(tTheirs.Seconds()/tOurs.Seconds(), "ratio")
}
