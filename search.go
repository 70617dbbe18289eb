package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"gonum.org/v1/gonum/stat"

	"github.com/neuralgo/nn/internal/excerpt"
)

// Estimator is a model that learns from a Dataset and scores itself on
// one: a *Classifier (accuracy) or a *Regressor (R²). CrossValidate and
// Search fit estimators and compare their scores, higher being better.
type Estimator interface {
	Fit(ctx context.Context, d *Dataset) error
	Score(d *Dataset) (float64, error)
}

// Folds returns the rows of d divided into k seeded folds for k-fold
// cross-validation: folds[i] holds the rows held out in round i, in
// increasing order, and every row is in exactly one fold. The folds of a
// classification Dataset are stratified: each holds about 1/k of each
// class. Folds returns an error if k < 2, if d has fewer than k rows, or,
// when stratifying, if a class has fewer than k rows.
func (d *Dataset) Folds(k int, seed uint64) ([][]int, error) {
	n, _ := d.X.Dims()
	switch {
	case k < 2:
		return nil, fmt.Errorf("nn: %d folds, want at least 2", k)
	case n < k:
		return nil, fmt.Errorf("nn: %d rows are too few for %d folds", n, k)
	case d.Classes == nil && n < 2*k:
		return nil, fmt.Errorf("nn: %d rows are too few for %d folds of a regression: R² needs at least 2 rows in each", n, k)
	}
	rnd := rand.New(rand.NewPCG(seed, seed^0x6b666f6c64)) // "kfold"
	folds := make([][]int, k)
	var strata [][]int
	if d.Classes == nil {
		strata = [][]int{rnd.Perm(n)}
	} else {
		strata = make([][]int, len(d.Classes))
		for i, c := range d.Labels() {
			strata[c] = append(strata[c], i)
		}
		for c, rows := range strata {
			if len(rows) > 0 && len(rows) < k {
				return nil, fmt.Errorf("nn: class %s has %d rows, fewer than the %d folds: stratified cross-validation needs at least one per fold (use fewer folds, or drop or merge the class)", excerpt.Quote(d.Classes[c]), len(rows), k)
			}
			rnd.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		}
	}
	// Deal the rows of each stratum in turn, continuing where the last
	// stratum stopped, so that fold sizes differ by at most one.
	next := 0
	for _, rows := range strata {
		for _, i := range rows {
			folds[next] = append(folds[next], i)
			next = (next + 1) % k
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds, nil
}

// CVResult is the outcome of cross-validating one estimator.
type CVResult struct {
	// Scores holds the score on each fold's held-out rows.
	Scores []float64
	// Mean and Std are the mean of Scores and their standard deviation
	// (of the population, as scikit-learn reports it).
	Mean, Std float64
	// Err is the error of a fold's fit, for a candidate of Search that
	// failed (diverged, say); its scores are then NaN. CrossValidate
	// returns such an error instead.
	Err error
}

// CrossValidate estimates how well the estimators that newEstimator
// returns do on rows they have not seen: for each of k folds of d (see
// Dataset.Folds) it fits a new estimator on the other folds and scores it
// on that one. The folds are fitted in parallel, up to GOMAXPROCS at a
// time; each fit is deterministic, so the result depends only on d, k,
// seed and the estimators. It returns the first error of a fit, naming
// its fold, and stops the other fits when ctx is cancelled.
//
// The estimators' Progress and Configure functions are called from the
// goroutines of the fits at once, and each fit may take what the memory
// budget allows one (see SetMemoryBudget), so up to GOMAXPROCS times that
// in all; a Configure that sets Settings.Checkpoint would have the fits
// write the same file.
func CrossValidate(ctx context.Context, newEstimator func() Estimator, d *Dataset, k int, seed uint64) (*CVResult, error) {
	folds, err := d.Folds(k, seed)
	if err != nil {
		return nil, err
	}
	jobs := make([]cvJob, k)
	for i := range jobs {
		jobs[i] = cvJob{est: newEstimator(), fold: i}
	}
	if err := runFolds(ctx, d, folds, jobs, false); err != nil {
		return nil, err
	}
	return cvResult(jobs, 0, k), nil
}

// cvJob is the fit of one estimator on all folds but one.
type cvJob struct {
	est   Estimator
	fold  int
	score float64
	err   error
}

// runFolds runs the jobs, up to GOMAXPROCS at a time, and returns the
// error of the first that failed, in the order of jobs; with tolerate, a
// failed job leaves its error in the job and the others run on, and only
// a cancellation of ctx is returned.
func runFolds(ctx context.Context, d *Dataset, folds [][]int, jobs []cvJob, tolerate bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n, _ := d.X.Dims()
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				job := &jobs[j]
				test := folds[job.fold]
				train := make([]int, 0, n-len(test))
				for i, t := 0, 0; i < n; i++ {
					if t < len(test) && test[t] == i {
						t++
						continue
					}
					train = append(train, i)
				}
				if job.err = job.est.Fit(ctx, d.Subset(train)); job.err == nil {
					job.score, job.err = job.est.Score(d.Subset(test))
				}
				if job.err != nil && !tolerate {
					cancel()
				}
			}
		}()
	}
	for j := range jobs {
		if ctx.Err() != nil {
			break
		}
		work <- j
	}
	close(work)
	wg.Wait()
	if tolerate {
		return ctx.Err()
	}
	var errs []error
	for _, job := range jobs {
		if job.err != nil {
			errs = append(errs, fmt.Errorf("fold %d of %d: %w", job.fold+1, len(folds), job.err))
		}
	}
	// The first error of a fit, not a cancellation it caused in others.
	for _, err := range errs {
		if !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return ctx.Err()
}

