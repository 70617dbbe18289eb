package nn

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
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
	// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter,
	// 2019), as PyTorch's AdamW: before each step every parameter, biases
	// included, is multiplied by 1 − η·Settings.WeightDecay.
	AdamW
)

// adaptive reports whether m keeps Adam's two moments.
func (m Method) adaptive() bool { return m == Adam || m == AdamW }

var methods = enum[Method]{"Method", "training method", []string{
	GradientDescent: "gd",
	SGD:             "sgd",
	Momentum:        "momentum",
	Nesterov:        "nesterov",
	Adam:            "adam",
	LBFGS:           "lbfgs",
	AdamW:           "adamw",
}}

// String returns the method's name, as UnmarshalText reads it: "gd",
// "sgd", "momentum", "nesterov", "adam", "lbfgs" or "adamw".
func (m Method) String() string { return methods.name(m) }

// MarshalText returns the method's name, or an error if m is not a valid
// Method.
func (m Method) MarshalText() ([]byte, error) { return methods.marshal(m) }

// UnmarshalText sets m to the method named text, as String names it.
func (m *Method) UnmarshalText(text []byte) error { return methods.unmarshal(m, text) }

// Schedule changes the learning rate from epoch to epoch. The zero value is
// ConstantRate.
type Schedule int

const (
	// ConstantRate keeps the learning rate η.
	ConstantRate Schedule = iota
	// StepDecay multiplies η by DecayRate every DecaySteps epochs:
	// η·DecayRate^⌊epoch/DecaySteps⌋.
	StepDecay
	// InverseTime decays η as η/(1 + DecayRate·epoch).
	InverseTime
	// Cosine anneals η towards MinRate over the epochs (or steps, with
	// PerStep) after the warm-up, the last one one step short of it: MinRate + (η−MinRate)·½·(1 + cos(π·t/T)),
	// as PyTorch's CosineAnnealingLR.
	Cosine
	// Exponential decays η as η·DecayRate^t, t counting epochs (or steps,
	// with PerStep) after the warm-up; DecayRate in (0, 1].
	Exponential
	// Plateau multiplies η by DecayRate (0.1 when zero) when the
	// monitored value (see Monitor) has not improved by more than
	// MinDelta for PlateauPatience epochs, then waits Cooldown epochs,
	// never going below MinRate, as PyTorch's ReduceLROnPlateau with an
	// absolute threshold (threshold_mode "abs"; PyTorch's default is a
	// relative 1e-4). It does not count the epochs of a warm-up.
	Plateau
)

// Monitor is what early stopping, the weights kept and the Plateau
// schedule watch. The zero value is MonitorLoss.
type Monitor int

const (
	// MonitorLoss watches the validation loss, or the training loss
	// without a validation set.
	MonitorLoss Monitor = iota
	// MonitorAccuracy watches the validation accuracy of a classifier
	// (Epoch.ValAccuracy), higher being better; it needs a validation set
	// and a loss other than SquaredError.
	MonitorAccuracy
)

var monitors = enum[Monitor]{"Monitor", "monitored value", []string{
	MonitorLoss:     "loss",
	MonitorAccuracy: "accuracy",
}}

// String returns the monitored value's name: "loss" or "accuracy".
func (m Monitor) String() string { return monitors.name(m) }

// MarshalText returns the monitored value's name, or an error if m is not
// a valid Monitor.
func (m Monitor) MarshalText() ([]byte, error) { return monitors.marshal(m) }

// UnmarshalText sets m to the monitored value named text.
func (m *Monitor) UnmarshalText(text []byte) error { return monitors.unmarshal(m, text) }

var schedules = enum[Schedule]{"Schedule", "learning-rate schedule", []string{
	ConstantRate: "constant",
	StepDecay:    "step",
	InverseTime:  "inverse-time",
	Cosine:       "cosine",
	Exponential:  "exponential",
	Plateau:      "plateau",
}}

// String returns the schedule's name: "constant", "step", "inverse-time",
// "cosine", "exponential" or "plateau".
func (s Schedule) String() string { return schedules.name(s) }

