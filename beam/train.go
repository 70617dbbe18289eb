package nnbeam

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"gonum.org/v1/gonum/optimize"

	"github.com/neuralgo/nn"
)

func init() {
	beam.RegisterType(reflect.TypeFor[Data]())
}

// Data is where the training rows are and how to read them.
type Data struct {
	// Glob matches the shards: CSV files, each read whole by one worker
	// as nn.ReadCSV reads a file, local or on any file system registered
	// with Beam. A file with a header and no rows is a shard of zero
	// rows.
	Glob string
	// CSV says how to read the shards, as for nn.ReadCSV. A
	// classification needs CSV.Classes, so that every shard one-hot
	// encodes the labels in the same order, and Features, if set, fixes
	// the columns.
	CSV nn.CSVOptions
	// Scaler, if not nil, is applied to the features of every row once
	// read (Scaler.Transform).
	Scaler *nn.Scaler
}

// TrainOptions configures Train. A nil *TrainOptions means the zero value.
type TrainOptions struct {
	// Settings are those of nn.Train: Method, LearningRate, Epochs, L2,
	// TargetLoss and, for the mini-batch methods, BatchSize, Momentum,
	// Beta1, Beta2, Epsilon, WeightDecay and Seed, with the same defaults.
	// GradientDescent and LBFGS take one step per iteration on the
	// gradient summed over every shard; the mini-batch methods run an
	// epoch of parameter mixing per iteration. Train refuses what it does
	// not do: schedules, validation, early stopping, dropout, row weights,
	// clipping, checkpoint callbacks and Resume (see Checkpoint).
	Settings nn.Settings
	// Runner is the Beam runner of the pipelines, as beam.Run names it;
	// "" means "prism".
	Runner string
	// WorkDir is where each pipeline writes its sum for the driver to
	// read: a directory that the workers and the driver share, such as
	// gs://bucket/tmp on Dataflow. "" means a new temporary directory of
	// the driver's, removed at the end, which suits the local runners.
	WorkDir string
	// Checkpoint, if not "", is the file of the driver's state, written
	// (atomically, as nn.SaveCheckpoint writes) after every iteration. If
	// it exists when Train starts, training resumes from it: the weights
	// and the history of the epochs it has finished. A checkpoint of
	// another run (other data, network or settings) is refused. L-BFGS
	// resumes from the weights, with a fresh approximation of the
	// Hessian.
	Checkpoint string
	// BlockRows is the number of rows per gradient evaluation
	// (Network.CostGradient) within a shard; zero means 1024.
	BlockRows int
	// Progress, if not nil, is called after every epoch.
	Progress func(nn.Epoch)
}

// defaultTrainBlockRows is the rows of a block of gradient evaluation
// unless TrainOptions.BlockRows says otherwise.
const defaultTrainBlockRows = 1024

