package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	"github.com/neuralgo/nn"
	nnbeam "github.com/neuralgo/nn/beam"
	"github.com/neuralgo/nn/internal/excerpt"
)

const trainSynopsis = `Usage: nn-beam train -data GLOB -target COLUMN -o MODEL [flags] [Beam's flags]

Train fits a network to the rows of the CSV files that GLOB matches, each
file a shard read whole by one worker, with the driver (this process)
keeping the weights: every iteration runs a pipeline that sums, over all
shards, the cost, its gradient and the rows, exactly whatever the order
of the sums, and the driver takes the step. It writes the network, the
scaler and the names of the columns and classes to the model file MODEL,
which nn predict, nn eval and nn-beam score read.

-method gd (full-batch gradient descent, the default) and lbfgs take one
step per iteration on the gradient of every row. With gd the weights are
those that nn train's library call, nn.Train, reaches on all the rows in
one process with the same settings, to 1e-12 relative, however the rows
are sharded. lbfgs takes the same steps as nn.Train's L-BFGS, agreeing to
rounding at first, but its line searches amplify the rounding of the sums
over many epochs (1e-11 after 50 epochs on iris, 1e-5 by convergence).
sgd, momentum, nesterov, adam and adamw run an epoch of
parameter mixing per iteration instead: each shard is trained for a pass
from the current weights and the weights are averaged, weighted by rows.

Every file must start with a header naming its columns, the same in every
file; every column but the target is a feature, a number in every row. A
classification (-task classify, the default) needs -classes, the class
labels in order, so that every shard encodes them alike; the network then
has one softmax output per class, trained on cross-entropy. A regression
has one linear output, trained on squared error in the target's units.
With -scale standard (the default), two pipelines first fit the mean and
deviation of every feature, as nn train does on its training rows.

-checkpoint FILE saves the driver's state after every iteration; run the
same command again to resume from it: gd and the mixing methods then end
with the weights of an uninterrupted run, bit for bit, while lbfgs starts
afresh from the saved weights, without its memory of past steps (a
checkpoint of other data or
settings is refused). The model file is written atomically at the end.

Examples:

	nn-beam train -data 'shards/*.csv' -target species -classes setosa,versicolor,virginica -method lbfgs -epochs 50 -o iris.json
	nn-beam train -data 'gs://b/shards/*.csv' -target y -task regress -hidden 64,32 -o model.json --runner flink --endpoint localhost:8099 --environment_type LOOPBACK
` + runnerExamples

// trainOptions are the flags of nn-beam train.
type trainOptions struct {
	data, target, out, classes string
	task                       string
	hidden                     string
	activation                 nn.Activation
	method                     nn.Method
	lr, l2                     float64
	epochs, batch              int
	seed                       uint64
	scale                      string
	checkpoint, workDir        string
	block                      int
	quiet                      bool
}

func trainFlags(fs *flag.FlagSet) func(ctx context.Context, e *env) error {
	o := &trainOptions{activation: nn.ReLU}
	fs.StringVar(&o.data, "data", "", "the CSV shards: a `glob`, local or gs:// (required)")
	fs.StringVar(&o.target, "target", "", "the target `column` (required)")
	fs.StringVar(&o.out, "o", "", "the model `file` to write, a local path (required)")
	fs.StringVar(&o.task, "task", "classify", "classify or regress")
	fs.StringVar(&o.classes, "classes", "", "the class `labels` in order, comma-separated (required to classify)")
	fs.StringVar(&o.hidden, "hidden", "32", "hidden layer `sizes`, comma-separated; none for no hidden layer")
	fs.TextVar(&o.activation, "activation", nn.ReLU, "`function` of the hidden layers, as nn train takes it")
	fs.TextVar(&o.method, "method", nn.GradientDescent, "training `method`: gd, lbfgs, sgd, momentum, nesterov, adam or adamw")
	fs.Float64Var(&o.lr, "lr", 0, "learning `rate` (default 0.1, 0.01 for adam and adamw; lbfgs chooses its own)")
	fs.Float64Var(&o.l2, "l2", 0, "L2 weight decay `λ`")
	fs.IntVar(&o.epochs, "epochs", 200, "`iterations`: steps of gd, major iterations of lbfgs, epochs of parameter mixing")
	fs.IntVar(&o.batch, "batch", 0, "`rows` per step of the mini-batch methods within a shard (default 32)")
	fs.Uint64Var(&o.seed, "seed", 1, "`seed` of the initial weights and of the shuffling of the mini-batch methods")
	fs.StringVar(&o.scale, "scale", "standard", "`scaling` of the features: standard (fitted over the shards) or none")
	fs.StringVar(&o.checkpoint, "checkpoint", "", "`file` of the driver's state, saved after every iteration and resumed from if it exists")
	fs.StringVar(&o.workDir, "workdir", "", "`directory` shared by the driver and the workers for the pipelines' sums (default a temporary one; gs://… on Dataflow)")
	fs.IntVar(&o.block, "block", 0, "`rows` per gradient evaluation within a shard (default 1024)")
	fs.BoolVar(&o.quiet, "quiet", false, "print no progress and no summary")
	return o.run
}