// MarshalText returns the schedule's name, or an error if s is not a valid
// Schedule.
func (s Schedule) MarshalText() ([]byte, error) { return schedules.marshal(s) }

// UnmarshalText sets s to the schedule named text.
func (s *Schedule) UnmarshalText(text []byte) error { return schedules.unmarshal(s, text) }

// Settings configures Train. A nil *Settings means the zero value, whose
// fields all have documented defaults.
type Settings struct {
	// Method is the training algorithm; the zero value is GradientDescent.
	Method Method
	// LearningRate is the step size η. Zero means 0.01 for Adam and AdamW
	// and 0.1 for the others (the tutorial's); LBFGS chooses its own
	// steps. Adam's 0.01 is ten times PyTorch's default: it suits the
	// small tables the module is mostly used on, where 0.001 needs
	// thousands of epochs; large data sets such as Fashion-MNIST train
	// better at 0.001.
	LearningRate float64
	// Schedule, DecayRate and DecaySteps change η from epoch to epoch (or
	// step to step, see PerStep and Warmup); the zero Schedule keeps it
	// constant. StepDecay and Exponential need a DecayRate in (0, 1],
	// Plateau one in (0, 1) (zero means 0.1); DecaySteps of zero means 1.
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
	// Beta1, Beta2 and Epsilon are the parameters of Adam and AdamW, β₁
	// and β₂ in (0, 1); zero means 0.9, 0.999 and 1e-8.
	Beta1, Beta2, Epsilon float64
	// L2 is the weight decay λ: training minimises the mean cost plus
	// ½·λ·Σ‖W‖² over the weights, not the biases. Zero means none.
	L2 float64
	// TargetLoss stops training, as Converged, once an epoch's training
	// loss falls below it. Zero means never.
	TargetLoss float64
	// ValidationX and ValidationY are a held-out set evaluated after every
	// epoch. If they are nil and ValidationFraction is positive, that
	// fraction of the training rows, chosen at random from Seed, is held
	// out instead.
	ValidationX, ValidationY mat.Matrix
	ValidationFraction       float64
	// Patience stops training after that many epochs in a row without the
	// monitored value (see Monitor: by default the validation loss if there
	// is a validation set, else the training loss) improving by more than
	// MinDelta, whose zero value counts any improvement; MinDelta is in
	// the monitored value's units, fractions of rows for the accuracy.
	// With a validation set or a positive Patience, the weights of the
	// best epoch are restored at the end. Zero means 20 with a validation
	// set and no early stopping without one; a negative value means no
	// early stopping (every epoch runs, and with a validation set the best
	// epoch's weights are still restored).
	Patience int
	MinDelta float64

	// Seed seeds the shuffling of mini-batches and the choice of held-out
	// rows.
	Seed uint64
	// Dropout holds a dropout rate in [0, 1) for each hidden layer (one
	// fewer than the network's layers), zero for none: inverted dropout,
	// each unit of the layer's output kept with probability 1−p and
	// scaled by 1/(1−p), with masks drawn afresh at every step from a
	// source seeded by Seed, in Train and Trainer.Step only; prediction,
	// Network.Cost, Network.Gradients and the validation loss use no
	// masks. Nil means no dropout; LBFGS refuses it.
	Dropout []float64
	// WeightDecay is AdamW's decoupled weight decay λ: each step
	// multiplies every parameter by 1 − η·λ. Zero means 0.01 (PyTorch's
	// default) for AdamW; the other methods refuse it (L2 is their decay).
	WeightDecay float64
	// Warmup is the number of epochs over which η rises linearly before
	// the Schedule starts: η·(t+1)/W for t < W, counting epochs (W =
	// Warmup) or, with PerStep, steps (W = Warmup times the steps of an
	// epoch). Zero means none; it must be shorter than training.
	Warmup int
	// PerStep evaluates Warmup, Cosine and Exponential at every step of
	// the mini-batch methods rather than once per epoch.
	PerStep bool
	// MinRate is the rate Cosine anneals to and below which Plateau does
	// not go; zero means 0 for Cosine and none for Plateau.
	MinRate float64
	// PlateauPatience and Cooldown are Plateau's epochs without
	// improvement before a reduction (zero means 10) and epochs of rest
	// after one.
	PlateauPatience, Cooldown int
	// Monitor is what early stopping (Patience), the kept weights and
	// Plateau watch: the loss (the zero value) or the validation accuracy.
	Monitor Monitor

	// ClipNorm, if positive, clips the gradient of every step by its
	// global norm: when the Euclidean norm over all parameters (the L2
	// term included) exceeds ClipNorm, the gradient is scaled by
	// ClipNorm/(norm + 1e-6), as PyTorch's clip_grad_norm_. Zero means no
	// clipping; LBFGS refuses it.
	ClipNorm float64
	// Weights, if not nil, weigh the cost of each training row: one
	// weight ≥ 0 per row of x, not all zero. Training then minimises the
	// mean over the rows of weight·cost (plus the L2 penalty), as Keras
	// weighs samples; a weight of 2 counts a row as two copies of it would
	// in the mean's numerator. Rows held out by ValidationFraction keep
	// their weights out of the validation loss, which is unweighted, as
	// are the losses of ValidationX and ValidationY. Trainer.Step takes no
	// weights.
	Weights []float64
	// Progress, if not nil, is called after every epoch.
	Progress func(Epoch)
	// Precision is the floating-point type training computes in: Float64,
	// the zero value, or Float32, which keeps a float32 copy of the
	// weights, the optimizer's state and every activation and gradient,
	// and writes the weights back to the network after every epoch (and
	// after every Trainer.Step). LBFGS refuses Float32.
	Precision Precision

	// CheckpointEvery and Checkpoint save the state of training: if both
	// are set, Checkpoint is called after every CheckpointEvery epochs
	// (and after the last) with everything needed to resume. An error from
	// Checkpoint stops training and is returned, wrapped with the epoch:
	// "<its message> (checkpoint after epoch 10)". The Checkpoint value is
	// reused between calls: save it before returning.
	CheckpointEvery int
	Checkpoint      func(*Checkpoint) error
	// Resume continues training from a checkpoint written by an earlier
	// run with the same data and settings; that run and this one then end
	// with the same weights as one uninterrupted run. Nil starts afresh.
	// Epochs must be at least the epochs the checkpoint has finished.
	// Train refuses a checkpoint whose Fingerprint differs from the run's
	// (other data, network or settings), naming what changed, unless
	// ResumeChanged is set, to go on from the checkpoint's state all the
	// same (with a lower learning rate, for example).
	Resume        *Checkpoint
	ResumeChanged bool
}