// Train trains net, on the driver, on the shards of data, with a Beam
// pipeline per iteration that evaluates the shards on the workers and
// combines the results exactly (see Sum); the driver keeps the weights,
// as Spark MLlib's multilayer perceptron does. Each iteration:
//
//   - GradientDescent: the pipeline sums the cost, its gradient and the
//     rows over every shard, and the driver takes the step
//     W ← W − η·(∂J/∂W / rows + λ·W), as nn.Train does on all the rows at
//     once. The weights after N epochs match nn.Train's with the same
//     settings to 1e-12 relative, however the rows are sharded.
//   - LBFGS: gonum's L-BFGS minimises the mean cost plus the L2 penalty,
//     with the pipeline as its evaluator of the cost and gradient, one
//     epoch per major iteration, as nn.Train's LBFGS. It takes the same
//     steps, agreeing to rounding at first, but its line searches
//     amplify the rounding of the sums within a shard over many epochs.
//   - SGD, Momentum, Nesterov, Adam, AdamW: each worker trains a copy of
//     the current network for one epoch on its shard (nn.Train with the
//     same settings, mini-batches shuffled from Seed and the shard), and
//     the combiner averages the weights, weighted by rows (parameter
//     mixing). The optimizer's state starts afresh every epoch.
//
// It returns a report of the epochs as nn.Train does; for the mini-batch
// methods, an epoch's loss is the mean over the rows of the losses the
// shards reported. Train returns an error, with net holding the weights of
// the last finished epoch, if a pipeline fails (a shard that cannot be
// read or parsed, named with its file and line), if the data has no rows,
// if the loss diverges, or if ctx is cancelled.
func Train(ctx context.Context, net *nn.Network, data *Data, o *TrainOptions) (*nn.Report, error) {
	if o == nil {
		o = &TrainOptions{}
	}
	t, err := newTrainer(ctx, net, data, o)
	if err != nil {
		return nil, err
	}
	defer t.close()
	start := time.Now()
	switch t.s.Method {
	case nn.GradientDescent:
		err = t.descend(ctx)
	case nn.LBFGS:
		err = t.lbfgs(ctx)
	default:
		err = t.mix(ctx)
	}
	t.report.Elapsed = time.Since(start)
	t.report.BestEpoch = len(t.report.History)
	return &t.report, err
}

// trainer is the driver's state of a Train.
type trainer struct {
	net    *nn.Network
	data   *Data
	o      *TrainOptions
	s      nn.Settings // with defaults filled in
	shards []string
	finger *nn.Fingerprint
	work   string
	temp   bool // work is a temporary directory to remove
	weight []bool
	report nn.Report
	start  time.Time
	elapse time.Duration // of the epochs of a checkpoint
	runs   int           // pipelines run
	id     string        // names this Train among the runs of the process
}

// newTrainer checks the options, fills in the defaults, matches the
// shards and resumes from the checkpoint, if there is one.
func newTrainer(ctx context.Context, net *nn.Network, data *Data, o *TrainOptions) (*trainer, error) {
	if net == nil || data == nil {
		panic("nnbeam: Train with a nil network or data")
	}
	s := o.Settings
	switch {
	case s.Schedule != 0 || s.Warmup != 0 || s.PerStep:
		return nil, errors.New("nnbeam: Train keeps the learning rate constant; Settings.Schedule, Warmup and PerStep are not supported")
	case s.ValidationX != nil || s.ValidationFraction != 0 || s.Patience > 0:
		return nil, errors.New("nnbeam: Train has no validation set or early stopping; Settings.ValidationX, ValidationFraction and Patience are not supported")
	case s.Dropout != nil || s.Weights != nil || s.ClipNorm != 0:
		return nil, errors.New("nnbeam: Settings.Dropout, Weights and ClipNorm are not supported by Train")
	case s.Precision != nn.Float64:
		return nil, errors.New("nnbeam: Train trains in float64; Settings.Precision Float32 is not supported")
	case s.Checkpoint != nil || s.CheckpointEvery != 0 || s.Resume != nil:
		return nil, errors.New("nnbeam: Train checkpoints through TrainOptions.Checkpoint; Settings.Checkpoint, CheckpointEvery and Resume are not supported")
	case s.LearningRate < 0 || s.Epochs < 0 || s.L2 < 0 || math.IsNaN(s.LearningRate+s.L2):
		return nil, errors.New("nnbeam: Settings.LearningRate, Epochs and L2 must not be negative")
	}
	// The defaults of nn.Train, from the one place that says them.
	d := s.WithDefaults()
	s.Epochs, s.LearningRate = d.Epochs, d.LearningRate
	if data.CSV.Classify && len(data.CSV.Classes) == 0 {
		return nil, errors.New("nnbeam: a classification needs Data.CSV.Classes, for every shard to encode the labels in the same order")
	}
	t := &trainer{net: net, data: data, o: o, s: s, work: o.WorkDir, start: time.Now()}
	t.id = fmt.Sprintf("%d-%d-%d", os.Getpid(), t.start.UnixNano(), trainRuns.Add(1))
	var err error
	if t.shards, err = matchShards(ctx, data.Glob); err != nil {
		return nil, err
	}
	if t.finger, err = t.fingerprint(ctx); err != nil {
		return nil, err
	}
	t.weight = weightMask(net)
	if t.work == "" {
		if t.work, err = os.MkdirTemp("", "nnbeam-train"); err != nil {
			return nil, fmt.Errorf("nnbeam: %w", err)
		}
		t.temp = true
	}
	if o.Checkpoint != "" {
		if err := t.resume(); err != nil {
			t.close()
			return nil, err
		}
	}
	return t, nil
}

