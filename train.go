package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Epoch describes one finished epoch of training.
type Epoch struct {
	// Epoch counts from 1.
	Epoch int
	// Loss is the training loss: the mean cost per example plus the L2
	// penalty of the weights at the end of the epoch. For GradientDescent
	// and LBFGS the cost is measured after the epoch's update, as the
	// tutorial's cost_check; for mini-batch methods it is the mean of the
	// batches' costs, each measured before its batch's update. With
	// dropout it is measured under the masks of the step, before it, for
	// every method.
	Loss float64
	// ValLoss is the mean cost per example of the validation set after
	// the epoch, without the L2 penalty, so that it compares with
	// Network.Cost; ValAccuracy is the fraction of validation examples
	// classified right (see Network.ClassesTo). Both are NaN without a
	// validation set, and ValAccuracy is NaN for SquaredError loss.
	ValLoss, ValAccuracy float64
	// LearningRate is the step size used in the epoch, at its first step
	// when the schedule changes it step by step (Settings.PerStep); 0 for
	// LBFGS, whose line search chooses its steps.
	LearningRate float64
	// Elapsed is the wall time since training started.
	Elapsed time.Duration
}

// StopReason says why training stopped.
type StopReason int

const (
	// MaxEpochs: all Settings.Epochs ran.
	MaxEpochs StopReason = iota
	// Converged: the loss fell below Settings.TargetLoss, or LBFGS found a
	// minimum.
	Converged
	// NoImprovement: the monitored loss did not improve for
	// Settings.Patience epochs.
	NoImprovement
	// Cancelled: the context was cancelled.
	Cancelled
	// Diverged: the loss became NaN or infinite.
	Diverged
)

var stopReasons = enum[StopReason]{"StopReason", "stop reason", []string{
	MaxEpochs:     "max epochs",
	Converged:     "converged",
	NoImprovement: "patience",
	Cancelled:     "cancelled",
	Diverged:      "diverged",
}}

// String describes the reason in words.
func (r StopReason) String() string { return stopReasons.name(r) }

// MarshalText returns the reason's words, or an error if r is not a valid
// StopReason.
func (r StopReason) MarshalText() ([]byte, error) { return stopReasons.marshal(r) }

// UnmarshalText sets r to the reason whose words are text.
func (r *StopReason) UnmarshalText(text []byte) error { return stopReasons.unmarshal(r, text) }

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
	// Warnings are doubts about the run that are not errors: a network and
	// loss that suit the targets badly, such as one-hot class labels
	// trained as a regression on squared error.
	Warnings []string
}

// Loss returns the training loss of every epoch, the tutorial's cost_check.
func (r *Report) Loss() []float64 {
	l := make([]float64, len(r.History))
	for i, e := range r.History {
		l[i] = e.Loss
	}
	return l
}

// Train fits n to the inputs x and targets y (one example per row) as s
// describes (nil means defaults) and reports how it went. It returns an
// error if the data do not fit the network or hold NaN or infinite values,
// if s is invalid, if training would not fit in the memory budget with the
// network and the data (an error wrapping ErrMemoryBudget, see
// SetMemoryBudget), if the context is cancelled (n then holds the weights of
// the last finished epoch), or if the loss diverges (the error wraps
// ErrDiverged and n holds the weights from before the step that diverged).
// In the last two cases the report describes the epochs that finished.
func Train(ctx context.Context, n *Network, x, y mat.Matrix, s *Settings) (*Report, error) {
	start := time.Now()
	c := s.WithDefaults()
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
	vrows := 0
	if c.ValidationX != nil {
		vrows, _ = c.ValidationX.Dims()
	} else if c.ValidationFraction > 0 {
		vrows = int(math.Round(c.ValidationFraction * float64(rows)))
	}
	if err := overBudget(trainBytes(n, &c, rows-vrows, vrows, false), fmt.Sprintf("training a network of %d parameters by %v on %d rows", len(n.params), c.Method, rows)); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	set := denseSet(asDense(x), asDense(y))
	if c.Weights != nil {
		if err := checkWeights(c.Weights, rows); err != nil {
			return nil, err
		}
		set.w = c.Weights
	}
	pcg := rand.NewPCG(c.Seed, 0x6e6e2d747261696e) // "nn-train"
	rnd := rand.New(pcg)
	train, val, err := holdOut(n, &c, set, rnd)
	if err != nil {
		return nil, err
	}
	return trainSets(ctx, n, &c, train, val, start, pcg, rnd)
}

