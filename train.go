package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// Method is a training algorithm. The zero value is GradientDescent, the
// tutorial's.
type Method int

const (
	// GradientDescent takes one step per epoch on the gradient of the whole
	// training set, as the tutorial's gradient_descent does.
	GradientDescent Method = iota
	// SGD takes one step per mini-batch, with the rows shuffled afresh
	// every epoch.
	SGD
	// Momentum is SGD with classical momentum: v ← μ·v − η·g, w ← w + v.
	Momentum
	// Nesterov is SGD with Nesterov momentum: v ← μ·v − η·g,
	// w ← w + μ·v − η·g.
	Nesterov
	// Adam is SGD with the adaptive moment estimates of Kingma and Ba
	// (2015).
	Adam
	// LBFGS minimises the full-batch cost with gonum's limited-memory BFGS
	// and a line search; each epoch is one major iteration. It suits small
	// problems, which it solves in few iterations.
	LBFGS
)

var methodNames = [...]string{GradientDescent: "gd", SGD: "sgd", Momentum: "momentum", Nesterov: "nesterov", Adam: "adam", LBFGS: "lbfgs"}

// String returns the method's name as ParseMethod accepts it.
func (m Method) String() string {
	if m < 0 || int(m) >= len(methodNames) {
		return fmt.Sprintf("Method(%d)", int(m))
	}
	return methodNames[m]
}

// ParseMethod returns the method named s: "gd", "sgd", "momentum",
// "nesterov", "adam" or "lbfgs".
func ParseMethod(s string) (Method, error) {
	for m, name := range methodNames {
		if s == name {
			return Method(m), nil
		}
	}
	return 0, fmt.Errorf("nn: unknown training method %q (want gd, sgd, momentum, nesterov, adam or lbfgs)", s)
}

// Schedule changes the learning rate from epoch to epoch. The zero value is
// Constant.
type Schedule int

const (
	// Constant keeps the learning rate η.
	Constant Schedule = iota
	// StepDecay multiplies η by DecayRate every DecaySteps epochs:
	// η·DecayRate^⌊epoch/DecaySteps⌋.
	StepDecay
	// InverseTime decays η as η/(1 + DecayRate·epoch).
	InverseTime
)

// Settings configures Train. A nil *Settings means the zero value, whose
// fields all have documented defaults.
type Settings struct {
	// Method is the training algorithm; the zero value is GradientDescent.
	Method Method
	// LearningRate is the step size η. Zero means 0.001 for Adam and 0.1
	// for the others (the tutorial's). LBFGS chooses its own steps.
	LearningRate float64
	// Schedule, DecayRate and DecaySteps change η from epoch to epoch; the
	// zero Schedule keeps it constant. StepDecay needs a DecayRate in
	// (0, 1]; DecaySteps of zero means 1.
	Schedule   Schedule
	DecayRate  float64
	DecaySteps int
	// Epochs is the number of passes over the training data; for
	// GradientDescent it is the tutorial's number of iterations, for LBFGS
	// the number of major iterations. Zero means 200.
	Epochs int
	// BatchSize is the number of rows per step of SGD, Momentum, Nesterov
	// and Adam; zero means min(32, rows). GradientDescent and LBFGS always
	// use every row.
	BatchSize int
	// Momentum is μ for Momentum and Nesterov, in (0, 1); zero means 0.9.
	Momentum float64
	// Beta1, Beta2 and Epsilon are Adam's parameters, β₁ and β₂ in (0, 1);
	// zero means 0.9, 0.999 and 1e-8.
	Beta1, Beta2, Epsilon float64
	// L2 is the weight decay λ: training minimises the mean cost plus
	// ½·λ·Σ‖W‖² over the weights, not the biases. Zero means none.
	L2 float64
	// Tolerance stops training, as Converged, once an epoch's training
	// loss falls below it. Zero means never.
	Tolerance float64

	// ValidationX and ValidationY are a held-out set evaluated after every
	// epoch. If they are nil and ValidationFraction is positive, that
	// fraction of the training rows, chosen at random from Seed, is held
	// out instead.
	ValidationX, ValidationY mat.Matrix
	ValidationFraction       float64
	// Patience stops training after that many epochs in a row without the
	// monitored loss (validation loss if there is a validation set, else
	// training loss) improving by more than MinDelta, whose zero value
	// counts any improvement. With a validation set or a positive Patience,
	// the weights of the best epoch are restored at the end. Zero means no
	// early stopping.
	Patience int
	MinDelta float64

	// Seed seeds the shuffling of mini-batches and the choice of held-out
	// rows.
	Seed uint64
	// Progress, if not nil, is called after every epoch.
	Progress func(Epoch)

	// CheckpointEvery and Checkpoint save the state of training: if both
	// are set, Checkpoint is called after every CheckpointEvery epochs
	// (and after the last) with everything needed to resume. An error from
	// Checkpoint stops training and is returned. The Checkpoint value is
	// reused between calls: save it before returning.
	CheckpointEvery int
	Checkpoint      func(*Checkpoint) error
	// Resume continues training from a checkpoint written by an earlier
	// run with the same data and settings; that run and this one then end
	// with the same weights as one uninterrupted run. Nil starts afresh.
	Resume *Checkpoint
}

