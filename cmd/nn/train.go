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
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
	"github.com/neuralgo/nn/nnplot"
)

const trainSynopsis = `Usage: nn train -data FILE -o MODEL [flags]

Train fits a network to the CSV file FILE and writes it, with the scaler
fitted on the training rows and the names of the columns and classes, to
the model file MODEL.

Every column except the target (and -weight) is a feature. A column with
text is categorical, one-hot encoded over the categories of the training
rows (-categorical names columns of numbers to treat so); a column of
numbers with a stray text in it is an error. Missing values (empty cells,
NA, NaN, null, None; -missing sets the spellings) are filled in with the
training rows' mean (-impute), and a category is filled in with the most
frequent. All of this is saved in the model and applied by eval and
predict. A file without a header whose first row holds text needs
-header no, or the row is taken for the header.

For -task classify the target holds class labels (any text) and the
network has one softmax output per class, trained on cross-entropy; for
-task regress it holds numbers (-target y1,y2 for several) and the network
has one linear output per target trained on squared error (on the targets
standardised with the training rows' mean and deviation, undone in the
saved model, so predictions come out in the targets' own units).

By default -val 0.1 of the rows (stratified by class) are held out for
validation, training stops when the validation loss has not improved for
-patience epochs, and the weights of the best epoch are kept; -refit then
trains afresh on all rows for that many epochs.

A table larger than memory trains with -stream: a first pass reads FILE
(or every file that the glob FILE matches, in order, as one table; .gz
files are uncompressed), checks every row, learns the scaling, categories
and classes, and caches the parsed rows in -cache-dir; each epoch reads the
cache through a shuffle buffer of -shuffle-buffer rows, in memory bounded
by the buffer. The validation rows are chosen by their row number and the
seed. -refit, -impute median or most-frequent, and -method gd or lbfgs do
not go with -stream.

Progress goes to standard error: a progress bar on a terminal, otherwise a
line every few epochs; -quiet leaves out progress and summary. While FILE
is read, a terminal shows how much of it has been read, and a log gets a
line naming a file of 64 MiB or more. A target of numbers becomes classes
with -task classify (the default): the lines announcing the training say so
when there are more than two, and -task regress reads them as numbers.

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
	nn train -stream -data 'export/part-*.csv.gz' -target label -o big.json
`

// trainFlags are the flags of nn train.
type trainFlags struct {
	data, target, task      string
	header                  nn.Header
	hidden                  []int
	activation              nn.Activation
	method                  nn.Method
	lr, l2, val             float64
	epochs, batch, patience int
	seed                    uint64
	scale                   nn.ScaleKind
	checkpoint, resume      string
	checkpointEvery         int
	out, plot               string
	quiet, saveInterrupted  bool
	resumeChanged           bool
	taskSet                 bool // -task was given

	categorical                                 []string
	missing                                     []string
	impute                                      nn.Impute
	indicator, refit                            bool
	balanced                                    bool
	classWeights                                map[string]float64
	plotLog                                     bool
	weight                                      string
	dropout                                     []float64
	weightDecay, clip, minLR, decay, leakySlope float64
	precision                                   nn.Precision
	schedule                                    nn.Schedule
	warmup                                      int
	perStep                                     bool
	monitor                                     string

	stream        bool   // -stream: train in passes over the files of -data
	shuffleBuffer int    // rows of the shuffle buffer of -stream
	cacheDir      string // the directory of the cache of -stream
}

// notHidden are the activations that -activation refuses: softmax belongs
// to the output layer, and identity would make the hidden layers one
// linear map.
var notHidden = []nn.Activation{nn.Softmax, nn.Identity}

// defaultRate returns the learning rate that package nn trains with by
// method when none is given (-lr left out passes zero on).
func defaultRate(method nn.Method) float64 {
	s := nn.Settings{Method: method}
	return s.WithDefaults().LearningRate
}

// lrUsage describes -lr of train and tune, with the library's defaults.
var lrUsage = fmt.Sprintf("learning `rate` (default %v for adam and adamw, %v for the others; lbfgs ignores it)", defaultRate(nn.Adam), defaultRate(nn.GradientDescent))

