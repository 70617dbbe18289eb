package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"gonum.org/v1/gonum/mat"
)

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

	weighted bool      // batches' targets hold the rows' weights in a last column (Train with Settings.Weights)
	dropRNG  *rand.PCG // the source of dropout masks, nil without dropout

	f32 *trainer32 // the float32 state, with Settings.Precision Float32; nil in float64
}

// NewTrainer returns a Trainer that updates n by the method of s (nil means
// defaults; see Settings). It returns an error if s is invalid or its method
// is LBFGS, which needs the whole data set: use Train for it, and one
// wrapping ErrMemoryBudget if the optimizer's state would not fit in the
// memory budget (see SetMemoryBudget).
func NewTrainer(n *Network, s *Settings) (*Trainer, error) {
	c := s.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Method == LBFGS {
		return nil, errors.New("nn: a Trainer takes one step at a time; use Train for LBFGS")
	}
	state := optimizerVectors(c.Method) * float64(len(n.params)) * float64Bytes
	if c.Precision == Float32 {
		state *= 1.5 // and its float32 copy
	}
	if err := overBudget(state, fmt.Sprintf("the %v optimizer's state for %d parameters", c.Method, len(n.params))); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	if err := c.checkDropout(n); err != nil {
		return nil, err
	}
	t := &Trainer{net: n, s: c, lr: c.LearningRate, bp: make(map[int]*backprop)}
	if slices.ContainsFunc(c.Dropout, func(p float64) bool { return p > 0 }) {
		t.dropRNG = rand.NewPCG(c.Seed, 0x6e6e2d64726f70) // "nn-drop"
	}
	// Gradient descent and SGD update inside the products and need no
	// help, unless the gradient is clipped first.
	if (c.Method != GradientDescent && c.Method != SGD || c.ClipNorm > 0) && len(n.params) >= parallelMin && runtime.GOMAXPROCS(0) > 1 {
		t.helper = newHelper()
		runtime.AddCleanup(t, func(work chan updateJob) { close(work) }, t.helper.work)
	}
	switch c.Method {
	case Momentum, Nesterov:
		t.m = make([]float64, len(n.params))
	case Adam, AdamW:
		t.m = make([]float64, len(n.params))
		t.v = make([]float64, len(n.params))
	}
	if c.Precision == Float32 {
		t.f32 = newTrainer32(n, c.Method)
	}
	return t, nil
}

// optimizerVectors returns the number of vectors as long as the parameters
// that a Trainer of the method keeps: the weights before the last step,
// and the velocity, or Adam's two moments.
func optimizerVectors(m Method) float64 {
	switch m {
	case Momentum, Nesterov:
		return 2
	case Adam, AdamW:
		return 3
	}
	return 1
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
// has made the weights overflow), and one wrapping ErrMemoryBudget if the
// buffers of a batch of a size it has not seen would not fit in the memory
// budget (see SetMemoryBudget). Step does not check the weights after its
// own update; Train does.
//
// With Settings.Precision Float32, the Trainer trains a float32 copy of
// the network's weights, rounded when the Trainer is made, and writes it
// back to the network after every step: the network then holds float32
// values, and changes made to its weights between steps are not seen.
func (t *Trainer) Step(x, y *mat.Dense) (float64, error) {
	if err := t.net.checkInput("X", x); err != nil {
		return 0, err
	}
	r, _ := x.Dims()
	if err := t.net.checkTarget("Y", y, r); err != nil {
		return 0, err
	}
	if t.f32 == nil && t.bp[r] == nil || t.f32 != nil && t.f32.bp[r] == nil {
		bytes := t.net.backpropBytes(r)
		if t.f32 != nil {
			bytes = t.net.backprop32Bytes(r)
		}
		if err := overBudget(bytes, fmt.Sprintf("the buffers of a batch of %d rows", r)); err != nil {
			return 0, fmt.Errorf("nn: %w", err)
		}
	}
	cost := t.step(x, y)
	t.syncParams()
	if !finite(cost) {
		if err := t.rangeError(); err != nil {
			return cost, err
		}
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
		bp.weighted = t.weighted
		if t.dropRNG != nil {
			bp.setDropout(t.s.Dropout, t.dropRNG)
		}
		t.bp[r] = bp
	}
	return bp
}

// step is Step without the checks. It returns the batch's mean cost,
// without the L2 penalty, which it leaves in t.penalty. If the cost is not
// finite, it returns it without updating the network.
func (t *Trainer) step(x, y *mat.Dense) float64 {
	if t.f32 != nil {
		return t.step32(x, y)
	}
	r, _ := x.Dims()
	bp := t.buffers(r)
	bp.setBatch(x, y)
	bp.forward()
	cost := bp.cost() / float64(r)
	if !finite(cost) {
		return cost
	}
	t.penalty = t.net.l2Penalty(t.s.L2)
	t.apply(bp)
	return cost
}

// apply updates the network by one step of the optimizer on the batch of
// bp, whose forward pass is done. If t.prev is not nil it receives the
// weights from before the update.
func (t *Trainer) apply(bp *backprop) {
	if t.prev != nil {
		copy(t.prev, t.net.params)
	}
	t.t++
	scale := 1 / float64(bp.rows) // the gradient of the mean cost
	if (t.s.Method == GradientDescent || t.s.Method == SGD) && t.s.ClipNorm == 0 {
		// The update goes into the weight-gradient products themselves.
		bp.descend(scale, t.s.L2, t.lr)
		return
	}
	bp.backward(scale, t.s.L2)
	if c := t.s.ClipNorm; c > 0 {
		clipNorm(bp.grad, c)
	}
	t.update(bp.grad)
}

// update applies one step of the optimizer with gradient g. Large networks
// split the parameters with a helper goroutine when more than one processor
// is available.
func (t *Trainer) update(g []float64) {
	j := t.job()
	j.w, j.g, j.m, j.v = t.net.params, g, t.m, t.v
	if t.m != nil && t.t%flushEvery == 0 {
		flushTiny(t.m)
		flushTiny(t.v)
	}
	// Split at a multiple of four, so that every parameter goes through
	// the same (vector or scalar) arithmetic whatever GOMAXPROCS is.
	t.runJob(j, len(g), 4)
}

// job returns the optimizer step of t without its vectors: the method's
// parameters, with Adam's bias corrections folded into the step size and
// ε, and AdamW's decay.
func (t *Trainer) job() updateJob {
	j := updateJob{method: t.s.Method, lr: t.lr, mu: t.s.Momentum, b1: t.s.Beta1, b2: t.s.Beta2}
	if t.s.Method == AdamW {
		j.decay = 1 - t.lr*t.s.WeightDecay
	}
	if t.s.Method.adaptive() {
		// Fold the bias corrections of m and v into the step size and ε.
		c2 := math.Sqrt(1 - math.Pow(t.s.Beta2, float64(t.t)))
		j.lr = t.lr * c2 / (1 - math.Pow(t.s.Beta1, float64(t.t)))
		j.eps = t.s.Epsilon * c2
	}
	return j
}

// runJob runs j over n parameters; large updates are split with the
// helper goroutine, at a multiple of align (the vector kernel's width).
func (t *Trainer) runJob(j updateJob, n, align int) {
	if n < parallelMin || t.helper == nil {
		j.run(0, n)
		return
	}
	half := (n / 2) &^ (align - 1)
	j.lo, j.hi = half, n
	t.helper.work <- j
	j.run(0, half)
	<-t.helper.done
}