// defaultPatience is the early-stopping patience with a validation set
// when none is given: on the small tables of bench/tabular, holding out
// 10% of the rows and stopping after 20 epochs without a better
// validation loss scored better than training on every row for a fixed
// number of epochs (see bench/tabular/README.md).
const defaultPatience = 20

// defaultRate returns the learning rate of method when none is given:
// 0.01 for Adam and AdamW and 0.1 for the others.
func defaultRate(method Method) float64 {
	if method.adaptive() {
		return 0.01
	}
	return 0.1
}

// WithDefaults returns a copy of s (the zero Settings for a nil s) with
// each zero field that means a default set to that default, as Train and
// NewTrainer read it: the learning rate of the method, 200 epochs, the
// patience with a validation set, Adam's β₁, β₂ and ε, and so on. It
// checks nothing.
func (s *Settings) WithDefaults() Settings { return s.withDefaults(false) }

// withDefaults is WithDefaults for a run that has validation rows of its
// own if validated, beside ValidationX and ValidationFraction (a stream's,
// a Dataset's held out by index): the patience is then that of a
// validation set.
func (s *Settings) withDefaults(validated bool) Settings {
	var c Settings
	if s != nil {
		c = *s
		c.Dropout = slices.Clone(c.Dropout) // the caller's slice may change later
	}
	if c.LearningRate == 0 {
		c.LearningRate = defaultRate(c.Method)
	}
	if c.Epochs == 0 {
		c.Epochs = 200
	}
	// A negative patience stays as it is: none, for every reader, and
	// WithDefaults of the result is the result.
	if c.Patience == 0 && (validated || c.ValidationX != nil || c.ValidationFraction > 0) {
		c.Patience = defaultPatience
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
	if c.WeightDecay == 0 && c.Method == AdamW {
		c.WeightDecay = 0.01
	}
	if c.Schedule == Plateau {
		if c.DecayRate == 0 {
			c.DecayRate = 0.1
		}
		if c.PlateauPatience == 0 {
			c.PlateauPatience = 10
		}
	}
	return c
}

// checkDropout returns an error if s.Dropout does not give a rate in
// [0, 1) for each of the hidden layers of n.
func (s *Settings) checkDropout(n *Network) error {
	if s.Dropout == nil {
		return nil
	}
	if h := len(n.w) - 1; len(s.Dropout) != h {
		return fmt.Errorf("nn: Settings.Dropout has %d rates, want %d (one per hidden layer)", len(s.Dropout), h)
	}
	for l, p := range s.Dropout {
		if !(p >= 0 && p < 1) {
			return fmt.Errorf("nn: Settings.Dropout[%d] is %v, want a rate in [0, 1)", l, p)
		}
	}
	return nil
}

func (s *Settings) validate() error {
	switch {
	case !methods.valid(s.Method):
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
	case !(s.Momentum > 0 && s.Momentum < 1), !(s.Beta1 > 0 && s.Beta1 < 1), !(s.Beta2 > 0 && s.Beta2 < 1):
		return fmt.Errorf("nn: Settings.Momentum, Beta1 and Beta2 are %v, %v and %v; each must lie in (0, 1), or be zero for its default", s.Momentum, s.Beta1, s.Beta2)
	case !schedules.valid(s.Schedule):
		return fmt.Errorf("nn: unknown Settings.Schedule %d", s.Schedule)
	case s.DecaySteps < 0:
		return fmt.Errorf("nn: Settings.DecaySteps is %d, want zero or more", s.DecaySteps)
	case s.Schedule == StepDecay && !(s.DecayRate > 0 && s.DecayRate <= 1):
		return fmt.Errorf("nn: Settings.DecayRate is %v, want a factor in (0, 1] for StepDecay", s.DecayRate)
	case !(s.DecayRate >= 0) || math.IsInf(s.DecayRate, 0):
		return fmt.Errorf("nn: Settings.DecayRate is %v, want a finite rate of zero or more", s.DecayRate)
	case !(s.MinDelta >= 0) || math.IsInf(s.MinDelta, 0):
		return fmt.Errorf("nn: Settings.MinDelta is %v, want a finite value of zero or more", s.MinDelta)
	case !(s.TargetLoss >= 0) || math.IsInf(s.TargetLoss, 0):
		return fmt.Errorf("nn: Settings.TargetLoss is %v, want a finite value of zero or more", s.TargetLoss)
	case !(s.Epsilon > 0) || math.IsInf(s.Epsilon, 0):
		return fmt.Errorf("nn: Settings.Epsilon is %v, want a small positive number", s.Epsilon)
	case !(s.WeightDecay >= 0) || math.IsInf(s.WeightDecay, 0):
		return fmt.Errorf("nn: Settings.WeightDecay is %v, want a finite decay of zero or more", s.WeightDecay)
	case s.WeightDecay != 0 && s.Method != AdamW:
		return fmt.Errorf("nn: Settings.WeightDecay is for AdamW, not %v (Settings.L2 is the decay of the other methods)", s.Method)
	case !(s.ClipNorm >= 0) || math.IsInf(s.ClipNorm, 0):
		return fmt.Errorf("nn: Settings.ClipNorm is %v, want a positive norm (or zero for no clipping)", s.ClipNorm)
	case s.ClipNorm != 0 && s.Method == LBFGS:
		return errors.New("nn: Settings.ClipNorm does not apply to LBFGS, whose line search chooses its steps")
	case s.Warmup < 0 || s.Warmup >= s.Epochs && s.Warmup > 0:
		return fmt.Errorf("nn: Settings.Warmup is %d epochs, want fewer than the %d epochs of training", s.Warmup, s.Epochs)
	case !(s.MinRate >= 0) || math.IsInf(s.MinRate, 0) || s.MinRate >= s.LearningRate:
		return fmt.Errorf("nn: Settings.MinRate is %v, want zero or more and below the learning rate %v", s.MinRate, s.LearningRate)
	case s.Schedule == Exponential && !(s.DecayRate > 0 && s.DecayRate <= 1):
		return fmt.Errorf("nn: Settings.DecayRate is %v, want a factor in (0, 1] for Exponential", s.DecayRate)
	case s.Schedule == Plateau && !(s.DecayRate > 0 && s.DecayRate < 1):
		return fmt.Errorf("nn: Settings.DecayRate is %v, want a factor in (0, 1) for Plateau (zero for 0.1)", s.DecayRate)
	case s.PlateauPatience < 0 || s.Cooldown < 0:
		return fmt.Errorf("nn: Settings.PlateauPatience and Cooldown are %d and %d, want zero or more", s.PlateauPatience, s.Cooldown)
	case !monitors.valid(s.Monitor):
		return fmt.Errorf("nn: unknown Settings.Monitor %d", s.Monitor)
	case s.Method == LBFGS && (s.Warmup > 0 || s.Schedule != ConstantRate):
		return errors.New("nn: LBFGS takes no learning-rate schedule or warm-up; its line search chooses its steps")
	case s.Method == LBFGS && s.Dropout != nil:
		return errors.New("nn: Settings.Dropout does not apply to LBFGS, whose line search needs the same cost at every evaluation")
	case !precisions.valid(s.Precision):
		return fmt.Errorf("nn: unknown Settings.Precision %d", s.Precision)
	case s.Method == LBFGS && s.Precision == Float32:
		return errors.New("nn: LBFGS trains in float64 only (gonum's optimizer works in float64); use Settings.Precision Float64, or a gradient method in Float32")
	case s.CheckpointEvery < 0:
		return fmt.Errorf("nn: Settings.CheckpointEvery is %d, want zero or more", s.CheckpointEvery)
	case s.Resume != nil && s.Epochs < s.Resume.Epoch:
		return fmt.Errorf("nn: Settings.Epochs is %d, fewer than the %d epochs the checkpoint to resume has finished", s.Epochs, s.Resume.Epoch)
	case s.Method == LBFGS && (s.Resume != nil || s.CheckpointEvery > 0):
		return errors.New("nn: LBFGS keeps its curvature memory inside gonum's optimizer and cannot be checkpointed; train small problems in one run")
	}
	return nil
}

// rate returns the learning rate of the given 0-based epoch, at its
// first step.
func (s *Settings) rate(epoch int) float64 { return s.rateAt(epoch, 0, 1, s.LearningRate) }

// rateAt returns the learning rate of the step step (0-based, counted over
// the whole run) of the 0-based epoch epoch, in epochs of spe steps; the
// rate of a Plateau schedule is plateau.
func (s *Settings) rateAt(epoch, step, spe int, plateau float64) float64 {
	t, total, w := epoch, s.Epochs, s.Warmup
	if s.PerStep {
		t, total, w = step, s.Epochs*spe, s.Warmup*spe
	}
	lr := s.LearningRate
	if t < w {
		// linear warm-up: η·(t+1)/W
		return lr * float64(t+1) / float64(w)
	}
	u := t - w
	switch s.Schedule {
	case StepDecay:
		// These two count epochs, from the end of the warm-up.
		return lr * math.Pow(s.DecayRate, float64((epoch-s.Warmup)/s.DecaySteps))
	case InverseTime:
		return lr / (1 + s.DecayRate*float64(epoch-s.Warmup))
	case Cosine:
		// η_min + (η − η_min)·½·(1 + cos(π·u/U)), and η_min after U
		// (PartialFit may take more calls than Epochs).
		return s.MinRate + (lr-s.MinRate)*0.5*(1+math.Cos(math.Pi*float64(min(u, total-w))/float64(total-w)))
	case Exponential:
		return lr * math.Pow(s.DecayRate, float64(u))
	case Plateau:
		return plateau
	}
	return lr
}