func runTrain(e *env, args []string) error {
	f := defaultTrainFlags()
	fs := newFlagSet("train")
	fs.StringVar(&f.data, "data", "", "training data, a CSV `file` (required)")
	fs.StringVar(&f.out, "o", "", "the model `file` to write (required)")
	fs.StringVar(&f.target, "target", "", "target column: a header `name` or a 0-based index (default the last column); for -task regress, several separated by commas")
	fs.StringVar(&f.weight, "weight", "", "a `column` holding a weight ≥ 0 for each row, by which its cost counts")
	fs.Var(newChoice(&f.task, f.task, "classify", "regress"), "task", "`kind` of task: classify (the target holds class labels) or regress (numbers)")
	fs.TextVar(&f.header, "header", f.header, headerUsage)
	fs.Var(sizesFlag{&f.hidden}, "hidden", "hidden layer `sizes`, comma-separated, such as 64,32; none for no hidden layer")
	fs.TextVar(&f.activation, "activation", f.activation, "`function` of the hidden layers: "+orList(names(notHidden...)))
	fs.TextVar(&f.method, "method", f.method, "training `method`: "+orList(names[nn.Method]()))
	fs.Var(floatFlag{&f.lr, positive, "a number > 0"}, "lr", lrUsage)
	fs.Var(intFlag{&f.epochs, 1}, "epochs", "largest `number` of passes over the training rows")
	fs.Var(intFlag{&f.batch, 1}, "batch", "`rows` per step of sgd, momentum, nesterov and adam")
	fs.Var(floatFlag{&f.l2, nonNegative, "a number ≥ 0"}, "l2", "L2 weight decay `λ` (default none)")
	fs.Uint64Var(&f.seed, "seed", f.seed, "`seed` of the initial weights, the validation split and the shuffling")
	fs.Var(floatFlag{&f.val, fraction, "a fraction in [0, 1)"}, "val", "`fraction` of the rows held out for validation and early stopping; 0 for none")
	fs.Var(intFlag{&f.patience, 0}, "patience", "stop after this many `epochs` without improvement of the validation loss (the training loss with -val 0); 0 to run all epochs")
	fs.TextVar(&f.scale, "scale", f.scale, "input `scaling`, fitted on the training rows: "+orList(names[nn.ScaleKind]()))
	fs.StringVar(&f.checkpoint, "checkpoint", "", "save the training state to this `file` every -checkpoint-every epochs")
	fs.Var(intFlag{&f.checkpointEvery, 1}, "checkpoint-every", "`epochs` between checkpoints")
	fs.StringVar(&f.resume, "resume", "", "continue the training saved in this checkpoint `file` (same data and flags)")
	fs.BoolVar(&f.resumeChanged, "resume-changed", false, "continue from -resume even with other data or flags than the checkpoint's")
	fs.StringVar(&f.plot, "plot", "", "draw the loss per epoch into this `file`, .png or .svg")
	fs.BoolVar(&f.quiet, "quiet", false, "print nothing but errors")
	fs.BoolVar(&f.saveInterrupted, "save-interrupted", false, "on Ctrl-C, write the model of the last finished epoch instead of nothing")
	fs.Var(listFlag{&f.categorical}, "categorical", "feature `columns` to read as categories even where they hold numbers, comma-separated (columns with text are categorical anyway)")
	fs.Var(listFlag{&f.missing}, "missing", "the `spellings` of a missing value, comma-separated (\"\" for an empty field), or none to make a missing value an error")
	fs.TextVar(&f.impute, "impute", f.impute, "how a missing number is filled in, from the training rows: "+orList(names[nn.Impute]())+" (a missing category takes the most frequent)")
	fs.BoolVar(&f.indicator, "indicator", false, "add an input per column with missing values, 1 where the value is missing")
	fs.BoolVar(&f.refit, "refit", false, "after early stopping has chosen the number of epochs, train afresh on all rows for that many")
	fs.Var(classWeightFlag{&f.classWeights, &f.balanced}, "class-weight", "weigh the classes' rows: `balanced` (inversely to their frequency) or label=weight pairs, comma-separated")
	fs.BoolVar(&f.plotLog, "plot-log", false, "draw the loss of -plot on a logarithmic scale")
	fs.BoolVar(&f.stream, "stream", false, "train on a table larger than memory: a first pass over -data (a file, or a glob of files read as one table, .gz ones uncompressed) learns the scaling, categories and classes and caches the parsed rows in -cache-dir; epochs read the cache through a shuffle buffer")
	fs.Var(intFlag{&f.shuffleBuffer, 1}, "shuffle-buffer", "`rows` of the shuffle buffer of -stream")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "`directory` of the cache of parsed rows of -stream, 8 bytes a value (default the system's temporary directory)")
	f.registerToolbox(fs)
	budget := memoryFlag(fs)
	if err := parseFlags(e, fs, "train", trainSynopsis, args); err != nil {
		return err
	}
	setMemoryBudget(*budget)
	holdData()
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if err := f.check(set); err != nil {
		return err
	}
	f.taskSet = set["task"]
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
	if slices.Contains(notHidden, f.activation) {
		return bad("-activation %v: the hidden layers take %s", f.activation, orList(names(notHidden...)))
	}
	if f.method == nn.LBFGS && (f.checkpoint != "" || f.resume != "") {
		return bad("-method lbfgs cannot be checkpointed or resumed; it suits small problems trained in one run")
	}
	if set["checkpoint-every"] && f.checkpoint == "" {
		return bad("-checkpoint-every needs -checkpoint FILE")
	}
	if f.refit && (f.checkpoint != "" || f.resume != "") {
		return bad("-refit trains twice and cannot be checkpointed or resumed")
	}
	if f.refit && f.val == 0 {
		return bad("-refit needs held-out rows (-val) for early stopping to choose the epochs")
	}
	if f.task == "classify" && strings.Contains(f.target, ",") {
		return bad("-target %s: several targets need -task regress", f.target)
	}
	if (f.balanced || f.classWeights != nil) && f.task != "classify" {
		return bad("-class-weight needs -task classify")
	}
	if err := f.checkToolbox("train", set, [][]int{f.hidden}, []nn.Activation{f.activation}); err != nil {
		return err
	}
	if set["plot-log"] && f.plot == "" {
		return bad("-plot-log needs -plot FILE")
	}
	if (set["shuffle-buffer"] || set["cache-dir"]) && !f.stream {
		return bad("-shuffle-buffer and -cache-dir need -stream")
	}
	if f.stream {
		switch {
		case f.method == nn.LBFGS || f.method == nn.GradientDescent:
			return bad("-method %v takes a step on every row at once; -stream trains by mini-batches", f.method)
		case f.refit:
			return bad("-refit trains twice on the rows in memory; -stream cannot")
		case f.impute != nn.ImputeMean:
			return bad("-impute %v needs every value of a column at once; -stream fills in the mean", f.impute)
		}
	}
	return checkDistinctPaths(f)
}

