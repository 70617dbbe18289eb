package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

const predictSynopsis = `Usage: nn predict -model MODEL [-data FILE] [flags]

Predict reads CSV rows from FILE, or from standard input without -data (or
with -data -), and writes one prediction per row to standard output as CSV:
the class label for a classification model (with -proba, a header row of
the class names and one probability per class instead), the predicted
number for a regression model.

The rows may hold the model's feature columns only, in the order of
training, or any columns at all under a header row that names the
features (a target column, for example, is ignored). -header auto takes the
first row for a header when a field other than the target is not a number,
as train and eval do, and a header must not name a column twice. A leading
UTF-8 byte order mark is ignored.

A classification model predicts the class whose output is largest, or, for
a model with a single output, the second class where the output is at least
0.5 (0 for a tanh or identity output), as nn.Network.Classify does; -proba
writes 1−p and p for a single sigmoid output p.

Rows are read, scaled and predicted a batch at a time, so files larger
than memory stream through in constant space. A row with the wrong number
of fields, or a feature that is not a finite number, stops the command with
an error naming its line and column; the predictions of the rows before it
have been written by then.

Examples:

	nn predict -model iris.json -data testdata/iris.csv
	tail -n 5 testdata/iris.csv | cut -d, -f1-4 | nn predict -model iris.json -proba
`

// predictBatch is the number of rows predicted at once.
const predictBatch = 256

func runPredict(e *env, args []string) error {
	var model, data string
	var header nn.Header
	var proba bool
	fs := newFlagSet("predict")
	fs.StringVar(&model, "model", "", "the model `file` written by nn train (required)")
	fs.StringVar(&data, "data", "", "the CSV `file` to predict (default standard input)")
	fs.TextVar(&header, "header", header, headerUsage)
	fs.BoolVar(&proba, "proba", false, "write the probability of every class instead of the label")
	if err := parseFlags(e, fs, "predict", predictSynopsis, args); err != nil {
		return err
	}
	if err := required("predict", "model", model, "the model file to predict with"); err != nil {
		return err
	}
	m, err := nn.LoadModel(model)
	if err != nil {
		return err
	}
	classes, err := modelClasses(m, model)
	if err != nil {
		return err
	}
	if proba && classes == nil {
		return &usageError{cmd: "predict", msg: fmt.Sprintf("-proba needs a classification model; %s is a regression model", model)}
	}
	if proba && !hasProbabilities(m.Network) {
		return &usageError{cmd: "predict", msg: fmt.Sprintf("-proba needs probabilities; the single output of %s is %v, not sigmoid", model, outputActivation(m.Network))}
	}
	in, name := e.stdin, "<stdin>"
	if data != "" && data != "-" {
		f, err := os.Open(data)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, data
	}
	features, err := modelFeatures(m, model)
	if err != nil {
		return err
	}
	return predict(m, features, classes, in, name, header, proba, e.stdout)
}

// modelClasses returns the class labels of m, read from the file path,
// numbering the classes "0", "1", … for a classification model saved
// without labels, or nil for a regression model. A model needs one label
// per output, or two for a single output (the classes 0 and 1 of
// nn.Network.ClassesTo); modelClasses returns an error for any other
// number, so that a class index is always a valid label index.
func modelClasses(m *nn.Model, path string) ([]string, error) {
	cfg := m.Network.Config()
	out := cfg.Sizes[len(cfg.Sizes)-1]
	k := out
	if out == 1 {
		k = 2 // a single output: classes 0 and 1
	}
	if m.Classes == nil {
		if cfg.Loss == nn.SquaredError {
			return nil, nil
		}
		c := make([]string, k)
		for i := range c {
			c[i] = strconv.Itoa(i)
		}
		return c, nil
	}
	if len(m.Classes) != k {
		if out == 1 {
			return nil, fileErrorf(path, "the model has %d class labels for its single output, which needs 2 (for class 0 and class 1)", len(m.Classes))
		}
		return nil, fileErrorf(path, "the model has %d class labels for its %d outputs; want one per output", len(m.Classes), out)
	}
	return m.Classes, nil
}

// outputActivation returns the activation of the output layer of net.
func outputActivation(net *nn.Network) nn.Activation {
	acts := net.Config().Activations
	return acts[len(acts)-1]
}

// hasProbabilities reports whether the outputs of the classifier net are
// read as class probabilities by probabilities: one output per class, or
// a single output that is a probability (sigmoid).
func hasProbabilities(net *nn.Network) bool {
	sizes := net.Sizes()
	if sizes[len(sizes)-1] > 1 {
		return true
	}
	a := outputActivation(net)
	return a == nn.Sigmoid || a == nn.Softmax
}

