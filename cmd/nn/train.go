package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/nnplot"
)

const trainSynopsis = `Usage: nn train -data FILE -o MODEL [flags]

Train fits a network to the CSV file FILE and writes it, with the scaler
fitted on the training rows and the names of the columns and classes, to
the model file MODEL.

Every column except the target is a numeric feature. For -task classify the
target holds class labels (any text) and the network has one softmax output
per class, trained on cross-entropy; for -task regress it holds numbers and
the network has one linear output trained on squared error (on the target
standardised with the training rows' mean and deviation, undone in the
saved model, so predictions come out in the target's own units).

By default -val 0.1 of the rows (stratified by class) are held out for
validation, training stops when the validation loss has not improved for
-patience epochs, and the weights of the best epoch are kept.

Progress goes to standard error: a progress bar on a terminal, otherwise a
line every few epochs; -quiet leaves out progress and summary.

The model file is written atomically and only after training succeeded: a
run that fails or is interrupted leaves an existing file as it was. Ctrl-C
stops training at once, abandoning the epoch in progress; -save-interrupted
then saves the weights of the last finished epoch. -checkpoint saves the
training state every -checkpoint-every epochs; run the same command with
-resume FILE to continue from it (-resume and -checkpoint may name the same
file, but no other two file flags may).

Before training starts, the column names and class labels are checked to
be valid UTF-8, and the fitted scaling to be finite, so that the model
can be saved at the end.

Examples:

	nn train -data testdata/iris.csv -target species -o iris.json
	nn train -data houses.csv -task regress -hidden 64,32 -epochs 500 -o houses.json -plot loss.png
`

// trainFlags are the flags of nn train.
type trainFlags struct {
	data, target, task, header string
	hidden                     []int
	activation, optimizer      string
	lr, l2, val                float64
	epochs, batch, patience    int
	seed                       uint64
	scale                      string
	checkpoint, resume         string
	checkpointEvery            int
	out, plot                  string
	quiet, saveInterrupted     bool
}

// Learning rates used when -lr is not given. The library's Adam default,
// 0.001, is tuned for large data sets; on the small tables this command is
// mostly used with it needs thousands of epochs.
const (
	defaultAdamLR = 0.01
	defaultLR     = 0.1
)

