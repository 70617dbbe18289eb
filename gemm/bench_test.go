package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// impls are the Dgemm implementations that BenchmarkGemm compares:
// the package's, gonum's pure Go, and with -tags openblas OpenBLAS through
// gonum's netlib (bench_openblas_test.go).
var impls = []struct {
	name string
	f    func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
}{
	{"gemm", Dgemm},
	{"gonum", gonum.Implementation{}.Dgemm},
}

// gemmShape is one product: op(A) is m×k, op(B) k×n.
type gemmShape struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}

// stepShapes returns the products of one training step of shared/bench/
// WORKLOADS.md for a batch and layer sizes, as the nn package computes
// them: per layer the forward product a·W, the weight gradient aᵀ·δ and,
// but for the first layer, the input gradient δ·Wᵀ.
func stepShapes(name string, batch int, sizes []int) []gemmShape {
	var s []gemmShape
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		s = append(s,
			gemmShape{fmt.Sprintf("%s.fwd%d", name, l+1), blas.NoTrans, blas.NoTrans, batch, out, in},
			gemmShape{fmt.Sprintf("%s.dW%d", name, l+1), blas.Trans, blas.NoTrans, in, out, batch})
		if l > 0 {
			s = append(s, gemmShape{fmt.Sprintf("%s.dX%d", name, l+1), blas.NoTrans, blas.Trans, batch, in, out})
		}
	}
	return s
}

// benchShapes are n = 1024 and every product of the small, mnist and wide
// training steps.
func benchShapes() []gemmShape {
	s := []gemmShape{{"n=1024", blas.NoTrans, blas.NoTrans, 1024, 1024, 1024}}
	s = append(s, stepShapes("small", 32, []int{64, 128, 10})...)
	s = append(s, stepShapes("mnist", 128, []int{784, 256, 128, 10})...)
	return append(s, stepShapes("wide", 512, []int{1024, 1024, 1024, 10})...)
}

// BenchmarkGemm measures C = A·B in GFLOP/s (2·m·n·k per product) for
// every implementation and shape; compare with
// benchstat -col /impl.
func BenchmarkGemm(b *testing.B) {
	for _, sh := range benchShapes() {
		for _, im := range impls {
			b.Run(fmt.Sprintf("shape=%s/impl=%s", sh.name, im.name), func(b *testing.B) {
				benchGemm(b, sh, im.f)
			})
		}
	}
}

// BenchmarkKernel measures each kernel the processor runs at n = 1024 and
// at the mnist forward product.
func BenchmarkKernel(b *testing.B) {
	for _, kn := range kernels() {
		for _, sh := range benchShapes()[:4] {
			b.Run(fmt.Sprintf("kernel=%s/shape=%s", kn.name, sh.name), func(b *testing.B) {
				withKernel(kn, func() { benchGemm(b, sh, Dgemm) })
			})
		}
	}
}

func benchGemm(b *testing.B, sh gemmShape, f func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)) {
	rnd := rand.New(rand.NewPCG(1, 2))
	pr := newProblem(rnd, sh.tA, sh.tB, sh.m, sh.n, sh.k, 0, 1, 0)
	f(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, pr.a, pr.lda, pr.b, pr.ldb, 0, pr.c, pr.ldc)
	b.ReportAllocs()
	for b.Loop() {
		f(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, pr.a, pr.lda, pr.b, pr.ldb, 0, pr.c, pr.ldc)
	}
	b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemv measures y = Wᵀ·x for the first layer of the mnist shape,
// the forward pass of one example.
func BenchmarkGemv(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 2))
	a, x, y := matrix(rnd, 784, 256, 256), matrix(rnd, 1, 784, 784), make([]float64, 256)
	for _, im := range []struct {
		name string
		f    func(tA blas.Transpose, m, n int, alpha float64, a []float64, lda int, x []float64, incX int, beta float64, y []float64, incY int)
	}{{"gemm", Dgemv}, {"gonum", gonum.Implementation{}.Dgemv}} {
		b.Run("impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				im.f(blas.Trans, 784, 256, 1, a, 256, x, 1, 0, y, 1)
			}
			b.ReportMetric(2*784*256*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
