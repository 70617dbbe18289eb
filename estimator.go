package nn

import (
	"context"
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn/internal/excerpt"
)

// Classifier learns to predict a class label from the columns of a table:
// it encodes categorical columns and fills in missing values (Encoding),
// scales the inputs (Scaler), and trains a network with a softmax output
// on cross-entropy, keeping all of that in the fitted Model. Its fields
// are the hyperparameters; the zero value is a ready classifier whose
// defaults suit small tables: one hidden layer of 32 ReLU units with He
// initialisation, Adam with rate 0.01 on batches of 32, 10% of the rows
// held out for early stopping with a patience of 20 epochs, up to 200
// epochs, standardised inputs, missing values filled in with the mean.
//
// Fit learns from a Dataset (see ReadCSV), Predict returns class labels,
// PredictProba their probabilities, Score the accuracy; Model holds what
// to save. A Classifier is not safe for concurrent Fit calls, but its
// fitted Predict, PredictProba and Score may be called concurrently.
//
// Activation and Optimizer are names rather than Activation and Method
// values because the zero values of those types are the tutorial's
// (Sigmoid, GradientDescent), where the zero Classifier means ReLU and
// Adam.
type Classifier struct {
	// Hidden are the sizes of the hidden layers; nil means {32}, and an
	// empty non-nil slice none (a linear model of the inputs).
	Hidden []int
	// Activation names the activation of the hidden layers, as
	// ParseActivation reads it; "" means "relu". Softmax and identity are
	// refused.
	Activation string
	// LeakySlope is the slope of "leaky-relu" below zero (Config.LeakySlope);
	// zero means 0.01.
	LeakySlope float64
	// Optimizer names the training method, as ParseMethod reads it; ""
	// means "adam".
	Optimizer string
	// LearningRate is the step size; zero means 0.01 for Adam and AdamW and 0.1 for
	// the other methods.
	LearningRate float64
	// Epochs is the most passes over the training rows; zero means 200.
	Epochs int
	// BatchSize is the rows per step of the mini-batch methods; zero
	// means 32.
	BatchSize int
	// L2 is the weight decay λ (see Settings.L2); zero means none.
	L2 float64
	// Validation is the fraction of the rows held out, stratified by
	// class, to stop training early and keep the best epoch's weights;
	// zero means 0.1 and a negative value none (training on every row,
	// stopped by Patience on the training loss).
	Validation float64
	// Patience is the number of epochs without a better validation loss
	// after which training stops; zero means 20 and a negative value
	// that every epoch runs (the best epoch's weights are still kept).
	Patience int
	// Refit, after early stopping has chosen the number of epochs on the
	// held-out rows, trains afresh on all rows for that many epochs.
	Refit bool
	// Scale is how the encoded inputs are scaled, fitted on the training
	// rows. Its zero value, NoScaling, means the default, Standardize: set
	// NoScale to leave the inputs as they are.
	Scale ScaleKind
	// NoScale leaves the inputs unscaled.
	NoScale bool
	// Impute is how a missing value of a numeric column is filled in;
	// categorical columns take their most frequent category.
	Impute Impute
	// MissingIndicator adds, for each column with missing values in the
	// training rows, an input that is 1 where the value is missing.
	MissingIndicator bool
	// ClassWeights weight the cost of each training row by its class, as
	// a map from class label to weight (classes not in it weigh 1), to
	// make rare classes count more. See also Balanced.
	ClassWeights map[string]float64
	// Balanced weighs each class inversely to its frequency in the
	// training rows, n/(k·n_c), as scikit-learn's class_weight="balanced";
	// it is multiplied with ClassWeights.
	Balanced bool
	// Seed seeds the initial weights, the held-out rows and the shuffling;
	// the same seed and data give the same model, bit for bit.
	Seed uint64
	// Progress, if not nil, is called after every epoch.
	Progress func(Epoch)
	// Configure, if not nil, is called with the training settings before
	// training starts, to set what the fields above do not: checkpoints,
	// a schedule, momentum.
	Configure func(*Settings)

	// Model is the fitted model, set by Fit; it is what Predict uses and
	// what to save.
	Model *Model
	// Report is the report of the last training run of Fit.
	Report *Report
	// HeldOut holds the rows that Fit held out for validation, as they
	// were in the Dataset; nil if it held out none. With Refit the final
	// model was trained on them too.
	HeldOut *Dataset
}

