package nn

import (
	"fmt"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/mat"
)

// Model is a trained network with what it needs to score raw rows: the
// scaler fitted on the training inputs, the names of the input columns and
// of the target, and the class labels. Encode and Save write it as a JSON
// document, DecodeModel and LoadModel read it back, and a model read back
// predicts bit for bit what the written one did.
//
// A model file holds one JSON object, version 1 of the format:
//
//	{
//	  "format": "github.com/neuralgo/nn model",
//	  "version": 1,
//	  "sizes": [4,8,3],
//	  "activations": ["relu","softmax"],
//	  "bias": true,
//	  "loss": "cross-entropy",
//	  "weights": [
//	    [0.51,-1.2,...],
//	    [0.03,0.77,...]
//	  ],
//	  "biases": [
//	    [0,0.12,...],
//	    [-0.4,0.1,0.3]
//	  ],
//	  "scaler": {"kind":"standard","offset":[5.84,...],"scale":[0.83,...]},
//	  "features": ["sepal_length","sepal_width","petal_length","petal_width"],
//	  "target": "species",
//	  "classes": ["setosa","versicolor","virginica"]
//	}
//
// Encode writes one field per line and each layer's weights on a line of
// their own, as above; a reader accepts any JSON layout.
//
// Its fields are:
//
//   - format (required): always "github.com/neuralgo/nn model".
//   - version (required): 1. An incompatible change of the format gets a
//     new version number; this package reads version 1 only.
//   - sizes (required): the layer sizes, input first, as in Config.Sizes:
//     at least two, all positive, and at most 1<<28 parameters in all.
//   - activations (required): one name per weight layer, as
//     Activation.UnmarshalText reads it; softmax only on the last layer.
//   - bias (required): whether the layers have biases (Config.NoBias
//     negated).
//   - loss (required): the loss name, as Loss.UnmarshalText reads it. It must fit
//     the output activation as Config requires.
//   - weights (required): one array per weight layer l holding the
//     sizes[l]×sizes[l+1] matrix W(l) in row-major order, as
//     Network.Weights returns it.
//   - biases: one array of sizes[l+1] values per weight layer if bias is
//     true; absent or null if it is false.
//   - scaler: the Scaler applied to the inputs before the network: kind
//     as ScaleKind.UnmarshalText reads it, and offset and scale with one value per
//     input, every scale nonzero. Absent or null without a scaler.
//   - features: one name per input column; absent or null if unknown.
//   - target: the name of the target column; absent or "" if unknown.
//   - classes: the class labels, one per output column, or two for a
//     network with a single output (classes 0 and 1, as
//     Network.ClassesTo reads the output); absent or null for regression.
//
// Version 2 adds, for models fitted on tables (see Classifier):
//
//   - encoding: one object per feature, {"fill": v} for a numeric column
//     or {"categories": [...], "fill": code} for a categorical one, with
//     "indicator": true for a column with a missing-value input; the
//     features are then required, and sizes[0] is the encoded width.
//   - missing: the spellings of a missing value the model was trained with.
//   - targets: the names of the outputs of a regression on several targets.
//
// Version 3 adds the activations leaky-relu, elu, gelu, gelu-tanh, silu
// and softplus, and leaky_slope, the slope of the leaky-relu layers
// (required with one, refused without). A model is written with the
// lowest version that holds it, so that an older reader reads every file
// it can run and refuses the others by their version.
//
// Numbers are written in the shortest form that reads back as the same
// float64, so nothing is lost; JSON cannot hold NaN or infinities, and
// every weight, bias and scaler value must be finite. A reader rejects
// unknown fields, so a misspelt field name is an error rather than a
// silently missing value.
type Model struct {
	// Network is the trained network.
	Network *Network
	// Scaler was fitted on the training inputs and is applied to inputs
	// before the network; nil means inputs are used as they are.
	Scaler *Scaler
	// Features names the input columns, one per network input; it may be
	// nil.
	Features []string
	// Target names the target column; it may be "".
	Target string
	// Targets names the outputs of a regression on several targets, one
	// per output, the first being Target; nil for one target or unknown
	// names.
	Targets []string
	// Classes are the class labels, one per output column, or two for a
	// single sigmoid output (the labels of Network.Classify's 0 and 1).
	// They are nil for regression.
	Classes []string
	// Encoding, if not nil, turns the columns of a table — numbers,
	// category codes and missing values, as Dataset.X holds them — into
	// the network's inputs, before Scaler; Features then names the
	// columns of the table, one per column of the Encoding. Nil means the
	// columns are the network's inputs.
	Encoding *Encoding
}

// Columns returns the number of columns of the rows that m predicts: the
// columns of its Encoding, or else the network's inputs.
func (m *Model) Columns() int {
	if m.Encoding != nil {
		return len(m.Encoding.Columns)
	}
	return m.Network.sizes[0]
}