// cvResult returns the scores of jobs[from:to], or NaN scores and the
// error of the first that failed.
func cvResult(jobs []cvJob, from, to int) *CVResult {
	r := &CVResult{}
	for _, job := range jobs[from:to] {
		r.Scores = append(r.Scores, job.score)
		if job.err != nil && r.Err == nil {
			r.Err = fmt.Errorf("fold %d of %d: %w", job.fold+1, to-from, job.err)
		}
	}
	if r.Err != nil {
		for i := range r.Scores {
			r.Scores[i] = math.NaN()
		}
	}
	r.Mean, r.Std = stat.PopMeanStdDev(r.Scores, nil)
	return r
}

// Grid holds the values of the hyperparameters to search: each candidate
// of Search takes one value of each non-empty field, and the base
// estimator's value for the empty ones.
type Grid struct {
	// Hidden are hidden-layer sizes, as Classifier.Hidden; an empty
	// slice among them is no hidden layer.
	Hidden [][]int
	// Activation are names of hidden activations, as
	// Classifier.Activation.
	Activation []string
	// LearningRate, L2, BatchSize and Epochs are values of the fields of
	// the same names.
	LearningRate []float64
	L2           []float64
	BatchSize    []int
	Epochs       []int
}

// Candidate is one setting of the hyperparameters of a Grid, with the
// meaning of the Classifier fields of the same names. In a Candidate made
// by hand, a nil Hidden, an empty Activation and zero numbers keep the
// base estimator's values (so it cannot set L2 back to 0, which a Grid's
// candidates can).
type Candidate struct {
	Hidden       []int
	Activation   string
	LearningRate float64
	L2           float64
	BatchSize    int
	Epochs       int
	// set records which fields the grid gives, so that an L2 of 0 from
	// the grid is distinguished from the base's.
	set uint8
}

const (
	setHidden = 1 << iota
	setActivation
	setRate
	setL2
	setBatch
	setEpochs
)

// String returns the candidate's settings as flags of nn tune would give
// them: "hidden=32 lr=0.01 l2=0".
func (c Candidate) String() string {
	var parts []string
	if c.set&setHidden != 0 || c.Hidden != nil {
		s := make([]string, len(c.Hidden))
		for i, h := range c.Hidden {
			s[i] = strconv.Itoa(h)
		}
		v := strings.Join(s, ",")
		if v == "" {
			v = "none"
		}
		parts = append(parts, "hidden="+v)
	}
	if c.set&setActivation != 0 || c.Activation != "" {
		parts = append(parts, "activation="+c.Activation)
	}
	if c.set&setRate != 0 || c.LearningRate != 0 {
		parts = append(parts, "lr="+strconv.FormatFloat(c.LearningRate, 'g', -1, 64))
	}
	if c.set&setL2 != 0 || c.L2 != 0 {
		parts = append(parts, "l2="+strconv.FormatFloat(c.L2, 'g', -1, 64))
	}
	if c.set&setBatch != 0 || c.BatchSize != 0 {
		parts = append(parts, "batch="+strconv.Itoa(c.BatchSize))
	}
	if c.set&setEpochs != 0 || c.Epochs != 0 {
		parts = append(parts, "epochs="+strconv.Itoa(c.Epochs))
	}
	if parts == nil {
		return "(base)"
	}
	return strings.Join(parts, " ")
}

