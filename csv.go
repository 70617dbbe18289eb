package nn

import (
	"cmp"
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
)

// Header says whether a CSV input starts with a header row.
type Header int

const (
	// HeaderAuto detects a header: the first row is a header if any of its
	// fields in a feature column is not a number. A header whose names
	// are all numbers therefore needs HeaderYes.
	HeaderAuto Header = iota
	// HeaderYes: the first row is a header.
	HeaderYes
	// HeaderNo: there is no header; every row is data.
	HeaderNo
)

var headers = enum[Header]{"Header", "header mode", []string{
	HeaderAuto: "auto",
	HeaderYes:  "yes",
	HeaderNo:   "no",
}}

// String returns the mode's name: "auto", "yes" or "no".
func (h Header) String() string { return headers.name(h) }

// MarshalText returns the mode's name, or an error if h is not a valid
// Header.
func (h Header) MarshalText() ([]byte, error) { return headers.marshal(h) }

// UnmarshalText sets h to the mode named text: "auto", "yes" or "no".
func (h *Header) UnmarshalText(text []byte) error { return headers.unmarshal(h, text) }

// CSVOptions configures ReadCSV and LoadCSV. A nil *CSVOptions means the
// zero value: the last column is a numeric target, header detected, comma
// separated.
type CSVOptions struct {
	// Target is the target column: a header name, or a 0-based column
	// index as decimal text. The zero value "" means the last column.
	// Every other column is a feature.
	Target string
	// Classify says the target is a class label (any text, surrounding
	// spaces trimmed) to be one-hot encoded over Classes. The zero value
	// false means the target is a number for regression.
	Classify bool
	// Header says whether the first row is a header; the zero value
	// HeaderAuto detects it.
	Header Header
	// Comma is the field separator; zero means ','.
	Comma rune
	// Classes, if not empty and Classify is true, is the fixed list of
	// class labels in order (for example from a saved model); a label not
	// in it is an ErrUnknownClass. When empty (the zero value), the
	// classes are the distinct labels of the data, sorted numerically if
	// all of them are numbers ("2" before "10") and lexically otherwise.
	Classes []string
}

// LoadCSV reads the CSV file at path with ReadCSV. Its errors carry the
// file name: a *ParseError has File set to path.
func LoadCSV(path string, opts *CSVOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := ReadCSV(f, opts)
	if pe, ok := err.(*ParseError); ok {
		pe.File = path
	}
	return d, err
}

// ReadCSV reads a Dataset from CSV data, configured by opts (nil means
// defaults, see CSVOptions). Every column other than the target is a
// numeric feature; surrounding spaces of numbers and labels are ignored.
// The input must have at least two columns.
//
// Problems in the data are returned as a *ParseError wrapping ErrEmpty,
// ErrFieldCount, ErrNotNumber, ErrNonFinite, ErrNoTarget, ErrUnknownClass,
// or a syntax error of encoding/csv; other errors, such as those of r, are
// returned as they are. ReadCSV never panics on bad data.
func ReadCSV(r io.Reader, opts *CSVOptions) (*Dataset, error) {
	var o CSVOptions
	if opts != nil {
		o = *opts
	}
	cr := csv.NewReader(r)
	if o.Comma != 0 {
		cr.Comma = o.Comma
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	first, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{Err: ErrEmpty}
	}
	if err != nil {
		return nil, csvError(err)
	}
	first = slices.Clone(first)
	// A byte-order mark, as spreadsheets write, is not part of the first
	// field.
	first[0] = strings.TrimPrefix(first[0], "\ufeff")
	firstLine, _ := cr.FieldPos(0)
	width := len(first)
	if width < 2 {
		return nil, &ParseError{Line: firstLine, Err: fmt.Errorf("%w: need at least 2 (features and target), got %d", ErrFieldCount, width)}
	}

	target, header, err := findTarget(first, &o)
	if err != nil {
		return nil, &ParseError{Line: firstLine, Err: err}
	}
	names := make([]string, width)
	for j := range names {
		if header {
			names[j] = strings.TrimSpace(first[j])
		}
		if names[j] == "" {
			names[j] = "col" + strconv.Itoa(j)
		}
		if k := slices.Index(names[:j], names[j]); k >= 0 {
			return nil, &ParseError{Line: firstLine, Column: j + 1, Err: fmt.Errorf("%w: column %q also names column %d", ErrDuplicateColumn, names[j], k+1)}
		}
	}

	b := csvBuilder{
		target:   target,
		names:    names,
		classify: o.Classify,
	}
	if o.Classify {
		b.classIndex = make(map[string]int)
		if len(o.Classes) > 0 {
			b.fixed = true
			b.classes = slices.Clone(o.Classes)
			for i, c := range b.classes {
				if _, dup := b.classIndex[c]; dup {
					return nil, fmt.Errorf("nn: class %q listed twice in CSVOptions.Classes", c)
				}
				b.classIndex[c] = i
			}
		}
	}
	if !header {
		if err := b.add(first, firstLine, cr); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if err := b.add(rec, line, cr); err != nil {
			return nil, err
		}
	}
	if b.n == 0 {
		return nil, &ParseError{Err: ErrEmpty}
	}
	return b.dataset(), nil
}