// trainPrepared trains n as Train does, on rows that the caller has
// checked against n and the settings s, and with the random state of a
// run without a ValidationFraction.
func trainPrepared(ctx context.Context, n *Network, s *Settings, train, val *rowSet) (*Report, error) {
	start := time.Now()
	c := s.withDefaults(val != nil)
	if err := c.validate(); err != nil {
		return nil, err
	}
	vrows := 0
	if val != nil {
		vrows = val.len()
	}
	if err := overBudget(trainBytes(n, &c, train.len(), vrows, !train.plain()), fmt.Sprintf("training a network of %d parameters by %v on %d rows", len(n.params), c.Method, train.len()+vrows)); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	if err := train.checkFinite("X", "Y"); err != nil {
		return nil, err
	}
	if val != nil {
		if err := val.checkFinite("ValidationX", "ValidationY"); err != nil {
			return nil, err
		}
	}
	if train.w != nil {
		pos := false
		for i := range train.len() {
			pos = pos || train.w[train.row(i)] > 0
		}
		if !pos {
			return nil, errors.New("nn: Settings.Weights are all zero")
		}
	}
	pcg := rand.NewPCG(c.Seed, 0x6e6e2d747261696e) // "nn-train"
	return trainSets(ctx, n, &c, train, val, start, pcg, rand.New(pcg))
}

// trainSets trains n with the completed settings c on the rows of train,
// validating on val (nil for none), shuffling with rnd, whose source is
// pcg.
func trainSets(ctx context.Context, n *Network, c *Settings, train, val *rowSet, start time.Time, pcg *rand.PCG, rnd *rand.Rand) (*Report, error) {
	if c.Monitor == MonitorAccuracy && (val == nil || n.loss == SquaredError) {
		return nil, errors.New("nn: Settings.Monitor is accuracy, which needs a validation set (ValidationX or ValidationFraction) and a classifier's loss (cross-entropy)")
	}
	var v blockSource
	if val != nil {
		v = val
	}
	r := newRun(ctx, n, c, start, v)
	r.weighted = train.w != nil
	r.report.Warnings = warnings(n, train)
	if (c.CheckpointEvery > 0 && c.Checkpoint != nil) || c.Resume != nil {
		r.fingerprint = fingerprint(n, c, train.len(), val != nil, digestSets(train, val))
	}
	var err error
	if c.Method == LBFGS {
		X, Y := train.dense()
		err = r.lbfgs(X, Y)
	} else {
		err = r.gradientMethod(train, rnd, pcg)
	}
	r.end()
	return r.report, err
}

// warnings returns the doubts about training n on the targets of the rows
// s.
func warnings(n *Network, s *rowSet) []string {
	if n.loss != SquaredError {
		return nil
	}
	out := n.acts[len(n.acts)-1]
	if out == Softmax {
		return []string{"a softmax output trained on squared error learns slowly (its gradient vanishes as outputs saturate); cross-entropy is the loss for softmax (Config.Loss = CrossEntropy, or use a Classifier)"}
	}
	_, c := s.y.Dims()
	if c < 2 {
		return nil
	}
	y := make([]float64, s.outputs())
	for i := range s.len() {
		s.targetRow(y, i)
		ones := 0
		for j := range c {
			switch y[j] {
			case 1:
				ones++
			case 0:
			default:
				return nil
			}
		}
		if ones != 1 {
			return nil
		}
	}
	return []string{fmt.Sprintf("the targets are one-hot class labels (%d classes) trained as a regression on squared error with a %v output; a softmax output with cross-entropy loss classifies better (or use a Classifier)", c, out)}
}

