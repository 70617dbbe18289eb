package nn

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralgo/nn/internal/excerpt"
	"gonum.org/v1/gonum/mat"
)

// Header says whether a CSV input starts with a header row.
type Header int

const (
	// HeaderAuto detects a header: the first row is a header if it names
	// the target column, or if any of its fields outside the target
	// column is not a number. A header whose names are all numbers, and
	// none of them the target's, therefore needs HeaderYes.
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

// CSVOptions configures ReadCSV, LoadCSV and NewCSVReader. A nil
// *CSVOptions means the zero value: the last column is a numeric target,
// every other column a feature, header detected, comma separated.
type CSVOptions struct {
	// Target is the target column: a header name, or a 0-based column
	// index as decimal text. The zero value "" means the last column (if
	// Features is set, the last column unless it is a feature; else there
	// is none). Every other column is a feature, unless Features is set.
	Target string
	// Classify says the target is a class label (any text, surrounding
	// spaces trimmed) to be one-hot encoded over Classes. The zero value
	// false means the target is a number for regression.
	Classify bool
	// Header says whether the first row is a header; the zero value
	// HeaderAuto detects it: a first row that names the target is a
	// header, and so is one with a field that is not a number, outside
	// the target column.
	Header Header
	// Comma is the field separator; zero means ','.
	Comma rune
	// Classes, if not empty and Classify is true, is the fixed list of
	// class labels in order (for example from a saved model); a label not
	// in it is an ErrUnknownClass. When empty (the zero value), the
	// classes are the distinct labels of the data, sorted numerically if
	// all of them are numbers ("2" before "10") and lexically otherwise.
	Classes []string
	// Features, if not nil, are the feature columns to read, in this
	// order, as a Model's Features name them; other columns but the
	// target are ignored. They are found by name in a header, in any
	// order (an ErrNoFeature if one is missing). Data without a header
	// holds exactly the features, in order, in every row, unless every
	// feature is named "col" and a column index, as LoadCSV names the
	// columns of such data (col0, col1, …, no leading zeros): then rows
	// with more fields hold them at those 0-based positions, and a Target
	// named in the same way, or given by index, is at its position too.
	// Nil means every column but the target, in the order of the data; an
	// empty non-nil list, a feature listed twice, or a Target among the
	// features is an error.
	Features []string

	// Categorical names feature columns whose values are categories (any
	// text, such as "red", or codes such as zip codes) rather than
	// numbers. Their values are stored in the Dataset's X as category
	// codes, indexes into Dataset.Categories, which an Encoding one-hot
	// encodes. A category is its text with surrounding spaces trimmed, and
	// a number in it is the number's shortest spelling ("1.0" and "01" are
	// the category "1").
	Categorical []string
	// DetectCategorical makes every feature column with a value that is
	// neither a number nor missing categorical, as if named in
	// Categorical. It applies to ReadCSV and LoadCSV, which see every row
	// before deciding; a CSVReader takes categorical columns from
	// Categorical and Categories only. The zero value false makes such a
	// value an ErrNotNumber.
	DetectCategorical bool
	// Categories, if not nil, fixes the categories of categorical
	// features by name, as a Model's Encoding holds them; a feature named
	// here is categorical. Their values are coded by index into the given
	// list, and a value not in it is coded −1 (an unknown category, which
	// an Encoding encodes as all zeros) and counted by
	// CSVReader.Unknown, or is an ErrUnknownCategory if
	// StrictCategories is set. The categories of the other categorical
	// features are learned from the data, sorted as the classes are.
	Categories map[string][]string
	// StrictCategories makes a value of a categorical feature that is not
	// among its fixed Categories an ErrUnknownCategory.
	StrictCategories bool
	// Missing lists the spellings of a missing feature value, compared
	// with the field with surrounding spaces trimmed; a missing value is
	// stored in X as NaN, which an Encoding fills in. Nil (the zero
	// value) means a feature is never missing: an empty field is an
	// ErrNotNumber. DefaultMissing holds the spellings that pandas reads
	// as missing. A missing target is always an error.
	Missing []string

	// Targets, if not nil, are several numeric target columns for a
	// regression with one output per target (by header name or 0-based
	// index, as Target), read into the columns of Y in this order; Target
	// must then be "" and Classify false. Dataset.Targets names them.
	Targets []string
	// Weight, if not "", is a column holding a weight ≥ 0 for each row
	// (by header name or 0-based index), read into Dataset.Weights and
	// not a feature; Classifier and Regressor weigh the rows' costs by it.
	Weight string

	// SizeHint, if positive, is about the size of the input in bytes.
	// ReadCSV then estimates the number of rows from the first ones and
	// allocates the Dataset's matrix once, instead of growing it, which
	// takes up to twice the memory of the data while it is copied.
	// LoadCSV sets it to the file's size when it is zero.
	SizeHint int64
}

// DefaultMissing holds the usual spellings of a missing value in CSV files,
// those that pandas reads as missing by default, for CSVOptions.Missing: an
// empty field, NA, N/A, NaN, null, None and their variants.
var DefaultMissing = []string{"", "NA", "N/A", "n/a", "#N/A", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "None", "<NA>"}

// LoadCSV reads the CSV file at path with ReadCSV. A problem in the data
// is a *ParseError with File set to path; errors of opening or reading the
// file name it as the os package's do, and mistakes in opts are returned
// as ReadCSV returns them.
func LoadCSV(path string, opts *CSVOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && (opts == nil || opts.SizeHint == 0) {
		o := CSVOptions{}
		if opts != nil {
			o = *opts
		}
		o.SizeHint = fi.Size()
		opts = &o
	}
	d, err := ReadCSV(f, opts)
	if pe, ok := err.(*ParseError); ok {
		pe.File = path
	}
	return d, err
}

// ReadCSV reads a Dataset from CSV data, configured by opts (nil means
// defaults, see CSVOptions), with a CSVReader. Every feature is numeric;
// surrounding spaces of numbers and labels are ignored. Without
// opts.Features the input must have at least two columns, and with it a
// target column.
//
// Problems in the data are returned as a *ParseError wrapping ErrEmpty,
// ErrFieldCount, ErrNotNumber, ErrNotFinite, ErrMissingTarget (an empty
// class label, or a target spelled as missing), ErrNoTarget, ErrNoFeature,
// ErrUnknownClass, ErrDuplicateColumn, ErrMemoryBudget (a row, or the rows
// and their one-hot targets, too large for the memory budget: see
// SetMemoryBudget), or a syntax error of encoding/csv; other errors, such
// as those of r, are returned as they are. ReadCSV never panics on bad
// data.
func ReadCSV(r io.Reader, opts *CSVOptions) (*Dataset, error) {
	cr := NewCSVReader(r, opts)
	cr.needTarget = true
	features, _, err := cr.Columns()
	if err == io.EOF {
		return nil, &ParseError{Err: ErrEmpty}
	}
	if err != nil {
		return nil, err
	}
	b, err := newCSVBuilder(cr)
	if err != nil {
		return nil, err
	}
	if t := cr.table; t != nil {
		t.toCategorical = b.toCategorical
	}
	// Fields are checked from left to right: a bad target before a bad
	// feature is the error of the row.
	cr.checkTarget = func(label string) error {
		_, _, err := b.target(label)
		return err
	}
	x := make([]float64, len(features))
	for {
		line, err := cr.Read(x)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := b.add(x); err != nil {
			return nil, err
		}
		if b.n == sampleRows && cr.opts.SizeHint > 0 {
			b.reserve(estimateRows(b.n, cr.cr.InputOffset(), cr.opts.SizeHint))
		}
		// The rows so far, features and target, in slices that may hold
		// twice as much while they grow and the old arrays while they
		// are copied, and the labels of the classes.
		need := 3*float64(b.n)*float64(len(x)+1)*float64Bytes + float64(b.classBytes) + float64(cr.categoryBytes())
		if err := overBudget(need, fmt.Sprintf("the %d rows of %d values up to this one", b.n, len(x)+1)); err != nil {
			return nil, &ParseError{Line: line, Err: err}
		}
	}
	if b.n == 0 {
		return nil, &ParseError{Err: ErrEmpty}
	}
	if b.classify {
		if err := overBudget(float64(b.n)*float64(len(x)+len(b.classes))*float64Bytes, fmt.Sprintf("%d rows of %d features and one-hot targets over %d classes", b.n, len(x), len(b.classes))); err != nil {
			return nil, &ParseError{Err: err}
		}
	}
	return b.dataset()
}

// sampleRows is the number of rows from which ReadCSV estimates how many
// a file of CSVOptions.SizeHint bytes holds.
const sampleRows = 1024

// estimateRows returns about how many rows a file of size bytes holds
// if its first n rows took read bytes, with a margin of 5%, so that a
// file whose rows are all about as long as the first is read into the
// capacity it reserves.
func estimateRows(n int, read, size int64) int {
	if read <= 0 || size <= read {
		return n
	}
	est := float64(n) * float64(size) / float64(read) * 1.05
	return int(min(est, math.MaxInt32))
}

// csvBuilder accumulates the rows read by ReadCSV.
type csvBuilder struct {
	r        *CSVReader
	classify bool

	n      int
	x      []float64
	y      []float64 // regression targets
	extraY []float64 // the targets of a row after the first
	w      []float64 // the weights of the rows
	weight float64   // of the row read last
	labels []int     // class of each row: an index into classes

	fixed      bool
	classes    []string // fixed, or in order of first appearance
	classIndex map[string]int
	classBytes int // the memory of the classes found, with their map entries
}

// newCSVBuilder returns a builder of the rows of r, whose columns are laid
// out. It returns an error if the fixed classes list a label twice.
func newCSVBuilder(r *CSVReader) (*csvBuilder, error) {
	o := &r.opts
	b := &csvBuilder{r: r, classify: o.Classify}
	if !o.Classify {
		return b, nil
	}
	b.classIndex = make(map[string]int)
	if len(o.Classes) > 0 {
		b.fixed = true
		b.classes = o.Classes
		for i, c := range b.classes {
			if _, dup := b.classIndex[c]; dup {
				return nil, fmt.Errorf("nn: class %s listed twice in CSVOptions.Classes", excerpt.Quote(c))
			}
			b.classIndex[c] = i
		}
	}
	return b, nil
}

// classOverhead is about the memory a class takes besides its label: its
// string header in the list of classes, twice while it grows, and its map
// entry.
const classOverhead = 3*16 + 48

// add appends the row that b.r read last, whose features are x.
func (b *csvBuilder) add(x []float64) error {
	c, v, err := b.label()
	if err != nil {
		return err
	}
	if b.classify {
		b.labels = append(b.labels, c)
	} else {
		b.y = append(b.y, v)
		b.y = append(b.y, b.extraY...)
	}
	if b.r.weight >= 0 {
		b.w = append(b.w, b.weight)
	}
	b.x = append(b.x, x...)
	b.n++
	return nil
}

// label reads the targets and weight of the row that b.r read last: its
// class, a new one numbered in order of appearance, or its first target,
// with the others in b.extraY, and its weight in b.weight.
func (b *csvBuilder) label() (class int, value float64, err error) {
	label := b.r.Target()
	c, v, err := b.target(label)
	if err != nil {
		return 0, 0, err
	}
	if err := b.extras(); err != nil {
		return 0, 0, err
	}
	if b.classify && c < 0 {
		// A new class, numbered in order of appearance until dataset
		// sorts them.
		// The label is a substring of the line: keep a copy, not the line.
		c = len(b.classes)
		label = strings.Clone(label)
		b.classes = append(b.classes, label)
		b.classIndex[label] = c
		b.classBytes += len(label) + classOverhead
	}
	return c, v, nil
}

// reserve makes room for rows rows in all that b accumulates, in one
// allocation each, so that reading them does not grow the slices, which
// would copy them and hold the old arrays too while it does.
func (b *csvBuilder) reserve(rows int) {
	p := len(b.r.features)
	// A hint far larger than the budget allows is no reason to reserve
	// more: the rows are checked against it as they come.
	rows = min(rows, int(float64(MemoryBudget())/(3*float64(p+1)*float64Bytes)))
	if rows <= b.n {
		return
	}
	b.x = slices.Grow(b.x, (rows-b.n)*p)
	switch {
	case b.classify:
		b.labels = slices.Grow(b.labels, rows-b.n)
	default:
		b.y = slices.Grow(b.y, (rows-b.n)*(1+len(b.r.extra)))
	}
	if b.r.weight >= 0 {
		b.w = slices.Grow(b.w, rows-b.n)
	}
}

// extras reads the targets after the first and the weight of the row that
// b.r read last, into b.extraY and b.weight.
func (b *csvBuilder) extras() error {
	r := b.r
	b.extraY = b.extraY[:0]
	for _, k := range r.extra {
		v, err := parseCSVNumber(r.rec[k])
		if err != nil {
			return &ParseError{Line: r.fieldLine(k), Column: k + 1, Err: fmt.Errorf("%w (column %s, a target)", err, excerpt.Quote(r.names[k]))}
		}
		b.extraY = append(b.extraY, v)
	}
	if k := r.weight; k >= 0 {
		v, err := parseCSVNumber(r.rec[k])
		if err == nil && v < 0 {
			err = fmt.Errorf("%w: weight %s is negative", ErrNotNumber, excerpt.Quote(strings.TrimSpace(r.rec[k])))
		}
		if err != nil {
			return &ParseError{Line: r.fieldLine(k), Column: k + 1, Err: fmt.Errorf("%w (column %s, the row weights; want a number ≥ 0)", err, excerpt.Quote(r.names[k]))}
		}
		b.weight = v
	}
	return nil
}

// target reads label, the target field of the row that b.r read last: the
// index of its class (-1 for a class not seen yet), or its value for
// regression. Problems are a *ParseError at the field.
func (b *csvBuilder) target(label string) (class int, value float64, err error) {
	r := b.r
	t := r.target
	if b.classify {
		// A class of the model's, such as "None", is a class even if it
		// is also a missing spelling.
		if c, ok := b.classIndex[label]; ok && (b.fixed || label != "") {
			return c, 0, nil
		}
	}
	if tab := r.table; label == "" || (tab != nil && tab.missing != nil && tab.missing[label]) {
		what, hint := "the target", ""
		if b.classify {
			what = "the class label"
		}
		if label != "" {
			hint = " (CSVOptions.Missing, nn train's -missing, lists its spelling)"
		}
		return 0, 0, &ParseError{Line: r.fieldLine(t), Column: t + 1, Err: fmt.Errorf("%w: %s %s (column %s) reads as missing%s; drop the row or fill in its target", ErrMissingTarget, what, excerpt.Quote(label), excerpt.Quote(r.names[t]), hint)}
	}
	if b.classify {
		if c, ok := b.classIndex[label]; ok {
			return c, 0, nil
		}
		if b.fixed {
			return 0, 0, &ParseError{Line: r.fieldLine(t), Column: t + 1, Err: fmt.Errorf("%w %s (column %s): classes are %s", ErrUnknownClass, excerpt.Quote(label), excerpt.Quote(r.names[t]), excerpt.Quotes(b.classes))}
		}
		return -1, 0, nil
	}
	v, err := parseCSVNumber(label)
	if err != nil {
		hint := ""
		if errors.Is(err, ErrNotNumber) {
			hint = "; for a target of class labels, set CSVOptions.Classify"
		}
		return 0, 0, &ParseError{Line: r.fieldLine(t), Column: t + 1, Err: fmt.Errorf("%w (column %s)%s", err, excerpt.Quote(r.names[t]), hint)}
	}
	return 0, v, nil
}

// toCategorical codes the values of feature j of the rows added so far,
// numbers until now, as categories of c.
func (b *csvBuilder) toCategorical(j int, c *categories) {
	p := len(b.r.features)
	for i := j; i < len(b.x); i += p {
		if v := b.x[i]; !math.IsNaN(v) {
			b.x[i] = float64(c.code(strconv.FormatFloat(v, 'g', -1, 64)))
		}
	}
}

// categories returns the categories of each feature, nil for a numeric
// one, or nil if none is categorical, sorting the categories learned and
// recoding the rows to match. It returns an error for a column made
// categorical by detection whose values are numbers in most rows: its text
// is more likely a mistake or a spelling of a missing value.
func (b *csvBuilder) categories() ([][]string, error) {
	t := b.r.table
	if t == nil || !slices.ContainsFunc(t.cats, func(c *categories) bool { return c != nil }) {
		return nil, nil
	}
	p := len(t.cats)
	out := make([][]string, p)
	for j, c := range t.cats {
		switch {
		case c == nil:
			continue
		case c.fixed:
			out[j] = slices.Clone(c.names)
			continue
		}
		if at, ok := t.detected[j]; ok {
			if err := b.checkDetected(j, c, at); err != nil {
				return nil, err
			}
		}
		names, remap := c.sorted()
		out[j] = names
		for i := j; i < len(b.x); i += p {
			if v := b.x[i]; !math.IsNaN(v) {
				b.x[i] = float64(remap[int(v)])
			}
		}
	}
	return out, nil
}

// checkDetected returns an error if most values of feature j, made
// categorical by detection at the field at, are numbers.
func (b *csvBuilder) checkDetected(j int, c *categories, at fieldText) error {
	numeric := make([]bool, len(c.names))
	for i, name := range c.names {
		_, err := parseCSVNumber(name)
		numeric[i] = err == nil
	}
	p := len(b.r.features)
	var numbers, text int
	for i := j; i < len(b.x); i += p {
		if v := b.x[i]; !math.IsNaN(v) {
			if numeric[int(v)] {
				numbers++
			} else {
				text++
			}
		}
	}
	if numbers < text {
		return nil
	}
	name := b.r.features[j]
	return &ParseError{Line: at.line, Column: at.column, Err: fmt.Errorf("%w: %s (column %s), in a column of numbers (%d of its %d values are); to read the column as categories, name it in CSVOptions.Categorical, or to read the value as missing, list it in CSVOptions.Missing", ErrNotNumber, excerpt.Quote(at.text), excerpt.Quote(name), numbers, numbers+text)}
}

// dataset returns the Dataset of the rows added.
func (b *csvBuilder) dataset() (*Dataset, error) {
	features, target, _ := b.r.Columns()
	cats, err := b.categories()
	if err != nil {
		return nil, err
	}
	d := &Dataset{
		X:          mat.NewDense(b.n, len(features), b.x),
		Features:   features,
		Target:     target,
		Categories: cats,
		Weights:    b.w,
		Missing:    slices.Clone(b.r.opts.Missing),
	}
	switch {
	case !b.classify:
		d.Y = mat.NewDense(b.n, 1+len(b.r.extra), b.y)
		if len(b.r.opts.Targets) > 0 {
			d.Targets = []string{target}
			for _, k := range b.r.extra {
				d.Targets = append(d.Targets, b.r.names[k])
			}
		}
	case b.fixed:
		d.Classes = b.classes
		d.Y = OneHot(b.labels, len(b.classes))
	default:
		d.Classes = b.sortClasses()
		d.Y = OneHot(b.labels, len(d.Classes))
	}
	return d, nil
}

// sortClasses returns the classes found in the data in order, numerically
// if all of them are numbers and lexically otherwise, and renumbers the
// labels to match.
func (b *csvBuilder) sortClasses() []string {
	order := sortLabels(b.classes)
	// remap[old] is the sorted index of class old.
	remap := make([]int, len(order))
	classes := make([]string, len(order))
	for i, old := range order {
		remap[old] = i
		classes[i] = b.classes[old]
	}
	for i, c := range b.labels {
		b.labels[i] = remap[c]
	}
	return classes
}

// sortLabels returns the order of labels sorted numerically if all of
// them are numbers and lexically otherwise: order[i] is the index of the
// label that sorts i-th.
func sortLabels(labels []string) []int {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	values := make([]float64, len(labels))
	numeric := true
	for i, c := range labels {
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
		return strings.Compare(labels[a], labels[c])
	})
	return order
}