// modelFeatures returns the feature names of m, read from the file path,
// naming them "col0", "col1", … as nn.ReadCSV does when m does not know
// them. It returns an error if m names a feature twice, since the columns
// of a file could not then be told apart.
func modelFeatures(m *nn.Model, path string) ([]string, error) {
	if m.Features != nil {
		for i, f := range m.Features {
			if slices.Contains(m.Features[:i], f) {
				return nil, fileErrorf(path, "the model names the feature %q twice, so its columns cannot be told apart; train it again on a file whose columns have distinct names", f)
			}
		}
		return m.Features, nil
	}
	f := make([]string, m.Network.Sizes()[0])
	for j := range f {
		f[j] = "col" + strconv.Itoa(j)
	}
	return f, nil
}

// probabilities stores in dst the class probabilities of the network
// outputs out: out itself, or (1−p, p) for a single sigmoid output p (see
// hasProbabilities).
func probabilities(dst, out []float64) []float64 {
	if len(out) == 1 {
		return append(dst[:0], 1-out[0], out[0])
	}
	return append(dst[:0], out...)
}

// predict streams the CSV rows of r, read from the file name, through m,
// whose features and class labels (nil for regression) are given, and
// writes a prediction per row to w.
func predict(m *nn.Model, features, classes []string, r io.Reader, name string, header nn.Header, proba bool, w io.Writer) error {
	br := bufio.NewReaderSize(r, 64<<10)
	skipBOM(br)
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	bw := bufio.NewWriterSize(w, 64<<10)

	sizes := m.Network.Sizes()
	in, out := sizes[0], sizes[len(sizes)-1]
	// The class labels as CSV fields, quoted where needed, once for all.
	labels := make([][]byte, len(classes))
	for i, c := range classes {
		labels[i] = csvField(c)
	}
	if proba {
		for i, l := range labels {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.Write(l)
		}
		bw.WriteByte('\n')
	}

	xbuf := make([]float64, predictBatch*in)
	pbuf := make([]float64, predictBatch*out)
	full := [2]*mat.Dense{mat.NewDense(predictBatch, in, xbuf), mat.NewDense(predictBatch, out, pbuf)}
	var ws nn.Workspace
	row := make([]float64, in)
	var probs, num []byte
	var pr []float64
	// cls holds the predicted classes of a batch.
	cls := make([]int, 0, predictBatch)
	n := 0 // rows in the batch
	flush := func() error {
		x, p := full[0], full[1]
		if n < predictBatch {
			x, p = mat.NewDense(n, in, xbuf[:n*in]), mat.NewDense(n, out, pbuf[:n*out])
		}
		if err := m.Network.PredictTo(p, x, &ws); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if classes != nil && !proba {
			// The one rule of the library for a class decision, so
			// that predict agrees with Network.Classify.
			cls = m.Network.ClassesTo(cls, p)
		}
		for i := 0; i < n; i++ {
			o := pbuf[i*out : (i+1)*out]
			switch {
			case classes == nil:
				for j, v := range o {
					if j > 0 {
						bw.WriteByte(',')
					}
					num = strconv.AppendFloat(num[:0], v, 'g', -1, 64)
					bw.Write(num)
				}
			case proba:
				pr = probabilities(pr, o)
				probs = probs[:0]
				for j, v := range pr {
					if j > 0 {
						probs = append(probs, ',')
					}
					probs = strconv.AppendFloat(probs, v, 'g', 6, 64)
				}
				bw.Write(probs)
			default:
				bw.Write(labels[cls[i]])
			}
			bw.WriteByte('\n')
		}
		n = 0
		// A bufio.Writer keeps its first error; stop at once on a full
		// disk rather than after reading the whole input.
		_, err := bw.Write(nil)
		return err
	}

	var parser *nn.RowParser
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return csvSyntaxError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if parser == nil {
			var isHeader bool
			parser, isHeader, err = newParser(m, features, rec, header)
			if err != nil {
				pe, ok := err.(*nn.ParseError)
				if !ok {
					pe = &nn.ParseError{Err: err}
				}
				pe.File, pe.Line = name, line
				return pe
			}
			if isHeader {
				continue
			}
		}
		if err := parser.Parse(row, rec, line); err != nil {
			var pe *nn.ParseError
			if errors.As(err, &pe) {
				pe.File = name
			}
			return err
		}
		x := xbuf[n*in : (n+1)*in]
		m.Scale(x, row)
		for j, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return &nn.ParseError{File: name, Line: line, Err: fmt.Errorf("%w: feature %q is %v after scaling", nn.ErrNotFinite, features[j], row[j])}
			}
		}
		n++
		if n == predictBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if n > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// skipBOM skips a UTF-8 byte order mark (U+FEFF) at the start of r, which
