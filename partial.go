package nn

// Training a batch of rows at a time, as the caller brings them: the
// PartialFit of Classifier and Regressor, scikit-learn's partial_fit.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/neuralgo/nn/internal/excerpt"
	"gonum.org/v1/gonum/mat"
)

// partial is the training that PartialFit continues from call to call.
type partial struct {
	run     *run
	prep    *prepared // encoding and scalers, fixed by the first call
	schema  *Schema   // reads later Datasets by the names of their columns
	classW  []float64 // the weight of each class; nil for none
	classes []string  // of a classifier
	targets []string  // of a regressor
	pcg     *rand.PCG
	rnd     *rand.Rand
	val     *Dataset // the rows held out from the first call
	first   []int    // the rows of the first call to train on; nil after it
	stopped bool
	model   *Model // the fitted model, with the network trained in place
}

// PartialFit trains the classifier for one pass over the rows of d, in
// mini-batches of BatchSize in an order drawn from the seed, continuing
// from the weights and optimizer state that the calls before it left, as
// scikit-learn's partial_fit does: a program that brings its rows in
// batches (a file read a chunk at a time, a queue) trains on more rows
// than it holds. Each call is an epoch of c.Report.
//
// The first call fixes the model: the encoding and scaler are fitted on
// its rows, and its Dataset's Classes are the model's classes (read the
// chunks with CSVOptions.Classes listing every class, so that the first
// holds them all; ReadCSV then codes every chunk alike). A call after Fit
// or FitStream continues from their model instead, with a fresh optimizer
// state. Later Datasets are read by the names of their columns, as
// Predict reads them, and a class the model lacks is an error.
//
// Early stopping works as in Fit: ValidationFraction of the first call's
// rows (stratified) are held out, the validation loss is measured after
// every call, and when it has not improved for Patience calls, the model
// gets the weights of the best call, and the call that stops and every
// later one return ErrStopped (a later one without training). Learning-rate schedules count calls as epochs. Refit,
// checkpoints and resume do not apply.
func (c *Classifier) PartialFit(ctx context.Context, d *Dataset) error {
	h, err := c.hyper()
	if err != nil {
		return err
	}
	if d == nil || d.X == nil || d.Y == nil || d.Classes == nil {
		return errors.New("nn: Classifier.PartialFit of a Dataset without X, Y or Classes")
	}
	p, err := continuePartial(c.partial, h, d, true, c.Model)
	if err != nil {
		return err
	}
	err = p.step(ctx, h, d)
	if p.untrained() {
		// A first call that trained nothing starts nothing: the next
		// call starts afresh, and the estimator is as it was.
		return err
	}
	c.partial = p
	c.Model, c.Report, c.HeldOut = p.model, p.run.report, p.val
	return err
}

// PartialFit trains the regressor for one pass over the rows of d, as
// Classifier's PartialFit does; the targets of later Datasets are found
// by their names.
func (r *Regressor) PartialFit(ctx context.Context, d *Dataset) error {
	h, err := r.hyper()
	if err != nil {
		return err
	}
	if d == nil || d.X == nil || d.Y == nil {
		return errors.New("nn: Regressor.PartialFit of a Dataset without X or Y")
	}
	if d.Classes != nil {
		return errors.New("nn: Regressor.PartialFit of a classification Dataset (Classes is set); use a Classifier")
	}
	p, err := continuePartial(r.partial, h, d, false, r.Model)
	if err != nil {
		return err
	}
	err = p.step(ctx, h, d)
	if p.untrained() {
		return err
	}
	r.partial = p
	r.Model, r.Report, r.HeldOut = p.model, p.run.report, p.val
	return err
}

// continuePartial returns the training p that PartialFit continues, or,
// if it is nil, a new one on the first Dataset d, from the fitted model
// m if it is not nil.
func continuePartial(p *partial, h *hyper, d *Dataset, classify bool, m *Model) (*partial, error) {
	if p != nil {
		return p, nil
	}
	return startPartial(h, d, classify, m)
}

