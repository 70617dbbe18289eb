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
// PredictProba their probabilities, Score the accuracy, Evaluate the
// report; all four find the columns of their Dataset by name and recode
// its categories to the model's (see Schema.Table). Model holds what to
// save. A Classifier is not safe for concurrent Fit calls, but its
// fitted Predict, PredictProba, Score and Evaluate may be called
// concurrently.
//
// Activation and Method are names rather than Activation and Method
// values because the zero values of those types are the tutorial's
// (Sigmoid, GradientDescent), where the zero Classifier means ReLU and
// Adam.
type Classifier struct {
	// Hidden are the sizes of the hidden layers; nil means {32}, and an
	// empty non-nil slice none (a linear model of the inputs).
	Hidden []int
	// Activation names the activation of the hidden layers, as
	// Activation.UnmarshalText reads it; "" means "relu". Softmax and
	// identity are refused.
	Activation string
	// LeakySlope is the slope of "leaky-relu" below zero (Config.LeakySlope);
	// zero means 0.01.
	LeakySlope float64
	// Method names the training method, as Method.UnmarshalText reads
	// it; "" means "adam".
	Method string
	// LearningRate is the step size; zero means the default of
	// Settings.LearningRate for the method.
	LearningRate float64
	// Epochs is the most passes over the training rows; zero means 200.
	Epochs int
	// BatchSize is the rows per step of the mini-batch methods; zero
	// means 32.
	BatchSize int
	// L2 is the weight decay λ (see Settings.L2); zero means none.
	L2 float64
	// ValidationFraction is the fraction of the rows held out, stratified
	// by class, to stop training early and keep the best epoch's weights;
	// zero means 0.1 and a negative value none (training on every row for
	// Epochs epochs, unless a positive Patience stops it on the training
	// loss). On the small tables of bench/tabular the hold-out scored
	// better than training on every row for a fixed number of epochs.
	ValidationFraction float64
	// Patience is the number of epochs without a better validation loss
	// (or training loss, without held-out rows) after which training
	// stops, as Settings.Patience: zero means 20 with held-out rows and
	// no early stopping without, and a negative value that every epoch
	// runs (the best epoch's weights are still kept).
	Patience int
	// Refit, after early stopping has chosen the number of epochs on the
	// held-out rows, trains afresh on all rows for that many epochs.
	Refit bool
	// Scale is how the encoded inputs are scaled, fitted on the training
	// rows; the zero value is Standardize, and NoScaling leaves them as
	// they are.
	Scale ScaleKind
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
	// StrictCategories makes a category that the model has not seen, in
	// the rows given to Predict, PredictProba, Score and Evaluate, an
	// error wrapping ErrUnknownCategory, instead of an input of all
	// zeros.
	StrictCategories bool
	// Seed seeds the initial weights, the held-out rows and the shuffling;
	// the same seed and data give the same model, bit for bit.
	Seed uint64
	// Precision is the floating-point type of training (see
	// Settings.Precision): Float64, the zero value, or Float32, faster,
	// whose model holds float32 weights (a Regressor's output layer,
	// into which it folds the targets' scaling, excepted). The model
	// predicts in float64 unless its Network is set to Float32
	// (Network.SetPrecision), which suits a Classifier; a Regressor whose
	// targets lie far from zero compared with their spread loses their
	// digits in float32. The "lbfgs" method refuses Float32.
	Precision Precision
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

	partial *partial // the training that PartialFit continues
}