// Candidates returns every combination of the grid's values, the last
// field varying fastest: the candidates of a grid search.
func (g *Grid) Candidates() []Candidate {
	out := []Candidate{{}}
	expand := func(n int, set func(c *Candidate, i int)) {
		if n == 0 {
			return
		}
		next := make([]Candidate, 0, len(out)*n)
		for _, c := range out {
			for i := range n {
				d := c
				set(&d, i)
				next = append(next, d)
			}
		}
		out = next
	}
	expand(len(g.Hidden), func(c *Candidate, i int) { c.Hidden, c.set = slices.Clone(g.Hidden[i]), c.set|setHidden })
	expand(len(g.Activation), func(c *Candidate, i int) { c.Activation, c.set = g.Activation[i], c.set|setActivation })
	expand(len(g.LearningRate), func(c *Candidate, i int) { c.LearningRate, c.set = g.LearningRate[i], c.set|setRate })
	expand(len(g.L2), func(c *Candidate, i int) { c.L2, c.set = g.L2[i], c.set|setL2 })
	expand(len(g.BatchSize), func(c *Candidate, i int) { c.BatchSize, c.set = g.BatchSize[i], c.set|setBatch })
	expand(len(g.Epochs), func(c *Candidate, i int) { c.Epochs, c.set = g.Epochs[i], c.set|setEpochs })
	return out
}

// Sample returns n candidates of the grid drawn at random from seed,
// without repeats, in the order of Candidates: a random search. It returns
// every candidate if the grid has at most n.
func (g *Grid) Sample(n int, seed uint64) []Candidate {
	all := g.Candidates()
	if n >= len(all) {
		return all
	}
	rnd := rand.New(rand.NewPCG(seed, seed^0x72616e64)) // "rand"
	pick := rnd.Perm(len(all))[:max(n, 0)]
	slices.Sort(pick)
	out := make([]Candidate, len(pick))
	for i, p := range pick {
		out[i] = all[p]
	}
	return out
}

// SearchResult is the outcome of Search.
type SearchResult struct {
	// Candidates are the settings tried, and Results their
	// cross-validated scores, in the same order.
	Candidates []Candidate
	Results    []*CVResult
	// Best is the index of the candidate with the highest mean score,
	// the first of those tied.
	Best int
	// Estimator is the best candidate fitted on every row: a *Classifier
	// or a *Regressor, as the base.
	Estimator Estimator
}

// String returns the results as a table, one line per candidate with its
// mean score, deviation and the scores of the folds, best first marked.
func (r *SearchResult) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tmean\tstd\tcandidate\tfolds")
	order := make([]int, len(r.Candidates))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch ma, mb := r.Results[a].Mean, r.Results[b].Mean; {
		case math.IsNaN(ma) && !math.IsNaN(mb):
			return 1
		case math.IsNaN(mb) && !math.IsNaN(ma):
			return -1
		case ma > mb:
			return -1
		case ma < mb:
			return 1
		}
		return 0
	})
	for rank, i := range order {
		res := r.Results[i]
		folds := make([]string, len(res.Scores))
		for f, s := range res.Scores {
			folds[f] = strconv.FormatFloat(s, 'f', 4, 64)
		}
		mark := ""
		if i == r.Best {
			mark = " *"
		}
		if res.Err != nil {
			fmt.Fprintf(tw, "-\t-\t-\t%s\tfailed: %s\n", r.Candidates[i], strings.TrimPrefix(res.Err.Error(), "nn: "))
			continue
		}
		fmt.Fprintf(tw, "%d%s\t%.4f\t%.4f\t%s\t%s\n", rank+1, mark, res.Mean, res.Std, r.Candidates[i], strings.Join(folds, " "))
	}
	tw.Flush()
	return b.String()
}