// Checkpoint is the state of a training run after a finished epoch. Its
// exported fields are plain data so that it can be stored (see
// SaveCheckpoint) and given back as Settings.Resume.
type Checkpoint struct {
	// Epoch is the number of finished epochs.
	Epoch int
	// Method is the training method the state belongs to.
	Method Method
	// Params are the network's weights and biases, as Network.Params.
	Params []float64
	// Steps, Moment1 and Moment2 are the optimizer's state: the number of
	// steps (updates) taken, the momentum velocity or Adam's first moment, and
	// Adam's second moment (nil where the method has none).
	Steps            int
	Moment1, Moment2 []float64
	// Random is the state of the shuffling source.
	Random []byte
	// History is the report so far.
	History []Epoch
	// Best, BestEpoch, BestParams and Wait are the early-stopping state:
	// the best monitored loss, its epoch and weights (nil unless kept),
	// and the epochs since it improved.
	Best       float64
	BestEpoch  int
	BestParams []float64
	Wait       int
}

// Epoch describes one finished epoch of training.
type Epoch struct {
	// Epoch counts from 1.
	Epoch int
	// Loss is the training loss: the mean cost per example plus the L2
	// penalty of the weights at the end of the epoch. For GradientDescent
	// and LBFGS the cost is measured after the epoch's update, as the
	// tutorial's cost_check; for mini-batch methods it is the mean of the
	// batches' costs, each measured before its batch's update.
	Loss float64
	// ValLoss is the mean cost per example of the validation set after
	// the epoch, without the L2 penalty, so that it compares with
	// Network.Cost; ValAccuracy is the fraction of validation examples
	// classified right (see Network.ClassesTo). Both are NaN without a
	// validation set, and ValAccuracy is NaN for SquaredError loss.
	ValLoss, ValAccuracy float64
	// LearningRate is the step size used in the epoch; 0 for LBFGS, whose
	// line search chooses its steps.
	LearningRate float64
	// Elapsed is the wall time since training started.
	Elapsed time.Duration
}

// StopReason says why training stopped.
type StopReason int

const (
	// MaxEpochs: all Settings.Epochs ran.
	MaxEpochs StopReason = iota
	// Converged: the loss fell below Settings.Tolerance, or LBFGS found a
	// minimum.
	Converged
	// Patience: the monitored loss stopped improving.
	Patience
	// Cancelled: the context was cancelled.
	Cancelled
	// Diverged: the loss became NaN or infinite.
	Diverged
)

var stopNames = [...]string{MaxEpochs: "max epochs", Converged: "converged", Patience: "patience", Cancelled: "cancelled", Diverged: "diverged"}

// String describes the reason in words.
func (r StopReason) String() string {
	if r < 0 || int(r) >= len(stopNames) {
		return fmt.Sprintf("StopReason(%d)", int(r))
	}
	return stopNames[r]
}

// Report is the outcome of Train.
type Report struct {
	// History holds one entry per finished epoch.
	History []Epoch
	// Stop says why training ended.
	Stop StopReason
	// BestEpoch is the epoch whose weights the network holds at the end
	// when early stopping restored them, else the last finished epoch.
	// (After divergence the network holds the weights from before the step
	// that diverged, which may lie inside the epoch after BestEpoch.)
	BestEpoch int
	// Elapsed is the wall time of the whole run.
	Elapsed time.Duration
}