// Regressor learns to predict one or more numbers from the columns of a
// table, as Classifier does for class labels: it encodes, fills in and
// scales the inputs, standardises the targets, and trains a network with
// identity outputs on squared error, folding the targets' scaling back
// into the output layer so that the Model predicts in the targets' units.
// Its fields and defaults are Classifier's, without the class weights;
// Score is the coefficient of determination R².
type Regressor struct {
	// Hidden are the sizes of the hidden layers; nil means {32}, and an
	// empty non-nil slice none (a linear model of the inputs).
	Hidden []int
	// Activation names the activation of the hidden layers; "" means
	// "relu".
	Activation string
	// LeakySlope is the slope of "leaky-relu" below zero; zero means 0.01.
	LeakySlope float64
	// Optimizer names the training method; "" means "adam".
	Optimizer string
	// LearningRate is the step size; zero means 0.01 for Adam and AdamW and 0.1 for
	// the other methods.
	LearningRate float64
	// Epochs is the most passes over the training rows; zero means 200.
	Epochs int
	// BatchSize is the rows per step of the mini-batch methods; zero
	// means 32.
	BatchSize int
	// L2 is the weight decay λ; zero means none.
	L2 float64
	// Validation is the fraction of rows held out for early stopping;
	// zero means 0.1 and a negative value none.
	Validation float64
	// Patience is the number of epochs without a better validation loss
	// after which training stops; zero means 20, negative every epoch.
	Patience int
	// Refit, after early stopping has chosen the number of epochs, trains
	// afresh on all rows for that many epochs.
	Refit bool
	// Scale is how the encoded inputs are scaled; zero means Standardize.
	Scale ScaleKind
	// NoScale leaves the inputs unscaled.
	NoScale bool
	// Impute is how a missing value of a numeric column is filled in.
	Impute Impute
	// MissingIndicator adds an input per column with missing values.
	MissingIndicator bool
	// Seed seeds the initial weights, the held-out rows and the shuffling.
	Seed uint64
	// Progress, if not nil, is called after every epoch.
	Progress func(Epoch)
	// Configure, if not nil, is called with the training settings before
	// training starts.
	Configure func(*Settings)

	// Model is the fitted model, set by Fit.
	Model *Model
	// Report is the report of the last training run of Fit.
	Report *Report
	// HeldOut holds the rows that Fit held out for validation; nil if
	// none.
	HeldOut *Dataset
}

// Fit trains the classifier on d, whose Classes are the labels to learn,
// and sets c.Model and c.Report. It returns an error if the
// hyperparameters are invalid, if d is not a classification Dataset with
// at least two classes, if a column cannot be encoded (see FitEncoding),
// or as Train does. If training itself fails (cancelled, diverged),
// c.Model holds the network as training left it, which may be saved.
func (c *Classifier) Fit(ctx context.Context, d *Dataset) error {
	h, err := c.hyper()
	if err != nil {
		return err
	}
	if d == nil || d.X == nil || d.Y == nil {
		return errors.New("nn: Classifier.Fit of a Dataset without X or Y")
	}
	if d.Classes == nil {
		return errors.New("nn: Classifier.Fit of a regression Dataset (Classes is nil); read it with CSVOptions.Classify, or use a Regressor")
	}
	if len(d.Classes) < 2 {
		return fmt.Errorf("nn: Classifier.Fit: the target %s holds the single class %s; classification needs at least two", excerpt.Quote(d.Target), excerpt.Quote(d.Classes[0]))
	}
	c.Model, c.Report, c.HeldOut, err = fit(ctx, h, d, true)
	return err
}

// FitMatrix trains the classifier on the rows of x, numeric features with
// no missing value, and their class labels, as Fit does; the classes are
// the distinct labels, sorted as ReadCSV sorts them.
func (c *Classifier) FitMatrix(ctx context.Context, x mat.Matrix, labels []string) error {
	r, _ := x.Dims()
	if len(labels) != r {
		return fmt.Errorf("nn: %w: %d labels for %d rows", ErrShape, len(labels), r)
	}
	index := make(map[string]int)
	var classes []string
	for _, l := range labels {
		if _, ok := index[l]; !ok {
			index[l] = len(classes)
			classes = append(classes, l)
		}
	}
	order := sortLabels(classes)
	sorted := make([]string, len(order))
	for i, old := range order {
		sorted[i] = classes[old]
		index[classes[old]] = i
	}
	y := make([]int, r)
	for i, l := range labels {
		y[i] = index[l]
	}
	d := &Dataset{X: mat.DenseCopyOf(x), Y: OneHot(y, len(sorted)), Features: columnNames(x), Classes: sorted}
	return c.Fit(ctx, d)
}

// columnNames returns col0, col1, … for the columns of x.
func columnNames(x mat.Matrix) []string {
	_, c := x.Dims()
	names := make([]string, c)
	for j := range names {
		names[j] = fmt.Sprintf("col%d", j)
	}
	return names
}