func runTrain(e *env, args []string) error {
	f := trainFlags{hidden: []int{16}, epochs: 200, batch: 32, val: 0.1, patience: 20, checkpointEvery: 10, seed: 1}
	fs := newFlagSet("train")
	fs.StringVar(&f.data, "data", "", "training data, a CSV `file` (required)")
	fs.StringVar(&f.out, "o", "", "the model `file` to write (required)")
	fs.StringVar(&f.target, "target", "", "target column: a header `name` or a 0-based index (default the last column)")
	fs.Var(newChoice(&f.task, "classify", "classify", "regress"), "task", "`kind` of task: classify (the target holds class labels) or regress (numbers)")
	fs.Var(newChoice(&f.header, "auto", headerChoices...), "header", headerUsage)
	fs.Var(sizesFlag{&f.hidden}, "hidden", "hidden layer `sizes`, comma-separated, such as 64,32; none for no hidden layer")
	fs.Var(newChoice(&f.activation, "relu", "sigmoid", "tanh", "relu"), "activation", "`function` of the hidden layers: sigmoid, tanh or relu")
	fs.Var(newChoice(&f.optimizer, "adam", "gd", "sgd", "momentum", "nesterov", "adam", "lbfgs"), "optimizer", "training `method`: gd, sgd, momentum, nesterov, adam or lbfgs")
	fs.Var(floatFlag{&f.lr, positive, "a number > 0"}, "lr", fmt.Sprintf("learning `rate` (default %v for adam, %v for the others; lbfgs ignores it)", defaultAdamLR, defaultLR))
	fs.Var(intFlag{&f.epochs, 1}, "epochs", "largest `number` of passes over the training rows")
	fs.Var(intFlag{&f.batch, 1}, "batch", "`rows` per step of sgd, momentum, nesterov and adam")
	fs.Var(floatFlag{&f.l2, nonNegative, "a number ≥ 0"}, "l2", "L2 weight decay `λ` (default none)")
	fs.Uint64Var(&f.seed, "seed", 1, "`seed` of the initial weights, the validation split and the shuffling")
	fs.Var(floatFlag{&f.val, fraction, "a fraction in [0, 1)"}, "val", "`fraction` of the rows held out for validation and early stopping; 0 for none")
	fs.Var(intFlag{&f.patience, 0}, "patience", "stop after this many `epochs` without improvement of the validation loss (the training loss with -val 0); 0 to run all epochs")
	fs.Var(newChoice(&f.scale, "standard", "standard", "minmax", "maxabs", "none"), "scale", "input `scaling`, fitted on the training rows: standard, minmax, maxabs or none")
	fs.StringVar(&f.checkpoint, "checkpoint", "", "save the training state to this `file` every -checkpoint-every epochs")
	fs.Var(intFlag{&f.checkpointEvery, 1}, "checkpoint-every", "`epochs` between checkpoints")
	fs.StringVar(&f.resume, "resume", "", "continue the training saved in this checkpoint `file` (same data and flags)")
	fs.StringVar(&f.plot, "plot", "", "draw the loss per epoch into this `file`, .png or .svg")
	fs.BoolVar(&f.quiet, "quiet", false, "print nothing but errors")
	fs.BoolVar(&f.saveInterrupted, "save-interrupted", false, "on Ctrl-C, write the model of the last finished epoch instead of nothing")
	if err := parseFlags(e, fs, "train", trainSynopsis, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := f.check(set); err != nil {
		return err
	}
	if !set["lr"] {
		f.lr = defaultLR
		if f.optimizer == "adam" {
			f.lr = defaultAdamLR
		}
	}
	return train(e, &f)
}

// check returns a usageError for flags that do not go together; set holds
// the names of the flags given.
func (f *trainFlags) check(set map[string]bool) error {
	if err := required("train", "data", f.data, "the CSV file to train on"); err != nil {
		return err
	}
	if err := required("train", "o", f.out, "the model file to write"); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return &usageError{cmd: "train", msg: fmt.Sprintf(format, args...)}
	}
	if f.plot != "" {
		if ext := strings.ToLower(filepath.Ext(f.plot)); ext != ".png" && ext != ".svg" {
			return bad("-plot %s: want a file name ending in .png or .svg", f.plot)
		}
	}
	if f.optimizer == "lbfgs" && (f.checkpoint != "" || f.resume != "") {
		return bad("-optimizer lbfgs cannot be checkpointed or resumed; it suits small problems trained in one run")
	}
	if set["checkpoint-every"] && f.checkpoint == "" {
		return bad("-checkpoint-every needs -checkpoint FILE")
	}
	return checkDistinctPaths(f)
}

// pathRole is a file flag of nn train and what its file holds.
type pathRole struct {
	flag, path, what string
	written          bool // the run writes the file
}

// checkDistinctPaths returns a usageError naming the two flags if two of
// the files of the run that must differ are the same file, so that no file
// of the run overwrites another: -checkpoint the training data, or -plot
// the checkpoint. Only -resume and -checkpoint may name the same file.
func checkDistinctPaths(f *trainFlags) error {
	roles := []pathRole{
		{"data", f.data, "the training data", false},
		{"resume", f.resume, "the checkpoint to resume from", false},
		{"o", f.out, "the model", true},
		{"checkpoint", f.checkpoint, "the checkpoint", true},
		{"plot", f.plot, "the plot", true},
	}
	for i, a := range roles {
		for _, b := range roles[i+1:] {
			if !a.written && !b.written || a.flag == "resume" && b.flag == "checkpoint" || !samePath(a.path, b.path) {
				continue
			}
			which := fmt.Sprintf("-%s and -%s both name %s", a.flag, b.flag, b.path)
			if a.path != b.path {
				which = fmt.Sprintf("-%s %s and -%s %s are the same file", a.flag, a.path, b.flag, b.path)
			}
			what := fmt.Sprintf("%s would overwrite %s", b.what, a.what) // b is written: roles list the read ones first
			if a.written {
				what = fmt.Sprintf("%s and %s would overwrite each other", a.what, b.what)
			}
			return &usageError{cmd: "train", msg: fmt.Sprintf("%s: %s; give them different names", which, what)}
		}
	}
	return nil
}