// checkWeights returns an error if w is not one finite weight ≥ 0 per row
// of rows, not all zero.
func checkWeights(w []float64, rows int) error {
	if len(w) != rows {
		return fmt.Errorf("nn: %w: Settings.Weights has %d weights for %d rows", ErrShape, len(w), rows)
	}
	pos := false
	for i, v := range w {
		if !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("nn: Settings.Weights[%d] is %v, want a finite weight ≥ 0", i, v)
		}
		pos = pos || v > 0
	}
	if !pos {
		return errors.New("nn: Settings.Weights are all zero")
	}
	return nil
}

// lbfgsVectors is about the number of vectors as long as the parameters
// that gonum's L-BFGS keeps: 15 pairs of past steps and gradient changes,
// and the working vectors of the method and of Minimize.
const lbfgsVectors = 45

// trainBytes returns about how much memory training n with the settings c
// on train rows, validated on vrows, takes: the data, the vectors
// as long as the parameters (the weights at the end of the last epoch and
// of the best one, the optimizer's state, checkpoint copies), the buffers
// of backpropagation on batches, on the whole training set, and on blocks
// of the validation set, and, if prepared, the matrix of the prepared
// training rows that the full-batch methods make.
func trainBytes(n *Network, c *Settings, train, vrows int, prepared bool) float64 {
	in, out := n.sizes[0], n.sizes[len(n.sizes)-1]
	vectors := 2.0 // the weights, and those at the end of the last epoch
	if c.Patience > 0 || vrows > 0 {
		vectors++ // the best weights
	}
	if c.CheckpointEvery > 0 {
		vectors += 4 // the weights, moments and best weights of a checkpoint
	}
	var buffers float64
	switch c.Method {
	case LBFGS, GradientDescent:
		if c.Method == LBFGS {
			vectors += lbfgsVectors
		} else {
			vectors += optimizerVectors(c.Method)
		}
		buffers = n.backpropBytes(train)
		if prepared {
			buffers += float64(train) * float64(in+out+1) * float64Bytes
		}
	default:
		vectors += optimizerVectors(c.Method)
		b := c.BatchSize
		if b == 0 {
			b = 32
		}
		b = min(b, train)
		// A full batch, a last one if the rows do not divide into full
		// ones, and the buffers they are gathered in; the order of the
		// rows.
		buffers = n.backpropBytes(b) + float64(b)*float64(in+out+1)*float64Bytes + float64(train)*8
		if last := train % max(b, 1); last > 0 {
			buffers += n.backpropBytes(last)
		}
	}
	if vrows > 0 {
		// Two blocks, a full one and the last, their buffers, and the
		// classes of every row.
		b := min(vrows, valBlock)
		buffers += 2*n.backpropBytes(b) + float64(b)*float64(in+2*out)*float64Bytes + float64(vrows)*8
	}
	if c.Precision == Float32 && c.Method != LBFGS {
		// The float32 weights, optimizer state and weights before a step,
		// and float32 buffers beside the float64 ones: those of the
		// batches (or of the whole set, for gradient descent).
		vectors += (2 + optimizerVectors(c.Method)) / 2
		rows := train
		if c.Method != GradientDescent {
			rows = c.BatchSize
			if rows == 0 {
				rows = 32
			}
			rows = min(rows, train)
		}
		buffers += n.backprop32Bytes(rows)
	}
	data := float64(train+vrows) * float64(in+out)
	return (data+vectors*float64(len(n.params)))*float64Bytes + buffers
}