// train runs nn train with the checked flags f: it reads the data, fits a
// nn.Classifier or nn.Regressor to it and saves the model.
func train(e *env, f *trainFlags) error {
	// Ctrl-C cancels ctx: reading the data stops with an error, and
	// training stops at once, abandoning the epoch it is in, with the
	// weights of the last finished epoch. A second Ctrl-C kills the
	// program as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	go func() {
		<-ctx.Done()
		stop()
	}()
	if f.stream {
		return trainStreamed(ctx, e, f)
	}
	d, resume, err := f.load(ctx, e)
	if err != nil {
		return err
	}
	est, err := f.estimator(d, resume)
	if err != nil {
		return err
	}
	if err := f.checkFiles(d, f.hidden); err != nil {
		return err
	}
	var prog *progress
	if !f.quiet {
		// The banner comes with the first epoch, once the data is
		// prepared: a column that cannot be scaled is an error alone.
		prog = newProgress(e.stderr, e.stderrTTY, f.epochs, f.val > 0, f.task == "classify")
		banner := false
		est.setProgress(func(ep nn.Epoch) {
			if !banner {
				printBanner(e, f, d, est, resume)
				banner = true
			}
			prog.epoch(ep)
		})
	}
	trainErr := est.fit(ctx, d)
	if prog != nil {
		prog.finish()
	}
	model, report, heldOut := est.fitted()
	if trainErr != nil && report == nil {
		return f.fitError(trainErr)
	}
	return f.finish(e, trainErr, model, report, heldOut)
}

