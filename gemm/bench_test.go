package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemmFunc is the signature of Dgemm (T float64) and Sgemm (float32).
type gemmFunc[T float] func(tA, tB blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int)

// An impl is a Dgemm (d) or an Sgemm (s) that BenchmarkGemm measures.
type impl struct {
	name string
	d    gemmFunc[float64]
	s    gemmFunc[float32]
}

// impls are the implementations that BenchmarkGemm compares: the
// package's Dgemm and Sgemm, gonum's pure-Go Dgemm, and with -tags
// openblas OpenBLAS's Dgemm and Sgemm through gonum's netlib
// (bench_openblas_test.go).
var impls = []impl{
	{name: "gemm", d: Dgemm},
	{name: "sgemm", s: Sgemm},
	{name: "gonum", d: gonum.Implementation{}.Dgemm},
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
// every implementation and shape, float64 and float32; compare with
// benchstat -col /impl.
func BenchmarkGemm(b *testing.B) {
	for _, sh := range benchShapes() {
		for _, im := range impls {
			b.Run(fmt.Sprintf("shape=%s/impl=%s", sh.name, im.name), func(b *testing.B) {
				if im.d != nil {
					benchGemm(b, sh, im.d)
				} else {
					benchGemm(b, sh, im.s)
				}
			})
		}
	}
}

// BenchmarkKernel measures each kernel the processor runs, in both
// precisions, at n = 1024 and at the small step's products.
func BenchmarkKernel(b *testing.B) {
	for _, kn := range kernels() {
		for _, sh := range benchShapes()[:4] {
			b.Run(fmt.Sprintf("kernel=%s/shape=%s", kn.name, sh.name), func(b *testing.B) {
				withKernel(kn, func() { benchGemm(b, sh, Dgemm) })
			})
			b.Run(fmt.Sprintf("kernel=%s/shape=%s/type=float32", kn.name, sh.name), func(b *testing.B) {
				withKernel(kn, func() { benchGemm(b, sh, Sgemm) })
			})
		}
	}
}

// benchGemm measures f on the shape sh, with random operands of type T.
func benchGemm[T float](b *testing.B, sh gemmShape, f gemmFunc[T]) {
	rnd := rand.New(rand.NewPCG(1, 2))
	pr := newProblem(rnd, sh.tA, sh.tB, sh.m, sh.n, sh.k, 0, 1, 0)
	pa, pb, pc := convert[T](pr.a), convert[T](pr.b), convert[T](pr.c)
	f(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, pa, pr.lda, pb, pr.ldb, 0, pc, pr.ldc)
	b.ReportAllocs()
	for b.Loop() {
		f(sh.tA, sh.tB, sh.m, sh.n, sh.k, 1, pa, pr.lda, pb, pr.ldb, 0, pc, pr.ldc)
	}
	b.ReportMetric(2*float64(sh.m*sh.n*sh.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// convert returns s converted to T.
func convert[T float](s []float64) []T {
	r := make([]T, len(s))
	for i, v := range s {
		r[i] = T(v)
	}
	return r
}

// BenchmarkGemv measures y = Wᵀ·x for the first layer of the mnist shape,
// the forward pass of one example, in float64 (gemm, gonum) and float32
// (sgemm).
func BenchmarkGemv(b *testing.B) {
	rnd := rand.New(rand.NewPCG(1, 2))
	a, x, y := matrix(rnd, 784, 256, 256), matrix(rnd, 1, 784, 784), make([]float64, 256)
	a32, x32, y32 := convert[float32](a), convert[float32](x), make([]float32, 256)
	for _, im := range []struct {
		name string
		f    func()
	}{
		{"gemm", func() { Dgemv(blas.Trans, 784, 256, 1, a, 256, x, 1, 0, y, 1) }},
		{"sgemm", func() { Sgemv(blas.Trans, 784, 256, 1, a32, 256, x32, 1, 0, y32, 1) }},
		{"gonum", func() { gonum.Implementation{}.Dgemv(blas.Trans, 784, 256, 1, a, 256, x, 1, 0, y, 1) }},
	} {
		b.Run("impl="+im.name, func(b *testing.B) {
			im.f()
			b.ReportAllocs()
			for b.Loop() {
				im.f()
			}
			b.ReportMetric(2*784*256*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
