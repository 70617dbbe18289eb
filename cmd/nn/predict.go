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

	"gonum.org/v1/gonum/floats"
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
first row for a header when it names every feature, or holds no number.

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
	var model, data, header string
	var proba bool
	fs := newFlagSet("predict")
	fs.StringVar(&model, "model", "", "the model `file` written by nn train (required)")
	fs.StringVar(&data, "data", "", "the CSV `file` to predict (default standard input)")
	fs.Var(newChoice(&header, "auto", headerChoices...), "header", "header `mode`: auto (a first row that names the columns is a header), yes or no")
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
	classes := modelClasses(m)
	if proba && classes == nil {
		return &usageError{cmd: "predict", msg: fmt.Sprintf("-proba needs a classification model; %s is a regression model", model)}
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
	return predict(m, classes, in, name, parseHeader(header), proba, e.stdout)
}

// modelClasses returns the class labels of m, numbering the classes "0",
// "1", … for a classification model saved without labels, or nil for a
// regression model.
func modelClasses(m *nn.Model) []string {
	if m.Classes != nil {
		return m.Classes
	}
	cfg := m.Network.Config()
	if cfg.Loss == nn.SquaredError {
		return nil
	}
	k := cfg.Sizes[len(cfg.Sizes)-1]
	if k == 1 {
		k = 2 // a single sigmoid output: classes 0 and 1
	}
	c := make([]string, k)
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}

// modelFeatures returns the feature names of m, naming them "col0",
// "col1", … as nn.ReadCSV does when m does not know them.
func modelFeatures(m *nn.Model) []string {
	if m.Features != nil {
		return m.Features
	}
	f := make([]string, m.Network.Sizes()[0])
	for j := range f {
		f[j] = "col" + strconv.Itoa(j)
	}
	return f
}

// probabilities stores in dst the class probabilities of the network
// outputs out: out itself, or (1−p, p) for a single sigmoid output.
func probabilities(dst, out []float64) []float64 {
	if len(out) == 1 {
		return append(dst[:0], 1-out[0], out[0])
	}
	return append(dst[:0], out...)
}

// predict streams the CSV rows of r, read from the file name, through m
// and writes a prediction per row to w.
func predict(m *nn.Model, classes []string, r io.Reader, name string, header nn.Header, proba bool, w io.Writer) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	bw := bufio.NewWriterSize(w, 64<<10)

	sizes := m.Network.Sizes()
	in, out := sizes[0], sizes[len(sizes)-1]
	features := modelFeatures(m)
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
	n := 0 // rows in the batch
	flush := func() error {
		x, p := full[0], full[1]
		if n < predictBatch {
			x, p = mat.NewDense(n, in, xbuf[:n*in]), mat.NewDense(n, out, pbuf[:n*out])
		}
		if err := m.Network.PredictTo(p, x, &ws); err != nil {
			return fmt.Errorf("%s: %w", name, err)
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
				pr = probabilities(pr, o)
				bw.Write(labels[floats.MaxIdx(pr)])
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
			parser, isHeader, err = newParser(features, rec, header)
			if err != nil {
				return &nn.ParseError{File: name, Line: line, Err: err}
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
				return &nn.ParseError{File: name, Line: line, Err: fmt.Errorf("%w: feature %q is %v after scaling", nn.ErrNonFinite, features[j], row[j])}
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

// newParser returns the parser of the rows that start with first, and
// whether first is a header to skip.
func newParser(features, first []string, header nn.Header) (*nn.RowParser, bool, error) {
	trimmed := make([]string, len(first))
	for j, s := range first {
		trimmed[j] = strings.TrimSpace(s)
	}
	isHeader := header == nn.HeaderYes
	if header == nn.HeaderAuto {
		isHeader = containsAll(trimmed, features) || !anyNumber(trimmed)
	}
	if isHeader {
		p, err := nn.NewRowParser(features, trimmed)
		if err != nil {
			missing := ""
			for _, f := range features {
				if !slices.Contains(trimmed, f) {
					missing = f
					break
				}
			}
			return nil, false, fmt.Errorf("the header names no column %q, a feature of the model (features: %s)", missing, strings.Join(features, ", "))
		}
		return p, true, nil
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

func containsAll(s, want []string) bool {
	for _, w := range want {
		if !slices.Contains(s, w) {
			return false
		}
	}
	return true
}

func anyNumber(s []string) bool {
	for _, f := range s {
		if _, err := strconv.ParseFloat(f, 64); err == nil {
			return true
		}
	}
	return false
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
