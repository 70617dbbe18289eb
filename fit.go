package nn

// The fitting of Classifier and Regressor: their hyperparameters with the
// defaults applied, the checks of a Dataset, the encoding and scaling of
// its rows, and the training run with its optional refit.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/neuralgo/nn/internal/excerpt"
	"gonum.org/v1/gonum/mat"
)

// hyper are the hyperparameters of Classifier and Regressor, with their
// defaults applied.
type hyper struct {
	hidden        []int
	activation    Activation
	method        Method
	lr            float64
	epochs, batch int
	l2            float64
	val           float64
	patience      int
	refit         bool
	scale         ScaleKind
	impute        Impute
	indicator     bool
	classWeights  map[string]float64
	balanced      bool
	seed          uint64
	slope         float64
	precision     Precision
	progress      func(Epoch)
	configure     func(*Settings)
}

func (c *Classifier) hyper() (*hyper, error) {
	h, err := newHyper(c.Hidden, c.Activation, c.Method, c.LearningRate, c.Epochs, c.BatchSize, c.L2, c.ValidationFraction, c.Patience, c.Scale, c.Impute, c.Seed)
	if err != nil {
		return nil, err
	}
	h.refit, h.indicator, h.progress, h.configure = c.Refit, c.MissingIndicator, c.Progress, c.Configure
	h.precision = c.Precision
	h.classWeights, h.balanced, h.slope = c.ClassWeights, c.Balanced, c.LeakySlope
	for label, w := range c.ClassWeights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("nn: Classifier.ClassWeights[%s] is %v, want a finite weight ≥ 0", excerpt.Quote(label), w)
		}
	}
	return h, nil
}

func (r *Regressor) hyper() (*hyper, error) {
	h, err := newHyper(r.Hidden, r.Activation, r.Method, r.LearningRate, r.Epochs, r.BatchSize, r.L2, r.ValidationFraction, r.Patience, r.Scale, r.Impute, r.Seed)
	if err != nil {
		return nil, err
	}
	h.refit, h.indicator, h.progress, h.configure = r.Refit, r.MissingIndicator, r.Progress, r.Configure
	h.precision = r.Precision
	h.slope = r.LeakySlope
	return h, nil
}

// newHyper checks the hyperparameters and applies their defaults.
func newHyper(hidden []int, activation, method string, lr float64, epochs, batch int, l2, val float64, patience int, scale ScaleKind, impute Impute, seed uint64) (*hyper, error) {
	h := &hyper{hidden: hidden, activation: ReLU, method: Adam, lr: lr, epochs: epochs, batch: batch, l2: l2, val: val, patience: patience, scale: scale, impute: impute, seed: seed}
	if hidden == nil {
		h.hidden = []int{32}
	}
	for i, s := range h.hidden {
		if s <= 0 {
			return nil, fmt.Errorf("nn: Hidden[%d] is %d, want a positive size", i, s)
		}
	}
	var err error
	if activation != "" {
		if h.activation, err = activations.parse(activation); err != nil {
			return nil, fmt.Errorf("nn: Activation: %w", err)
		}
		if h.activation == Softmax || h.activation == Identity {
			return nil, fmt.Errorf("nn: Activation %s: the hidden layers take any activation but softmax and identity", activation)
		}
	}
	if method != "" {
		if h.method, err = methods.parse(method); err != nil {
			return nil, fmt.Errorf("nn: Method: %w", err)
		}
	}
	switch {
	case lr < 0 || math.IsNaN(lr) || math.IsInf(lr, 0):
		return nil, fmt.Errorf("nn: LearningRate is %v, want a positive rate (or 0 for the default)", lr)
	case lr == 0:
		h.lr = defaultRate(h.method)
	}
	switch {
	case epochs < 0:
		return nil, fmt.Errorf("nn: Epochs is %d, want a positive number (or 0 for 200)", epochs)
	case epochs == 0:
		h.epochs = 200
	}
	switch {
	case batch < 0:
		return nil, fmt.Errorf("nn: BatchSize is %d, want a positive number (or 0 for 32)", batch)
	case batch == 0:
		h.batch = 32
	}
	if !(l2 >= 0) || math.IsInf(l2, 0) {
		return nil, fmt.Errorf("nn: L2 is %v, want a finite λ ≥ 0", l2)
	}
	switch {
	case math.IsNaN(val) || val >= 1:
		return nil, fmt.Errorf("nn: ValidationFraction is %v, want a fraction below 1 (0 for 0.1, negative for none)", val)
	case val == 0:
		h.val = 0.1
	case val < 0:
		h.val = 0
	}
	if !scaleKinds.valid(h.scale) {
		return nil, fmt.Errorf("nn: Scale %v is not a scaling", scale)
	}
	if !imputes.valid(impute) {
		return nil, fmt.Errorf("nn: Impute %v is not an imputation", impute)
	}
	return h, nil
}

