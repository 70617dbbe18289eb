package nn

// The one streaming prediction path: a Predictor takes rows of a model's
// table through Schema.Prepare into a block, predicts the block, and
// writes each row's prediction in the module's one CSV format;
// Model.PredictCSV streams CSV through it.

import (
	"bufio"
	"cmp"
	"fmt"
	"io"

	"gonum.org/v1/gonum/mat"
)

// DefaultBlockRows is the number of rows a Predictor predicts at once
// unless told otherwise: enough for the matrix kernels to run at full
// speed, few enough for a small network's block to stay in cache.
const DefaultBlockRows = 256

// Predictor predicts a stream of rows of a model's table a block at a
// time, allocating nothing once made: Add prepares a row (Schema.Prepare)
// into the block, Predict predicts the rows added, and Outputs, Class,
// Err and AppendPrediction read each row's prediction until Reset empties
// the block for the next. Every streaming consumer of the module (nn
// predict, PredictCSV, Beam's Score) predicts through it, so that the
// same row gets the same prediction, bit for bit, and the same error,
// whichever way it came.
//
// A Predictor is for one goroutine at a time; make one per goroutine
// from a shared Schema.
type Predictor struct {
	s         *Schema
	x, out    *mat.Dense // the block: the network's inputs and outputs
	n         int        // rows added
	predicted bool
	ws        Workspace
	classes   []int   // the class of each row, for a classifier
	errs      []error // the error of each row's outputs, nil if finite
	bad       bool    // some row's outputs are not finite: see errs
}

// NewPredictor returns a predictor of blocks of up to rows rows; rows of
// zero or less means DefaultBlockRows. A block is made smaller if its
// inputs and outputs would take more than 1/16 of the memory budget (see
// SetMemoryBudget), down to one row.
func (s *Schema) NewPredictor(rows int) *Predictor {
	if rows <= 0 {
		rows = DefaultBlockRows
	}
	rows = max(1, min(rows, int(MemoryBudget()/16/int64((s.in+s.out)*float64Bytes))))
	return &Predictor{
		s:    s,
		x:    mat.NewDense(rows, s.in, nil),
		out:  mat.NewDense(rows, s.out, nil),
		errs: make([]error, rows),
	}
}

// Schema returns the schema p predicts for.
func (p *Predictor) Schema() *Schema { return p.s }

// Len returns the number of rows in the block.
func (p *Predictor) Len() int { return p.n }

// Cap returns the number of rows a block holds.
func (p *Predictor) Cap() int { return len(p.errs) }

// Full reports whether the block is full: Predict, then Reset, before the
// next Add.
func (p *Predictor) Full() bool { return p.n == len(p.errs) }

// Add prepares row, a row of the model's table, as the next row of the
// block, and returns Prepare's error, leaving the block as it was, for a
// row the model cannot take. It panics if the block is full or was
// predicted and not reset, and as Prepare does.
func (p *Predictor) Add(row []float64) error {
	if p.Full() || p.predicted {
		panic("nn: Predictor.Add to a full or predicted block; call Reset")
	}
	if err := p.s.Prepare(p.x.RawRowView(p.n), row); err != nil {
		return err
	}
	p.n++
	return nil
}

// Predict predicts the rows of the block. A row whose outputs are not
// finite gets an error from Err rather than a prediction; Predict's own
// error is the network's, which rows that Add took do not cause. It does
// nothing for an empty block.
func (p *Predictor) Predict() error {
	if p.n == 0 || p.predicted {
		return nil
	}
	x, out := p.block()
	if err := p.s.model.Network.PredictTo(out, x, &p.ws); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	if p.s.classes != nil {
		p.classes = p.s.model.Network.ClassesTo(p.classes, out)
	}
	// The outputs of the block are contiguous: one pass finds whether
	// any row needs an error, the rows' own checks say which.
	p.bad = false
	for _, v := range p.out.RawMatrix().Data[:p.n*p.s.out] {
		if v-v != 0 { // NaN or ±Inf
			p.bad = true
			break
		}
	}
	if p.bad {
		for i := range p.n {
			p.errs[i] = p.s.CheckOutputs(out.RawRowView(i))
		}
	}
	p.predicted = true
	return nil
}

// block returns the rows of the block added so far.
func (p *Predictor) block() (x, out *mat.Dense) {
	x, out = p.x, p.out
	if p.n < len(p.errs) {
		x = x.Slice(0, p.n, 0, p.s.in).(*mat.Dense)
		out = out.Slice(0, p.n, 0, p.s.out).(*mat.Dense)
	}
	return x, out
}

// Outputs returns the network's outputs for row i of the predicted block,
// in a slice of the block that Reset reuses. It panics if the block was
// not predicted or i is out of range.
func (p *Predictor) Outputs(i int) []float64 {
	p.check(i)
	return p.out.RawRowView(i)
}

// Class returns the class of row i of the predicted block, an index among
// the Schema's Classes, as Network.ClassesTo decides it; 0 for a
// regression. It panics as Outputs does.
func (p *Predictor) Class(i int) int {
	p.check(i)
	if p.s.classes == nil {
		return 0
	}
	return p.classes[i]
}

