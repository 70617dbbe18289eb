package gemm

import (
	"math"
	"runtime"
	"testing"
	"testing/synctest"

	"gonum.org/v1/gonum/blas"
)

// TestSynctestBubble checks that a product split over the pool's workers,
// started outside the bubble, completes inside a testing/synctest bubble.
func TestSynctestBubble(t *testing.T) {
	procs := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(procs)
	old := parallelOps
	parallelOps = 0
	defer func() { parallelOps = old }()
	a, b := make([]float64, 64*64), make([]float64, 64*64)
	for i := range a {
		a[i], b[i] = 1, 2
	}
	c := make([]float64, 64*64)
	Dgemm(blas.NoTrans, blas.NoTrans, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64) // start the workers
	synctest.Test(t, func(t *testing.T) {
		c := make([]float64, 64*64)
		Dgemm(blas.NoTrans, blas.NoTrans, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64)
		for i, v := range c {
			if math.Abs(v-128) > 0 {
				t.Fatalf("C[%d] = %v, want 128", i, v)
			}
		}
	})
}