// some programs (Excel among them) write at the start of a CSV file.
func skipBOM(r *bufio.Reader) {
	const bom = "\ufeff"
	if b, err := r.Peek(len(bom)); err == nil && string(b) == bom {
		r.Discard(len(bom))
	}
}

// newParser returns the parser of the rows that start with first, for the
// model m with the given features, and whether first is a header to skip.
// A header must name every feature and no column twice; an error about a
// column of first is a *nn.ParseError with Column set.
func newParser(m *nn.Model, features, first []string, header nn.Header) (*nn.RowParser, bool, error) {
	isHeader, why := header == nn.HeaderYes, ""
	if header == nn.HeaderAuto {
		isHeader, why = detectHeader(m, features, first)
	}
	if isHeader {
		// Name the columns as nn.ReadCSV does: trimmed, "colJ" if empty.
		names := make([]string, len(first))
		for j, s := range first {
			names[j] = strings.TrimSpace(s)
			if names[j] == "" {
				names[j] = "col" + strconv.Itoa(j)
			}
			if i := slices.Index(names[:j], names[j]); i >= 0 {
				return nil, false, &nn.ParseError{Column: j + 1, Err: fmt.Errorf("%w: column %q also names column %d", nn.ErrDuplicateColumn, names[j], i+1)}
			}
		}
		for _, f := range features {
			if !slices.Contains(names, f) {
				return nil, false, fmt.Errorf("the header names no column %q, a feature of the model (features: %s)%s", f, strings.Join(features, ", "), why)
			}
		}
		p, err := nn.NewRowParser(features, names)
		return p, true, err
	}
	if len(first) != len(features) && generatedNames(features) {
		// The model was trained on a file without a header, whose columns
		// nn.ReadCSV named col0, col1, …: find them by position, skipping
		// the target column among them.
		names := make([]string, len(first))
		for j := range names {
			names[j] = "col" + strconv.Itoa(j)
		}
		if p, err := nn.NewRowParser(features, names); err == nil {
			return p, false, nil
		}
	}
	p, err := nn.NewRowParser(features, nil)
	return p, false, err
}

// detectHeader reports whether the first row of a file to predict with the
// model m is a header, by the rule of nn.ReadCSV's HeaderAuto, so that
// train, eval and predict read a file alike: it is one if a field other
// than the target is not a number (a number too large for a float64
// counts as one). The target column is known by position for a model
// trained on a file without a header (its columns named col0, col1, …),
// and a row that holds the target's name is a header, as for eval. If it
// is a header, why says which field made it one, for error messages.
func detectHeader(m *nn.Model, features, first []string) (isHeader bool, why string) {
	target := -1
	if t, ok := strings.CutPrefix(m.Target, "col"); ok && len(first) != len(features) && generatedNames(features) && generatedNames([]string{m.Target}) {
		if k, err := strconv.Atoi(t); err == nil && k < len(first) {
			target = k
		}
	} else if m.Target != "" && slices.ContainsFunc(first, func(s string) bool { return strings.TrimSpace(s) == m.Target }) {
		return true, fmt.Sprintf("; the first row was taken for a header because it names the target %q", m.Target)
	}
	for j, s := range first {
		if j != target && !isNumber(s) {
			return true, fmt.Sprintf("; the first row was taken for a header because field %d, %q, is not a number (-header no reads it as data)", j+1, strings.TrimSpace(s))
		}
	}
	return false, ""
}

// isNumber reports whether the field s reads as a number to nn.ReadCSV's
// header detection: a float64, surrounding spaces ignored, or a number too
// large or small for one.
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	var ne *strconv.NumError
	return err == nil || errors.As(err, &ne) && ne.Err == strconv.ErrRange
}

// generatedNames reports whether names are all of the form colN, as
// nn.ReadCSV names the columns of a file without a header.
func generatedNames(names []string) bool {
	for _, n := range names {
		d, ok := strings.CutPrefix(n, "col")
		if !ok || d == "" || strings.Trim(d, "0123456789") != "" {
			return false
		}
	}
	return true
}

// csvField returns s encoded as one CSV field.
func csvField(s string) []byte {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{s})
	cw.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// csvSyntaxError returns a syntax error of encoding/csv in the file name as
// a *nn.ParseError: "name:line:column: extraneous or missing \" in quoted-field".
func csvSyntaxError(name string, err error) error {
	var ce *csv.ParseError
	if errors.As(err, &ce) {
		return &nn.ParseError{File: name, Line: ce.Line, Column: ce.Column, Err: ce.Err}
	}
	return fmt.Errorf("%s: %w", name, err)
}