// holdOut returns the training rows and the validation set (nil if there
// is none) that the settings c give of the rows s: s and c.ValidationX and
// ValidationY, checked, or the fraction c.ValidationFraction of the rows of
// s, drawn from rnd, without their weights.
func holdOut(n *Network, c *Settings, s *rowSet, rnd *rand.Rand) (train, val *rowSet, err error) {
	rows := s.len()
	switch {
	case c.ValidationX != nil || c.ValidationY != nil:
		if c.ValidationX == nil || c.ValidationY == nil {
			return nil, nil, errors.New("nn: Settings.ValidationX and ValidationY must be given together")
		}
		if err := n.checkInput("ValidationX", c.ValidationX); err != nil {
			return nil, nil, err
		}
		vr, _ := c.ValidationX.Dims()
		if err := n.checkTarget("ValidationY", c.ValidationY, vr); err != nil {
			return nil, nil, err
		}
		return s, denseSet(asDense(c.ValidationX), asDense(c.ValidationY)), nil
	case c.ValidationFraction > 0:
		k := int(math.Round(c.ValidationFraction * float64(rows)))
		if k < 1 || k >= rows {
			return nil, nil, fmt.Errorf("nn: Settings.ValidationFraction %v of %d rows leaves no validation or no training rows", c.ValidationFraction, rows)
		}
		perm := rnd.Perm(rows)
		if s.idx != nil {
			for i, p := range perm {
				perm[i] = s.idx[p]
			}
		}
		train, val := *s, *s
		train.idx, val.idx, val.w = perm[k:], perm[:k], nil
		train.src, train.rows, train.pos, train.raw = nil, nil, nil, nil
		val.src, val.rows, val.pos, val.raw = nil, nil, nil, nil
		return &train, &val, nil
	}
	return s, nil, nil
}

// newRun returns the state of a call to Train of n with the settings c,
// started at start, with the validation set val (nil if none).
func newRun(ctx context.Context, n *Network, c *Settings, start time.Time, val blockSource) *run {
	r := &run{net: n, s: c, ctx: ctx, start: start, report: &Report{}}
	r.best = math.Inf(1)
	r.plateau = plateau{rate: c.LearningRate, best: math.Inf(1)}
	r.keepBest = val != nil || c.Patience > 0
	r.epochStart = slices.Clone(n.params)
	if r.keepBest {
		r.bestParams = slices.Clone(n.params)
	}
	if val != nil {
		r.val = newValidation(n, val)
	}
	return r
}

// gradientMethod trains with a Trainer, resuming from a checkpoint if the
// settings give one.
func (r *run) gradientMethod(train *rowSet, rnd *rand.Rand, pcg *rand.PCG) error {
	var err error
	r.trainer, err = NewTrainer(r.net, r.s)
	if err != nil {
		return err
	}
	r.trainer.weighted = r.weighted
	if r.s.Resume != nil {
		if err := r.resume(r.s.Resume, pcg); err != nil {
			return err
		}
	}
	return r.descend(train, rnd, pcg)
}

// end restores the weights of the best epoch when early stopping kept
// them, and completes the report.
func (r *run) end() {
	if r.keepBest && r.report.Stop != Diverged && r.report.Stop != Cancelled && r.bestEpoch > 0 {
		copy(r.net.params, r.bestParams)
		r.report.BestEpoch = r.bestEpoch
	} else {
		r.report.BestEpoch = len(r.report.History)
	}
	r.report.Elapsed = time.Since(r.start)
	r.net.refresh32() // a network that predicts in float32 does so with the weights trained
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
	wait       int  // epochs without improvement
	weighted   bool // the training targets hold the rows' weights in a last column
	epochLR    float64
	plateau    plateau // the state of a Plateau schedule

	val *validation // nil if none

	trainer     *Trainer // for the gradient methods
	elapsed0    time.Duration
	checkpoint  Checkpoint
	fingerprint *Fingerprint // of the run, when it checkpoints or resumes
}

