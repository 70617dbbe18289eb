package nn

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/neuralgo/nn/internal/excerpt"
)

// Fingerprint identifies what the result of a training run depends on
// besides the weights it starts from: the shape of the network, the data,
// and the settings. A checkpoint holds the fingerprint of its run, so that
// resuming it with other data or settings is found out (see
// Settings.ResumeChanged).
type Fingerprint struct {
	// Sizes, Activations, Bias and Loss are the shape of the network, as
	// Network.Config describes it.
	Sizes       []int        `json:"sizes"`
	Activations []Activation `json:"activations"`
	Bias        bool         `json:"bias"`
	Loss        Loss         `json:"loss"`
	// LeakySlope is the slope of the LeakyReLU layers, 0 without one.
	LeakySlope float64 `json:"leaky_slope,omitempty"`
	// Data is the SHA-256 digest of the training and validation rows,
	// inputs and targets, in hexadecimal.
	Data string `json:"data"`
	// The other fields are those of Settings, with their defaults filled
	// in, and zero where the method, schedule or early stopping does not
	// use them; BatchSize is the rows per step, 0 for the methods that
	// take every row.
	Method       Method   `json:"method"`
	LearningRate float64  `json:"learning_rate"`
	Schedule     Schedule `json:"schedule"`
	DecayRate    float64  `json:"decay_rate"`
	DecaySteps   int      `json:"decay_steps"`
	BatchSize    int      `json:"batch_size"`
	Momentum     float64  `json:"momentum"`
	Beta1        float64  `json:"beta1"`
	Beta2        float64  `json:"beta2"`
	Epsilon      float64  `json:"epsilon"`
	L2           float64  `json:"l2"`
	TargetLoss   float64  `json:"target_loss"`
	Patience     int      `json:"patience"`
	MinDelta     float64  `json:"min_delta"`
	Seed         uint64   `json:"seed"`
	// WeightDecay and ClipNorm are those of Settings, absent from the
	// files of earlier versions when zero.
	WeightDecay float64   `json:"weight_decay,omitempty"`
	Dropout     []float64 `json:"dropout,omitempty"`
	// Warmup, PerStep, MinRate, PlateauPatience, Cooldown and Monitor
	// are those of Settings, absent when zero.
	Warmup          int     `json:"warmup,omitempty"`
	PerStep         bool    `json:"per_step,omitempty"`
	MinRate         float64 `json:"min_rate,omitempty"`
	PlateauPatience int     `json:"plateau_patience,omitempty"`
	Cooldown        int     `json:"cooldown,omitempty"`
	Monitor         Monitor `json:"monitor,omitempty"`
	ClipNorm        float64 `json:"clip_norm,omitempty"`
	// Precision is that of Settings, absent for Float64.
	Precision Precision `json:"precision,omitempty"`
}

// fingerprint returns the fingerprint of training n on rows rows whose
// digest is data, with a validation set if val, and the completed settings
// c.
func fingerprint(n *Network, c *Settings, rows int, val bool, data string) *Fingerprint {
	f := &Fingerprint{
		Sizes:           slices.Clone(n.sizes),
		Activations:     slices.Clone(n.acts),
		Bias:            n.bias,
		Loss:            n.loss,
		LeakySlope:      n.leakySlope(),
		Data:            data,
		Method:          c.Method,
		LearningRate:    c.LearningRate,
		Schedule:        c.Schedule,
		DecayRate:       c.DecayRate,
		DecaySteps:      c.DecaySteps,
		BatchSize:       c.BatchSize,
		Momentum:        c.Momentum,
		Beta1:           c.Beta1,
		Beta2:           c.Beta2,
		Epsilon:         c.Epsilon,
		L2:              c.L2,
		TargetLoss:      c.TargetLoss,
		Patience:        c.Patience,
		MinDelta:        c.MinDelta,
		Seed:            c.Seed,
		WeightDecay:     c.WeightDecay,
		Dropout:         slices.Clone(c.Dropout),
		Warmup:          c.Warmup,
		PerStep:         c.PerStep,
		MinRate:         c.MinRate,
		PlateauPatience: c.PlateauPatience,
		Cooldown:        c.Cooldown,
		Monitor:         c.Monitor,
		ClipNorm:        c.ClipNorm,
		Precision:       c.Precision,
	}
	// What the run does not use may change without changing it.
	if f.Method != GradientDescent && f.Method != LBFGS {
		if f.BatchSize == 0 {
			f.BatchSize = 32
		}
		f.BatchSize = min(f.BatchSize, rows)
	}
	if c.Patience == 0 && !val {
		f.MinDelta = 0
	}
	f.dropUnused()
	return f
}

