package nn

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

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
//     ParseActivation accepts it; softmax only on the last layer.
//   - bias (required): whether the layers have biases (Config.NoBias
//     negated).
//   - loss (required): the loss name, as ParseLoss accepts it. It must fit
//     the output activation as Config requires.
//   - weights (required): one array per weight layer l holding the
//     sizes[l]×sizes[l+1] matrix W(l) in row-major order, as
//     Network.Weights returns it.
//   - biases: one array of sizes[l+1] values per weight layer if bias is
//     true; absent or null if it is false.
//   - scaler: the Scaler applied to the inputs before the network: kind
//     as ParseScaleKind accepts it, and offset and scale with one value per
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
// was trained on (Encoding.Missing). Set Header, Comma or StrictCategories
// on the result as the data needs.
func (m *Model) CSVOptions() *CSVOptions {
	o := &CSVOptions{
		Target:   m.Target,
		Classify: m.Classes != nil,
		Classes:  slices.Clone(m.Classes),
		Features: slices.Clone(m.Features),
	}
	if m.Targets != nil && m.Classes == nil {
		o.Target, o.Targets = "", slices.Clone(m.Targets)
	}
	if e := m.Encoding; e != nil {
		o.Missing = slices.Clone(e.Missing)
		for j := range e.Columns {
			if cats := e.Columns[j].Categories; cats != nil && j < len(m.Features) {
				if o.Categories == nil {
					o.Categories = make(map[string][]string)
				}
				o.Categories[m.Features[j]] = slices.Clone(cats)
			}
		}
	}
	return o
}

// Predict returns the network's output for each row of x after scaling a
// copy of x with m.Scaler, if there is one. It returns an error, as
// Network.Predict does, if x is empty, has the wrong number of columns, or
// holds NaN or infinite values before or after scaling, or if its scaled
// copy or the output would not fit in the memory budget (see
// SetMemoryBudget). Predict may be called from many goroutines at once.
// It panics if m.Network is nil or m.Scaler does not fit the network's
// input.
func (m *Model) Predict(x mat.Matrix) (*mat.Dense, error) {
	if m.Encoding != nil {
		return m.predictTable(x)
	}
	if m.Scaler == nil {
		return m.Network.Predict(x)
	}
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

// Scale stores in dst the row x scaled with m.Scaler, or a copy of x if
// m.Scaler is nil, without allocating. dst may be x itself. Together with
// Network.PredictTo it scores a stream of rows: scale each row into a row
// of a batch matrix, then predict the batch. Scale panics if x or dst does
// not have one element per network input.
//
// For a model with an Encoding, x holds one value per column of the table
// (Model.Columns) as a CSVReader made with m.CSVOptions reads them, dst
// one per network input, and Scale encodes x first; it panics as
// Encoding.EncodeRow does for a value that is not a category code, which
// a CSVReader made with m.CSVOptions never stores.
func (m *Model) Scale(dst, x []float64) {
	in := m.Network.sizes[0]
	if m.Encoding != nil {
		if len(x) != len(m.Encoding.Columns) || len(dst) != in {
			panic(mat.ErrShape)
		}
		m.Encoding.EncodeRow(dst, x)
		if m.Scaler != nil {
			m.Scaler.TransformRow(dst, dst)
		}
		return
	}
	if len(x) != in || len(dst) != in {
		panic(mat.ErrShape)
	}
	if m.Scaler == nil {
		copy(dst, x)
		return
	}
	m.Scaler.TransformRow(dst, x)
}

// PredictCSV reads CSV rows from r, laid out as m.CSVOptions describes
// (its features found by name in a header, in any order, among other
// columns), and writes one line per row to w: the predicted class label,
// quoted as CSV needs, for a classifier, or the predicted values,
// separated by commas, for a regression. It streams: rows are predicted
// in batches of up to 256, and memory does not grow with the input. It
// returns the number of rows predicted and of values of categorical
// columns that were unknown categories (encoded as all zeros), and the
// first error: a *ParseError naming the line and column of a bad row,
// after the predictions of the rows before it are written, or an error
// of r or w.
func (m *Model) PredictCSV(w io.Writer, r io.Reader) (rows, unknown int, err error) {
	o := m.CSVOptions()
	o.Classify, o.Classes = false, nil
	cr := NewCSVReader(r, o)
	bw := bufio.NewWriter(w)
	in, out := m.Network.sizes[0], m.Network.sizes[len(m.Network.sizes)-1]
	const batch = 256
	x := mat.NewDense(batch, in, nil)
	p := mat.NewDense(batch, out, nil)
	row := make([]float64, m.Columns())
	var ws Workspace
	var classes []int
	var text []byte
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		xb, pb := x.Slice(0, n, 0, in).(*mat.Dense), p.Slice(0, n, 0, out).(*mat.Dense)
		if err := m.Network.PredictTo(pb, xb, &ws); err != nil {
			return err
		}
		if m.Classes != nil {
			classes = m.Network.ClassesTo(classes, pb)
		}
		for i := range n {
			text = text[:0]
			if m.Classes != nil {
				text = appendCSVField(text, m.Classes[classes[i]])
			} else {
				for j, v := range pb.RawRowView(i) {
					if j > 0 {
						text = append(text, ',')
					}
					text = strconv.AppendFloat(text, v, 'g', -1, 64)
				}
			}
			text = append(text, '\n')
			bw.Write(text)
		}
		rows += n
		n = 0
		_, err := bw.Write(nil)
		return err
	}
	for {
		line, err := cr.Read(row)
		if err == io.EOF {
			break
		}
		if err == nil && m.Encoding != nil {
			if j, cerr := m.Encoding.checkRow(row); cerr != nil {
				err = &ParseError{Line: line, Err: fmt.Errorf("feature %d: %w", j, cerr)}
			}
		}
		if err == nil {
			dst := x.RawRowView(n)
			m.Scale(dst, row)
			for j, v := range dst {
				if !finite(v) {
					err = &ParseError{Line: line, Err: fmt.Errorf("%w: input %d is %v after scaling", ErrNotFinite, j, v)}
					break
				}
			}
		}
		if err != nil {
			ferr := flush()
			if ferr == nil {
				ferr = bw.Flush()
			}
			return rows, cr.Unknown(), cmp.Or(err, ferr)
		}
		if n++; n == batch {
			if err := flush(); err != nil {
				return rows, cr.Unknown(), err
			}
		}
	}
	if err := flush(); err != nil {
		return rows, cr.Unknown(), err
	}
	return rows, cr.Unknown(), bw.Flush()
}

// appendCSVField appends s to b as one CSV field, quoted if it needs to
// be.
func appendCSVField(b []byte, s string) []byte {
	if s == "" || !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[len(s)-1] != ' ' {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}