// fitted returns c.Model, or an error if Fit has not set it.
func fitted(m *Model, what string) (*Model, error) {
	if m == nil {
		return nil, fmt.Errorf("nn: %s is not fitted: call Fit first", what)
	}
	return m, nil
}

// PredictProba returns the probability of each class (columns, in the
// order of c.Model.Classes) for each row of x, laid out as Dataset.X: one
// column per feature, category codes and NaN for missing values. It
// returns the errors of Model.Predict.
func (c *Classifier) PredictProba(x mat.Matrix) (*mat.Dense, error) {
	m, err := fitted(c.Model, "Classifier")
	if err != nil {
		return nil, err
	}
	return m.Predict(x)
}

// Predict returns the predicted class label of each row of x, laid out as
// for PredictProba.
func (c *Classifier) Predict(x mat.Matrix) ([]string, error) {
	p, err := c.PredictProba(x)
	if err != nil {
		return nil, err
	}
	idx := c.Model.Network.ClassesTo(nil, p)
	labels := make([]string, len(idx))
	for i, k := range idx {
		labels[i] = c.Model.Classes[k]
	}
	return labels, nil
}

// Score returns the accuracy of the classifier on the rows of d: the
// fraction whose class (by label: d's classes need not be the model's) is
// predicted.
func (c *Classifier) Score(d *Dataset) (float64, error) {
	rep, err := c.Evaluate(d)
	if err != nil {
		return 0, err
	}
	return rep.Accuracy(), nil
}

// Evaluate returns the classification report of the classifier on the
// labelled rows d: per-class precision, recall, F1 and support, and the
// confusion matrix, over the model's classes. A class of d that the model
// does not know is an error.
func (c *Classifier) Evaluate(d *Dataset) (*ClassificationReport, error) {
	m, err := fitted(c.Model, "Classifier")
	if err != nil {
		return nil, err
	}
	truth, err := labelsIn(d, m.Classes)
	if err != nil {
		return nil, err
	}
	p, err := m.Predict(d.X)
	if err != nil {
		return nil, err
	}
	return NewClassificationReport(m.Classes, truth, m.Network.ClassesTo(nil, p)), nil
}

// labelsIn returns the class of each row of d as an index into classes,
// matching d's class labels by name.
func labelsIn(d *Dataset, classes []string) ([]int, error) {
	if d.Classes == nil {
		return nil, errors.New("nn: scoring a classifier on a regression Dataset (Classes is nil)")
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

// Fit trains the regressor on d, whose Y holds one column per target, and
// sets r.Model and r.Report. It returns the errors of Classifier.Fit, and
// an error for a classification Dataset.
func (r *Regressor) Fit(ctx context.Context, d *Dataset) error {
	h, err := r.hyper()
	if err != nil {
		return err
	}
	if d == nil || d.X == nil || d.Y == nil {
		return errors.New("nn: Regressor.Fit of a Dataset without X or Y")
	}
	if d.Classes != nil {
		return errors.New("nn: Regressor.Fit of a classification Dataset; use a Classifier, or read the data without CSVOptions.Classify")
	}
	r.Model, r.Report, r.HeldOut, err = fit(ctx, h, d, false)
	return err
}

// FitMatrix trains the regressor on the rows of x, numeric features with
// no missing value, and targets y, one column per target.
func (r *Regressor) FitMatrix(ctx context.Context, x, y mat.Matrix) error {
	return r.Fit(ctx, &Dataset{X: mat.DenseCopyOf(x), Y: mat.DenseCopyOf(y), Features: columnNames(x)})
}

// Predict returns the predicted targets of each row of x, laid out as
// Dataset.X, in the targets' units.
func (r *Regressor) Predict(x mat.Matrix) (*mat.Dense, error) {
	m, err := fitted(r.Model, "Regressor")
	if err != nil {
		return nil, err
	}
	return m.Predict(x)
}

// Score returns the coefficient of determination R² of the predictions on
// the rows of d, averaged over the targets.
func (r *Regressor) Score(d *Dataset) (float64, error) {
	p, err := r.Predict(d.X)
	if err != nil {
		return 0, err
	}
	if d.Y == nil || d.Classes != nil {
		return 0, errors.New("nn: scoring a regressor on a Dataset without numeric targets")
	}
	_, k := d.Y.Dims()
	if _, pk := p.Dims(); pk != k {
		return 0, fmt.Errorf("nn: %w: the model predicts %d targets, the Dataset has %d", ErrShape, pk, k)
	}
	var s float64
	for j := range k {
		s += R2(d.Y.ColView(j), p.ColView(j))
	}
	return s / float64(k), nil
}