// finish ends a run of nn train whose training started and ended with
// trainErr (nil if it succeeded): it draws the plot, saves the model
// unless training failed (an interrupted run's with -save-interrupted),
// and prints the summary of the report, scoring the held-out rows if
// heldOut is not nil.
func (f *trainFlags) finish(e *env, trainErr error, model *nn.Model, report *nn.Report, heldOut *nn.Dataset) error {
	// The plot helps to see what went wrong too, so draw it whatever the
	// outcome.
	var plotErr error
	if f.plot != "" && len(report.History) > 0 {
		plotErr = nnplot.LossCurveWith(report, f.plot, &nnplot.LossCurveOptions{LogY: f.plotLog})
	}
	interrupted := errors.Is(trainErr, context.Canceled)
	if trainErr != nil && !(interrupted && f.saveInterrupted && len(report.History) > 0) {
		if interrupted {
			return f.interruptedError(report)
		}
		return trainErr
	}
	if err := model.Save(f.out); err != nil {
		return err
	}
	if interrupted {
		fmt.Fprintf(e.stderr, "nn: interrupted after %d epochs; wrote the weights of epoch %d to %s as -save-interrupted asks\n", len(report.History), len(report.History), f.out)
		return errExit
	}
	if !f.quiet {
		printSummary(e, f, report, model, heldOut)
	}
	if plotErr != nil {
		return fmt.Errorf("nn: model written to %s, but the plot failed: %w", f.out, plotErr)
	}
	return nil
}

// fitError returns err, an error of fitting before training started,
// naming the data file where it concerns the data.
func (f *trainFlags) fitError(err error) error {
	msg := err.Error()
	if errors.Is(err, nn.ErrMemoryBudget) {
		return err
	}
	if strings.Contains(msg, "column") || strings.Contains(msg, "rows") || strings.Contains(msg, "class") {
		return fileErrorf(f.data, "%s", strings.TrimPrefix(msg, "nn: "))
	}
	return err
}

// load checks that the files to write can be written, reads the
// checkpoint to resume from and the data, the small file first so that its
// errors come before a long read.
func (f *trainFlags) load(ctx context.Context, e *env) (*nn.Dataset, *nn.Checkpoint, error) {
	for _, path := range []string{f.out, f.checkpoint, f.plot} {
		if err := checkWritable(path); err != nil {
			return nil, nil, err
		}
	}
	var resume *nn.Checkpoint
	if f.resume != "" {
		var err error
		if resume, err = nn.LoadCheckpoint(f.resume); err != nil {
			return nil, nil, err
		}
		if f.epochs < resume.Epoch {
			return nil, nil, fileErrorf(f.resume, "the checkpoint has finished %d epochs, more than -epochs %d", resume.Epoch, f.epochs)
		}
	}
	d, err := readTrainingData(ctx, e, f)
	if err != nil {
		return nil, nil, err
	}
	if rows, _ := d.X.Dims(); f.val > 0 {
		if k := math.Round(f.val * float64(rows)); k < 1 || k >= float64(rows) {
			return nil, nil, fileErrorf(f.data, "%d rows are too few to hold out -val %v of them for validation; use -val 0 to train on all of them", rows, f.val)
		}
	}
	return d, resume, nil
}

// csvOptions returns the options that read the -data file.
func (f *trainFlags) csvOptions() *nn.CSVOptions {
	o := &nn.CSVOptions{
		Target: f.target, Classify: f.task == "classify", Header: f.header,
		Categorical: f.categorical, DetectCategorical: true, Missing: f.missing,
		Weight: f.weight,
	}
	if f.task == "regress" && strings.Contains(f.target, ",") {
		o.Target, o.Targets = "", strings.Split(f.target, ",")
		for i, t := range o.Targets {
			o.Targets[i] = strings.TrimSpace(t)
		}
	}
	return o
}

