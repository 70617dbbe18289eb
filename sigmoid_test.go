package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The vector sigmoid agrees with 1/(1+math.Exp(−z)) to within 1e-15
// relative error, propagates NaN, and saturates to 0 and 1.
func TestSigmoidKernel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(18, 18))
	z := []float64{0, 1, -1, 708, -708, 709, -709, 800, -800, math.Inf(1), math.Inf(-1), 1e-300, -1e-17, 36.7, -36.7, 745.2, -745.2}
	for i := 0; i < 100003; i++ {
		z = append(z, (rnd.Float64()*2-1)*40, (rnd.Float64()*2-1)*750)
	}
	for _, bias := range []bool{false, true} {
		b := make([]float64, len(z))
		if bias {
			for i := range b {
				b[i] = rnd.NormFloat64()
			}
		}
		got := append([]float64(nil), z...)
		if bias {
			Sigmoid.apply(got, b, len(got), 0)
		} else {
			Sigmoid.apply(got, nil, 7, 0)
		}
		for i, v := range z {
			v += b[i]
			want := 1 / (1 + math.Exp(-v))
			if d := math.Abs(got[i] - want); d > 1e-15*want && d > 1e-300 {
				t.Fatalf("bias=%t: σ(%v) = %v, want %v (%s)", bias, v, got[i], want, kernels)
			}
		}
	}
	nan := []float64{1, math.NaN(), 2, 3, math.NaN()}
	Sigmoid.apply(nan, nil, 5, 0)
	if !math.IsNaN(nan[1]) || !math.IsNaN(nan[4]) || math.IsNaN(nan[0]) {
		t.Errorf("σ of [1 NaN 2 3 NaN] = %v, want NaN where NaN was (%s)", nan, kernels)
	}
}

// An element's sigmoid does not depend on its place in the slice (the
// vector kernel's tail goes through the kernel too), so a row's output does
// not depend on the rows beside it.
func TestSigmoidPositionIndependent(t *testing.T) {
	rnd := rand.New(rand.NewPCG(23, 23))
	z := make([]float64, 41)
	b := make([]float64, 41)
	for i := range z {
		z[i], b[i] = rnd.NormFloat64()*8, rnd.NormFloat64()
	}
	for _, bias := range [][]float64{nil, b} {
		all := append([]float64(nil), z...)
		Sigmoid.apply(all, bias, len(all), 0)
		for k := 1; k < len(z); k++ {
			for off := 0; off+k <= len(z); off += 3 {
				part := append([]float64(nil), z[off:off+k]...)
				var pb []float64
				if bias != nil {
					pb = bias[off : off+k]
				}
				Sigmoid.apply(part, pb, k, 0)
				for i, v := range part {
					if v != all[off+i] {
						t.Fatalf("bias=%t: element %d of a slice of %d at %d is %v, in the whole slice %v (%s)", bias != nil, i, k, off, v, all[off+i], kernels)
					}
				}
			}
		}
	}
}

func BenchmarkSigmoid(b *testing.B) {
	z := make([]float64, 4096)
	for i := range z {
		z[i] = float64(i%200)/20 - 5
	}
	x := make([]float64, len(z))
	b.ReportAllocs()
	for b.Loop() {
		copy(x, z)
		Sigmoid.apply(x, nil, 128, 0)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(z)), "ns/element")
}