// samePath reports whether the paths a and b, if neither is empty, name
// the same file: the same path once cleaned and made absolute, or, when
// both exist, the same file by os.SameFile (another spelling, a symbolic
// or a hard link).
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// checkWritable returns an error if a file cannot be created at path
// because its directory is missing or path is a directory, so that a long
// training run does not end in a write error that could have been seen at
// the start.
func checkWritable(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s: is a directory, not a file to write", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("%s: cannot write there: directory %s does not exist", path, dir)
	case !fi.IsDir():
		return fmt.Errorf("%s: cannot write there: %s is not a directory", path, dir)
	}
	return nil
}

// train runs nn train with the checked flags f.
func train(e *env, f *trainFlags) error {
	for _, path := range []string{f.out, f.checkpoint, f.plot} {
		if err := checkWritable(path); err != nil {
			return err
		}
	}
	classify := f.task == "classify"
	d, err := nn.LoadCSV(f.data, &nn.CSVOptions{Target: f.target, Classify: classify, Header: parseHeader(f.header)})
	if err != nil {
		return err
	}
	if err := checkNames(f.data, d); err != nil {
		return err
	}
	rows, inputs := d.X.Dims()
	if classify {
		if len(d.Classes) < 2 {
			return fmt.Errorf("%s: the target column %q holds the single class %q; classification needs at least two (use -task regress for a numeric target)", f.data, d.Target, d.Classes[0])
		}
		if !f.quiet && len(d.Classes) > 20 && 2*len(d.Classes) > rows {
			fmt.Fprintf(e.stderr, "warning: the target column %q holds %d classes in %d rows; if it is a number to predict, use -task regress\n", d.Target, len(d.Classes), rows)
		}
	}
	var resume *nn.Checkpoint
	if f.resume != "" {
		if resume, err = nn.LoadCheckpoint(f.resume); err != nil {
			return err
		}
	}

	// Hold out the validation rows first, so that the scalers are fitted
	// on the training rows only.
	trainSet, valSet := d, (*nn.Dataset)(nil)
	if f.val > 0 {
		trainSet, valSet, err = d.Split(f.val, f.seed)
		if err != nil {
			return fmt.Errorf("%s: %d rows are too few to hold out -val %v of them for validation; use -val 0 to train on all of them", f.data, rows, f.val)
		}
	}
	kind, err := nn.ParseScaleKind(f.scale)
	if err != nil {
		panic(err) // the flag admits valid names only
	}
	var scaler *nn.Scaler
	if kind != nn.NoScaling {
		scaler = nn.FitScaler(kind, trainSet.X)
		if err := checkScaler(f.data, scaler, d.Features, "-scale "+f.scale); err != nil {
			return err
		}
		scaler.Transform(trainSet.X, trainSet.X)
		if valSet != nil {
			scaler.Transform(valSet.X, valSet.X)
		}
	}
	var yScaler *nn.Scaler
	if !classify {
		// Train on a standardised target, whatever its units; the scaling
		// is folded into the output layer at the end.
		yScaler = nn.FitScaler(nn.Standardize, trainSet.Y)
		if err := checkScaler(f.data, yScaler, []string{d.Target}, "the standardisation of the target"); err != nil {
			return err
		}
		yScaler.Transform(trainSet.Y, trainSet.Y)
		if valSet != nil {
			yScaler.Transform(valSet.Y, valSet.Y)
		}
	}

	_, outputs := d.Y.Dims()
	sizes := append(append([]int{inputs}, f.hidden...), outputs)
	act, err := nn.ParseActivation(f.activation)
	if err != nil {
		panic(err)
	}
	cfg := nn.Config{Sizes: sizes, Activations: make([]nn.Activation, len(sizes)-1), Init: nn.Xavier, Seed: f.seed}
	for l := range cfg.Activations {
		cfg.Activations[l] = act
	}
	if act == nn.ReLU {
		cfg.Init = nn.He
	}
	if classify {
		cfg.Activations[len(cfg.Activations)-1] = nn.Softmax
		cfg.Loss = nn.CrossEntropy
	} else {
		cfg.Activations[len(cfg.Activations)-1] = nn.Identity
		cfg.Loss = nn.SquaredError
	}
	net, err := nn.New(cfg)
	if err != nil {
		return err
	}
	method, err := nn.ParseMethod(f.optimizer)
	if err != nil {
		panic(err)
	}
	s := &nn.Settings{
		Method:       method,
		LearningRate: f.lr,
		Epochs:       f.epochs,
		BatchSize:    f.batch,
		L2:           f.l2,
		Patience:     f.patience,
		Seed:         f.seed,
		Resume:       resume,
	}
	if valSet != nil {
		s.ValidationX, s.ValidationY = valSet.X, valSet.Y
	}
	if f.checkpoint != "" {
		s.CheckpointEvery = f.checkpointEvery
		s.Checkpoint = func(c *nn.Checkpoint) error { return nn.SaveCheckpoint(f.checkpoint, c) }
	}
	var prog *progress
	if !f.quiet {
		trainRows, _ := trainSet.X.Dims()
		held := ""
		if valSet != nil {
			vr, _ := valSet.X.Dims()
			held = fmt.Sprintf(", %d held out for validation", vr)
		}
		what := "regression of " + strconv.Quote(d.Target)
		if classify {
			what = fmt.Sprintf("%d classes of %q", len(d.Classes), d.Target)
		}
		net := joinInts(sizes, "-") + " network"
		if len(f.hidden) > 0 {
			net += " (" + act.String() + ")"
		}
		how := method.String()
		if method != nn.LBFGS {
			how += fmt.Sprintf(", lr %v", f.lr)
		}
		if method != nn.LBFGS && method != nn.GradientDescent {
			how += fmt.Sprintf(", batch %d", f.batch)
		}
		fmt.Fprintf(e.stderr, "training a %s on %d rows of %s%s: %s; %s, up to %d epochs\n",
			net, trainRows, f.data, held, what, how, f.epochs)
		if resume != nil {
			fmt.Fprintf(e.stderr, "resuming after epoch %d from %s\n", resume.Epoch, f.resume)
		}
		prog = newProgress(e.stderr, e.stderrTTY, f.epochs, valSet != nil, classify)
		s.Progress = prog.epoch
	}

	// Ctrl-C cancels the context; Train then stops at once, abandoning the
	// epoch it is in, and leaves the network with the weights of the last
	// finished epoch. A second Ctrl-C kills the program as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	report, trainErr := nn.Train(ctx, net, trainSet.X, trainSet.Y, s)
	if prog != nil {
		prog.finish()
	}

	// The plot helps to see what went wrong too, so draw it whatever the
	// outcome.
	var plotErr error
	if f.plot != "" && report != nil && len(report.History) > 0 {
		plotErr = nnplot.LossCurve(report, f.plot)
	}

	interrupted := errors.Is(trainErr, context.Canceled)
	switch {
	case trainErr == nil:
	case interrupted && f.saveInterrupted && len(report.History) > 0:
	case interrupted:
		n := 0
		if report != nil {
			n = len(report.History)
		}
		msg := fmt.Sprintf("interrupted after %d epochs; %s was not written (-save-interrupted saves the last finished epoch)", n, f.out)
		if f.checkpoint != "" {
			msg = fmt.Sprintf("interrupted after %d epochs; %s was not written; continue with the same command and -resume %s", n, f.out, f.checkpoint)
		}
		return errors.New(msg)
	default:
		return trainErr
	}

	if yScaler != nil {
		unscaleOutput(net, yScaler)
	}
	m := &nn.Model{Network: net, Scaler: scaler, Features: d.Features, Target: d.Target, Classes: d.Classes}
	if err := m.Save(f.out); err != nil {
		return err
	}
	if interrupted {
		fmt.Fprintf(e.stderr, "nn: interrupted after %d epochs; wrote the weights of epoch %d to %s as -save-interrupted asks\n", len(report.History), len(report.History), f.out)
		return errExit
	}
	if !f.quiet {
		printSummary(e, f, report, net, valSet, yScaler)
	}
	if plotErr != nil {
		return fmt.Errorf("model written to %s, but the plot failed: %w", f.out, plotErr)
	}
	return nil
}

