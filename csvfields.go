package nn

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralgo/nn/internal/excerpt"
	"gonum.org/v1/gonum/mat"
)

// The fields of a CSV record: numbers as data files write them, the layout
// of the features among the fields, and RowParser, which parses records
// one at a time for callers that split them themselves.

// csvError converts a syntax error of encoding/csv into a *ParseError.
func csvError(err error) error {
	var ce *csv.ParseError
	if errors.As(err, &ce) {
		return &ParseError{Line: ce.Line, Column: ce.Column, Err: ce.Err}
	}
	return err
}

// columns is where the features of a CSV record are.
type columns struct {
	names []string // the name of every field: the header's, or col0, col1, …
	cols  []int    // the field of each feature
	width int      // the number of fields of a record

	table *table // categorical and missing values; nil: every feature is a number
	hints bool   // errors name the CSVOptions that would read the value
}

// parse stores the features of rec, which starts on line, in dst. Its
// errors are *ParseError; fieldLine, if not nil, gives the line of a field
// where it differs from line (a quoted field before it spans lines). parse
// allocates nothing unless it fails.
func (c *columns) parse(dst []float64, rec []string, line int, fieldLine func(j int) int) error {
	if len(rec) != c.width {
		return &ParseError{Line: line, Err: fmt.Errorf("%w: expected %d, got %d", ErrFieldCount, c.width, len(rec))}
	}
	for j, k := range c.cols {
		var err error
		if t := c.table; t != nil {
			dst[j], err = t.parse(j, rec[k])
			if t.pending >= 0 {
				at := line
				if fieldLine != nil {
					at = fieldLine(k)
				}
				if t.detected == nil {
					t.detected = make(map[int]fieldText)
				}
				t.detected[j] = fieldText{at, k + 1, strings.Clone(strings.TrimSpace(rec[k]))}
				t.pending = -1
			}
		} else {
			dst[j], err = parseCSVNumber(rec[k])
		}
		if err != nil {
			if fieldLine != nil {
				line = fieldLine(k)
			}
			return &ParseError{Line: line, Column: k + 1, Err: fmt.Errorf("%w (column %s)%s", err, excerpt.Quote(c.names[k]), c.hint(err, rec[k]))}
		}
	}
	return nil
}

// hint returns advice for the error err of a feature field s, for a value
// that the options do not let a feature hold.
func (c *columns) hint(err error, s string) string {
	if !c.hints || !errors.Is(err, ErrNotNumber) {
		return ""
	}
	if strings.TrimSpace(s) == "" {
		return "; to read it as a missing value, set CSVOptions.Missing"
	}
	if c.table == nil || !c.table.detect {
		return "; to read text as categories, set CSVOptions.DetectCategorical"
	}
	return ""
}

// goSyntax reports whether s is written in a number syntax that Go reads
// but data files do not use: digits separated by underscores ("5_1") or a
// hexadecimal float ("0x1p-2"). Data is read as NumPy and pandas read it,
// in decimal with an optional exponent.
func goSyntax(s string) bool {
	if strings.IndexByte(s, '_') >= 0 {
		return true
	}
	// The signs, skipped by hand: strings.TrimLeft makes a set of its
	// cutset on every call, a cost paid by every field of every row.
	i := 0
	for i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	t := s[i:]
	return len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')
}

// parseCSVNumber parses a finite float64, ignoring surrounding spaces. It does
// not allocate unless it fails.
func parseCSVNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if goSyntax(t) {
		return 0, fmt.Errorf("%w: %s", ErrNotNumber, excerpt.Quote(t))
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange && math.IsInf(v, 0) {
			return 0, fmt.Errorf("%w: %s overflows float64", ErrNotFinite, excerpt.Quote(t))
		}
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, nil // Underflow to zero or a subnormal is fine.
		}
		return 0, fmt.Errorf("%w: %s", ErrNotNumber, excerpt.Quote(t))
	}
	if !finite(v) {
		return 0, fmt.Errorf("%w: %s", ErrNotFinite, excerpt.Quote(t))
	}
	return v, nil
}

// RowParser converts CSV records into feature vectors in a fixed column
// layout, one record at a time, for records that arrive one by one (a
// line of a message queue, of a pipeline); CSVReader reads them from a
// stream. A parser made by Schema.Parser (or Model.RowParser) also reads
// single values of the model's columns, as a server reads the cells of a
// JSON request. Create one with NewRowParser or Schema.Parser; the zero
// value is not usable. A RowParser counts unknown categories, and is for
// one goroutine at a time.
type RowParser struct {
	columns
	schema *Schema // nil unless made by Schema.Parser
}