// Regressor learns to predict one or more numbers from the columns of a
// table, as Classifier does for class labels: it encodes, fills in and
// scales the inputs, standardises the targets, and trains a network with
// identity outputs on squared error, folding the targets' scaling back
// into the output layer so that the Model predicts in the targets' units.
// Its fields and defaults are Classifier's, without the class weights;
// Score is the coefficient of determination R², averaged over the
// targets, and Evaluate reports each target's.
type Regressor struct {
	// Hidden are the sizes of the hidden layers; nil means {32}, and an
	// empty non-nil slice none (a linear model of the inputs).
	Hidden []int
	// Activation names the activation of the hidden layers; "" means
	// "relu".
	Activation string
	// LeakySlope is the slope of "leaky-relu" below zero; zero means 0.01.
	LeakySlope float64
	// Method names the training method; "" means "adam".
	Method string
	// LearningRate is the step size; zero means the default of
	// Settings.LearningRate for the method.
	LearningRate float64
	// Epochs is the most passes over the training rows; zero means 200.
	Epochs int
	// BatchSize is the rows per step of the mini-batch methods; zero
	// means 32.
	BatchSize int
	// L2 is the weight decay λ; zero means none.
	L2 float64
	// ValidationFraction is the fraction of rows held out for early
	// stopping; zero means 0.1 and a negative value none.
	ValidationFraction float64
	// Patience is the number of epochs without a better validation loss
	// after which training stops, as Classifier.Patience.
	Patience int
	// Refit, after early stopping has chosen the number of epochs, trains
	// afresh on all rows for that many epochs.
	Refit bool
	// Scale is how the encoded inputs are scaled; the zero value is
	// Standardize.
	Scale ScaleKind
	// Impute is how a missing value of a numeric column is filled in.
	Impute Impute
	// MissingIndicator adds an input per column with missing values.
	MissingIndicator bool
	// StrictCategories makes a category that the model has not seen an
	// error in Predict, Score and Evaluate.
	StrictCategories bool
	// Seed seeds the initial weights, the held-out rows and the shuffling.
	Seed uint64
	// Precision is the floating-point type of training, as Classifier's.
	Precision Precision
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

	partial *partial // the training that PartialFit continues
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
	c.partial = nil // a later PartialFit continues from this fit
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

// fitted returns m, or an error if Fit has not set it.
func fitted(m *Model, what string) (*Model, error) {
	if m == nil {
		return nil, fmt.Errorf("nn: %s is not fitted: call Fit first", what)
	}
	return m, nil
}

// PredictProba returns the probability of each class (columns, in the
// order of c.Model.Classes) for each row of d, whose columns are found by
// name and whose categories are recoded to the model's, whatever d's
// column order and encoding (see Schema.Table); a category the model has
// not seen encodes as all zeros, or is an error with StrictCategories. It
// returns the errors of Model.PredictDataset. For a matrix laid out as the
// model's table, by position, use c.Model.Predict.
func (c *Classifier) PredictProba(d *Dataset) (*mat.Dense, error) {
	m, err := fitted(c.Model, "Classifier")
	if err != nil {
		return nil, err
	}
	p, _, err := m.PredictDataset(d, c.StrictCategories)
	return p, err
}

// Predict returns the predicted class label of each row of d, found as
// for PredictProba.
func (c *Classifier) Predict(d *Dataset) ([]string, error) {
	p, err := c.PredictProba(d)
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

// Score returns the accuracy of the classifier on the labelled rows of d,
// found as for PredictProba: the fraction whose class (by label: d's
// classes need not be the model's) is predicted.
func (c *Classifier) Score(d *Dataset) (float64, error) {
	rep, err := c.Evaluate(d)
	if err != nil {
		return 0, err
	}
	return rep.Accuracy(), nil
}

// Evaluate returns the classification report of the classifier on the
// labelled rows of d, found as for PredictProba: per-class precision,
// recall, F1 and support, the confusion matrix and the log loss, over
// the model's classes (see Model.Evaluate). A class of d that the model
// does not know is an error.
func (c *Classifier) Evaluate(d *Dataset) (*ClassificationReport, error) {
	m, err := fitted(c.Model, "Classifier")
	if err != nil {
		return nil, err
	}
	ev, err := m.Evaluate(d, c.StrictCategories)
	if err != nil {
		return nil, err
	}
	return ev.Classification, nil
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
	r.partial = nil // a later PartialFit continues from this fit
	r.Model, r.Report, r.HeldOut, err = fit(ctx, h, d, false)
	return err
}

// FitMatrix trains the regressor on the rows of x, numeric features with
// no missing value, and targets y, one column per target.
func (r *Regressor) FitMatrix(ctx context.Context, x, y mat.Matrix) error {
	return r.Fit(ctx, &Dataset{X: mat.DenseCopyOf(x), Y: mat.DenseCopyOf(y), Features: columnNames(x)})
}

// Predict returns the predicted targets of each row of d, in the
// targets' units, d's columns found by name and its categories recoded to
// the model's as for Classifier.PredictProba.
func (r *Regressor) Predict(d *Dataset) (*mat.Dense, error) {
	m, err := fitted(r.Model, "Regressor")
	if err != nil {
		return nil, err
	}
	p, _, err := m.PredictDataset(d, r.StrictCategories)
	return p, err
}

// Score returns the coefficient of determination R² of the predictions on
// the rows of d, averaged over the targets (see Evaluate for each
// target's).
func (r *Regressor) Score(d *Dataset) (float64, error) {
	rep, err := r.Evaluate(d)
	if err != nil {
		return 0, err
	}
	return rep.Mean.R2, nil
}

// Evaluate returns the regression report of the regressor on the rows of
// d, found as for Predict: the mean squared and absolute errors and R² of
// each target (see Model.Evaluate).
func (r *Regressor) Evaluate(d *Dataset) (*RegressionReport, error) {
	m, err := fitted(r.Model, "Regressor")
	if err != nil {
		return nil, err
	}
	ev, err := m.Evaluate(d, r.StrictCategories)
	if err != nil {
		return nil, err
	}
	return ev.Regression, nil
}
