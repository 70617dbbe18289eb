package nn

import "math"

// In float32, optimizer state below tiny32 is set to zero every
// flushEvery steps: it stays above float32's subnormal range (below
// 1.2e-38) over flushEvery steps of decay by a factor of 0.7 or more (β₁,
// β₂ and μ are usually 0.9 or closer to 1), and far below any value that
// moves a weight.
const tiny32 = 1e-30

// flushTiny32 is flushTiny for float32.
func flushTiny32(s []float32) {
	for i, v := range s {
		if v < tiny32 && v > -tiny32 {
			s[i] = 0
		}
	}
}

// clipNorm32 is clipNorm for float32, the norm summed in float64.
func clipNorm32(g []float32, c float64) {
	var ss float64
	for _, v := range g {
		ss += float64(v) * float64(v)
	}
	if norm := math.Sqrt(ss); norm > c {
		f := float32(c / (norm + 1e-6))
		for i := range g {
			g[i] *= f
		}
	}
}

// run32 is run for float32 parameters: the same updates, each term
// rounded to float32.
func (j *updateJob) run32(lo, hi int) {
	w, g, lr := j.w32[lo:hi], j.g32[lo:hi], float32(j.lr)
	switch j.method {
	case GradientDescent, SGD:
		for i, gi := range g {
			w[i] -= lr * gi
		}
	case Momentum:
		mu, v := float32(j.mu), j.m32[lo:hi]
		for i, gi := range g {
			v[i] = mu*v[i] - lr*gi
			w[i] += v[i]
		}
	case Nesterov:
		mu, v := float32(j.mu), j.m32[lo:hi]
		for i, gi := range g {
			v[i] = mu*v[i] - lr*gi
			w[i] += mu*v[i] - lr*gi
		}
	case Adam, AdamW:
		if j.method == AdamW {
			decay := float32(j.decay)
			for i := range w {
				w[i] *= decay
			}
		}
		b1, b2, eps := float32(j.b1), float32(j.b2), float32(j.eps)
		c1, c2 := 1-b1, 1-b2
		m, v := j.m32[lo:hi], j.v32[lo:hi]
		for i := adamVec32(w, g, m, v, lr, b1, b2, eps); i < len(g); i++ {
			gi := g[i]
			m[i] = b1*m[i] + c1*gi
			v[i] = b2*v[i] + c2*gi*gi
			w[i] -= lr * m[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
		}
	}
}