// untrained reports whether p has trained no epoch and stopped for no
// reason: a first call that failed before it trained.
func (p *partial) untrained() bool {
	return len(p.run.report.History) == 0 && !p.stopped
}

// startPartial starts the training of PartialFit on the first Dataset d,
// or from the fitted model m if it is not nil.
func startPartial(h *hyper, d *Dataset, classify bool, m *Model) (*partial, error) {
	if err := checkDataset(d, h, classify); err != nil {
		return nil, err
	}
	if classify && len(d.Classes) < 2 {
		return nil, fmt.Errorf("nn: PartialFit: the first Dataset holds the classes %s; classification needs at least two (list every class in CSVOptions.Classes)", excerpt.Quotes(d.Classes))
	}
	p := &partial{classes: slices.Clone(d.Classes), targets: targetsOf(d)}
	var net *Network
	var err error
	if m != nil {
		// Continue from a fitted model, a copy of it: the caller may keep
		// the one it has. Its outputs are in the targets' own units: a
		// regression trains on targets standardised by the first
		// Dataset's, and its output layer is scaled to match.
		mm := *m
		p.model = &mm
		p.prep = &prepared{enc: m.Encoding, scaler: m.Scaler}
		net = m.Network.Clone()
		p.classes, p.targets = slices.Clone(m.Classes), slices.Clone(m.Targets)
		if !classify && p.targets == nil {
			p.targets = []string{m.Target}
		}
		p.schema, err = p.model.Schema()
		if err != nil {
			return nil, err
		}
		y, err := p.targetsOf(d)
		if err != nil {
			return nil, err
		}
		if !classify {
			p.prep.yScaler = FitScaler(Standardize, y)
			for j := range p.prep.yScaler.Offset {
				if o, s := p.prep.yScaler.Offset[j], p.prep.yScaler.Scale[j]; !finite(o) || !finite(s) {
					return nil, fmt.Errorf("nn: the values of the target %s are too large to standardise (offset %v, scale %v); divide the column by a power of ten", excerpt.Quote(p.targets[j]), o, s)
				}
			}
			scaleOutput(net, p.prep.yScaler)
		}
		if classify && (h.balanced || h.classWeights != nil) {
			if p.classW, err = partialClassWeights(h, p.classes, y); err != nil {
				return nil, err
			}
		}
	} else {
		var trainIdx, valIdx []int
		if h.val > 0 {
			if trainIdx, valIdx, err = d.splitIndex(h.val, h.seed); err != nil {
				return nil, fmt.Errorf("%w; too few rows in the first Dataset to hold out a fraction of %v for validation (set ValidationFraction negative for none)", err, h.val)
			}
			p.val = d.Subset(valIdx)
			p.first = trainIdx
		}
		var prep *prepared
		if prep, err = prepare(h, d, trainIdx, classify, d.Categories != nil || hasNaN(d.X)); err != nil {
			return nil, err
		}
		prep.weights = nil // weights come with each Dataset, and by class
		p.prep = prep
		_, outputs := d.Y.Dims()
		if net, err = New(h.config(prep.set(d, trainIdx).inputs(), outputs, classify)); err != nil {
			return nil, err
		}
		p.model = &Model{Network: net, Scaler: prep.scaler, Encoding: prep.enc, Features: slices.Clone(d.Features), Target: d.Target, Targets: slices.Clone(d.Targets), Classes: slices.Clone(d.Classes)}
		if classify && (h.balanced || h.classWeights != nil) {
			w := classWeights(h, d, trainIdx)
			p.classW = make([]float64, len(d.Classes))
			for i, c := range d.Labels() {
				p.classW[c] = w[i]
			}
		}
		if p.schema, err = p.model.Schema(); err != nil {
			return nil, err
		}
	}
	s := h.settings(h.epochs)
	c := s.withDefaults(p.val != nil)
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Method == LBFGS {
		return nil, errors.New("nn: Method lbfgs minimises the loss of every row at once; PartialFit takes a pass over each batch of rows")
	}
	c.CheckpointEvery, c.Checkpoint, c.Resume = 0, nil, nil
	r := newRun(context.Background(), net, &c, time.Now(), nil)
	r.keepBest = p.val != nil || c.Patience > 0
	if r.keepBest {
		r.bestParams = slices.Clone(net.params)
	}
	var err2 error
	if r.trainer, err2 = NewTrainer(net, r.s); err2 != nil {
		return nil, err2
	}
	r.trainer.prev = slices.Clone(net.params)
	p.run = r
	p.pcg = rand.NewPCG(c.Seed, 0x6e6e2d747261696e) // "nn-train"
	p.rnd = rand.New(p.pcg)
	if p.val != nil {
		vx, _, err := p.schema.Table(p.val, false)
		if err != nil {
			return nil, err
		}
		vy, err := p.targetsOf(p.val)
		if err != nil {
			return nil, err
		}
		r.val = newValidation(net, &rowSet{x: vx, y: vy, enc: p.prep.enc, scaler: p.prep.scaler, yScaler: p.prep.yScaler})
	}
	if m == nil {
		p.publish()
	}
	// A model continued keeps its own network until a call has trained:
	// scaling the outputs and back would round its weights.
	return p, nil
}

