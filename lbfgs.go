package nn

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// lbfgs minimises the full-batch loss with gonum's L-BFGS. Each major
// iteration after the starting point is an epoch. gonum reports the
// starting point as a major iteration and does not report the iteration at
// which its own convergence tests stop it; both are handled here.
func (r *run) lbfgs(X, Y *mat.Dense) error {
	n := r.net
	rows, _ := X.Dims()
	bp := newBackprop(n, rows)
	bp.setBatch(X, Y)
	l2 := r.s.L2
	at := make([]float64, len(n.params)) // weights of the last evaluation
	eval := func(x []float64) float64 {
		copy(n.params, x)
		copy(at, x)
		bp.forward()
		return bp.cost()/float64(rows) + n.l2Penalty(l2)
	}
	p := optimize.Problem{
		Func: eval,
		Grad: func(grad, x []float64) {
			if !floats.Equal(x, at) {
				eval(x)
			}
			bp.backward(1/float64(rows), l2, 0)
			copy(grad, bp.grad)
		},
	}
	rec := &lbfgsRecorder{r: r, last: make([]float64, len(n.params))}
	copy(rec.last, n.params)
	settings := &optimize.Settings{
		Recorder:  rec,
		Converger: &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 20},
	}
	x0 := append([]float64(nil), n.params...)
	if f0 := eval(x0); math.IsNaN(f0) || math.IsInf(f0, 0) {
		copy(n.params, x0)
		return r.diverged(1, f0, x0)
	}
	res, _ := optimize.Minimize(p, x0, settings, &optimize.LBFGS{})
	if rec.stopped {
		copy(n.params, rec.last)
		return rec.err
	}
	// gonum stopped by itself: it converged, or its line search found no
	// lower point, which near a minimum is convergence too.
	copy(n.params, rec.last)
	r.report.Stop = Converged
	if res == nil || floats.Equal(res.X, rec.last) || !(res.F < math.Inf(1)) {
		return nil
	}
	copy(n.params, res.X)
	r.finishEpoch(len(r.report.History)+1, res.F, 0)
	if r.report.Stop == MaxEpochs {
		r.report.Stop = Converged
	}
	return nil
}

// lbfgsRecorder turns L-BFGS major iterations into epochs.
type lbfgsRecorder struct {
	r       *run
	started bool      // the starting point has been seen
	last    []float64 // weights of the last epoch
	stopped bool      // Record stopped the minimisation
	err     error     // why, if it is an error
}

func (l *lbfgsRecorder) Init() error { return nil }

var errStop = errors.New("stop")

func (l *lbfgsRecorder) Record(loc *optimize.Location, op optimize.Operation, _ *optimize.Stats) error {
	if op != optimize.MajorIteration {
		return nil
	}
	if !l.started {
		l.started = true
		return nil
	}
	r := l.r
	stop := func(err error) error {
		l.stopped, l.err = true, err
		return errStop
	}
	if err := r.ctx.Err(); err != nil {
		copy(l.last, r.epochStart)
		return stop(r.cancelled())
	}
	if math.IsNaN(loc.F) || math.IsInf(loc.F, 0) {
		copy(l.last, r.epochStart)
		return stop(r.diverged(len(r.report.History)+1, loc.F, r.epochStart))
	}
	copy(r.net.params, loc.X)
	copy(l.last, loc.X)
	e := len(r.report.History) + 1
	if r.finishEpoch(e, loc.F, 0) || e >= r.s.Epochs {
		return stop(nil)
	}
	return nil
}