// CSVOptions returns options for reading rows for m with ReadCSV or a
// CSVReader: m's features, found by name, its target and classes, and the
// categories of its Encoding, with missing values spelt as in the data it
// was trained on (Encoding.Missing). A model saved without names gets
// those of Schema: features col0, col1, …, and for a classifier the
// classes "0", "1", …. Set Header, Comma or StrictCategories on the
// result as the data needs.
func (m *Model) CSVOptions() *CSVOptions {
	o := &CSVOptions{
		Target:   m.Target,
		Classify: m.Classes != nil || m.Network.loss != SquaredError,
		Classes:  slices.Clone(m.Classes),
		Features: slices.Clone(m.Features),
	}
	if o.Features == nil {
		o.Features = make([]string, m.Columns())
		for j := range o.Features {
			o.Features[j] = "col" + strconv.Itoa(j)
		}
	}
	if o.Classify && o.Classes == nil {
		sizes := m.Network.sizes
		o.Classes = make([]string, max(sizes[len(sizes)-1], 2))
		for i := range o.Classes {
			o.Classes[i] = strconv.Itoa(i)
		}
	}
	if m.Targets != nil && m.Classes == nil {
		o.Target, o.Targets = "", slices.Clone(m.Targets)
	}
	if e := m.Encoding; e != nil {
		o.Missing = slices.Clone(e.Missing)
		for j := range e.Columns {
			if cats := e.Columns[j].Categories; cats != nil && j < len(o.Features) {
				if o.Categories == nil {
					o.Categories = make(map[string][]string)
				}
				o.Categories[o.Features[j]] = slices.Clone(cats)
			}
		}
	}
	return o
}

// Predict returns the network's outputs for each row of x, a matrix laid
// out as the model's table: by position, one column per feature in the
// order of m.Features (as Dataset.X read with m.CSVOptions holds them),
// with category codes and NaN for missing values for a model with an
// Encoding. Nothing checks that the columns are those the model was
// trained on: for data with column names, PredictDataset finds them by
// name. Predict encodes and scales a copy of x as the model does. It
// returns an error, as Network.Predict does, if x is empty, has the
// wrong number of columns, holds values the model cannot take (see
// Schema.Prepare) or gives outputs that are not finite (see
// Schema.CheckOutputs), or if its encoded copy or the outputs would not
// fit in the memory budget (see SetMemoryBudget). Predict may be called
// from many goroutines at once. It panics if m.Network is nil or
// m.Scaler does not fit the network's input.
func (m *Model) Predict(x mat.Matrix) (*mat.Dense, error) {
	var out *mat.Dense
	var err error
	switch {
	case m.Encoding != nil:
		out, err = m.predictTable(x)
	case m.Scaler == nil:
		out, err = m.Network.Predict(x)
	default:
		out, err = m.predictScaled(x)
	}
	if err != nil {
		return nil, err
	}
	r, _ := out.Dims()
	for i := range r {
		for k, v := range out.RawRowView(i) {
			if !finite(v) {
				return nil, fmt.Errorf("nn: row %d: the model's output %d is %v for this row: %w", i, k, v, ErrNotFinite)
			}
		}
	}
	return out, nil
}

// PredictDataset returns the network's outputs for the rows of d, whose
// columns are found by name and whose categories are recoded to the
// model's as Schema.Table does, whatever d's column order and encoding,
// and the number of values of categorical columns that were categories
// the model has not seen (encoded as all zeros, or with strict an error
// wrapping ErrUnknownCategory). It returns the errors of Model.Schema,
// Schema.Table and Predict.
func (m *Model) PredictDataset(d *Dataset, strict bool) (out *mat.Dense, unknown int, err error) {
	s, err := m.Schema()
	if err != nil {
		return nil, 0, err
	}
	x, unknown, err := s.Table(d, strict)
	if err != nil {
		return nil, unknown, err
	}
	out, err = m.Predict(x)
	return out, unknown, err
}

// predictScaled is Predict for a model with a Scaler and no Encoding.
func (m *Model) predictScaled(x mat.Matrix) (*mat.Dense, error) {
	if err := m.Network.checkInput("X", x); err != nil {
		return nil, err
	}
	r, c := x.Dims()
	if err := overBudget(float64(r)*float64(c)*float64Bytes, fmt.Sprintf("a scaled copy of %d rows of %d inputs", r, c)); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	var scaled mat.Dense
	m.Scaler.Transform(&scaled, x)
	return m.Network.Predict(&scaled)
}

// predictTable is Predict for a model with an Encoding.
func (m *Model) predictTable(x mat.Matrix) (*mat.Dense, error) {
	r, _ := x.Dims()
	if r == 0 {
		return nil, fmt.Errorf("nn: X: %w", ErrEmpty)
	}
	if err := m.Encoding.CheckRows(x); err != nil {
		return nil, err
	}
	w := m.Network.sizes[0]
	if err := overBudget(float64(r)*float64(w)*float64Bytes, fmt.Sprintf("the encoding of %d rows into %d inputs", r, w)); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	enc := mat.NewDense(r, w, nil)
	m.Encoding.Encode(enc, x)
	if m.Scaler != nil {
		m.Scaler.Transform(enc, enc)
	}
	return m.Network.Predict(enc)
}