// findTarget returns the target column index of the rows shaped like first
// and whether first is a header.
func findTarget(first []string, o *CSVOptions) (target int, header bool, err error) {
	width := len(first)
	switch {
	case o.Target == "":
		target = width - 1
	case isIndex(o.Target):
		target, err = strconv.Atoi(o.Target)
		if err != nil || target < 0 || target >= width {
			return 0, false, fmt.Errorf("%w: index %s out of range: rows have %d columns (0 to %d)", ErrNoTarget, o.Target, width, width-1)
		}
	default:
		if o.Header == HeaderNo {
			return 0, false, fmt.Errorf("%w: %q given by name, but the input has no header", ErrNoTarget, o.Target)
		}
		target = slices.IndexFunc(first, func(s string) bool { return strings.TrimSpace(s) == o.Target })
		if target < 0 {
			quoted := make([]string, width)
			for j, s := range first {
				quoted[j] = strconv.Quote(strings.TrimSpace(s))
			}
			return 0, false, fmt.Errorf("%w: %q not among %s", ErrNoTarget, o.Target, strings.Join(quoted, ", "))
		}
		// A name found in the first row makes it a header.
		return target, true, nil
	}
	switch o.Header {
	case HeaderYes:
		header = true
	case HeaderNo:
		header = false
	default:
		for j, s := range first {
			if j == target {
				continue
			}
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
				var ne *strconv.NumError
				if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
					continue
				}
				header = true
				break
			}
		}
	}
	return target, header, nil
}