// targetsOf returns the targets of d.
func targetsOf(d *Dataset) []string {
	if d.Classes != nil {
		return nil
	}
	if d.Targets != nil {
		return slices.Clone(d.Targets)
	}
	return []string{d.Target}
}

// step trains on the rows of d for one epoch.
func (p *partial) step(ctx context.Context, h *hyper, d *Dataset) error {
	r := p.run
	if p.stopped {
		return ErrStopped
	}
	x, _, err := p.schema.Table(d, false)
	if err != nil {
		return err
	}
	y, err := p.targetsOf(d)
	if err != nil {
		return err
	}
	rows, _ := x.Dims()
	if rows == 0 {
		return fmt.Errorf("nn: PartialFit of a Dataset with no rows: %w", ErrEmpty)
	}
	if d.Weights != nil && len(d.Weights) != rows {
		return fmt.Errorf("nn: %w: Dataset has %d weights for %d rows", ErrShape, len(d.Weights), rows)
	}
	for i, w := range d.Weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return fmt.Errorf("nn: Dataset.Weights[%d] is %v, want a finite weight ≥ 0", i, w)
		}
	}
	set := &rowSet{x: x, y: y, idx: p.first, enc: p.prep.enc, scaler: p.prep.scaler, yScaler: p.prep.yScaler, w: p.weights(d, y)}
	rows = set.len()
	if err := set.checkFinite("X", "Y"); err != nil {
		return err
	}
	r.ctx, r.start = ctx, time.Now()
	r.report.Stop = 0 // a cancelled or diverged call before does not end this one
	r.trainer.weighted = set.w != nil
	clear(r.trainer.bp) // buffers of the last call's weighting
	if f := r.trainer.f32; f != nil {
		clear(f.bp)
	}
	if r.report.History != nil {
		r.elapsed0 = r.report.History[len(r.report.History)-1].Elapsed
	}
	size := min(h.batch, rows)
	b := newBatches(set, size)
	e := len(r.report.History) + 1
	before := p.save()
	loss, err := r.epoch(b, e, (rows+size-1)/size, p.rnd)
	if err != nil {
		// Cancelled or diverged: as if the call had not been made, so
		// that it may be made again.
		p.restore(before) // the model's network is still that of the last call
		return err
	}
	p.first = nil
	stop, err := r.endEpoch(e, loss, p.pcg)
	p.stopped = stop
	if stop {
		r.end()
	}
	p.publish()
	if stop && err == nil {
		return ErrStopped
	}
	return err
}

// partialState is what a call of PartialFit changes, saved to undo a call
// that fails.
type partialState struct {
	params, m, v []float64
	steps        int
	random       []byte
}

