package main

// The flags of the modern training toolbox, shared by nn train and nn
// tune: dropout, AdamW's decay, clipping, schedules, the monitored value,
// LeakyReLU's slope and the precision of training.

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// registerToolbox defines the flags of the modern training toolbox, shared
// by nn train and nn tune.
func (f *trainFlags) registerToolbox(fs *flag.FlagSet) {
	fs.Var(ratesFlag{&f.dropout}, "dropout", "dropout `rates`, one per hidden layer, comma-separated, such as 0.2,0.1 (default none)")
	fs.Var(floatFlag{&f.weightDecay, nonNegative, "a number ≥ 0"}, "weight-decay", fmt.Sprintf("AdamW's decoupled weight `decay` (default %v with -method adamw)", adamWDecay()))
	fs.Var(floatFlag{&f.clip, positive, "a number > 0"}, "clip", "clip each step's gradient to this global `norm` (default no clipping)")
	fs.TextVar(&f.schedule, "schedule", f.schedule, "learning-rate `schedule`: "+orList(names[nn.Schedule]()))
	fs.Var(intFlag{&f.warmup, 0}, "warmup", "`epochs` of linear warm-up of the learning rate before the schedule")
	fs.BoolVar(&f.perStep, "per-step", false, "evaluate the warm-up and the cosine or exponential schedule at every step, not every epoch")
	fs.Var(floatFlag{&f.minLR, nonNegative, "a number ≥ 0"}, "min-lr", "the `rate` the cosine schedule ends at and plateau never goes below")
	fs.Var(floatFlag{&f.decay, positive, "a number > 0"}, "decay", "`factor` of -schedule step, exponential and plateau (plateau's default 0.1), or inverse-time's rate")
	fs.Var(newChoice(&f.monitor, "val_loss", "val_loss", "val_acc"), "monitor", "what early stopping and -schedule plateau watch: `val_loss` or val_acc")
	fs.Var(floatFlag{&f.leakySlope, fraction, "a slope in [0, 1)"}, "leaky-slope", "the `slope` of -activation leaky-relu below zero (default 0.01)")
	fs.TextVar(&f.precision, "precision", f.precision, "floating-point `type` of training: "+orList(names[nn.Precision]())+"; float32 is faster, and a classifier's model then holds float32 weights")
}

// adamWDecay returns the weight decay that package nn gives AdamW when
// none is given (-weight-decay left out passes zero on).
func adamWDecay() float64 {
	s := nn.Settings{Method: nn.AdamW}
	return s.WithDefaults().WeightDecay
}

// checkToolbox returns a usageError for toolbox flags that do not go
// together, for the command cmd; set holds the names of the flags given.
// hidden and acts are the hidden layers and activations of the fits: one
// of each for nn train, the grid's candidates for nn tune.
func (f *trainFlags) checkToolbox(cmd string, set map[string]bool, hidden [][]int, acts []nn.Activation) error {
	bad := func(format string, args ...any) error {
		return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case set["weight-decay"] && f.method != nn.AdamW:
		return bad("-weight-decay is AdamW's decay: it needs -method adamw (-l2 is the decay of the others)")
	case f.monitor == "val_acc" && f.task != "classify":
		return bad("-monitor val_acc needs -task classify")
	case f.monitor == "val_acc" && f.val == 0:
		return bad("-monitor val_acc needs held-out rows (-val)")
	case f.warmup > 0 && f.warmup >= f.epochs:
		return bad("-warmup %d is not shorter than -epochs %d", f.warmup, f.epochs)
	case f.method == nn.LBFGS && f.precision == nn.Float32:
		return bad("-method lbfgs trains in float64 only: drop -precision float32, or choose another -method")
	case f.method == nn.LBFGS && (f.dropout != nil || set["clip"] || set["schedule"] || set["warmup"]):
		return bad("-method lbfgs takes no -dropout, -clip, -schedule or -warmup")
	case set["leaky-slope"] && !slices.Contains(acts, nn.LeakyReLU):
		return bad("-leaky-slope needs -activation leaky-relu")
	case (set["decay"] || set["min-lr"] || set["per-step"]) && !set["schedule"]:
		return bad("-decay, -min-lr and -per-step go with -schedule")
	}
	for _, h := range hidden {
		if f.dropout != nil && len(f.dropout) != len(h) {
			return bad("-dropout has %d rates for %d hidden layers (-hidden %s)", len(f.dropout), len(h), joinInts(h, ","))
		}
	}
	return nil
}

// toolbox sets the toolbox flags' settings on s.
func (f *trainFlags) toolbox(s *nn.Settings) {
	s.Dropout = f.dropout
	s.WeightDecay = f.weightDecay
	s.ClipNorm = f.clip
	s.Precision = f.precision
	s.Schedule, s.Warmup, s.PerStep, s.MinRate = f.schedule, f.warmup, f.perStep, f.minLR
	s.DecayRate = f.decay
	if f.monitor == "val_acc" {
		s.Monitor = nn.MonitorAccuracy
	}
}

// ratesFlag is a comma-separated list of rates in [0, 1).
type ratesFlag struct{ v *[]float64 }

func (f ratesFlag) String() string {
	if f.v == nil || *f.v == nil {
		return ""
	}
	s := make([]string, len(*f.v))
	for i, r := range *f.v {
		s[i] = strconv.FormatFloat(r, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

func (f ratesFlag) Set(s string) error {
	var rates []float64
	for _, part := range strings.Split(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(r >= 0 && r < 1) {
			return fmt.Errorf("%s is not a rate: want numbers in [0, 1) separated by commas, one per hidden layer", excerpt.Quote(part))
		}
		rates = append(rates, r)
	}
	*f.v = rates
	return nil
}