// Loss returns the training loss of every epoch, the tutorial's cost_check.
func (r *Report) Loss() []float64 {
	l := make([]float64, len(r.History))
	for i, e := range r.History {
		l[i] = e.Loss
	}
	return l
}

// ErrDiverged is wrapped by the error Train returns when the loss becomes NaN
// or infinite.
var ErrDiverged = errors.New("training diverged")

// withDefaults returns s with zero fields replaced by their defaults.
func (s *Settings) withDefaults() Settings {
	var c Settings
	if s != nil {
		c = *s
	}
	if c.LearningRate == 0 {
		c.LearningRate = 0.1
		if c.Method == Adam {
			c.LearningRate = 0.001
		}
	}
	if c.Epochs == 0 {
		c.Epochs = 200
	}
	if c.DecaySteps == 0 {
		c.DecaySteps = 1
	}
	if c.Momentum == 0 {
		c.Momentum = 0.9
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Epsilon == 0 {
		c.Epsilon = 1e-8
	}
	return c
}

func (s *Settings) validate() error {
	switch {
	case s.Method < GradientDescent || s.Method > LBFGS:
		return fmt.Errorf("nn: unknown Settings.Method %v", s.Method)
	case !(s.LearningRate > 0) || math.IsInf(s.LearningRate, 0):
		return fmt.Errorf("nn: Settings.LearningRate is %v, want a positive number", s.LearningRate)
	case s.Epochs < 0:
		return fmt.Errorf("nn: Settings.Epochs is %d, want a positive number", s.Epochs)
	case s.BatchSize < 0:
		return fmt.Errorf("nn: Settings.BatchSize is %d, want a positive number", s.BatchSize)
	case s.L2 < 0 || math.IsNaN(s.L2):
		return fmt.Errorf("nn: Settings.L2 is %v, want zero or more", s.L2)
	case s.ValidationFraction < 0 || s.ValidationFraction >= 1 || math.IsNaN(s.ValidationFraction):
		return fmt.Errorf("nn: Settings.ValidationFraction is %v, want a fraction in [0, 1)", s.ValidationFraction)
	case s.Patience < 0:
		return fmt.Errorf("nn: Settings.Patience is %d, want zero or more", s.Patience)
	case !(s.Momentum > 0 && s.Momentum < 1), !(s.Beta1 > 0 && s.Beta1 < 1), !(s.Beta2 > 0 && s.Beta2 < 1):
		return fmt.Errorf("nn: Settings.Momentum, Beta1 and Beta2 are %v, %v and %v; each must lie in (0, 1), or be zero for its default", s.Momentum, s.Beta1, s.Beta2)
	case s.Schedule < Constant || s.Schedule > InverseTime:
		return fmt.Errorf("nn: unknown Settings.Schedule %d", s.Schedule)
	case s.DecaySteps < 0:
		return fmt.Errorf("nn: Settings.DecaySteps is %d, want zero or more", s.DecaySteps)
	case s.Schedule == StepDecay && !(s.DecayRate > 0 && s.DecayRate <= 1):
		return fmt.Errorf("nn: Settings.DecayRate is %v, want a factor in (0, 1] for StepDecay", s.DecayRate)
	case !(s.DecayRate >= 0) || math.IsInf(s.DecayRate, 0):
		return fmt.Errorf("nn: Settings.DecayRate is %v, want a finite rate of zero or more", s.DecayRate)
	case !(s.MinDelta >= 0) || math.IsInf(s.MinDelta, 0):
		return fmt.Errorf("nn: Settings.MinDelta is %v, want a finite value of zero or more", s.MinDelta)
	case !(s.Tolerance >= 0) || math.IsInf(s.Tolerance, 0):
		return fmt.Errorf("nn: Settings.Tolerance is %v, want a finite value of zero or more", s.Tolerance)
	case !(s.Epsilon > 0) || math.IsInf(s.Epsilon, 0):
		return fmt.Errorf("nn: Settings.Epsilon is %v, want a small positive number", s.Epsilon)
	case s.CheckpointEvery < 0:
		return fmt.Errorf("nn: Settings.CheckpointEvery is %d, want zero or more", s.CheckpointEvery)
	case s.Method == LBFGS && (s.Resume != nil || s.CheckpointEvery > 0):
		return errors.New("nn: LBFGS keeps its curvature memory inside gonum's optimizer and cannot be checkpointed; train small problems in one run")
	}
	return nil
}

// rate returns the learning rate of the given 0-based epoch.
func (s *Settings) rate(epoch int) float64 {
	switch s.Schedule {
	case StepDecay:
		return s.LearningRate * math.Pow(s.DecayRate, float64(epoch/s.DecaySteps))
	case InverseTime:
		return s.LearningRate / (1 + s.DecayRate*float64(epoch))
	}
	return s.LearningRate
}

// Trainer takes training steps on batches the caller supplies, for data
// that arrives in a stream. It keeps the optimizer's state and the buffers
// of backpropagation between steps, so a step allocates nothing once warm.
// Train is built on it.
type Trainer struct {
	net *Network
	s   Settings
	lr  float64
	t   int // steps taken: for Adam's bias correction and flushing tiny state

	bp     map[int]*backprop // by batch rows
	m, v   []float64         // momentum velocity or Adam's first moment; Adam's second moment
	helper *helper           // splits large updates; nil if not worth it

	penalty float64   // L2 penalty of the weights before the last step
	prev    []float64 // if not nil, the weights before the last update
}

// NewTrainer returns a Trainer that updates n by the method of s (nil means
// defaults; see Settings). It returns an error if s is invalid or its method
// is LBFGS, which needs the whole data set: use Train for it.
func NewTrainer(n *Network, s *Settings) (*Trainer, error) {
	c := s.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Method == LBFGS {
		return nil, errors.New("nn: a Trainer takes one step at a time; use Train for LBFGS")
	}
	t := &Trainer{net: n, s: c, lr: c.LearningRate, bp: make(map[int]*backprop)}
	// Gradient descent and SGD update inside the products and need no help.
	if c.Method != GradientDescent && c.Method != SGD && len(n.params) >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		t.helper = newHelper()
		runtime.AddCleanup(t, func(work chan updateJob) { close(work) }, t.helper.work)
	}
	switch c.Method {
	case Momentum, Nesterov:
		t.m = make([]float64, len(n.params))
	case Adam:
		t.m = make([]float64, len(n.params))
		t.v = make([]float64, len(n.params))
	}
	return t, nil
}