// trainRuns counts the Trains of this process, to name them.
var trainRuns atomic.Int64

// close removes the temporary work directory, and the shards this process
// has cached for the run, as a worker of a local runner.
func (t *trainer) close() {
	if t.temp {
		os.RemoveAll(t.work)
	}
	dropShards(t.id)
}

// weightMask returns, for each parameter of net, whether it is a weight
// (which L2 decays) rather than a bias.
func weightMask(net *nn.Network) []bool {
	cfg := net.Config()
	mask := make([]bool, 0, len(net.Params()))
	for l := 0; l+1 < len(cfg.Sizes); l++ {
		for range cfg.Sizes[l] * cfg.Sizes[l+1] {
			mask = append(mask, true)
		}
		if !cfg.NoBias {
			for range cfg.Sizes[l+1] {
				mask = append(mask, false)
			}
		}
	}
	return mask
}

// penalty returns the L2 penalty ½·λ·Σw² of the weights params.
func (t *trainer) penalty(params []float64) float64 {
	if t.s.L2 == 0 {
		return 0
	}
	var sum float64
	for i, w := range params {
		if t.weight[i] {
			sum += w * w
		}
	}
	return 0.5 * t.s.L2 * sum
}

// fingerprint returns the fingerprint of the run: the network, the
// settings, and in Data a digest of the shards' names, sizes and times of
// modification (where the file system gives them) and of how they are
// read.
func (t *trainer) fingerprint(ctx context.Context) (*nn.Fingerprint, error) {
	cfg := t.net.Config()
	h := sha256.New()
	fs, err := newFS(ctx, t.data.Glob)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: %s: %w", t.data.Glob, err)
	}
	defer fs.Close()
	for _, f := range t.shards {
		size, err := fs.Size(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("nnbeam: %s: %w", f, err)
		}
		fmt.Fprintf(h, "%q %d", f, size)
		if lm, ok := fs.(filesystem.LastModifiedGetter); ok {
			if t, err := lm.LastModified(ctx, f); err == nil {
				fmt.Fprintf(h, " %d", t.UnixNano())
			}
		}
		fmt.Fprintln(h)
	}
	read, err := t.data.readKey()
	if err != nil {
		return nil, err
	}
	io.WriteString(h, read)
	s := t.s
	f := &nn.Fingerprint{
		Sizes: cfg.Sizes, Activations: cfg.Activations, Bias: !cfg.NoBias, Loss: cfg.Loss, LeakySlope: cfg.LeakySlope,
		Data:   hex.EncodeToString(h.Sum(nil)),
		Method: s.Method, LearningRate: s.LearningRate, L2: s.L2, TargetLoss: s.TargetLoss,
	}
	if s.Method != nn.GradientDescent && s.Method != nn.LBFGS {
		f.BatchSize, f.Momentum, f.Beta1, f.Beta2, f.Epsilon, f.WeightDecay, f.Seed = s.BatchSize, s.Momentum, s.Beta1, s.Beta2, s.Epsilon, s.WeightDecay, s.Seed
	}
	if s.Method == nn.LBFGS {
		f.LearningRate = 0
	}
	return f, nil
}

