package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

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

// predictBatch is the most rows predicted at once.
const predictBatch = 256

// batchRows returns the rows of a batch for a model of in inputs and out
// outputs: predictBatch, or fewer if the batch's inputs and outputs would
// take more than 1/16 of the memory budget (the network itself splits a
// batch into blocks for its wide layers).
func batchRows(in, out int) int {
	return max(1, min(predictBatch, int(nn.MemoryBudget()/16/int64((in+out)*8))))
}

func runPredict(e *env, args []string) error {
	var f rowFlags
	var proba bool
	fs := newFlagSet("predict")
	f.register(fs, "the CSV `file` to predict (default standard input)")
	fs.BoolVar(&proba, "proba", false, "write the probability of every class instead of the label")
	var strict bool
	fs.BoolVar(&strict, "strict", false, "make a category the model has not seen an error, instead of encoding it as all zeros")
	budget := memoryFlag(fs)
	if err := parseFlags(e, fs, "predict", predictSynopsis, args); err != nil {
		return err
	}
	setMemoryBudget(*budget)
	if err := required("predict", "model", f.model, "the model file to predict with"); err != nil {
		return err
	}
	model, data, header := f.model, f.data, f.header
	p, err := newPredictor(model, proba, e.stdout)
	if err != nil {
		return err
	}
	in, name := e.stdin, "<stdin>"
	if data != "" && data != "-" {
		file, err := os.Open(data)
		if err != nil {
			return err
		}
		defer file.Close()
		in, name = file, data
	}
	o := p.m.CSVOptions()
	o.Features, o.Classify, o.Classes, o.Header, o.StrictCategories = p.features, false, nil, header, strict
	rows := nn.NewCSVReader(in, o)
	if err := p.predict(rows); err != nil {
		return inFile(name, header, err)
	}
	if u := rows.Unknown(); u > 0 {
		fmt.Fprintf(e.stderr, "nn: %d values of categorical columns were categories the model has not seen, encoded as all zeros (-strict makes them errors)\n", u)
	}
	return nil
}

// predictor writes the predictions of a model for rows streamed through
// it, a batch at a time, allocating nothing per row.
type predictor struct {
	m        *nn.Model
	s        *nn.Schema
	features []string
	inputs   []string // the names of the network's inputs
	classes  []string // nil for regression
	proba    bool
	out      *bufio.Writer

	labels [][]byte   // the class labels as CSV fields, quoted where needed
	x, p   *mat.Dense // a full batch: the scaled inputs and the outputs
	n      int        // rows in the batch
	ws     nn.Workspace
	row    []float64 // a row as read
	cls    []int     // the predicted classes of a batch
	pr     []float64 // the probabilities of a row
	text   []byte    // a line of output
}

// newPredictor loads the model file path and returns a predictor that
// writes to w the class label of each row, or with proba the probability
// of every class, or the predicted number for a regression model.
func newPredictor(path string, proba bool, w io.Writer) (*predictor, error) {
	m, err := nn.LoadModel(path)
	if err != nil {
		return nil, err
	}
	classes, err := modelClasses(m, path)
	if err != nil {
		return nil, err
	}
	if proba && classes == nil {
		return nil, &usageError{cmd: "predict", msg: fmt.Sprintf("-proba needs a classification model; %s is a regression model", path)}
	}
	if proba && !hasProbabilities(m.Network) {
		return nil, &usageError{cmd: "predict", msg: fmt.Sprintf("-proba needs probabilities; the single output of %s is %v, not sigmoid", path, outputActivation(m.Network))}
	}
	features, err := modelFeatures(m, path)
	if err != nil {
		return nil, err
	}
	s, err := m.Schema()
	if err != nil {
		return nil, err
	}
	sizes := m.Network.Sizes()
	in, out := sizes[0], sizes[len(sizes)-1]
	p := &predictor{
		m: m, s: s, features: features, classes: classes, proba: proba,
		out:    bufio.NewWriterSize(w, 64<<10),
		labels: make([][]byte, len(classes)),
		x:      mat.NewDense(batchRows(in, out), in, nil),
		p:      mat.NewDense(batchRows(in, out), out, nil),
		row:    make([]float64, m.Columns()),
		inputs: features,
	}
	if m.Encoding != nil {
		p.inputs = m.Encoding.Inputs(features)
	}
	for i, c := range classes {
		p.labels[i] = csvField(c)
	}
	return p, nil
}

