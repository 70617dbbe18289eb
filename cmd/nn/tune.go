package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

const tuneSynopsis = `Usage: nn tune -data FILE -o MODEL [grid flags] [flags]

Tune searches hyperparameters by k-fold cross-validation on the CSV file
FILE (stratified by class for -task classify), prints a table of the mean
and deviation of each candidate's score (accuracy, or R² for -task
regress), refits the best candidate on all rows and writes it to MODEL.

Each grid flag takes a comma-separated list of values to try; the search
tries every combination (or -random N of them, drawn from -seed). A flag
left out keeps the value nn train would use. For -hidden, a candidate's
layers are joined by "x": -hidden 16,32,64x32 tries one layer of 16, one
of 32, and two layers of 64 and 32; none is no hidden layer.

The data is read as nn train reads it, and each fit trains as nn train
does, but for all its epochs on all its rows unless -val and -patience ask
for early stopping: the folds judge the candidates (add -epochs to the grid
to search the length of training). The best is refitted on all rows in
the same way. The folds are fitted in parallel; the result depends only on
the data, the flags and -seed.

Example:

	nn tune -data testdata/iris.csv -target species -hidden 16,32,64 -lr 0.01,0.001 -l2 0,1e-4 -folds 5 -o best.json
`

// tuneFlags are the flags of nn tune.
type tuneFlags struct {
	trainFlags
	grid   nn.Grid
	folds  int
	random int
}

func runTune(e *env, args []string) error {
	f := tuneFlags{trainFlags: defaultTrainFlags(), folds: 5}
	// Each fit trains for its epochs on all of its rows: the folds judge
	// the candidates, and holding out rows for early stopping inside
	// them makes the comparison noisier on small tables.
	f.val, f.patience = 0, 0
	fs := newFlagSet("tune")
	fs.StringVar(&f.data, "data", "", "the CSV `file` to cross-validate on (required)")
	fs.StringVar(&f.out, "o", "", "the model `file` to write, the best candidate fitted on all rows (required)")
	fs.StringVar(&f.target, "target", "", "target column: a header `name` or a 0-based index (default the last column); for -task regress, several separated by commas")
	fs.Var(newChoice(&f.task, f.task, "classify", "regress"), "task", "`kind` of task: classify or regress")
	fs.TextVar(&f.header, "header", f.header, headerUsage)
	fs.Var(gridSizes{&f.grid.Hidden}, "hidden", "hidden layer `candidates`, comma-separated, layers joined by x: 16,32,64x32 (default 32)")
	fs.Var(gridStrings{&f.grid.Activation}, "activation", "hidden `activations` to try: "+orList(names(notHidden...)))
	fs.Var(gridFloats{&f.grid.LearningRate, positive, "rates > 0"}, "lr", fmt.Sprintf("learning `rates` to try (default %v for adam and adamw, %v for the others)", defaultRate(nn.Adam), defaultRate(nn.GradientDescent)))
	fs.Var(gridFloats{&f.grid.L2, nonNegative, "numbers ≥ 0"}, "l2", "L2 weight decays `λ` to try (default none)")
	fs.Var(gridInts{&f.grid.BatchSize}, "batch", "batch `sizes` to try (default 32)")
	fs.Var(gridInts{&f.grid.Epochs}, "epochs", "largest `numbers` of epochs to try (default 200)")
	fs.Var(intFlag{&f.folds, 2}, "folds", "the `number` of folds")
	fs.Var(intFlag{&f.random, 1}, "random", "try this `number` of candidates drawn at random from the grid, instead of all")
	fs.TextVar(&f.method, "method", f.method, "training `method`: "+orList(names[nn.Method]()))
	fs.Var(floatFlag{&f.val, fraction, "a fraction in [0, 1)"}, "val", "`fraction` of each fit's rows held out for early stopping (default none: every epoch on every row)")
	fs.Var(intFlag{&f.patience, 0}, "patience", "stop a fit after this many `epochs` without improvement; 0 runs all epochs")
	fs.TextVar(&f.scale, "scale", f.scale, "input `scaling`: "+orList(names[nn.ScaleKind]()))
	fs.Uint64Var(&f.seed, "seed", f.seed, "`seed` of the folds, the random search and every fit")
	fs.Var(listFlag{&f.categorical}, "categorical", "feature `columns` to read as categories even where they hold numbers")
	fs.Var(listFlag{&f.missing}, "missing", "the `spellings` of a missing value, comma-separated (\"\" for an empty field), or none")
	fs.TextVar(&f.impute, "impute", f.impute, "how a missing number is filled in: "+orList(names[nn.Impute]()))
	fs.BoolVar(&f.indicator, "indicator", false, "add an input per column with missing values")
	fs.Var(classWeightFlag{&f.classWeights, &f.balanced}, "class-weight", "weigh the classes' rows: `balanced` or label=weight pairs")
	fs.StringVar(&f.weight, "weight", "", "a `column` holding a weight ≥ 0 for each row")
	fs.BoolVar(&f.quiet, "quiet", false, "print nothing but errors")
	f.registerToolbox(fs)
	budget := memoryFlag(fs)
	if err := parseFlags(e, fs, "tune", tuneSynopsis, args); err != nil {
		return err
	}
	setMemoryBudget(*budget)
	holdData()
	if err := required("tune", "data", f.data, "the CSV file to cross-validate on"); err != nil {
		return err
	}
	if err := required("tune", "o", f.out, "the model file to write"); err != nil {
		return err
	}
	if f.task == "classify" && strings.Contains(f.target, ",") {
		return &usageError{cmd: "tune", msg: fmt.Sprintf("-target %s: several targets need -task regress", f.target)}
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	hidden, acts := f.grid.Hidden, []nn.Activation{f.activation}
	if hidden == nil {
		hidden = [][]int{f.hidden}
	}
	if f.grid.Activation != nil {
		acts = acts[:0]
		for _, a := range f.grid.Activation {
			var act nn.Activation
			act.UnmarshalText([]byte(a)) // checked below
			acts = append(acts, act)
		}
	}
	if err := f.checkToolbox("tune", set, hidden, acts); err != nil {
		return err
	}
	if (f.balanced || f.classWeights != nil) && f.task != "classify" {
		return &usageError{cmd: "tune", msg: "-class-weight needs -task classify"}
	}
	for _, a := range f.grid.Activation {
		var act nn.Activation
		if err := act.UnmarshalText([]byte(a)); err != nil || act == nn.Softmax || act == nn.Identity {
			return &usageError{cmd: "tune", msg: fmt.Sprintf("-activation %s: the hidden layers take %s", a, orList(names(notHidden...)))}
		}
	}
	if err := checkWritable(f.out); err != nil {
		return err
	}
	return tune(e, &f)
}

// defaultVal is the fraction of the rows that nn train holds out for
// validation, that of nn.Classifier and nn.Regressor (whose zero
// ValidationFraction means it).
const defaultVal = 0.1

// defaultPatience returns the patience of early stopping that package nn
// uses with a validation set when none is given.
func defaultPatience() int {
	s := nn.Settings{ValidationFraction: defaultVal}
	return s.WithDefaults().Patience
}

// defaultTrainFlags returns the flags of nn train at their defaults.
func defaultTrainFlags() trainFlags {
	return trainFlags{
		task: "classify", hidden: []int{32}, activation: nn.ReLU, method: nn.Adam, scale: nn.Standardize,
		missing: nn.DefaultMissing,
		epochs:  200, batch: 32, val: defaultVal, patience: defaultPatience(), checkpointEvery: 10, seed: 1,
		shuffleBuffer: nn.DefaultShuffleBuffer,
	}
}

// tune runs nn tune with the checked flags f.
func tune(e *env, f *tuneFlags) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := readTrainingData(ctx, e, &f.trainFlags)
	if err != nil {
		return err
	}
	est, err := f.estimator(d, nil)
	if err != nil {
		return err
	}
	var base nn.Estimator = est.r
	if est.c != nil {
		base = est.c
	}
	hidden := f.grid.Hidden
	if hidden == nil {
		hidden = [][]int{f.hidden}
	}
	for _, h := range hidden {
		if err := f.checkFiles(d, h); err != nil {
			return err
		}
	}
	cands := f.grid.Candidates()
	if f.random > 0 {
		cands = f.grid.Sample(f.random, f.seed)
	}
	rows, _ := d.X.Dims()
	if !f.quiet {
		fmt.Fprintf(e.stderr, "cross-validating %d candidates on %d folds of the %d rows of %s (%d fits)\n", len(cands), f.folds, rows, f.data, len(cands)*f.folds)
	}
	res, err := nn.Search(ctx, base, cands, d, f.folds, f.seed)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("nn: interrupted; %s was not written", f.out)
		}
		return fileErrorf(f.data, "%s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	score := "accuracy"
	if f.task == "regress" {
		score = "R²"
	}
	if !f.quiet {
		fmt.Fprintf(e.stdout, "mean %s over %d folds, best first:\n", score, f.folds)
		fmt.Fprint(e.stdout, res)
	}
	var model *nn.Model
	switch b := res.Estimator.(type) {
	case *nn.Classifier:
		model = b.Model
	case *nn.Regressor:
		model = b.Model
	}
	if err := model.Save(f.out); err != nil {
		return err
	}
	if !f.quiet {
		best := res.Results[res.Best]
		fmt.Fprintf(e.stderr, "best: %s, %s %.4f ± %.4f; refitted on all %d rows and written to %s\n", res.Candidates[res.Best], score, best.Mean, best.Std, rows, f.out)
	}
	return nil
}