// Err returns the error of row i of the predicted block: nil, or an error
// wrapping ErrNotFinite if its outputs are NaN or infinite (see
// Schema.CheckOutputs). It panics as Outputs does.
func (p *Predictor) Err(i int) error {
	p.check(i)
	if !p.bad {
		return nil
	}
	return p.errs[i]
}

// AppendPrediction appends the prediction of row i of the predicted block
// to b as Schema.AppendPrediction writes it. It panics as Outputs and
// Schema.AppendPrediction do.
func (p *Predictor) AppendPrediction(b []byte, i int, o Output) []byte {
	p.check(i)
	class := 0
	if p.s.classes != nil {
		class = p.classes[i]
	}
	return p.s.AppendPrediction(b, p.out.RawRowView(i), class, o)
}

// check panics unless row i of the block was predicted.
func (p *Predictor) check(i int) {
	if !p.predicted || i < 0 || i >= p.n {
		panic(fmt.Sprintf("nn: Predictor: row %d of a block of %d rows, predicted: %v", i, p.n, p.predicted))
	}
}

// Reset empties the block.
func (p *Predictor) Reset() {
	p.n, p.predicted = 0, false
}

// PredictOptions configures Model.PredictCSV. A nil *PredictOptions means
// the zero value: the header detected, comma separated, unknown
// categories counted, class labels written.
type PredictOptions struct {
	// Header says whether the data starts with a header, as for
	// CSVOptions.
	Header Header
	// Comma is the field separator; zero means ','.
	Comma rune
	// StrictCategories makes a category the model has not seen an error
	// wrapping ErrUnknownCategory, instead of an input of all zeros.
	StrictCategories bool
	// Output is what to write for each row.
	Output Output
	// BlockRows is the number of rows predicted at once; zero means
	// DefaultBlockRows.
	BlockRows int
}

// PredictCSV reads CSV rows from r, laid out as m.CSVOptions describes
// (its features found by name in a header, in any order, among other
// columns, or without a header, exactly its features in order), and
// writes one line per row to w, as Schema.AppendPrediction writes it: the
// predicted class label, the class probabilities, or the predicted
// values, after a header line where Schema.Header gives one (the classes
// of probabilities, the targets of a regression on several). It streams
// through a Predictor: memory does not grow with the input.
//
// It returns the number of rows predicted and of values of categorical
// columns that were categories the model has not seen (encoded as all
// zeros), and the first error: a *ParseError naming the line (and column)
// of a row that cannot be read or predicted — its outputs not finite
// among them — after the predictions of the rows before it are written;
// an error of r or w; or an error for options the model cannot meet.
func (m *Model) PredictCSV(w io.Writer, r io.Reader, o *PredictOptions) (rows, unknown int, err error) {
	s, err := m.Schema()
	if err != nil {
		return 0, 0, err
	}
	var opts PredictOptions
	if o != nil {
		opts = *o
	}
	header, err := s.Header(opts.Output)
	if err != nil {
		return 0, 0, err
	}
	co := m.CSVOptions()
	co.Classify, co.Classes = false, nil // the target, if any, is ignored
	co.Header, co.Comma, co.StrictCategories = opts.Header, opts.Comma, opts.StrictCategories
	cr := NewCSVReader(r, co)
	// The input's layout is checked before anything is written.
	if _, _, err := cr.Columns(); err != nil && err != io.EOF {
		return 0, 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var text []byte
	if header != nil {
		for k, h := range header {
			if k > 0 {
				text = append(text, ',')
			}
			text = appendCSVField(text, h)
		}
		text = append(text, '\n')
		bw.Write(text)
	}
	p := s.NewPredictor(opts.BlockRows)
	lines := make([]int, len(p.errs))
	row := make([]float64, len(s.features))
	// flush predicts the block and writes its predictions, up to the
	// first row whose outputs are not finite.
	flush := func() error {
		if err := p.Predict(); err != nil {
			return err
		}
		for i := range p.Len() {
			if err := p.Err(i); err != nil {
				return &ParseError{Line: lines[i], Err: err}
			}
			// Appended in the writer's own buffer, as bufio suggests, so
			// that a line is copied once.
			line := p.AppendPrediction(bw.AvailableBuffer(), i, opts.Output)
			bw.Write(append(line, '\n'))
			rows++
		}
		p.Reset()
		// A bufio.Writer keeps its first error: stop at once on a full
		// disk rather than after reading the whole input.
		_, err := bw.Write(nil)
		return err
	}
	for {
		line, err := cr.Read(row)
		if err == io.EOF {
			break
		}
		if err == nil {
			if err = p.Add(row); err != nil {
				err = &ParseError{Line: line, Err: err}
			}
		}
		if err != nil {
			// The rows before this one are written, up to the first whose
			// outputs are not finite, whose error comes first.
			ferr := flush()
			if werr := bw.Flush(); ferr == nil {
				ferr = werr
			}
			return rows, cr.Unknown(), cmp.Or(ferr, err)
		}
		lines[p.Len()-1] = line
		if p.Full() {
			if err := flush(); err != nil {
				bw.Flush()
				return rows, cr.Unknown(), err
			}
		}
	}
	if err := flush(); err != nil {
		bw.Flush()
		return rows, cr.Unknown(), err
	}
	return rows, cr.Unknown(), bw.Flush()
}
