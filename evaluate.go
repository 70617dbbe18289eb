package nn

// The evaluation of a fitted model on labelled rows: the rows found by
// name, predicted through the one path, and scored as a classification or
// a regression report.

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn/internal/excerpt"
)

// Evaluation is a fitted model's score on labelled rows (Model.Evaluate).
type Evaluation struct {
	// Rows is the number of rows scored.
	Rows int
	// Unknown counts the values of categorical columns that were
	// categories the model has not seen, encoded as all zeros.
	Unknown int
	// Classification is the report of a classifier, with its log loss
	// where the outputs are probabilities; nil for a regression.
	Classification *ClassificationReport
	// Regression is the report of a regression; nil for a classifier.
	Regression *RegressionReport
}

// Evaluate predicts the labelled rows of d, found by name and recoded as
// Schema.Table does, and scores the predictions against d's targets: for
// a classifier, by class label (d's classes need not be the model's, but
// a class the model does not know is an error), with the log loss when
// the outputs are probabilities; for a regression, target by target, by
// name when both name their targets (a target of the model that d lacks
// is an error wrapping ErrNoTarget) and in order otherwise. A category
// the model has not seen is counted, or with strict is an error. It
// returns the errors of Model.PredictDataset, and an error if d's targets
// do not fit the model's outputs. A row whose outputs are not finite is an
// error, as in every path of prediction: no metric is computed from one.
func (m *Model) Evaluate(d *Dataset, strict bool) (*Evaluation, error) {
	s, err := m.Schema()
	if err != nil {
		return nil, err
	}
	if d == nil || d.Y == nil {
		return nil, errors.New("nn: evaluating on a Dataset without targets (Y is nil)")
	}
	var truth []int
	var y *mat.Dense
	if s.classes != nil {
		if truth, err = labelsIn(d, s.classes); err != nil {
			return nil, err
		}
	} else if y, err = s.targetsOf(d); err != nil {
		return nil, err
	}
	out, unknown, err := m.PredictDataset(d, strict)
	if err != nil {
		return nil, err
	}
	rows, _ := out.Dims()
	ev := &Evaluation{Rows: rows, Unknown: unknown}
	if s.classes == nil {
		ev.Regression = NewRegressionReport(s.targets, y, out)
		return ev, nil
	}
	rep := NewClassificationReport(s.classes, truth, m.Network.ClassesTo(nil, out))
	rep.LogLoss = math.NaN()
	if s.proba {
		k := len(s.classes)
		probs := mat.NewDense(rows, k, nil)
		for i := range rows {
			s.ProbabilitiesTo(probs.RawRowView(i), out.RawRowView(i))
		}
		rep.LogLoss = LogLoss(OneHot(truth, k), probs)
	}
	ev.Classification = rep
	return ev, nil
}

// labelsIn returns the class of each row of d as an index into classes,
// matching d's class labels by name.
func labelsIn(d *Dataset, classes []string) ([]int, error) {
	if d.Classes == nil {
		return nil, errors.New("nn: scoring a classifier on a regression Dataset (Classes is nil)")
	}
	if _, k := d.Y.Dims(); k != len(d.Classes) {
		return nil, fmt.Errorf("nn: %w: the Dataset has %d classes and %d columns of Y", ErrShape, len(d.Classes), k)
	}
	index := indexes(classes)
	remap := make([]int, len(d.Classes))
	for i, c := range d.Classes {
		remap[i] = colIndex(index, c)
	}
	truth := d.Labels()
	for i, k := range truth {
		if remap[k] < 0 {
			return nil, fmt.Errorf("nn: row %d has class %s, which the model does not know (classes: %s)", i, excerpt.Quote(d.Classes[k]), excerpt.Quotes(classes))
		}
		truth[i] = remap[k]
	}
	return truth, nil
}

// targetsOf returns the targets of d in the order of the model's
// outputs: matched by name where d and the model both name them, in
// order otherwise.
func (s *Schema) targetsOf(d *Dataset) (*mat.Dense, error) {
	if d.Classes != nil {
		return nil, errors.New("nn: scoring a regression on a classification Dataset; read the targets as numbers")
	}
	r, k := d.Y.Dims()
	names := d.Targets
	if names == nil && k == 1 && d.Target != "" {
		names = []string{d.Target}
	}
	if s.targets == nil || names == nil || slices.Equal(names, s.targets) {
		if k != s.out {
			return nil, fmt.Errorf("nn: %w: the model predicts %d targets, the data has %d", ErrShape, s.out, k)
		}
		return d.Y, nil
	}
	index := indexes(names)
	y := mat.NewDense(r, s.out, nil)
	for j, t := range s.targets {
		c := colIndex(index, t)
		if c < 0 {
			return nil, fmt.Errorf("nn: the data has no target %s, which the model predicts (the model's targets: %s; the data's: %s): %w", excerpt.Quote(t), excerpt.Names(s.targets), excerpt.Quotes(names), ErrNoTarget)
		}
		y.SetCol(j, mat.Col(nil, c, d.Y))
	}
	return y, nil
}