// prepared is the encoding and scalers of a network's inputs and targets,
// fitted on the training rows of a Dataset, and the rows' weights.
type prepared struct {
	enc     *Encoding
	scaler  *Scaler
	yScaler *Scaler
	weights []float64 // a weight per row of the Dataset; nil for none
}

// prepare fits the encoding and scalers on the rows idx of d (every row if
// idx is nil), which are the rows that training sees.
func prepare(h *hyper, d *Dataset, idx []int, classify, needEnc bool) (*prepared, error) {
	p := &prepared{}
	names := d.Features
	if needEnc {
		enc, err := fitEncoding(d, idx, h.impute, h.indicator)
		if err != nil {
			return nil, err
		}
		if err := enc.CheckRows(d.X); err != nil {
			return nil, err
		}
		p.enc = enc
		if len(d.Features) == len(enc.Columns) {
			names = enc.Inputs(d.Features)
		}
	}
	if h.scale != NoScaling {
		s := p.set(d, idx)
		p.scaler = fitScaler(h.scale, s.len(), s.inputs(), s.inputColumn)
		for j := range p.scaler.Offset {
			if o, s := p.scaler.Offset[j], p.scaler.Scale[j]; !finite(o) || !finite(s) {
				name := fmt.Sprintf("input %d", j)
				if j < len(names) {
					name = "column " + excerpt.Quote(names[j])
				}
				return nil, fmt.Errorf("nn: the values of %s are too large for scaling by %v (offset %v, scale %v); divide the column by a power of ten", name, h.scale, o, s)
			}
		}
	}
	if !classify {
		s := p.set(d, idx)
		_, k := d.Y.Dims()
		p.yScaler = fitScaler(Standardize, s.len(), k, s.targetColumn)
		for j := range p.yScaler.Offset {
			if o, s := p.yScaler.Offset[j], p.yScaler.Scale[j]; !finite(o) || !finite(s) {
				name := d.Target
				if j < len(d.Targets) {
					name = d.Targets[j]
				}
				return nil, fmt.Errorf("nn: the values of the target %s are too large to standardise (offset %v, scale %v); divide the column by a power of ten", excerpt.Quote(name), o, s)
			}
		}
	}
	if classify && (h.balanced || h.classWeights != nil) {
		p.weights = classWeights(h, d, idx)
	}
	if d.Weights != nil {
		rows, _ := d.X.Dims()
		if len(d.Weights) != rows {
			return nil, fmt.Errorf("nn: %w: Dataset has %d weights for %d rows", ErrShape, len(d.Weights), rows)
		}
		if p.weights == nil {
			p.weights = d.Weights
		} else {
			for i, w := range d.Weights {
				p.weights[i] *= w
			}
		}
	}
	return p, nil
}

// set returns the rows idx of d (every row if idx is nil) as p prepares
// them, with their weights.
func (p *prepared) set(d *Dataset, idx []int) *rowSet {
	return &rowSet{x: d.X, y: d.Y, idx: idx, enc: p.enc, scaler: p.scaler, yScaler: p.yScaler, w: p.weights}
}

// classWeights returns the weight of each row of d by its class, with the
// classes counted on the rows idx (every row if idx is nil).
func classWeights(h *hyper, d *Dataset, idx []int) []float64 {
	labels := d.Labels()
	k := len(d.Classes)
	w := make([]float64, k)
	counts := make([]int, k)
	n := len(labels)
	if idx == nil {
		for _, c := range labels {
			counts[c]++
		}
	} else {
		n = len(idx)
		for _, i := range idx {
			counts[labels[i]]++
		}
	}
	for c := range w {
		w[c] = 1
		if h.balanced && counts[c] > 0 {
			w[c] = float64(n) / (float64(k) * float64(counts[c]))
		}
		if v, ok := h.classWeights[d.Classes[c]]; ok {
			w[c] *= v
		}
	}
	rows := make([]float64, len(labels))
	for i, c := range labels {
		rows[i] = w[c]
	}
	return rows
}

func hasNaN(x mat.Matrix) bool {
	r, c := x.Dims()
	for i := range r {
		for j := range c {
			if math.IsNaN(x.At(i, j)) {
				return true
			}
		}
	}
	return false
}

