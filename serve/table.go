package serve

import (
	"errors"
	"fmt"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// table holds the rows of a request as the model's table columns: numbers,
// category codes (−1 for an unknown category) and NaN for a missing value,
// as nn.Schema.Prepare takes them.
type table struct {
	e       *entry
	x       []float64 // n rows of e.cols values
	n       int
	maxRows int
	// p reads the values of the cells of e's table, as CSV files are
	// read; it stays with the table, which a pool hands from request to
	// request, while the requests are to the same version of the model.
	p *nn.RowParser
	// unknown0 is the count of unknown categories of p when the request
	// began: p counts those of every request it read. csvUnknown counts
	// those of a CSV body, which an nn.CSVReader reads.
	unknown0, csvUnknown int
	// maxValues is the most values that the body of the request can
	// hold (limitValues), so that the table never holds more than a
	// few times the bytes of the body.
	maxValues int
	seen      []int       // for each column, the last row that set it (records)
	rowbuf    []float64   // a row read from CSV
	ins       []v2Input   // the inputs of a V2 request
	gins      []grpcInput // the inputs of a gRPC request
	graw      [][]byte    // its raw contents
	gmatrix   bool        // its one input is a matrix [N, features]
	outs      []string    // the outputs a V2 request asks for
	pos       []int       // the model column of each column of a dataframe_split
}

// reset empties t for the rows of a request to e.
func (t *table) reset(e *entry, maxRows int) {
	if t.p == nil || t.p.Schema() != e.schema {
		p, err := e.schema.Parser(nil, false)
		if err != nil {
			panic(err) // newEntry made one
		}
		t.p = p
	}
	t.e, t.x, t.n, t.maxRows = e, t.x[:0], 0, maxRows
	t.unknown0, t.csvUnknown = t.p.Unknown(), 0
	t.maxValues = maxRows * e.cols
}

// unknown returns the values of categorical columns in the rows of t that
// were categories the model has not seen, each coded −1.
func (t *table) unknown() int { return t.p.Unknown() - t.unknown0 + t.csvUnknown }

// limitValues sets the most values of the table to n, at most: the most
// that a body can hold, which a decoder knows from its length and syntax
// (a JSON value takes two bytes at least, with its comma).
func (t *table) limitValues(n int) {
	t.maxValues = min(t.maxValues, n)
}

// setRows sizes t to n rows, failing with a 413 beyond the most rows of a
// request, and a 400 beyond the values the body can hold; prefix names
// what holds the rows. The room grows by doubling, up to the most values.
func (t *table) setRows(n int, prefix string) *httpError {
	if n > t.maxRows {
		return tooLarge("%s: %d rows, more than the %d rows a request may hold", prefix, n, t.maxRows)
	}
	need := n * t.e.cols
	if need > t.maxValues {
		return badRequest("%s: %d rows of %d features, more values than the body can hold", prefix, n, t.e.cols)
	}
	if cap(t.x) < need {
		x := make([]float64, len(t.x), min(max(need, 2*cap(t.x)), t.maxValues))
		copy(x, t.x)
		t.x = x
	}
	t.x = t.x[:need]
	t.n = n
	return nil
}

// addRow adds a row and returns it.
func (t *table) addRow(prefix string) ([]float64, *httpError) {
	if err := t.setRows(t.n+1, prefix); err != nil {
		return nil, err
	}
	return t.x[(t.n-1)*t.e.cols:], nil
}

// cell reads the scalar at s as a value of column j into dst, through
// the model's RowParser: a number as RowParser.Number reads it (the
// category it spells, in a categorical column), a string as
// RowParser.Value reads a CSV field (a number, a category, a spelling of
// a missing value), and null as RowParser.Missing. numeric says that the
// value must be a number or null: a V2 tensor of a numeric datatype. The
// error names the feature, for the caller to say where.
func (t *table) cell(s *scanner, j int, numeric bool, dst *float64) error {
	var err error
	switch s.kind() {
	case kindNumber:
		var v float64
		if _, v, err = s.number(); err == nil {
			*dst, err = t.p.Number(j, v)
			return err
		}
	case kindString:
		var b []byte
		if b, err = s.str(); err == nil {
			if !numeric {
				*dst, err = t.p.Value(j, string(b))
				return err
			}
			err = fmt.Errorf("wrong datatype: a string, %s, in a tensor of numbers (BYTES holds strings)", excerpt.Quote(string(b)))
		}
	case kindNull:
		if err = s.literal(); err == nil {
			*dst, err = t.p.Missing(j)
			return err
		}
	case kindBool:
		err = errors.New("want a number or a string, got a boolean")
	case kindArray:
		err = errors.New("want a value, got an array")
	case kindObject:
		err = errors.New("want a value, got an object")
	default:
		err = errSyntax
	}
	// As RowParser's errors, name the feature first.
	return fmt.Errorf("feature %s: %w", t.feature(j), s.why(err))
}

// featureTensors checks the n input tensors of a request that gives one
// tensor per feature, the V2 REST and gRPC rule alike: each named by a
// feature, no feature twice, of shape [N] or [N, 1], and every feature
// given. input returns the name and shape of input k.
func (t *table) featureTensors(n int, input func(k int) (string, []int64)) *httpError {
	cols := t.e.cols
	if len(t.seen) < cols {
		t.seen = make([]int, cols)
	}
	clear(t.seen)
	for k := range n {
		name, shape := input(k)
		prefix := "inputs[" + itoa(k) + "]"
		j := t.e.schema.Column(name)
		if j < 0 {
			if n == 1 {
				return badRequest("%s: shape %v: want one tensor of shape [N, %d], or one tensor of shape [N] per feature, named by it: %s", prefix, shape, cols, excerpt.Quotes(t.e.schema.Features()))
			}
			return badRequest("%s: unknown input %s; the inputs are the features %s, one tensor of shape [N] each", prefix, excerpt.Quote(name), excerpt.Quotes(t.e.schema.Features()))
		}
		if t.seen[j] != 0 {
			return badRequest("%s: the feature %s twice", prefix, t.feature(j))
		}
		t.seen[j] = k + 1
		if len(shape) != 1 && !(len(shape) == 2 && shape[1] == 1) {
			return badRequest("%s (feature %s): shape %v, want [N] or [N, 1]", prefix, t.feature(j), shape)
		}
	}
	for j := range cols {
		if t.seen[j] == 0 {
			return badRequest("inputs: no tensor for the feature %s (the model takes %s)", t.feature(j), excerpt.Quotes(t.e.schema.Features()))
		}
	}
	return nil
}

// feature returns the name of column j for messages.
func (t *table) feature(j int) string { return excerpt.Quote(t.e.schema.Features()[j]) }

// checkEmpty returns the error of a request without rows.
func (t *table) checkEmpty(prefix string) *httpError {
	if t.n == 0 {
		return badRequest("%s: no rows (an empty batch)", prefix)
	}
	return nil
}

// scale stores the network inputs of the rows of t in in (grown as
// needed) and returns it, or an error naming the first row whose inputs
// are not finite after scaling.
func (t *table) scale(in []float64) ([]float64, *httpError) {
	e := t.e
	need := t.n * e.in
	if cap(in) < need {
		in = make([]float64, need)
	}
	in = in[:need]
	for i := range t.n {
		row := t.x[i*e.cols : (i+1)*e.cols]
		if err := e.schema.Prepare(in[i*e.in:(i+1)*e.in], row); err != nil {
			return in, badRequest("row %d, %v", i, err)
		}
	}
	return in, nil
}