// SetLearningRate sets the step size of the following steps. It panics if
// lr is not a positive finite number.
func (t *Trainer) SetLearningRate(lr float64) {
	if !(lr > 0) || math.IsInf(lr, 0) {
		panic(fmt.Sprintf("nn: learning rate %v, want a positive number", lr))
	}
	t.lr = lr
}

// Step takes one training step on the batch x, y: forward pass, loss,
// backpropagation of the gradient of the mean loss plus the L2 penalty, and
// one update. It returns the batch's loss (mean cost plus L2 penalty)
// before the update. It returns an error, and leaves the network unchanged,
// if x or y does not fit the network or holds NaN or infinite values, or if
// the loss is not finite (an error wrapping ErrDiverged: an earlier step
// has made the weights overflow). Step does not check the weights after its
// own update; Train does.
func (t *Trainer) Step(x, y *mat.Dense) (float64, error) {
	if err := t.net.checkInput("X", x); err != nil {
		return 0, err
	}
	r, _ := x.Dims()
	if err := t.net.checkTarget("Y", y, r); err != nil {
		return 0, err
	}
	cost := t.step(x, y)
	if math.IsNaN(cost) || math.IsInf(cost, 0) {
		return cost, fmt.Errorf("nn: batch loss is %v: %w; try a lower learning rate", cost, ErrDiverged)
	}
	return cost + t.penalty, nil
}

// buffers returns the backpropagation buffers for batches of r rows. It
// keeps those of a few batch sizes (a full and a last, shorter batch), not
// of every size a stream of batches may bring.
func (t *Trainer) buffers(r int) *backprop {
	bp := t.bp[r]
	if bp == nil {
		if len(t.bp) >= 4 {
			clear(t.bp)
		}
		bp = newBackprop(t.net, r)
		t.bp[r] = bp
	}
	return bp
}