// run checks the flags and the header of the shards, fits the scaler,
// trains, and writes the model.
func (o *trainOptions) run(ctx context.Context, e *env) error {
	if err := required("train",
		requiredFlag{"data", o.data, "a glob of the CSV shards to train on"},
		requiredFlag{"target", o.target, "the target column"},
		requiredFlag{"o", o.out, "the model file to write"},
	); err != nil {
		return err
	}
	if !nnbeam.IsLocal(o.out) {
		return usagef("train", "-o %s: the model file is written by this process, on a local path", excerpt.Quote(o.out))
	}
	if o.task != "classify" && o.task != "regress" {
		return usagef("train", "invalid value %s for flag -task: want classify or regress", excerpt.Quote(o.task))
	}
	if o.scale != "standard" && o.scale != "none" {
		return usagef("train", "invalid value %s for flag -scale: want standard or none", excerpt.Quote(o.scale))
	}
	if o.epochs < 1 || o.batch < 0 || o.block < 0 || !(o.lr >= 0) || !(o.l2 >= 0) || math.IsInf(o.lr, 0) || math.IsInf(o.l2, 0) {
		return usagef("train", "-epochs must be at least 1, -batch and -block not negative, and -lr and -l2 finite and not negative")
	}
	var classes []string
	if o.task == "classify" {
		if o.classes == "" {
			return usagef("train", "-task classify needs -classes, the class labels in order, for every shard to encode them alike")
		}
		classes = strings.Split(o.classes, ",")
		seen := make(map[string]bool, len(classes))
		for i := range classes {
			classes[i] = strings.TrimSpace(classes[i])
			if classes[i] == "" || seen[classes[i]] {
				return usagef("train", "invalid value %s for flag -classes: want distinct, non-empty labels", excerpt.Quote(o.classes))
			}
			seen[classes[i]] = true
		}
		if len(classes) < 2 {
			return usagef("train", "-classes names %d class; a classifier needs at least 2", len(classes))
		}
	} else if o.classes != "" {
		return usagef("train", "-classes is for -task classify")
	}
	// Find a model file that cannot be written before hours of
	// training, not after.
	if st, err := os.Stat(filepath.Dir(o.out)); err != nil || !st.IsDir() {
		return fmt.Errorf("-o %s: the directory %s does not exist", excerpt.Quote(o.out), excerpt.Quote(filepath.Dir(o.out)))
	}
	if st, err := os.Stat(o.out); err == nil && st.IsDir() {
		return fmt.Errorf("-o %s is a directory, not a model file", excerpt.Quote(o.out))
	}
	if c := o.checkpoint; c != "" && nnbeam.IsLocal(c) {
		if st, err := os.Stat(filepath.Dir(c)); err != nil || !st.IsDir() {
			return fmt.Errorf("-checkpoint %s: the directory %s does not exist", excerpt.Quote(c), excerpt.Quote(filepath.Dir(c)))
		}
	}
	hidden, err := parseSizes(o.hidden)
	if err != nil {
		return usagef("train", "invalid value %s for flag -hidden: %v", excerpt.Quote(o.hidden), err)
	}

	files, err := nnbeam.Match(ctx, o.data)
	if err != nil {
		return flagError("data", err)
	}
	file, line, err := firstLine(ctx, files)
	if err != nil {
		return err
	}
	header, err := headerOf(line, file, nn.HeaderYes)
	if err != nil {
		return err
	}
	features := slices.DeleteFunc(slices.Clone(header), func(h string) bool { return h == o.target })
	if len(features) == len(header) {
		return fmt.Errorf("%s: the header does not name the target %s: its columns are %s", file, excerpt.Quote(o.target), excerpt.Quotes(header))
	}
	if len(features) == 0 {
		return fmt.Errorf("%s: the header names no column besides the target %s", file, excerpt.Quote(o.target))
	}
	data := &nnbeam.Data{Glob: o.data, CSV: nn.CSVOptions{Target: o.target, Classify: classes != nil, Classes: classes, Features: features, Header: nn.HeaderYes}}
	topts := &nnbeam.TrainOptions{
		Settings:   nn.Settings{Method: o.method, LearningRate: o.lr, Epochs: o.epochs, L2: o.l2, BatchSize: o.batch, Seed: o.seed},
		Runner:     *runners.Runner,
		WorkDir:    o.workDir,
		Checkpoint: o.checkpoint,
		BlockRows:  o.block,
	}
	start := time.Now()
	if o.scale == "standard" {
		if data.Scaler, err = nnbeam.FitScaler(ctx, data, topts); err != nil {
			return jobError(err)
		}
	}

	sizes := append(append([]int{len(features)}, hidden...), 1)
	acts := make([]nn.Activation, len(sizes)-1)
	for i := range acts {
		acts[i] = o.activation
	}
	cfg := nn.Config{Sizes: sizes, Activations: acts, Seed: o.seed, Init: nn.Xavier}
	if o.activation == nn.ReLU || o.activation == nn.LeakyReLU {
		cfg.Init = nn.He
	}
	if classes != nil {
		sizes[len(sizes)-1] = len(classes)
		acts[len(acts)-1], cfg.Loss = nn.Softmax, nn.CrossEntropy
	} else {
		acts[len(acts)-1], cfg.Loss = nn.Identity, nn.SquaredError
	}
	net, err := nn.New(cfg)
	if err != nil {
		return usagef("train", "%s", message(err))
	}
	every := max(1, o.epochs/20)
	if !o.quiet {
		topts.Progress = func(ep nn.Epoch) {
			if ep.Epoch%every == 0 || ep.Epoch == o.epochs {
				fmt.Fprintf(e.stderr, "epoch %d: loss %.6g (%.1fs)\n", ep.Epoch, ep.Loss, time.Since(start).Seconds())
			}
		}
	}
	rep, err := nnbeam.Train(ctx, net, data, topts)
	if err != nil {
		return jobError(err)
	}
	m := &nn.Model{Network: net, Scaler: data.Scaler, Features: features, Target: o.target, Classes: classes}
	if err := m.Save(o.out); err != nil {
		return err
	}
	if !o.quiet {
		loss := rep.Loss()
		last := "no epoch: L-BFGS stopped at the starting weights"
		if len(loss) > 0 {
			last = fmt.Sprintf("loss %.6g", loss[len(loss)-1])
		}
		fmt.Fprintf(e.stderr, "nn-beam: %d epochs (%v), %s, in %v; model written to %s\n", len(loss), rep.Stop, last, time.Since(start).Round(time.Millisecond), o.out)
	}
	return nil
}

// parseSizes parses the hidden layer sizes: positive integers separated
// by commas, or none.
func parseSizes(s string) ([]int, error) {
	if strings.TrimSpace(s) == "none" {
		return nil, nil
	}
	var sizes []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, errors.New("want positive integers separated by commas, or none")
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}