// resume loads the checkpoint, if its file exists, into the network and
// the report.
func (t *trainer) resume() error {
	if _, err := os.Stat(t.o.Checkpoint); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	c, err := nn.LoadCheckpoint(t.o.Checkpoint)
	if err != nil {
		return err
	}
	if c.Fingerprint == nil || !reflect.DeepEqual(c.Fingerprint, t.finger) {
		return fmt.Errorf("nnbeam: %s is the checkpoint of another run (other data, network or settings); remove it to start afresh", t.o.Checkpoint)
	}
	if len(c.Params) != len(t.net.Params()) {
		return fmt.Errorf("nnbeam: %s holds %d parameters for a network of %d", t.o.Checkpoint, len(c.Params), len(t.net.Params()))
	}
	if c.Epoch > t.s.Epochs {
		return fmt.Errorf("nnbeam: %s has finished %d epochs, more than the %d asked for", t.o.Checkpoint, c.Epoch, t.s.Epochs)
	}
	copy(t.net.Params(), c.Params)
	t.report.History = c.History
	if n := len(c.History); n > 0 {
		t.elapse = c.History[n-1].Elapsed
	}
	return nil
}

// save writes the checkpoint after an epoch, if there is one to write.
func (t *trainer) save() error {
	if t.o.Checkpoint == "" {
		return nil
	}
	c := &nn.Checkpoint{
		Epoch: len(t.report.History), Method: t.s.Method, Params: t.net.Params(),
		History: t.report.History, Best: math.Inf(1), BestEpoch: len(t.report.History),
		Fingerprint: t.finger,
	}
	if n := len(t.report.History); n > 0 {
		c.Best = t.report.History[n-1].Loss
	}
	return nn.SaveCheckpoint(t.o.Checkpoint, c)
}

// epoch records the epoch that has just finished with the given loss:
// in the report, the checkpoint and the progress callback. It reports
// whether training stops at the target loss, with an error if the loss
// diverged or the checkpoint could not be written; then the epoch is not
// in the report, and the caller restores the weights from before it.
func (t *trainer) epoch(loss, lr float64) (stop bool, err error) {
	e := len(t.report.History) + 1
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return true, fmt.Errorf("nnbeam: the loss is %v in epoch %d: %w; try a lower learning rate (it was %v)", loss, e, nn.ErrDiverged, lr)
	}
	ep := nn.Epoch{Epoch: e, Loss: loss, LearningRate: lr, ValLoss: math.NaN(), ValAccuracy: math.NaN(), Elapsed: t.elapse + time.Since(t.start)}
	t.report.History = append(t.report.History, ep)
	if err := t.save(); err != nil {
		// The callers go back to the weights before the epoch.
		t.report.History = t.report.History[:e-1]
		return true, err
	}
	if t.o.Progress != nil {
		t.o.Progress(ep)
	}
	if t.s.TargetLoss > 0 && loss < t.s.TargetLoss {
		t.report.Stop = nn.Converged
		return true, nil
	}
	return false, nil
}

// descend runs full-batch gradient descent: a pipeline per epoch gives
// the cost and gradient at the current weights, which are the loss of the
// epoch before and the step of the next, and a last pipeline the loss
// after the last step.
func (t *trainer) descend(ctx context.Context) error {
	params := t.net.Params()
	prev := slices.Clone(params)
	grad := make([]float64, len(params))
	stepped := false
	for len(t.report.History) < t.s.Epochs || stepped {
		f, err := t.evaluate(ctx, params, grad)
		if err != nil {
			copy(params, prev)
			return err
		}
		if stepped {
			// The loss after the step is the epoch's, as nn.Train
			// measures it.
			if stop, err := t.epoch(f, t.s.LearningRate); stop || err != nil {
				if err != nil {
					copy(params, prev)
				}
				return err
			}
		}
		if len(t.report.History) >= t.s.Epochs {
			return nil
		}
		// W ← W − η·(∂J/∂W / rows + λ·W), the tutorial's
		// self.w1 -= learn_rate*dJdW1 with the gradient of the mean cost
		// and the L2 penalty.
		copy(prev, params)
		for i, g := range grad {
			params[i] -= t.s.LearningRate * g
		}
		stepped = true
	}
	return nil
}

