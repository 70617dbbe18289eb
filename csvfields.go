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

// table reads the categorical and missing values of the features of a
// record.
type table struct {
	cats    []*categories   // of each feature: nil for a numeric one
	missing map[string]bool // the spellings of a missing value; nil: none
	detect  bool            // a feature with a value that is not a number becomes categorical
	strict  bool            // an unknown category is an error
	unknown int             // unknown categories met

	// detected holds where each feature made categorical by detection
	// first held text, and pending the feature of the last detection, or
	// −1, for parse to record it.
	detected map[int]fieldText
	pending  int

	// toCategorical, if not nil, is called when feature j becomes
	// categorical by detection, with its categories, for the values read
	// before to be coded too.
	toCategorical func(j int, c *categories)
}

// fieldText is a field and where it is.
type fieldText struct {
	line, column int
	text         string
}

// categories are the categories of a categorical feature.
type categories struct {
	names []string
	index map[string]int
	fixed bool // names is given; others are unknown
	bytes int  // memory of the names learned, with their map entries
}

func newCategories(fixed []string) (*categories, error) {
	c := &categories{index: make(map[string]int, len(fixed))}
	for _, name := range fixed {
		key := categoryKey(name)
		if _, dup := c.index[key]; dup {
			return nil, fmt.Errorf("category %s listed twice", excerpt.Quote(name))
		}
		c.index[key] = len(c.names)
		c.names = append(c.names, key)
	}
	c.fixed = fixed != nil
	return c, nil
}

// code returns the code of the category s: its index, −1 for a category
// not among fixed ones, or a new index for one not seen yet.
func (c *categories) code(s string) int {
	key := categoryKey(s)
	if i, ok := c.index[key]; ok {
		return i
	}
	if c.fixed {
		return -1
	}
	key = strings.Clone(key) // a substring of the record: keep a copy, not the record
	i := len(c.names)
	c.names = append(c.names, key)
	c.index[key] = i
	c.bytes += len(key) + classOverhead
	return i
}

// categoryKey returns the category of a field: its text with surrounding
// spaces trimmed, or the shortest spelling of a number.
func categoryKey(s string) string {
	t := strings.TrimSpace(s)
	if t == "" || goSyntax(t) {
		return t
	}
	if t[0] != '-' && t[0] != '+' && t[0] != '.' && (t[0] < '0' || t[0] > '9') {
		return t // not a number: no need to try
	}
	v, err := parseCSVNumber(t) // as a numeric column reads it, underflow included
	if err != nil {
		return t
	}
	if f := strconv.FormatFloat(v, 'g', -1, 64); f != t {
		return f
	}
	return t
}

// sorted returns the categories in order, numerically if all are numbers
// and lexically otherwise, and remap, where remap[old] is the sorted index
// of the category coded old.
func (c *categories) sorted() (names []string, remap []int) {
	order := sortLabels(c.names)
	remap = make([]int, len(order))
	names = make([]string, len(order))
	for i, old := range order {
		remap[old] = i
		names[i] = c.names[old]
	}
	return names, remap
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

// parse returns the value of feature j in the field s: a number, a
// category code, or NaN for a missing value.
func (t *table) parse(j int, s string) (float64, error) {
	if t.missing != nil && t.missing[strings.TrimSpace(s)] {
		return math.NaN(), nil
	}
	cat := t.cats[j]
	if cat == nil {
		v, err := parseCSVNumber(s)
		if err == nil || !t.detect || !errors.Is(err, ErrNotNumber) {
			return v, err
		}
		cat, _ = newCategories(nil)
		t.cats[j] = cat
		t.pending = j
		if t.toCategorical != nil {
			t.toCategorical(j, cat)
		}
	}
	code := cat.code(s)
	if code < 0 {
		if t.strict {
			return 0, fmt.Errorf("%w %s: categories are %s", ErrUnknownCategory, excerpt.Quote(strings.TrimSpace(s)), excerpt.Quotes(cat.names))
		}
		t.unknown++
	}
	return float64(code), nil
}

// goSyntax reports whether s is written in a number syntax that Go reads
// but data files do not use: digits separated by underscores ("5_1") or a
// hexadecimal float ("0x1p-2"). Data is read as NumPy and pandas read it,
// in decimal with an optional exponent.
func goSyntax(s string) bool {
	if strings.IndexByte(s, '_') >= 0 {
		return true
	}
	t := strings.TrimLeft(s, "+-")
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
// stream. Create one with NewRowParser; the zero value is not usable.
type RowParser struct {
	columns
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
	p := &RowParser{columns{names: slices.Clone(features), cols: make([]int, len(features)), width: len(features)}}
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
			return nil, fmt.Errorf("nn: feature %s not in header %s", excerpt.Quote(name), excerpt.Quotes(header))
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