// predict writes a prediction for every row of rows, after a header row of
// the class labels with -proba. A bad row stops it with an error, once the
// predictions of the rows before it are written.
func (p *predictor) predict(rows *nn.CSVReader) error {
	if p.proba {
		p.out.Write(bytes.Join(p.labels, []byte(",")))
		p.out.WriteByte('\n')
	}
	err := p.predictRows(rows)
	if ferr := p.flush(); err == nil {
		err = ferr
	}
	if ferr := p.out.Flush(); err == nil {
		err = ferr
	}
	return err
}

// predictRows predicts the rows a batch at a time, leaving the last batch
// to flush.
func (p *predictor) predictRows(rows *nn.CSVReader) error {
	for {
		line, err := rows.Read(p.row)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.add(line); err != nil {
			return err
		}
		if rows, _ := p.x.Dims(); p.n == rows {
			if err := p.flush(); err != nil {
				return err
			}
		}
	}
}

// add scales the row read from line into the batch.
func (p *predictor) add(line int) error {
	if err := p.s.Prepare(p.x.RawRowView(p.n), p.row); err != nil {
		return &nn.ParseError{Line: line, Err: err}
	}
	p.n++
	return nil
}

// flush predicts the rows of the batch and writes their predictions.
func (p *predictor) flush() error {
	if p.n == 0 {
		return nil
	}
	x, out := p.x, p.p
	if rows, _ := x.Dims(); p.n < rows {
		x, out = x.Slice(0, p.n, 0, x.RawMatrix().Cols).(*mat.Dense), out.Slice(0, p.n, 0, out.RawMatrix().Cols).(*mat.Dense)
	}
	if err := p.m.Network.PredictTo(out, x, &p.ws); err != nil {
		return err
	}
	if p.classes != nil && !p.proba {
		// The one rule of the library for a class decision, so that
		// predict agrees with Network.Classify.
		p.cls = p.m.Network.ClassesTo(p.cls, out)
	}
	for i := range p.n {
		p.write(i, out.RawRowView(i))
	}
	p.n = 0
	// A bufio.Writer keeps its first error; stop at once on a full disk
	// rather than after reading the whole input.
	_, err := p.out.Write(nil)
	return err
}

// write writes the prediction of row i of the batch, whose outputs are o.
func (p *predictor) write(i int, o []float64) {
	switch {
	case p.classes == nil:
		p.text = p.text[:0]
		for j, v := range o {
			if j > 0 {
				p.text = append(p.text, ',')
			}
			p.text = strconv.AppendFloat(p.text, v, 'g', -1, 64)
		}
		p.out.Write(p.text)
	case p.proba:
		p.pr = probabilities(p.pr, o)
		p.text = p.text[:0]
		for j, v := range p.pr {
			if j > 0 {
				p.text = append(p.text, ',')
			}
			p.text = strconv.AppendFloat(p.text, v, 'g', 6, 64)
		}
		p.out.Write(p.text)
	default:
		p.out.Write(p.labels[p.cls[i]])
	}
	p.out.WriteByte('\n')
}

// inFile returns err, an error in reading the rows of the file name, with
// the file named: a *nn.ParseError gets its File, and a missing feature in
// a header that was detected gets a hint.
func inFile(name string, header nn.Header, err error) error {
	pe, ok := err.(*nn.ParseError)
	if !ok {
		return err
	}
	pe.File = name
	if header == nn.HeaderAuto && errors.Is(err, nn.ErrNoFeature) {
		pe.Err = fmt.Errorf("%w (-header no reads the first row as data)", pe.Err)
	}
	return pe
}

// csvField returns s encoded as one CSV field.
func csvField(s string) []byte {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{s})
	cw.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
