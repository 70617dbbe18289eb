package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The vector Adam update agrees with the scalar loop (to rounding: the
// vector one fuses multiply-adds).
func TestAdamKernel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(20, 20))
	for _, n := range []int{0, 1, 3, 4, 5, 64, 1001} {
		w, g, m, v := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range g {
			w[i], g[i], m[i], v[i] = rnd.NormFloat64(), rnd.NormFloat64(), 0.1*rnd.NormFloat64(), rnd.Float64()
		}
		w2, m2, v2 := append([]float64(nil), w...), append([]float64(nil), m...), append([]float64(nil), v...)
		const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
		for i := adamVec(w, g, m, v, lr, b1, b2, eps); i < n; i++ {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			w[i] -= lr * m[i] / (math.Sqrt(v[i]) + eps)
		}
		for i := range g {
			m2[i] = b1*m2[i] + (1-b1)*g[i]
			v2[i] = b2*v2[i] + (1-b2)*g[i]*g[i]
			w2[i] -= lr * m2[i] / (math.Sqrt(v2[i]) + eps)
			if !near(w[i], w2[i]) || !near(m[i], m2[i]) || !near(v[i], v2[i]) {
				t.Fatalf("n=%d, element %d: got w %v m %v v %v, want %v %v %v (%s)", n, i, w[i], m[i], v[i], w2[i], m2[i], v2[i], kernels)
			}
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-15*math.Max(1, math.Abs(b)) }