// evaluate runs a pipeline that sums the cost and gradient over every
// shard at the weights params, and returns the mean cost plus the L2
// penalty, with the gradient of that in grad.
func (t *trainer) evaluate(ctx context.Context, params, grad []float64) (float64, error) {
	fn := &gradientFn{shardFn: t.shardFn(params)}
	sum, err := t.run(ctx, fn)
	if err != nil {
		return 0, err
	}
	if sum.Len() != 1+len(params) {
		return 0, fmt.Errorf("nnbeam: the pipeline summed %d values, want %d", sum.Len(), 1+len(params))
	}
	rows := float64(sum.Rows)
	for i := range grad {
		grad[i] = sum.Value(1+i) / rows
		if t.weight[i] {
			grad[i] += t.s.L2 * params[i]
		}
	}
	return sum.Value(0)/rows + t.penalty(params), nil
}

// lbfgs minimises the loss with gonum's L-BFGS, the pipeline evaluating
// the loss and gradient, as nn.Train's LBFGS does on one machine: the same
// convergence test, one epoch per major iteration after the starting
// point.
func (t *trainer) lbfgs(ctx context.Context) error {
	params := t.net.Params()
	n := len(params)
	at := make([]float64, n) // the weights of the last evaluation
	atGrad := make([]float64, n)
	var atF float64
	evaluated := false
	var evalErr error
	eval := func(x []float64) (float64, []float64) {
		if evaluated && slices.Equal(x, at) {
			return atF, atGrad
		}
		f, err := t.evaluate(ctx, x, atGrad)
		if err != nil {
			evalErr = err
			f = math.NaN()
		}
		copy(at, x)
		atF, evaluated = f, true
		return f, atGrad
	}
	epochStart := slices.Clone(params)
	rec := &lbfgsRecorder{t: t, params: params, epochStart: epochStart}
	p := optimize.Problem{
		Func: func(x []float64) float64 {
			f, _ := eval(x)
			return f
		},
		Grad: func(grad, x []float64) {
			_, g := eval(x)
			copy(grad, g)
		},
		Status: func() (optimize.Status, error) {
			if evalErr != nil {
				return optimize.Failure, evalErr
			}
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			return optimize.NotTerminated, nil
		},
	}
	left := t.s.Epochs - len(t.report.History)
	if left == 0 {
		return nil
	}
	settings := &optimize.Settings{
		MajorIterations: left + 1,
		Recorder:        rec,
		Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 20},
	}
	x0 := slices.Clone(params)
	if f0, _ := eval(x0); evalErr != nil || math.IsNaN(f0) || math.IsInf(f0, 0) {
		if evalErr != nil {
			return evalErr
		}
		return fmt.Errorf("nnbeam: the loss is %v at the starting weights: %w", f0, nn.ErrDiverged)
	}
	res, err := optimize.Minimize(p, x0, settings, &optimize.LBFGS{})
	copy(params, epochStart)
	switch {
	case errors.Is(err, errStop):
		return rec.err
	case evalErr != nil:
		return evalErr
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil && !errors.Is(err, optimize.ErrNoProgress) && !errors.Is(err, optimize.ErrLinesearcherFailure) && !errors.Is(err, optimize.ErrNonDescentDirection):
		return fmt.Errorf("nnbeam: L-BFGS stopped after %d epochs: %w", len(t.report.History), err)
	}
	if res.Status != optimize.IterationLimit {
		t.report.Stop = nn.Converged
	}
	if slices.Equal(res.X, epochStart) {
		return nil
	}
	copy(params, res.X)
	if _, err := t.epoch(res.F, 0); err != nil {
		copy(params, epochStart)
		return err
	}
	return nil
}