// config returns the network for inputs and outputs: the hidden layers,
// He initialisation for ReLU and Xavier for the others, and a softmax
// output on cross-entropy or an identity one on squared error.
func (h *hyper) config(inputs, outputs int, classify bool) Config {
	sizes := append(append([]int{inputs}, h.hidden...), outputs)
	c := Config{Sizes: sizes, Activations: make([]Activation, len(sizes)-1), Init: Xavier, Seed: h.seed, LeakySlope: h.slope}
	for l := range c.Activations {
		c.Activations[l] = h.activation
	}
	if h.activation == ReLU || h.activation == LeakyReLU {
		c.Init = He
	}
	L := len(c.Activations) - 1
	if classify {
		c.Activations[L], c.Loss = Softmax, CrossEntropy
	} else {
		c.Activations[L], c.Loss = Identity, SquaredError
	}
	return c
}

// settings returns the training settings of h.
func (h *hyper) settings(epochs int) *Settings {
	s := &Settings{
		Method:       h.method,
		LearningRate: h.lr,
		Epochs:       epochs,
		BatchSize:    h.batch,
		L2:           h.l2,
		Patience:     h.patience,
		Seed:         h.seed,
		Progress:     h.progress,
		Precision:    h.precision,
	}
	if h.configure != nil {
		h.configure(s)
	}
	return s
}

// fit trains a network on d as h says and returns the model and report.
func fit(ctx context.Context, h *hyper, d *Dataset, classify bool) (m *Model, report *Report, heldOut *Dataset, err error) {
	m, report, heldOut, err = fitNetwork(ctx, h, d, classify)
	if report == nil {
		m, heldOut = nil, nil
	}
	return m, report, heldOut, err
}

func fitNetwork(ctx context.Context, h *hyper, d *Dataset, classify bool) (*Model, *Report, *Dataset, error) {
	rows, cols := d.X.Dims()
	if rows == 0 || cols == 0 {
		return nil, nil, nil, fmt.Errorf("nn: fitting a Dataset of %d×%d: %w", rows, cols, ErrEmpty)
	}
	if _, k := d.Y.Dims(); !classify && k == 0 {
		return nil, nil, nil, errors.New("nn: fitting a Dataset with no targets")
	}
	if err := checkDataset(d, h, classify); err != nil {
		return nil, nil, nil, err
	}
	// The training and validation rows are indexes into d, prepared as
	// each batch is gathered: d is the only copy of the data.
	var trainIdx, valIdx []int
	if h.val > 0 {
		var err error
		if trainIdx, valIdx, err = d.splitIndex(h.val, h.seed); err != nil {
			return nil, nil, nil, fmt.Errorf("%w; too few rows to hold out a fraction of %v for validation (set ValidationFraction negative for none)", err, h.val)
		}
	}
	p, err := prepare(h, d, trainIdx, classify, d.Categories != nil || hasNaN(d.X))
	if err != nil {
		return nil, nil, nil, err
	}
	_, outputs := d.Y.Dims()
	train := p.set(d, trainIdx)
	net, err := New(h.config(train.inputs(), outputs, classify))
	if err != nil {
		return nil, nil, nil, err
	}
	var val *rowSet
	if valIdx != nil {
		val = p.set(d, valIdx)
		val.w = nil
	}
	report, err := trainPrepared(ctx, net, h.settings(h.epochs), train, val)
	if err == nil && h.refit && val != nil && report.BestEpoch > 0 {
		// Train afresh on every row for the epochs early stopping chose.
		if p, err = prepare(h, d, nil, classify, p.enc != nil); err != nil {
			return nil, nil, nil, err
		}
		train = p.set(d, nil)
		if net, err = New(h.config(train.inputs(), outputs, classify)); err != nil {
			return nil, nil, nil, err
		}
		s := h.settings(report.BestEpoch)
		// Without held-out rows: nothing to monitor but the loss, and a
		// warm-up shorter than the run.
		s.Patience, s.Monitor = 0, MonitorLoss
		s.Warmup = min(s.Warmup, report.BestEpoch-1)
		report, err = trainPrepared(ctx, net, s, train, nil)
	}
	if report == nil {
		return nil, nil, nil, err
	}
	if p.yScaler != nil {
		unscaleOutput(net, p.yScaler)
	}
	var heldOut *Dataset
	if valIdx != nil {
		heldOut = d.Subset(valIdx)
	}
	m := &Model{Network: net, Scaler: p.scaler, Encoding: p.enc, Features: slices.Clone(d.Features), Target: d.Target, Targets: slices.Clone(d.Targets), Classes: slices.Clone(d.Classes)}
	return m, report, heldOut, err
}

