package nn

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// The moments of a weight whose gradient stays zero (a dead ReLU's) decay
// geometrically, by β₁ or μ a step, into subnormal numbers, on which
// arithmetic is a hundred times slower. Every flushEvery steps, optimizer
// state below tiny is set to zero: far above the subnormal range (below
// 2.2e-308) even after flushEvery steps of decay by 0.01, and far below any
// value that moves a weight.
const (
	flushEvery = 50
	tiny       = 1e-200
)

// flushTiny sets the elements of s smaller in magnitude than tiny to zero.
func flushTiny(s []float64) {
	for i, v := range s {
		if v < tiny && v > -tiny {
			s[i] = 0
		}
	}
}

// parallelMin is the number of parameters from which an update is split
// between two goroutines.
const parallelMin = 1 << 15

// updateJob is an optimizer step over the parameters [lo, hi).
type updateJob struct {
	method     Method
	w, g, m, v []float64
	lr, mu     float64
	b1, b2     float64
	eps        float64
	decay      float64 // AdamW's factor 1 − η·λ
	lo, hi     int

	// In float32 (Settings.Precision), the parameters, gradient and
	// state are these, and w, g, m and v are nil.
	w32, g32, m32, v32 []float32
}

// clipNorm scales g so that its Euclidean norm is at most c, by
// c/(‖g‖ + 1e-6) when it is larger, as PyTorch's clip_grad_norm_.
func clipNorm(g []float64, c float64) {
	if norm := floats.Norm(g, 2); norm > c {
		floats.Scale(c/(norm+1e-6), g)
	}
}

func (j *updateJob) run(lo, hi int) {
	if j.w32 != nil {
		j.run32(lo, hi)
		return
	}
	w, g, lr := j.w[lo:hi], j.g[lo:hi], j.lr
	switch j.method {
	case GradientDescent, SGD:
		// W ← W − η·∂J/∂W, the tutorial's self.w1 -= learn_rate*dJdW1
		floats.AddScaled(w, -lr, g)
	case Momentum:
		mu, v := j.mu, j.m[lo:hi]
		for i, gi := range g {
			v[i] = mu*v[i] - lr*gi
			w[i] += v[i]
		}
	case Nesterov:
		mu, v := j.mu, j.m[lo:hi]
		for i, gi := range g {
			v[i] = mu*v[i] - lr*gi
			w[i] += mu*v[i] - lr*gi
		}
	case Adam, AdamW:
		if j.method == AdamW {
			// w ← (1 − η·λ)·w before the step, as PyTorch's AdamW
			floats.Scale(j.decay, w)
		}
		b1, b2, eps := j.b1, j.b2, j.eps
		m, v := j.m[lo:hi], j.v[lo:hi]
		for i := adamVec(w, g, m, v, lr, b1, b2, eps); i < len(g); i++ {
			gi := g[i]
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			w[i] -= lr * m[i] / (math.Sqrt(v[i]) + eps)
		}
	}
}

// helper is a goroutine that runs the second half of large updates. It
// holds no reference to its Trainer, so a cleanup can stop it once the
// Trainer is unreachable.
type helper struct {
	work chan updateJob
	done chan struct{}
}

func newHelper() *helper {
	h := &helper{work: make(chan updateJob, 1), done: make(chan struct{}, 1)}
	go func(work <-chan updateJob, done chan<- struct{}) {
		for j := range work {
			j.run(j.lo, j.hi)
			done <- struct{}{}
		}
	}(h.work, h.done)
	return h
}