// errStop stops gonum's minimisation from the recorder.
var errStop = errors.New("stop")

// lbfgsRecorder makes every major iteration of L-BFGS after the starting
// point an epoch.
type lbfgsRecorder struct {
	t          *trainer
	params     []float64
	epochStart []float64
	started    bool
	err        error
}

// Init is called before the minimisation; there is nothing to set up.
func (r *lbfgsRecorder) Init() error { return nil }

// Record records a major iteration as an epoch.
func (r *lbfgsRecorder) Record(loc *optimize.Location, op optimize.Operation, _ *optimize.Stats) error {
	if op != optimize.MajorIteration {
		return nil
	}
	if !r.started {
		r.started = true
		return nil
	}
	copy(r.params, loc.X)
	stop, err := r.t.epoch(loc.F, 0)
	if err != nil {
		copy(r.params, r.epochStart)
	} else {
		copy(r.epochStart, loc.X)
	}
	if stop {
		r.err = err
		return errStop
	}
	return nil
}

// mix runs parameter mixing: an epoch of the mini-batch method on every
// shard from the current weights, the weights averaged by rows.
func (t *trainer) mix(ctx context.Context) error {
	params := t.net.Params()
	for len(t.report.History) < t.s.Epochs {
		fn := &mixFn{shardFn: t.shardFn(params), Settings: mixSettings(t.s), Epoch: len(t.report.History)}
		sum, err := t.run(ctx, fn)
		if err != nil {
			return err
		}
		if sum.Len() != 1+len(params) {
			return fmt.Errorf("nnbeam: the pipeline summed %d values, want %d", sum.Len(), 1+len(params))
		}
		prev := slices.Clone(params)
		rows := float64(sum.Rows)
		for i := range params {
			params[i] = sum.Value(1+i) / rows
		}
		stop, err := t.epoch(sum.Value(0)/rows, t.s.LearningRate)
		if err != nil {
			copy(params, prev)
			return err
		}
		if stop {
			return nil
		}
	}
	return nil
}

// mixSettings returns the settings of a shard's epoch of parameter
// mixing, as JSON for the DoFn.
func mixSettings(s nn.Settings) mixSettingsJSON {
	return mixSettingsJSON{Method: s.Method, LearningRate: s.LearningRate, BatchSize: s.BatchSize, Momentum: s.Momentum,
		Beta1: s.Beta1, Beta2: s.Beta2, Epsilon: s.Epsilon, L2: s.L2, WeightDecay: s.WeightDecay, Seed: s.Seed}
}

// mixSettingsJSON are the settings of nn.Train that a shard's epoch of
// parameter mixing uses.
type mixSettingsJSON struct {
	Method                          nn.Method
	LearningRate                    float64
	BatchSize                       int
	Momentum, Beta1, Beta2, Epsilon float64
	L2, WeightDecay                 float64
	Seed                            uint64
}

// shardFn returns what the DoFns of an iteration share: the network at
// params and how to read the shards.
func (t *trainer) shardFn(params []float64) shardFn {
	return shardFn{Config: t.net.Config(), Params: floatBytes(params), Data: *t.data, BlockRows: t.o.BlockRows, Run: t.id}
}

// run runs a pipeline that applies fn to every shard and combines what
// it emits, and returns the sum.
func (t *trainer) run(ctx context.Context, fn any) (Sum, error) {
	t.runs++
	sum, err := runSum(ctx, t.o.Runner, t.work, t.shards, fn)
	if err != nil {
		return Sum{}, fmt.Errorf("nnbeam: training pipeline %d: %w", t.runs, err)
	}
	if sum.Rows == 0 {
		return Sum{}, fmt.Errorf("nnbeam: the shards of %s hold no rows: %w", t.data.Glob, nn.ErrEmpty)
	}
	return sum, nil
}