// NewRowParser returns a parser of records laid out like header. If header
// is nil, records hold exactly the features, in order. Otherwise the
// features are found by name in header, and records have len(header)
// fields, of which the others (such as the target) are ignored. It returns
// an error naming a feature missing from header, or if features is empty.
func NewRowParser(features []string, header []string) (*RowParser, error) {
	if len(features) == 0 {
		return nil, errors.New("nn: RowParser with no features")
	}
	p := &RowParser{columns: columns{names: slices.Clone(features), cols: make([]int, len(features)), width: len(features)}}
	if header == nil {
		for j := range p.cols {
			p.cols[j] = j
		}
		return p, nil
	}
	p.names = make([]string, len(header))
	p.width = len(header)
	for j, h := range header {
		p.names[j] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	if k, j := duplicate(p.names); j >= 0 {
		return nil, &ParseError{Line: 1, Column: j + 1, Err: fmt.Errorf("%w: column %s also names column %d", ErrDuplicateColumn, excerpt.Quote(p.names[j]), k+1)}
	}
	index := indexes(p.names)
	for j, name := range features {
		p.cols[j] = colIndex(index, name)
		if p.cols[j] < 0 {
			return nil, fmt.Errorf("nn: feature %s not in header %s: %w", excerpt.Quote(name), excerpt.Quotes(header), ErrNoFeature)
		}
	}
	return p, nil
}

// Parse fills dst with the features of record, which was read from the
// given 1-based line. Problems are returned as a *ParseError with Line set
// to line, Column to the 1-based field number, and File empty for the
// caller to set. Parse does not allocate unless it fails. It panics if
// len(dst) is not the number of features.
func (p *RowParser) Parse(dst []float64, record []string, line int) error {
	if len(dst) != len(p.cols) {
		panic(mat.ErrShape)
	}
	return p.parse(dst, record, line, nil)
}

// RowParser returns a parser of records laid out like header that reads
// m's features as a CSVReader made with m.CSVOptions reads them, as
// Schema.Parser does. It returns the errors of Model.Schema and
// NewRowParser. It panics if m.Network is nil.
func (m *Model) RowParser(header []string, strict bool) (*RowParser, error) {
	s, err := m.Schema()
	if err != nil {
		return nil, err
	}
	return s.Parser(header, strict)
}

// Value returns the value of column j of the model's table (an index
// among Schema.Features) written as the text s, as a CSV field holds it:
// a number; for a categorical column, the code of the category, −1 for
// one the model has not seen (counted by Unknown, or an error wrapping
// ErrUnknownCategory for a strict parser); NaN for a spelling of a
// missing value. Surrounding spaces are ignored. Its errors wrap
// ErrNotNumber, ErrNotFinite or ErrUnknownCategory and name the column.
// Value allocates nothing unless it fails. It panics if p was not made by
// Schema.Parser or Model.RowParser, or if j is out of range.
func (p *RowParser) Value(j int, s string) (float64, error) {
	name := p.schema.features[j] // panics for a parser without a schema
	var v float64
	var err error
	if p.table != nil {
		v, err = p.table.parse(j, s)
	} else {
		v, err = parseCSVNumber(s)
	}
	if err != nil {
		return 0, fmt.Errorf("feature %s: %w", excerpt.Quote(name), err)
	}
	return v, nil
}

// Number returns the value of column j of the model's table given as the
// number v, as a JSON number holds it: v itself for a numeric column, and
// for a categorical column the code of the category that v spells in its
// shortest form ("1", "2.5"), counted or refused as by Value when the
// model has not seen it; NaN where v is one of the model's spellings of a
// missing value ("-999"), as in a CSV field. It returns an error naming the column for a NaN
// or infinite v. It panics as Value does.
func (p *RowParser) Number(j int, v float64) (float64, error) {
	name := p.schema.features[j]
	if !finite(v) {
		return 0, fmt.Errorf("feature %s: %v: %w", excerpt.Quote(name), v, ErrNotFinite)
	}
	if p.schema.missingNumber(v) {
		return math.NaN(), nil // a spelling of a missing value, as in a CSV field
	}
	if p.table == nil || p.table.cats[j] == nil {
		return v, nil
	}
	return p.Value(j, strconv.FormatFloat(v, 'g', -1, 64))
}

// Missing returns the value of column j of the model's table when it is
// missing, as a JSON null is: NaN, which the model's Encoding fills in,
// or an error naming the column for a model without an Encoding. It
// panics as Value does.
func (p *RowParser) Missing(j int) (float64, error) {
	name := p.schema.features[j]
	if p.schema.model.Encoding == nil {
		return 0, fmt.Errorf("feature %s is missing, and the model takes no missing values (it was trained on data without them): %w", excerpt.Quote(name), ErrNotNumber)
	}
	return math.NaN(), nil
}

// Schema returns the schema p reads for, or nil for a parser made by
// NewRowParser.
func (p *RowParser) Schema() *Schema { return p.schema }

// Unknown returns the number of values of categorical features parsed so
// far that were not among the model's categories and were coded −1 (see
// Model.RowParser).
func (p *RowParser) Unknown() int {
	if p.table == nil {
		return 0
	}
	return p.table.unknown
}

// quoteFields returns the fields of row, trimmed and quoted, separated by
// commas, as quoteList does. A field that holds a carriage return gets a
// hint: CSV readers do not take a lone CR for the end of a line.
func quoteFields(row []string) string {
	trimmed := make([]string, len(row))
	cr := false
	for j, s := range row {
		trimmed[j] = strings.TrimSpace(s)
		cr = cr || strings.Contains(s, "\r")
	}
	if cr {
		return excerpt.Quotes(trimmed) + " (the data ends its lines with a carriage return alone, which CSV does not read as the end of a line)"
	}
	return excerpt.Quotes(trimmed)
}