func (p *partial) save() partialState {
	t := p.run.trainer
	t.sync()
	random, _ := p.pcg.MarshalBinary()
	return partialState{params: slices.Clone(p.run.net.params), m: slices.Clone(t.m), v: slices.Clone(t.v), steps: t.t, random: random}
}

func (p *partial) restore(s partialState) {
	t := p.run.trainer
	copy(p.run.net.params, s.params)
	copy(t.m, s.m)
	copy(t.v, s.v)
	t.load()
	t.t = s.steps
	p.pcg.UnmarshalBinary(s.random)
}

// partialClassWeights returns the weight of each of the classes, whose
// rows are one-hot in y, as Balanced and ClassWeights of h ask.
func partialClassWeights(h *hyper, classes []string, y *mat.Dense) ([]float64, error) {
	for label := range h.classWeights {
		if !slices.Contains(classes, label) {
			return nil, fmt.Errorf("nn: ClassWeights names the class %s, which the model does not hold (classes: %s)", excerpt.Quote(label), excerpt.Quotes(classes))
		}
	}
	rows, k := y.Dims()
	counts := make([]int, k)
	for i := range rows {
		row := y.RawRowView(i)
		counts[slices.Index(row, slices.Max(row))]++
	}
	w := make([]float64, k)
	for c := range w {
		w[c] = 1
		if h.balanced && counts[c] > 0 {
			w[c] = float64(rows) / (float64(k) * float64(counts[c]))
		}
		if v, ok := h.classWeights[classes[c]]; ok {
			w[c] *= v
		}
	}
	return w, nil
}

// publish sets the model's network to a copy of the one trained, with its
// outputs in the targets' own units.
func (p *partial) publish() {
	net := p.run.net.Clone()
	if p.prep.yScaler != nil {
		unscaleOutput(net, p.prep.yScaler)
	}
	p.model.Network = net
}

// targetsOf returns the targets of the rows of d in the model's order:
// one-hot over the model's classes, or the columns of its targets.
func (p *partial) targetsOf(d *Dataset) (*mat.Dense, error) {
	rows, _ := d.X.Dims()
	if p.classes != nil {
		if d.Classes == nil {
			return nil, errors.New("nn: PartialFit of a regression Dataset (Classes is nil) by a classifier")
		}
		if slices.Equal(d.Classes, p.classes) {
			return d.Y, nil
		}
		// The classes of d, by their labels.
		index := make([]int, len(d.Classes))
		for i, c := range d.Classes {
			if index[i] = slices.Index(p.classes, c); index[i] < 0 {
				return nil, fmt.Errorf("nn: PartialFit: class %s is not one of the model's %s (read every batch with CSVOptions.Classes listing all classes): %w", excerpt.Quote(c), excerpt.Quotes(p.classes), ErrUnknownClass)
			}
		}
		labels := d.Labels()
		for i := range labels {
			labels[i] = index[labels[i]]
		}
		return OneHot(labels, len(p.classes)), nil
	}
	names := targetsOf(d)
	if slices.Equal(names, p.targets) {
		return d.Y, nil
	}
	y := mat.NewDense(rows, len(p.targets), nil)
	for k, name := range p.targets {
		j := slices.Index(names, name)
		if j < 0 {
			return nil, fmt.Errorf("nn: PartialFit: the Dataset has no target %s (its targets: %s)", excerpt.Quote(name), excerpt.Quotes(names))
		}
		y.SetCol(k, mat.Col(nil, j, d.Y))
	}
	return y, nil
}

// weights returns the weight of each row of d, whose targets in the
// model's order are y: its class's and its own, or nil if neither.
func (p *partial) weights(d *Dataset, y *mat.Dense) []float64 {
	if p.classW == nil && d.Weights == nil {
		return nil
	}
	rows, _ := y.Dims()
	w := make([]float64, rows)
	for i := range w {
		w[i] = 1
		if p.classW != nil {
			row := y.RawRowView(i)
			w[i] = p.classW[slices.Index(row, slices.Max(row))]
		}
		if d.Weights != nil {
			w[i] *= d.Weights[i]
		}
	}
	return w
}