// readTrainingData reads the file of -data, unless ctx is cancelled, and
// checks, before any training, that what the model file will hold can be
// saved and that a classification has classes to learn.
func readTrainingData(ctx context.Context, e *env, f *trainFlags) (*nn.Dataset, error) {
	classify := f.task == "classify"
	d, err := f.loadCSV(ctx, e)
	if err != nil {
		return nil, err
	}
	if err := checkNames(f.data, d); err != nil {
		return nil, err
	}
	if !classify {
		return d, nil
	}
	if len(d.Classes) < 2 {
		return nil, fileErrorf(f.data, "the target column %s holds the single class %s; classification needs at least two (use -task regress for a numeric target)", excerpt.Quote(d.Target), excerpt.Quote(d.Classes[0]))
	}
	if rows, _ := d.X.Dims(); !f.quiet && manyClasses(d) {
		fmt.Fprintf(e.stderr, "warning: the target column %s holds %d classes in %d rows; if it is a number to predict, use -task regress\n", excerpt.Quote(d.Target), len(d.Classes), rows)
	}
	for c := range f.classWeights {
		if !slices.Contains(d.Classes, c) {
			return nil, &usageError{cmd: "train", msg: fmt.Sprintf("-class-weight names the class %s, which the target column %s does not hold (classes: %s)", excerpt.Quote(c), excerpt.Quote(d.Target), excerpt.Quotes(d.Classes))}
		}
	}
	return d, nil
}

// estimator is the nn.Classifier or nn.Regressor that nn train fits.
type estimator struct {
	c *nn.Classifier
	r *nn.Regressor
}

func (e estimator) fit(ctx context.Context, d *nn.Dataset) error {
	if e.c != nil {
		return e.c.Fit(ctx, d)
	}
	return e.r.Fit(ctx, d)
}

func (e estimator) fitStream(ctx context.Context, s *nn.Stream) error {
	if e.c != nil {
		return e.c.FitStream(ctx, s)
	}
	return e.r.FitStream(ctx, s)
}

func (e estimator) fitted() (*nn.Model, *nn.Report, *nn.Dataset) {
	if e.c != nil {
		return e.c.Model, e.c.Report, e.c.HeldOut
	}
	return e.r.Model, e.r.Report, e.r.HeldOut
}

func (e estimator) setProgress(p func(nn.Epoch)) {
	if e.c != nil {
		e.c.Progress = p
	} else {
		e.r.Progress = p
	}
}

// estimator returns the estimator of the flags, to continue the
// checkpoint resume if it is not nil.
func (f *trainFlags) estimator(d *nn.Dataset, resume *nn.Checkpoint) (estimator, error) {
	hidden := f.hidden
	if hidden == nil {
		hidden = []int{}
	}
	val, patience := f.val, f.patience
	if val == 0 {
		val = -1
	}
	if patience == 0 {
		patience = -1
	}
	configure := func(s *nn.Settings) {
		f.toolbox(s)
		s.Resume, s.ResumeChanged = resume, f.resumeChanged
		if f.checkpoint != "" {
			s.CheckpointEvery = f.checkpointEvery
			s.Checkpoint = func(c *nn.Checkpoint) error { return nn.SaveCheckpoint(f.checkpoint, c) }
		}
	}
	if f.task == "classify" {
		return estimator{c: &nn.Classifier{
			Hidden: hidden, Activation: f.activation.String(), Method: f.method.String(),
			LearningRate: f.lr, Epochs: f.epochs, BatchSize: f.batch, L2: f.l2,
			ValidationFraction: val, Patience: patience, Refit: f.refit,
			Scale: f.scale, Impute: f.impute, MissingIndicator: f.indicator,
			ClassWeights: f.classWeights, Balanced: f.balanced, LeakySlope: f.leakySlope,
			Seed: f.seed, Configure: configure,
		}}, nil
	}
	return estimator{r: &nn.Regressor{
		Hidden: hidden, Activation: f.activation.String(), Method: f.method.String(),
		LearningRate: f.lr, Epochs: f.epochs, BatchSize: f.batch, L2: f.l2,
		ValidationFraction: val, Patience: patience, Refit: f.refit,
		Scale: f.scale, Impute: f.impute, MissingIndicator: f.indicator,
		LeakySlope: f.leakySlope, Seed: f.seed, Configure: configure,
	}}, nil
}

