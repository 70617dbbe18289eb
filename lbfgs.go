package nn

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// lbfgs minimises the full-batch loss with gonum's L-BFGS, one epoch per
// major iteration. gonum counts the starting point as a major iteration,
// so the iteration limit is one more than the epochs left; it passes every
// major iteration to the Recorder (lbfgsEpochs) except the one at which a
// limit or a convergence test stops it, which becomes the last epoch here.
// Cancellation reaches gonum through Problem.Status, which it calls after
// every evaluation.
func (r *run) lbfgs(X, Y *mat.Dense) error {
	n := r.net
	p, eval := r.lbfgsProblem(X, Y)
	rec := &lbfgsEpochs{r: r}
	settings := &optimize.Settings{
		MajorIterations: r.s.Epochs + 1, // L-BFGS starts afresh: it cannot resume
		Recorder:        rec,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 20},
	}
	x0 := append([]float64(nil), n.params...)
	if f0 := eval(x0); !finite(f0) {
		copy(n.params, x0)
		return r.diverged(1, f0, x0)
	}
	res, err := optimize.Minimize(p, x0, settings, &optimize.LBFGS{})
	// n holds the weights of gonum's last evaluation, which may be a trial
	// point of a line search: go back to those of the last epoch.
	copy(n.params, r.epochStart)
	switch {
	case errors.Is(err, errStop):
		// The Recorder stopped at an epoch: early stopping, the target
		// loss, or divergence.
		return rec.err
	case err != nil && r.ctx.Err() != nil:
		return r.cancelled()
	case err != nil && !lineSearchEnded(err):
		return fmt.Errorf("nn: L-BFGS stopped after %d epochs: %w", len(r.report.History), err)
	}
	// gonum stopped by itself: at the iteration limit, by a convergence
	// test, or because its line search found no lower point, which near a
	// minimum is convergence too.
	if res.Status != optimize.IterationLimit {
		r.report.Stop = Converged
	}
	if floats.Equal(res.X, r.epochStart) {
		return nil // no major iteration since the last epoch
	}
	_, err = r.lbfgsEpoch(res.X, res.F)
	return err
}

// lbfgsProblem returns the full-batch training loss on X, Y as gonum's
// Problem, and its evaluation alone. Its Status ends the minimisation when
// the run's context is cancelled.
func (r *run) lbfgsProblem(X, Y *mat.Dense) (p optimize.Problem, eval func([]float64) float64) {
	n := r.net
	rows, _ := X.Dims()
	bp := newBackprop(n, rows)
	bp.weighted = r.weighted
	bp.setBatch(X, Y)
	l2 := r.s.L2
	at := make([]float64, len(n.params)) // weights of the last evaluation
	eval = func(x []float64) float64 {
		copy(n.params, x)
		copy(at, x)
		bp.forward()
		return bp.cost()/float64(rows) + n.l2Penalty(l2)
	}
	p = optimize.Problem{
		Func: eval,
		Grad: func(grad, x []float64) {
			if !floats.Equal(x, at) {
				eval(x)
			}
			bp.backward(1/float64(rows), l2)
			copy(grad, bp.grad)
		},
		Status: func() (optimize.Status, error) {
			if err := r.ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	return p, eval
}

// lineSearchEnded reports whether err is the failure of a line search to
// find a lower point, which ends L-BFGS near a minimum.
func lineSearchEnded(err error) bool {
	return errors.Is(err, optimize.ErrNoProgress) || errors.Is(err, optimize.ErrLinesearcherFailure) || errors.Is(err, optimize.ErrNonDescentDirection)
}

// lbfgsEpoch makes the major iteration at x, with loss f, the next epoch.
// It reports whether training stops, with an error if it diverged.
func (r *run) lbfgsEpoch(x []float64, f float64) (stop bool, err error) {
	e := len(r.report.History) + 1
	if !finite(f) {
		return true, r.diverged(e, f, r.epochStart)
	}
	copy(r.net.params, x)
	return r.finishEpoch(e, f, 0), nil
}

// lbfgsEpochs is the optimize.Recorder that turns the major iterations of
// L-BFGS after the starting point into epochs.
type lbfgsEpochs struct {
	r       *run
	started bool  // the starting point has been seen
	err     error // why the Recorder stopped, if it is an error
}

// errStop is what lbfgsEpochs returns to stop the minimisation.
var errStop = errors.New("stop")

// Init is called before the minimisation; there is nothing to set up.
func (l *lbfgsEpochs) Init() error { return nil }

// Record makes every major iteration after the starting point an epoch,
// and stops the minimisation when the epoch stops training.
func (l *lbfgsEpochs) Record(loc *optimize.Location, op optimize.Operation, _ *optimize.Stats) error {
	if op != optimize.MajorIteration {
		return nil
	}
	if !l.started {
		l.started = true
		return nil
	}
	stop, err := l.r.lbfgsEpoch(loc.X, loc.F)
	if stop {
		l.err = err
		return errStop
	}
	return nil
}