// isIndex reports whether s is a decimal integer, possibly negative.
func isIndex(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// csvError converts a syntax error of encoding/csv into a *ParseError.
func csvError(err error) error {
	var ce *csv.ParseError
	if errors.As(err, &ce) {
		return &ParseError{Line: ce.Line, Column: ce.Column, Err: ce.Err}
	}
	return err
}

// csvBuilder accumulates the rows read by ReadCSV.
type csvBuilder struct {
	target   int
	names    []string
	classify bool

	n      int
	x      []float64
	y      []float64 // regression targets
	labels []int     // class of each row: an index into classes

	fixed      bool
	classes    []string // fixed, or in order of first appearance
	classIndex map[string]int
}

// add appends a record that starts on line.
func (b *csvBuilder) add(rec []string, line int, cr *csv.Reader) error {
	if len(rec) != len(b.names) {
		return &ParseError{Line: line, Err: fmt.Errorf("%w: expected %d, got %d", ErrFieldCount, len(b.names), len(rec))}
	}
	for j, s := range rec {
		if j == b.target && b.classify {
			label := strings.TrimSpace(s)
			c, ok := b.classIndex[label]
			if !ok {
				if b.fixed {
					l, _ := cr.FieldPos(j)
					return &ParseError{Line: l, Column: j + 1, Err: fmt.Errorf("%w %q (column %q): classes are %q", ErrUnknownClass, label, b.names[j], b.classes)}
				}
				c = len(b.classes)
				b.classes = append(b.classes, label)
				b.classIndex[label] = c
			}
			b.labels = append(b.labels, c)
			continue
		}
		v, err := parseCSVNumber(s)
		if err != nil {
			l, _ := cr.FieldPos(j)
			return &ParseError{Line: l, Column: j + 1, Err: fmt.Errorf("%w (column %q)", err, b.names[j])}
		}
		if j == b.target {
			b.y = append(b.y, v)
		} else {
			b.x = append(b.x, v)
		}
	}
	b.n++
	return nil
}

// dataset returns the Dataset of the rows added.
func (b *csvBuilder) dataset() *Dataset {
	p := len(b.names) - 1
	d := &Dataset{
		X:        mat.NewDense(b.n, p, b.x),
		Features: make([]string, 0, p),
		Target:   b.names[b.target],
	}
	for j, name := range b.names {
		if j != b.target {
			d.Features = append(d.Features, name)
		}
	}
	if !b.classify {
		d.Y = mat.NewDense(b.n, 1, b.y)
		return d
	}
	if b.fixed {
		d.Classes = b.classes
		d.Y = OneHot(b.labels, len(b.classes))
		return d
	}
	// Sort the classes; remap[old] is the sorted index of class old.
	order := make([]int, len(b.classes))
	for i := range order {
		order[i] = i
	}
	values := make([]float64, len(b.classes))
	numeric := true
	for i, c := range b.classes {
		v, err := strconv.ParseFloat(c, 64)
		if err != nil || math.IsNaN(v) {
			numeric = false
			break
		}
		values[i] = v
	}
	slices.SortFunc(order, func(a, c int) int {
		if numeric {
			if r := cmp.Compare(values[a], values[c]); r != 0 {
				return r
			}
		}
		return strings.Compare(b.classes[a], b.classes[c])
	})
	remap := make([]int, len(order))
	d.Classes = make([]string, len(order))
	for i, old := range order {
		remap[old] = i
		d.Classes[i] = b.classes[old]
	}
	for i, c := range b.labels {
		b.labels[i] = remap[c]
	}
	d.Y = OneHot(b.labels, len(d.Classes))
	return d
}

// parseCSVNumber parses a finite float64, ignoring surrounding spaces. It does
// not allocate unless it fails.
func parseCSVNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange && math.IsInf(v, 0) {
			return 0, fmt.Errorf("%w: %q overflows float64", ErrNonFinite, t)
		}
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, nil // Underflow to zero or a subnormal is fine.
		}
		return 0, fmt.Errorf("%w: %q", ErrNotNumber, t)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: %q", ErrNonFinite, t)
	}
	return v, nil
}

// RowParser converts CSV records into feature vectors in a fixed column
// layout, one record at a time, so that files larger than memory can be
// scored. Create one with NewRowParser; the zero value is not usable.
type RowParser struct {
	features []string
	cols     []int // cols[j]: field index of feature j in a record
	width    int   // number of fields in a record
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
	p := &RowParser{features: slices.Clone(features), cols: make([]int, len(features))}
	if header == nil {
		p.width = len(features)
		for j := range p.cols {
			p.cols[j] = j
		}
		return p, nil
	}
	p.width = len(header)
	for j, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		for k := range j {
			if strings.TrimSpace(strings.TrimPrefix(header[k], "\ufeff")) == h {
				return nil, &ParseError{Line: 1, Column: j + 1, Err: fmt.Errorf("%w: column %q also names column %d", ErrDuplicateColumn, h, k+1)}
			}
		}
	}
	for j, name := range features {
		p.cols[j] = slices.IndexFunc(header, func(h string) bool { return strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == name })
		if p.cols[j] < 0 {
			return nil, fmt.Errorf("nn: feature %q not in header %q", name, header)
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
	if len(record) != p.width {
		return &ParseError{Line: line, Err: fmt.Errorf("%w: expected %d, got %d", ErrFieldCount, p.width, len(record))}
	}
	for j, c := range p.cols {
		v, err := parseCSVNumber(record[c])
		if err != nil {
			return &ParseError{Line: line, Column: c + 1, Err: fmt.Errorf("%w (column %q)", err, p.features[j])}
		}
		dst[j] = v
	}
	return nil
}