// step is Step without the checks. It returns the batch's mean cost,
// without the L2 penalty, which it leaves in t.penalty. If the cost is not
// finite, it returns it without updating the network. If t.prev is not nil
// it receives the weights from before the update.
func (t *Trainer) step(x, y *mat.Dense) float64 {
	r, _ := x.Dims()
	bp := t.buffers(r)
	bp.setBatch(x, y)
	bp.forward()
	cost := bp.cost() / float64(r)
	if math.IsNaN(cost) || math.IsInf(cost, 0) {
		return cost
	}
	t.penalty = t.net.l2Penalty(t.s.L2)
	if t.prev != nil {
		copy(t.prev, t.net.params)
	}
	if t.s.Method == GradientDescent || t.s.Method == SGD {
		// The update goes into the weight-gradient products themselves.
		t.t++
		bp.backward(1/float64(r), t.s.L2, t.lr)
		return cost
	}
	bp.backward(1/float64(r), t.s.L2, 0)
	t.update(bp.grad)
	return cost
}

// update applies one step of the optimizer with gradient g. Large networks
// split the parameters with a helper goroutine when more than one processor
// is available.
func (t *Trainer) update(g []float64) {
	j := updateJob{method: t.s.Method, w: t.net.params, g: g, m: t.m, v: t.v, lr: t.lr, mu: t.s.Momentum, b1: t.s.Beta1, b2: t.s.Beta2}
	t.t++
	if t.s.Method == Adam {
		// Fold the bias corrections of m and v into the step size and ε.
		c2 := math.Sqrt(1 - math.Pow(t.s.Beta2, float64(t.t)))
		j.lr = t.lr * c2 / (1 - math.Pow(t.s.Beta1, float64(t.t)))
		j.eps = t.s.Epsilon * c2
	}
	if t.m != nil && t.t%flushEvery == 0 {
		flushTiny(t.m)
		flushTiny(t.v)
	}
	n := len(g)
	if n < parallelMin || t.helper == nil {
		j.run(0, n)
		return
	}
	// Split at a multiple of four, so that every parameter goes through the
	// same (vector or scalar) arithmetic whatever GOMAXPROCS is.
	half := (n / 2) &^ 3
	j.lo, j.hi = half, n
	t.helper.work <- j
	j.run(0, half)
	<-t.helper.done
}

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
	lo, hi     int
}