// dropUnused zeroes the settings of f that its method and schedule do not
// use.
func (f *Fingerprint) dropUnused() {
	if f.Method == GradientDescent || f.Method == LBFGS {
		f.BatchSize = 0
	}
	if f.Method != Momentum && f.Method != Nesterov {
		f.Momentum = 0
	}
	if !f.Method.adaptive() {
		f.Beta1, f.Beta2, f.Epsilon = 0, 0, 0
	}
	if f.Schedule == ConstantRate || f.Schedule == Cosine {
		f.DecayRate = 0
	}
	if f.Schedule != Cosine && f.Schedule != Plateau {
		f.MinRate = 0
	}
	if f.Schedule != Plateau {
		f.PlateauPatience, f.Cooldown = 0, 0
	}
	if f.Schedule != StepDecay {
		f.DecaySteps = 0
	}
}

// digestSets returns the digest of the prepared inputs and targets of train
// and of val (nil for none), as digest does of them as matrices.
func digestSets(train, val *rowSet) string {
	h := sha256.New()
	train.digest(h, false)
	train.digest(h, true)
	val.digest(h, false)
	val.digest(h, true)
	return hex.EncodeToString(h.Sum(nil))
}

// items returns the fields of f by name and value, in words, for messages.
func (f *Fingerprint) items() [][2]string {
	short := f.Data
	if len(short) > 12 {
		short = short[:12]
	}
	return [][2]string{
		{"network sizes", excerpt.List(f.Sizes)},
		{"activations", excerpt.List(f.Activations)},
		{"biases", fmt.Sprint(f.Bias)},
		{"loss", f.Loss.String()},
		{"leaky-relu slope", fmt.Sprint(f.LeakySlope)},
		{"data", "digest " + short},
		{"method", f.Method.String()},
		{"learning rate", fmt.Sprint(f.LearningRate)},
		{"schedule", f.Schedule.String()},
		{"decay rate", fmt.Sprint(f.DecayRate)},
		{"decay steps", fmt.Sprint(f.DecaySteps)},
		{"batch size", fmt.Sprint(f.BatchSize)},
		{"momentum", fmt.Sprint(f.Momentum)},
		{"beta1", fmt.Sprint(f.Beta1)},
		{"beta2", fmt.Sprint(f.Beta2)},
		{"epsilon", fmt.Sprint(f.Epsilon)},
		{"L2", fmt.Sprint(f.L2)},
		{"target loss", fmt.Sprint(f.TargetLoss)},
		{"patience", fmt.Sprint(f.Patience)},
		{"min delta", fmt.Sprint(f.MinDelta)},
		{"seed", fmt.Sprint(f.Seed)},
		{"weight decay", fmt.Sprint(f.WeightDecay)},
		{"dropout", fmt.Sprint(f.Dropout)},
		{"warm-up", fmt.Sprint(f.Warmup)},
		{"per step", fmt.Sprint(f.PerStep)},
		{"minimum rate", fmt.Sprint(f.MinRate)},
		{"plateau patience", fmt.Sprint(f.PlateauPatience)},
		{"cooldown", fmt.Sprint(f.Cooldown)},
		{"monitor", f.Monitor.String()},
		{"clip norm", fmt.Sprint(f.ClipNorm)},
		{"precision", f.Precision.String()},
	}
}

// diff returns what differs between the fingerprint of a checkpoint, was,
// and that of the run resuming it, now, in words: "learning rate 0.01, not
// 0.5; seed 1, not 2". It returns "" if nothing does.
func (was *Fingerprint) diff(now *Fingerprint) string {
	// A checkpoint's fingerprint may hold settings that its run did not use.
	w := *was
	w.dropUnused()
	a, b := w.items(), now.items()
	var d []string
	for i, it := range a {
		if it[1] != b[i][1] {
			d = append(d, fmt.Sprintf("%s %s, not %s", it[0], it[1], b[i][1]))
		}
	}
	return strings.Join(d, "; ")
}