// checkFiles refuses, before training, a network of the hidden layers
// whose model file or checkpoints nn could not read back under the memory
// budget. The inputs are counted at most: every category, and an indicator
// for every column.
func (f *trainFlags) checkFiles(d *nn.Dataset, hidden []int) error {
	_, in := d.X.Dims()
	for _, c := range d.Categories {
		if c != nil {
			in += len(c) - 1
		}
	}
	if f.indicator {
		_, cols := d.X.Dims()
		in += cols
	}
	out := len(d.Classes)
	if out == 0 {
		_, out = d.Y.Dims()
	}
	return f.checkSizes(in, out, hidden...)
}

// checkSizes refuses, before training, a network of in inputs, out
// outputs and the hidden layers (f.hidden if none are given) whose model
// file or checkpoints nn could not read back under the memory budget.
func (f *trainFlags) checkSizes(in, out int, hidden ...int) error {
	if hidden == nil {
		hidden = f.hidden
	}
	s := &nn.Settings{Method: f.method, Epochs: f.epochs}
	if f.checkpoint != "" {
		s.CheckpointEvery = f.checkpointEvery
	}
	return nn.CheckFiles(nn.Config{Sizes: append(append([]int{in}, hidden...), out)}, s)
}

// interruptedError says that training was interrupted after the epochs of
// r and no model was written, and how to go on.
func (f *trainFlags) interruptedError(r *nn.Report) error {
	n := 0
	if r != nil {
		n = len(r.History)
	}
	if f.checkpoint != "" {
		return fmt.Errorf("nn: interrupted after %d epochs; %s was not written; continue with the same command and -resume %s", n, f.out, f.checkpoint)
	}
	return fmt.Errorf("nn: interrupted after %d epochs; %s was not written (-save-interrupted saves the last finished epoch)", n, f.out)
}

// checkNames returns an error, before any training, if the column names or
// class labels of d, read from the file path, could not be saved in a model
// file because they are not valid UTF-8. (nn.ReadCSV has rejected two
// columns of the same name.)
func checkNames(path string, d *nn.Dataset) error {
	return checkNameList(path, d.Features, targetNames(d), d.Classes)
}

// checkNameList is checkNames of the features, targets and classes of a
// table read from path.
func checkNameList(path string, features, targets, classes []string) error {
	for _, name := range append(slices.Clip(features), targets...) {
		if !utf8.ValidString(name) {
			return fileErrorf(path, "the column name %s is not valid UTF-8; a model file holds UTF-8 text only", excerpt.Quote(name))
		}
	}
	for _, c := range classes {
		if !utf8.ValidString(c) {
			return fileErrorf(path, "the class label %s (column %s) is not valid UTF-8; a model file holds UTF-8 text only", excerpt.Quote(c), excerpt.Quote(targets[0]))
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// loadCSV reads the -data file, showing how much of it has been read
// unless -quiet, and stopping with an error if ctx is cancelled. The
// advice of its errors names the flags of nn train.
func (f *trainFlags) loadCSV(ctx context.Context, e *env) (*nn.Dataset, error) {
	d, err := readCSVFile(ctx, e, f.data, f.csvOptions(), f.quiet)
	if pe, ok := err.(*nn.ParseError); ok {
		pe.Err = flagHints{pe.Err}
	}
	return d, err
}

// flagHints is an error of package nn whose advice names the flags of nn
// train where it names the fields of nn.CSVOptions.
type flagHints struct{ err error }

var hintReplacer = strings.NewReplacer(
	"set CSVOptions.Missing", "use -missing",
	"list it in CSVOptions.Missing", "list it in -missing",
	"name it in CSVOptions.Categorical", "name it in -categorical",
	"set CSVOptions.Classify", "use -task classify",
)

func (h flagHints) Error() string { return hintReplacer.Replace(h.err.Error()) }
func (h flagHints) Unwrap() error { return h.err }