// checkNames returns an error, before any training, if the column names or
// class labels of d, read from the file path, could not be saved in a model
// file because they are not valid UTF-8. (nn.ReadCSV has rejected two
// columns of the same name.)
func checkNames(path string, d *nn.Dataset) error {
	for _, name := range append(slices.Clip(d.Features), d.Target) {
		if !utf8.ValidString(name) {
			return fmt.Errorf("%s: the column name %q is not valid UTF-8; a model file holds UTF-8 text only", path, name)
		}
	}
	for _, c := range d.Classes {
		if !utf8.ValidString(c) {
			return fmt.Errorf("%s: the class label %q (column %q) is not valid UTF-8; a model file holds UTF-8 text only", path, c, d.Target)
		}
	}
	return nil
}

// checkScaler returns an error naming the column if the scaler sc, fitted
// by how on the columns names of the file path, has an offset or scale that
// is not finite, as happens when values near ±1e308 overflow. The model
// file could not be saved with it, so this is found before training.
func checkScaler(path string, sc *nn.Scaler, names []string, how string) error {
	for j := range sc.Offset {
		if o, s := sc.Offset[j], sc.Scale[j]; !finite(o) || !finite(s) {
			return fmt.Errorf("%s: the values of column %q are too large for %s (offset %v, scale %v); divide the column by a power of ten", path, names[j], how, o, s)
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// unscaleOutput folds the target scaling ys into the identity output layer
// of net, so that net predicts in the target's own units:
// ŷ = (a·W + b)·s + o = a·(W·s) + (b·s + o), column by column.
func unscaleOutput(net *nn.Network, ys *nn.Scaler) {
	L := net.Layers() - 1
	w, b := net.Weights(L), net.Bias(L)
	r, c := w.Dims()
	for j := 0; j < c; j++ {
		s, o := ys.Scale[j], ys.Offset[j]
		for i := 0; i < r; i++ {
			w.Set(i, j, w.At(i, j)*s)
		}
		b[j] = b[j]*s + o
	}
}

// printSummary tells how training ended and how well the kept weights do
// on the validation rows.
func printSummary(e *env, f *trainFlags, r *nn.Report, net *nn.Network, val *nn.Dataset, ys *nn.Scaler) {
	w := e.stderr
	n := len(r.History)
	monitored := "loss"
	if val != nil {
		monitored = "val_loss"
	}
	kept := ""
	if r.BestEpoch != n && r.BestEpoch > 0 {
		kept = fmt.Sprintf("; kept the weights of epoch %d, the best %s", r.BestEpoch, monitored)
	}
	switch r.Stop {
	case nn.Patience:
		fmt.Fprintf(w, "stopped after epoch %d of %d: no better %s for %d epochs%s\n", n, f.epochs, monitored, f.patience, kept)
	case nn.Converged:
		fmt.Fprintf(w, "converged after epoch %d of %d%s\n", n, f.epochs, kept)
	default:
		fmt.Fprintf(w, "ran all %d epochs%s\n", n, kept)
	}
	var b strings.Builder
	if i := r.BestEpoch - 1; i >= 0 && i < n {
		ep := r.History[i]
		fmt.Fprintf(&b, "epoch %d: loss %.4g", ep.Epoch, ep.Loss)
		if !math.IsNaN(ep.ValLoss) {
			fmt.Fprintf(&b, ", val_loss %.4g", ep.ValLoss)
		}
	}
	if val != nil {
		p, err := net.Predict(val.X)
		if err == nil {
			if val.Classes != nil {
				fmt.Fprintf(&b, ", val_acc %.4f", nn.Accuracy(val.Labels(), net.ClassesTo(nil, p)))
			} else {
				y := mat.DenseCopyOf(val.Y)
				ys.Inverse(y, y)
				fmt.Fprintf(&b, ", val_R² %.4f, val_RMSE %.4g", nn.R2(y, p), math.Sqrt(nn.MeanSquaredError(y, p)))
			}
		}
	}
	fmt.Fprintf(&b, " (%s)", roundDuration(r.Elapsed))
	fmt.Fprintln(w, b.String())
	fmt.Fprintf(w, "model written to %s\n", f.out)
	if f.plot != "" {
		fmt.Fprintf(w, "loss curve drawn in %s\n", f.plot)
	}
}

func joinInts(s []int, sep string) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, sep)
}

// roundDuration rounds d for people: 312ms, 12.4s, 3m25s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