// plateau is the state of a Plateau schedule.
type plateau struct {
	rate     float64 // the learning rate now
	best     float64 // the best monitored value
	bad      int     // epochs since it improved
	cooldown int     // epochs of rest left after a reduction
}

// update takes the monitored value of an epoch, as PyTorch's
// ReduceLROnPlateau does its step.
func (p *plateau) update(s *Settings, monitored float64) {
	if monitored < p.best-s.MinDelta {
		p.best, p.bad = monitored, 0
	} else {
		p.bad++
	}
	if p.cooldown > 0 {
		p.cooldown--
		p.bad = 0
	}
	if p.bad > s.PlateauPatience {
		p.rate = max(p.rate*s.DecayRate, s.MinRate)
		p.cooldown, p.bad = s.Cooldown, 0
	}
}

// finishEpoch records epoch e (1-based) and reports whether training stops.
func (r *run) finishEpoch(e int, loss, lr float64) bool {
	ep := Epoch{Epoch: e, Loss: loss, LearningRate: lr, ValLoss: math.NaN(), ValAccuracy: math.NaN()}
	monitored := loss
	if r.val != nil {
		ep.ValLoss, ep.ValAccuracy = r.val.measure(r.net)
		monitored = ep.ValLoss
	}
	if r.s.Monitor == MonitorAccuracy {
		monitored = -ep.ValAccuracy // higher is better
	}
	if r.s.Schedule == Plateau && e > r.s.Warmup {
		r.plateau.update(r.s, monitored)
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
	case r.s.TargetLoss > 0 && loss < r.s.TargetLoss:
		r.report.Stop = Converged
		return true
	case r.s.Patience > 0 && r.wait >= r.s.Patience:
		r.report.Stop = NoImprovement
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
	if r.trainer != nil {
		if err := r.trainer.rangeError(); err != nil {
			return fmt.Errorf("%w (epoch %d)", err, e)
		}
	}
	what := fmt.Sprintf("loss became %v", loss)
	if !math.IsNaN(loss) && !math.IsInf(loss, 0) {
		what = "weights overflowed"
	}
	if r.s.Method == LBFGS {
		return fmt.Errorf("nn: %s in epoch %d: %w; scale the inputs or add L2 weight decay", what, e, ErrDiverged)
	}
	return fmt.Errorf("nn: %s in epoch %d: %w; try a lower learning rate (it was %v)", what, e, ErrDiverged, r.trainer.lr)
}

// descend runs the gradient methods: full-batch gradient descent, or
// mini-batches for the others.
func (r *run) descend(train *rowSet, rnd *rand.Rand, pcg *rand.PCG) error {
	t := r.trainer
	// The weights before the last update, restored if the loss diverges.
	t.prev = make([]float64, len(r.net.params))
	copy(t.prev, r.net.params)
	if r.s.Method == GradientDescent {
		X, Y := train.dense()
		if t.f32 != nil {
			return r.descendFull32(X, Y, pcg)
		}
		return r.descendFull(X, Y, pcg)
	}
	return r.descendBatches(train, rnd, pcg)
}

// descendFull takes one step on the whole training set per epoch, as the
// tutorial's gradient_descent does, and measures the loss after it, as its
// cost_check does. The forward pass that measures the loss is the one the
// next step starts from.
func (r *run) descendFull(X, Y *mat.Dense, pcg *rand.PCG) error {
	t := r.trainer
	rows, _ := X.Dims()
	bp := t.buffers(rows)
	bp.setBatch(X, Y)
	if t.dropRNG != nil {
		return r.descendFullDropout(bp, rows, pcg)
	}
	bp.forward()
	for e := len(r.report.History) + 1; e <= r.s.Epochs; e++ {
		if err := r.cancelled(); err != nil {
			return err
		}
		t.lr = r.s.rateAt(e-1, t.t, 1, r.plateau.rate)
		r.epochLR = t.lr
		t.apply(bp)
		bp.forward()
		loss := bp.cost()/float64(rows) + r.net.l2Penalty(r.s.L2)
		if !finite(loss) || !paramsFinite(r.net.params) {
			return r.diverged(e, loss, t.prev)
		}
		if stop, err := r.endEpoch(e, loss, pcg); stop || err != nil {
			return err
		}
	}
	return nil
}

// descendFullDropout is descendFull with dropout: each epoch's forward
// pass draws the masks its step uses, and the loss reported is the one
// measured before the step, under those masks, as for mini-batches, so
// that the masks follow one another the same way when a run resumes.
func (r *run) descendFullDropout(bp *backprop, rows int, pcg *rand.PCG) error {
	t := r.trainer
	for e := len(r.report.History) + 1; e <= r.s.Epochs; e++ {
		if err := r.cancelled(); err != nil {
			return err
		}
		t.lr = r.s.rateAt(e-1, t.t, 1, r.plateau.rate)
		r.epochLR = t.lr
		bp.forward()
		loss := bp.cost()/float64(rows) + r.net.l2Penalty(r.s.L2)
		if !finite(loss) {
			return r.diverged(e, loss, t.prev)
		}
		t.apply(bp)
		if !paramsFinite(r.net.params) {
			return r.diverged(e, loss, t.prev)
		}
		if stop, err := r.endEpoch(e, loss, pcg); stop || err != nil {
			return err
		}
	}
	return nil
}

// descendBatches takes one step per mini-batch, in an order shuffled
// afresh every epoch; the loss of an epoch is the mean of its batches'
// losses, each measured before its batch's step.
func (r *run) descendBatches(train *rowSet, rnd *rand.Rand, pcg *rand.PCG) error {
	rows := train.len()
	size := r.s.BatchSize
	if size == 0 {
		size = 32
	}
	b := newBatches(train, min(size, rows))
	spe := (rows + b.size - 1) / b.size // steps per epoch
	for e := len(r.report.History) + 1; e <= r.s.Epochs; e++ {
		loss, err := r.epoch(b, e, spe, rnd)
		if err != nil {
			return err
		}
		if stop, err := r.endEpoch(e, loss, pcg); stop || err != nil {
			return err
		}
	}
	return nil
}

// epoch takes the steps of epoch e on the mini-batches of b, in an order
// drawn from rnd, with the learning rate of a run of spe steps per epoch,
// and returns the epoch's loss.
func (r *run) epoch(b *batches, e, spe int, rnd *rand.Rand) (float64, error) {
	t := r.trainer
	rows := len(b.perm)
	t.lr = r.s.rateAt(e-1, t.t, spe, r.plateau.rate)
	r.epochLR = t.lr
	b.shuffle(rnd)
	var sum float64
	for off := 0; off < rows; off += b.size {
		if err := r.cancelled(); err != nil {
			return 0, err
		}
		if r.s.PerStep {
			t.lr = r.s.rateAt(e-1, t.t, spe, r.plateau.rate)
		}
		bx, by := b.gather(off)
		cost := t.step(bx, by)
		if !finite(cost) {
			return 0, r.diverged(e, cost, t.previous())
		}
		n, _ := bx.Dims()
		sum += cost * float64(n)
	}
	t.sync()
	// An update can overflow while the loss before it was finite.
	if !paramsFinite(r.net.params) {
		return 0, r.diverged(e, sum/float64(rows), t.previous())
	}
	return sum/float64(rows) + r.net.l2Penalty(r.s.L2), nil
}

// endEpoch finishes epoch e of a gradient method and saves a checkpoint if
// one is due. It reports whether training stops, and why with an error if
// saving failed.
func (r *run) endEpoch(e int, loss float64, pcg *rand.PCG) (bool, error) {
	stop := r.finishEpoch(e, loss, r.epochLR)
	return stop, r.save(e, stop || e == r.s.Epochs, pcg)
}