// checkDataset returns an error if d does not hold together: rows of X
// and Y, weights, categories and their codes, class weights naming classes
// of d; and if the encoded inputs would not fit the memory budget.
func checkDataset(d *Dataset, h *hyper, classify bool) error {
	rows, cols := d.X.Dims()
	yr, k := d.Y.Dims()
	switch {
	case yr != rows:
		return fmt.Errorf("nn: %w: Dataset has %d rows of X and %d of Y", ErrShape, rows, yr)
	case d.Weights != nil && len(d.Weights) != rows:
		return fmt.Errorf("nn: %w: Dataset has %d weights for %d rows", ErrShape, len(d.Weights), rows)
	case d.Categories != nil && len(d.Categories) != cols:
		return fmt.Errorf("nn: %w: Dataset has %d columns and %d Categories", ErrShape, cols, len(d.Categories))
	case d.Features != nil && len(d.Features) != cols:
		return fmt.Errorf("nn: %w: Dataset has %d columns and %d Features", ErrShape, cols, len(d.Features))
	case classify && len(d.Classes) != k:
		return fmt.Errorf("nn: %w: Dataset has %d classes and %d columns of Y", ErrShape, len(d.Classes), k)
	}
	if k, j := duplicate(d.Features); j >= 0 {
		// A model reads rows by the names of their columns.
		return fmt.Errorf("nn: the Dataset names columns %d and %d %s: %w", k, j, excerpt.Quote(d.Features[j]), ErrDuplicateColumn)
	}
	if err := checkClasses(d.Classes); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	for i, w := range d.Weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return fmt.Errorf("nn: Dataset.Weights[%d] is %v, want a finite weight ≥ 0", i, w)
		}
	}
	for label := range h.classWeights {
		if !slices.Contains(d.Classes, label) {
			return fmt.Errorf("nn: ClassWeights names the class %s, which the Dataset does not hold (classes: %s)", excerpt.Quote(label), excerpt.Quotes(d.Classes))
		}
	}
	// Every value must be finite or missing, and every code a category's,
	// before rows are split, encoded or scaled.
	enc := &Encoding{Columns: make([]ColumnEncoding, cols)}
	width := 0
	for j := range cols {
		if d.Categories != nil && d.Categories[j] != nil {
			enc.Columns[j].Categories = d.Categories[j]
			width += len(d.Categories[j])
		} else {
			width++
		}
	}
	row := make([]float64, cols)
	for i := range rows {
		mat.Row(row, i, d.X)
		if j, err := enc.checkRow(row); err != nil {
			return fmt.Errorf("nn: X(%d,%d): %w", i, j, err)
		}
	}
	// The encoded rows, their indicators, and the copies held out and
	// scaled.
	if err := overBudget(3*float64(rows)*float64(2*width)*float64Bytes, fmt.Sprintf("the %d rows encoded into about %d inputs, one per category of each categorical column (drop a column of identifiers, which has a category per row)", rows, width)); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return nil
}

// scaleOutput undoes unscaleOutput: it makes the identity output layer of
// net, which predicts in the targets' own units, predict them standardised
// by ys: (a·W + b − o)/s = a·(W/s) + (b − o)/s, column by column.
func scaleOutput(net *Network, ys *Scaler) {
	L := net.Layers() - 1
	w, b := net.Weights(L), net.Bias(L)
	r, c := w.Dims()
	for j := range c {
		s, o := ys.Scale[j], ys.Offset[j]
		for i := range r {
			w.Set(i, j, w.At(i, j)/s)
		}
		b[j] = (b[j] - o) / s
	}
	net.refresh32()
}

// unscaleOutput folds the target scaling ys into the identity output layer
// of net, so that net predicts in the targets' own units:
// ŷ = (a·W + b)·s + o = a·(W·s) + (b·s + o), column by column.
func unscaleOutput(net *Network, ys *Scaler) {
	L := net.Layers() - 1
	w, b := net.Weights(L), net.Bias(L)
	r, c := w.Dims()
	for j := range c {
		s, o := ys.Scale[j], ys.Offset[j]
		for i := range r {
			w.Set(i, j, w.At(i, j)*s)
		}
		b[j] = b[j]*s + o
	}
	net.refresh32()
}
