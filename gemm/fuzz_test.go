package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// FuzzDgemm compares Dgemm with gonum's reference on shapes, strides,
// transposes, scalars, kernels and paths through the driver drawn from the
// fuzzer's input.
func FuzzDgemm(f *testing.F) {
	f.Add(uint8(3), uint8(5), uint8(7), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(31), uint8(10), uint8(128), uint8(1), uint8(2), uint64(2))
	f.Add(uint8(200), uint8(25), uint8(9), uint8(3), uint8(7), uint64(3))
	f.Add(uint8(1), uint8(255), uint8(255), uint8(2), uint8(13), uint64(4))
	f.Fuzz(func(t *testing.T, m, n, k, trans, choice uint8, seed uint64) {
		rnd := rand.New(rand.NewPCG(seed, 0))
		tA, tB := blas.NoTrans, blas.NoTrans
		if trans&1 != 0 {
			tA = blas.Trans
		}
		if trans&2 != 0 {
			tB = blas.Trans
		}
		pad := int(trans>>2) % 5
		alpha := []float64{1, -0.5, 0, 3}[choice%4]
		beta := []float64{0, 1, 0.5, -2}[choice/4%4]
		ks := kernels()
		kn := ks[int(choice/16)%len(ks)]
		p := int(seed>>8) % len(paths)
		pr := newProblem(rnd, tA, tB, int(m), int(n), int(k), pad, alpha, beta)
		withKernel(kn, func() {
			withPath(p, func() {
				pr.check(t, fmt.Sprintf("%s %s %s%s m=%d n=%d k=%d pad=%d α=%v β=%v", kn.name, paths[p].name, tName(tA), tName(tB), m, n, k, pad, alpha, beta))
			})
		})
	})
}

// FuzzSgemm compares Sgemm with the float64 product on shapes, strides,
// transposes, scalars, kernels and paths through the driver drawn from
// the fuzzer's input.
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(3), uint8(5), uint8(7), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(31), uint8(49), uint8(128), uint8(1), uint8(2), uint64(2))
	f.Add(uint8(200), uint8(41), uint8(9), uint8(3), uint8(7), uint64(3))
	f.Add(uint8(1), uint8(255), uint8(255), uint8(2), uint8(13), uint64(4))
	f.Fuzz(func(t *testing.T, m, n, k, trans, choice uint8, seed uint64) {
		rnd := rand.New(rand.NewPCG(seed, 0))
		tA, tB := blas.NoTrans, blas.NoTrans
		if trans&1 != 0 {
			tA = blas.Trans
		}
		if trans&2 != 0 {
			tB = blas.Trans
		}
		pad := int(trans>>2) % 5
		alpha := []float32{1, -0.5, 0, 3}[choice%4]
		beta := []float32{0, 1, 0.5, -2}[choice/4%4]
		ks := kernels()
		kn := ks[int(choice/16)%len(ks)]
		p := int(seed>>8) % len(paths)
		pr := newSProblem(rnd, tA, tB, int(m), int(n), int(k), pad, alpha, beta)
		withKernel(kn, func() {
			withPath(p, func() {
				pr.check(t, fmt.Sprintf("%s %s %s%s m=%d n=%d k=%d pad=%d α=%v β=%v", kn.name, paths[p].name, tName(tA), tName(tB), m, n, k, pad, alpha, beta))
			})
		})
	})
}