// gridSizes is -hidden of nn tune: candidates separated by commas, layers
// by x.
type gridSizes struct{ v *[][]int }

func (f gridSizes) String() string { return "" }

func (f gridSizes) Set(s string) error {
	var out [][]int
	for _, cand := range strings.Split(s, ",") {
		cand = strings.TrimSpace(cand)
		if cand == "none" {
			out = append(out, []int{})
			continue
		}
		var sizes []int
		for _, part := range strings.Split(cand, "x") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || n < 1 {
				return fmt.Errorf("%s is not a candidate: want layer sizes joined by x, such as 64x32, or none", excerpt.Quote(cand))
			}
			sizes = append(sizes, n)
		}
		out = append(out, sizes)
	}
	*f.v = out
	return nil
}

// gridStrings is a comma-separated list of names.
type gridStrings struct{ v *[]string }

func (f gridStrings) String() string { return "" }

func (f gridStrings) Set(s string) error {
	var out []string
	for _, part := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(part))
	}
	*f.v = out
	return nil
}

// gridFloats is a comma-separated list of numbers that ok accepts.
type gridFloats struct {
	v    *[]float64
	ok   func(float64) bool
	want string
}

func (f gridFloats) String() string { return "" }

func (f gridFloats) Set(s string) error {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !f.ok(x) {
			return fmt.Errorf("%s: want %s, comma-separated", excerpt.Quote(part), f.want)
		}
		out = append(out, x)
	}
	*f.v = out
	return nil
}

// gridInts is a comma-separated list of positive whole numbers.
type gridInts struct{ v *[]int }

func (f gridInts) String() string { return "" }

func (f gridInts) Set(s string) error {
	var out []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return fmt.Errorf("%s: want whole numbers ≥ 1, comma-separated", excerpt.Quote(part))
		}
		out = append(out, n)
	}
	*f.v = out
	return nil
}