func (j *updateJob) run(lo, hi int) {
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
	case Adam:
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

// Train fits n to the inputs x and targets y (one example per row) as s
// describes (nil means defaults) and reports how it went. It returns an
// error if the data do not fit the network or hold NaN or infinite values,
// if s is invalid, if the context is cancelled (n then holds the weights of
// the last finished epoch), or if the loss diverges (the error wraps
// ErrDiverged and n holds the weights from before the step that diverged).
// In the last two cases the report describes the epochs that finished.
func Train(ctx context.Context, n *Network, x, y mat.Matrix, s *Settings) (*Report, error) {
	start := time.Now()
	c := s.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := n.checkInput("X", x); err != nil {
		return nil, err
	}
	rows, _ := x.Dims()
	if err := n.checkTarget("Y", y, rows); err != nil {
		return nil, err
	}
	X, Y := asDense(x), asDense(y)
	pcg := rand.NewPCG(c.Seed, 0x6e6e2d747261696e) // "nn-train"
	rnd := rand.New(pcg)

	var vx, vy *mat.Dense
	switch {
	case c.ValidationX != nil || c.ValidationY != nil:
		if c.ValidationX == nil || c.ValidationY == nil {
			return nil, errors.New("nn: Settings.ValidationX and ValidationY must be given together")
		}
		if err := n.checkInput("ValidationX", c.ValidationX); err != nil {
			return nil, err
		}
		vr, _ := c.ValidationX.Dims()
		if err := n.checkTarget("ValidationY", c.ValidationY, vr); err != nil {
			return nil, err
		}
		vx, vy = asDense(c.ValidationX), asDense(c.ValidationY)
	case c.ValidationFraction > 0:
		k := int(math.Round(c.ValidationFraction * float64(rows)))
		if k < 1 || k >= rows {
			return nil, fmt.Errorf("nn: Settings.ValidationFraction %v of %d rows leaves no validation or no training rows", c.ValidationFraction, rows)
		}
		perm := rnd.Perm(rows)
		vx, vy = gatherRows(X, perm[:k]), gatherRows(Y, perm[:k])
		X, Y = gatherRows(X, perm[k:]), gatherRows(Y, perm[k:])
		rows -= k
	}

	r := &run{net: n, s: &c, ctx: ctx, start: start, report: &Report{}}
	r.best = math.Inf(1)
	r.keepBest = vx != nil || c.Patience > 0
	r.epochStart = make([]float64, len(n.params))
	copy(r.epochStart, n.params)
	if r.keepBest {
		r.bestParams = make([]float64, len(n.params))
		copy(r.bestParams, n.params)
	}
	if vx != nil {
		vr, _ := vx.Dims()
		r.val = newBackprop(n, vr)
		r.val.setBatch(vx, vy)
		if n.loss != SquaredError {
			r.valLabels = n.ClassesTo(nil, vy)
		}
	}

	var err error
	switch {
	case c.Method == LBFGS:
		err = r.lbfgs(X, Y)
	default:
		r.trainer, err = NewTrainer(n, &c)
		if err == nil && c.Resume != nil {
			err = r.resume(c.Resume, pcg)
		}
		if err == nil {
			err = r.descend(X, Y, rnd, pcg)
		}
	}
	if r.keepBest && r.report.Stop != Diverged && r.report.Stop != Cancelled && r.bestEpoch > 0 {
		copy(n.params, r.bestParams)
		r.report.BestEpoch = r.bestEpoch
	} else {
		r.report.BestEpoch = len(r.report.History)
	}
	r.report.Elapsed = time.Since(start)
	return r.report, err
}

// run is the state of one call to Train.
type run struct {
	net    *Network
	s      *Settings
	ctx    context.Context
	start  time.Time
	report *Report

	epochStart []float64 // weights at the end of the last finished epoch
	keepBest   bool
	best       float64 // best monitored loss
	bestEpoch  int
	bestParams []float64
	wait       int // epochs without improvement

	val       *backprop // validation set, or nil
	valLabels []int
	valPred   []int

	trainer    *Trainer // for the gradient methods
	elapsed0   time.Duration
	checkpoint Checkpoint
}

// resume restores the state saved in c.
func (r *run) resume(c *Checkpoint, pcg *rand.PCG) error {
	n, t := r.net, r.trainer
	bad := func(what string) error {
		return fmt.Errorf("nn: cannot resume from the checkpoint: %s", what)
	}
	switch {
	case c.Method != r.s.Method:
		return bad(fmt.Sprintf("it was written by method %v, not %v", c.Method, r.s.Method))
	case len(c.Params) != len(n.params):
		return bad(fmt.Sprintf("it holds %d parameters, the network has %d", len(c.Params), len(n.params)))
	case len(c.Moment1) != len(t.m) || len(c.Moment2) != len(t.v):
		return bad("its optimizer state does not fit the method")
	case c.Epoch < 0 || c.Epoch != len(c.History):
		return bad(fmt.Sprintf("epoch %d does not match its history of %d epochs", c.Epoch, len(c.History)))
	case r.keepBest && len(c.BestParams) != len(n.params):
		return bad("it holds no best weights to restore, or weights that do not fit the network; resume with the settings it was written with")
	}
	if err := pcg.UnmarshalBinary(c.Random); err != nil {
		return bad(fmt.Sprintf("random state: %v", err))
	}
	copy(n.params, c.Params)
	copy(r.epochStart, c.Params)
	t.t = c.Steps
	copy(t.m, c.Moment1)
	copy(t.v, c.Moment2)
	r.report.History = append(r.report.History[:0], c.History...)
	if len(c.History) > 0 {
		r.elapsed0 = c.History[len(c.History)-1].Elapsed
	}
	r.best, r.bestEpoch, r.wait = c.Best, c.BestEpoch, c.Wait
	if r.keepBest {
		copy(r.bestParams, c.BestParams)
	}
	return nil
}

// save passes the state after epoch e to the Checkpoint callback when one
// is due.
func (r *run) save(e int, last bool, pcg *rand.PCG) error {
	if r.s.CheckpointEvery == 0 || r.s.Checkpoint == nil || (e%r.s.CheckpointEvery != 0 && !last) {
		return nil
	}
	t, c := r.trainer, &r.checkpoint
	m1, m2, best := c.Moment1, c.Moment2, c.BestParams // reused
	rs, err := pcg.MarshalBinary()
	if err != nil {
		return err
	}
	*c = Checkpoint{
		Epoch:     e,
		Method:    r.s.Method,
		Params:    append(c.Params[:0], r.net.params...),
		Steps:     t.t,
		Random:    rs,
		History:   append(c.History[:0], r.report.History...),
		Best:      r.best,
		BestEpoch: r.bestEpoch,
		Wait:      r.wait,
	}
	if t.m != nil {
		c.Moment1 = append(m1[:0], t.m...)
	}
	if t.v != nil {
		c.Moment2 = append(m2[:0], t.v...)
	}
	if r.keepBest {
		c.BestParams = append(best[:0], r.bestParams...)
	}
	if err := r.s.Checkpoint(c); err != nil {
		return fmt.Errorf("nn: checkpoint after epoch %d: %w", e, err)
	}
	return nil
}

// finishEpoch records epoch e (1-based) and reports whether training stops.
func (r *run) finishEpoch(e int, loss, lr float64) bool {
	ep := Epoch{Epoch: e, Loss: loss, LearningRate: lr, ValLoss: math.NaN(), ValAccuracy: math.NaN()}
	monitored := loss
	if r.val != nil {
		r.val.forward()
		ep.ValLoss = r.val.cost() / float64(r.val.rows)
		monitored = ep.ValLoss
		if r.valLabels != nil {
			r.valPred = r.net.ClassesTo(r.valPred, r.val.a[len(r.val.a)-1])
			hits := 0
			for i, c := range r.valPred {
				if c == r.valLabels[i] {
					hits++
				}
			}
			ep.ValAccuracy = float64(hits) / float64(len(r.valPred))
		}
	}
	ep.Elapsed = r.elapsed0 + time.Since(r.start)
	r.report.History = append(r.report.History, ep)
	copy(r.epochStart, r.net.params)
	if r.s.Progress != nil {
		r.s.Progress(ep)
	}
	if monitored < r.best-r.s.MinDelta {
		r.best, r.bestEpoch, r.wait = monitored, e, 0
		if r.keepBest {
			copy(r.bestParams, r.net.params)
		}
	} else {
		r.wait++
	}
	switch {
	case r.s.Tolerance > 0 && loss < r.s.Tolerance:
		r.report.Stop = Converged
		return true
	case r.s.Patience > 0 && r.wait >= r.s.Patience:
		r.report.Stop = Patience
		return true
	}
	return false
}

// cancelled reports whether the context is done, and if so restores the
// weights of the last finished epoch.
func (r *run) cancelled() error {
	if err := r.ctx.Err(); err != nil {
		copy(r.net.params, r.epochStart)
		r.report.Stop = Cancelled
		return fmt.Errorf("nn: training stopped after %d epochs: %w", len(r.report.History), err)
	}
	return nil
}

// diverged restores the weights prev from before the step that diverged,
// or, if an earlier step had already overflowed them without the loss
// showing it, those at the end of the last finished epoch.
func (r *run) diverged(e int, loss float64, prev []float64) error {
	if !paramsFinite(prev) {
		prev = r.epochStart
	}
	copy(r.net.params, prev)
	r.report.Stop = Diverged
	what := fmt.Sprintf("loss became %v", loss)
	if !math.IsNaN(loss) && !math.IsInf(loss, 0) {
		what = "weights overflowed"
	}
	if r.s.Method == LBFGS {
		return fmt.Errorf("nn: %s in epoch %d: %w; scale the inputs or add L2 weight decay", what, e, ErrDiverged)
	}
	return fmt.Errorf("nn: %s in epoch %d: %w; try a lower learning rate (it was %v)", what, e, ErrDiverged, r.s.rate(e-1))
}

// descend runs the gradient methods.
func (r *run) descend(X, Y *mat.Dense, rnd *rand.Rand, pcg *rand.PCG) error {
	t := r.trainer
	rows, cols := X.Dims()
	_, outs := Y.Dims()
	// The weights before the last update, restored if the loss diverges.
	t.prev = make([]float64, len(r.net.params))
	copy(t.prev, r.net.params)
	prev := t.prev
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	// end finishes epoch e and reports whether training stops, and why not
	// with an error.
	end := func(e int, loss float64) (bool, error) {
		stop := r.finishEpoch(e, loss, t.lr)
		return stop, r.save(e, stop || e == r.s.Epochs, pcg)
	}
	first := len(r.report.History) + 1

	if r.s.Method == GradientDescent {
		bp := t.buffers(rows)
		bp.setBatch(X, Y)
		bp.forward()
		for e := first; e <= r.s.Epochs; e++ {
			if err := r.cancelled(); err != nil {
				return err
			}
			t.lr = r.s.rate(e - 1)
			copy(prev, r.net.params)
			t.t++
			bp.backward(1/float64(rows), r.s.L2, t.lr)
			// The cost after the update, as the tutorial's cost_check.
			bp.forward()
			loss := bp.cost()/float64(rows) + r.net.l2Penalty(r.s.L2)
			if !finite(loss) || !paramsFinite(r.net.params) {
				return r.diverged(e, loss, prev)
			}
			if stop, err := end(e, loss); stop || err != nil {
				return err
			}
		}
		return nil
	}

	batch := r.s.BatchSize
	if batch == 0 {
		batch = 32
	}
	batch = min(batch, rows)
	perm := make([]int, rows)
	for i := range perm {
		perm[i] = i
	}
	xb := mat.NewDense(batch, cols, nil)
	yb := mat.NewDense(batch, outs, nil)
	var xr, yr *mat.Dense // the last, shorter batch
	if rem := rows % batch; rem != 0 {
		xr = mat.NewDense(rem, cols, xb.RawMatrix().Data[:rem*cols])
		yr = mat.NewDense(rem, outs, yb.RawMatrix().Data[:rem*outs])
	}
	for e := first; e <= r.s.Epochs; e++ {
		t.lr = r.s.rate(e - 1)
		// Each epoch shuffles the identity permutation afresh, so that an
		// epoch depends only on the random state at its start.
		for i := range perm {
			perm[i] = i
		}
		rnd.Shuffle(rows, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		for off := 0; off < rows; off += batch {
			if err := r.cancelled(); err != nil {
				return err
			}
			idx := perm[off:min(off+batch, rows)]
			bx, by := xb, yb
			if len(idx) < batch {
				bx, by = xr, yr
			}
			gatherRowsTo(bx, X, idx)
			gatherRowsTo(by, Y, idx)
			cost := t.step(bx, by)
			if !finite(cost) {
				return r.diverged(e, cost, prev)
			}
			sum += cost * float64(len(idx))
		}
		// An update can overflow while the loss before it was finite.
		if !paramsFinite(r.net.params) {
			return r.diverged(e, sum/float64(rows), prev)
		}
		loss := sum/float64(rows) + r.net.l2Penalty(r.s.L2)
		if stop, err := end(e, loss); stop || err != nil {
			return err
		}
	}
	return nil
}

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

// paramsFinite reports whether every element of p is finite.
func paramsFinite(p []float64) bool { return nonFinite(p) == 0 }

// gatherRows returns the rows idx of m as a new matrix.
func gatherRows(m *mat.Dense, idx []int) *mat.Dense {
	_, c := m.Dims()
	dst := mat.NewDense(len(idx), c, nil)
	gatherRowsTo(dst, m, idx)
	return dst
}

// gatherRowsTo copies the rows idx of m into the rows of dst.
func gatherRowsTo(dst, m *mat.Dense, idx []int) {
	src, d := m.RawMatrix(), dst.RawMatrix()
	for i, k := range idx {
		copy(d.Data[i*d.Stride:i*d.Stride+d.Cols], src.Data[k*src.Stride:k*src.Stride+src.Cols])
	}
}