// Search cross-validates each candidate on k folds of d (the same folds
// for all, see Dataset.Folds), as the estimator base with the candidate's
// hyperparameters, then fits the best candidate on every row of d. base
// must be a *Classifier or a *Regressor; it is not changed, and the
// candidates do not call its Progress. The fits run in parallel, up to
// GOMAXPROCS at a time, as CrossValidate's do, and the result depends only
// on the arguments. A candidate whose fit fails (diverges, say) has its
// error in its CVResult and NaN scores, and is never the best; Search
// returns an error if every candidate fails, or ctx is cancelled.
func Search(ctx context.Context, base Estimator, candidates []Candidate, d *Dataset, k int, seed uint64) (*SearchResult, error) {
	if len(candidates) == 0 {
		return nil, errors.New("nn: Search with no candidates")
	}
	for _, c := range candidates {
		if _, err := withCandidate(base, c, false); err != nil {
			return nil, fmt.Errorf("%w (candidate %s)", err, c)
		}
	}
	folds, err := d.Folds(k, seed)
	if err != nil {
		return nil, err
	}
	jobs := make([]cvJob, 0, len(candidates)*k)
	for _, c := range candidates {
		for f := range k {
			est, _ := withCandidate(base, c, false)
			jobs = append(jobs, cvJob{est: est, fold: f})
		}
	}
	if err := runFolds(ctx, d, folds, jobs, true); err != nil {
		return nil, err
	}
	r := &SearchResult{Candidates: candidates, Best: -1}
	for i := range candidates {
		res := cvResult(jobs, i*k, (i+1)*k)
		r.Results = append(r.Results, res)
		if !math.IsNaN(res.Mean) && (r.Best < 0 || res.Mean > r.Results[r.Best].Mean) {
			r.Best = i
		}
	}
	if r.Best < 0 {
		err := r.Results[0].Err
		if err == nil {
			err = errors.New("every score is NaN")
		}
		return nil, fmt.Errorf("nn: no candidate could be scored; the first (%s): %w", candidates[0], err)
	}
	best, _ := withCandidate(base, candidates[r.Best], true)
	if err := best.Fit(ctx, d); err != nil {
		return nil, fmt.Errorf("fitting the best candidate (%s) on every row: %w", candidates[r.Best], err)
	}
	r.Estimator = best
	return r, nil
}

// withCandidate returns a copy of base, not fitted, with the candidate's
// hyperparameters, and keeping base's Progress only if progress is set. It
// checks the hyperparameters.
func withCandidate(base Estimator, c Candidate, progress bool) (Estimator, error) {
	switch b := base.(type) {
	case *Classifier:
		e := *b
		e.Model, e.Report, e.HeldOut = nil, nil, nil
		c.apply(&e.Hidden, &e.Activation, &e.LearningRate, &e.L2, &e.BatchSize, &e.Epochs, &e.Progress, progress)
		_, err := e.hyper()
		return &e, err
	case *Regressor:
		e := *b
		e.Model, e.Report, e.HeldOut = nil, nil, nil
		c.apply(&e.Hidden, &e.Activation, &e.LearningRate, &e.L2, &e.BatchSize, &e.Epochs, &e.Progress, progress)
		_, err := e.hyper()
		return &e, err
	}
	return nil, fmt.Errorf("nn: Search of a %T; it takes a *Classifier or a *Regressor", base)
}

// apply sets the fields the candidate gives, and clears the Progress
// function unless progress is set.
func (c Candidate) apply(hidden *[]int, activation *string, lr, l2 *float64, batch, epochs *int, prog *func(Epoch), progress bool) {
	if !progress {
		*prog = nil
	}
	if c.set&setHidden != 0 || c.Hidden != nil {
		*hidden = slices.Clone(c.Hidden)
		if *hidden == nil {
			*hidden = []int{}
		}
	}
	if c.set&setActivation != 0 || c.Activation != "" {
		*activation = c.Activation
	}
	if c.set&setRate != 0 || c.LearningRate != 0 {
		*lr = c.LearningRate
	}
	if c.set&setL2 != 0 || c.L2 != 0 {
		*l2 = c.L2
	}
	if c.set&setBatch != 0 || c.BatchSize != 0 {
		*batch = c.BatchSize
	}
	if c.set&setEpochs != 0 || c.Epochs != 0 {
		*epochs = c.Epochs
	}
}
