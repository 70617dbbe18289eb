package nn

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Dataset is a table of examples: features X and targets Y, one row per
// example.
//
// A Dataset with Classes == nil is a regression problem and Y holds the
// numeric targets (n×1 when read by ReadCSV). Otherwise it is a
// classification problem and row i of Y is the one-hot encoding of the class
// of example i over Classes.
type Dataset struct {
	// X holds the features, n×p.
	X *mat.Dense
	// Y holds the targets, n×k: one-hot over Classes for classification,
	// numeric (n×1 from ReadCSV) for regression.
	Y *mat.Dense

	// Features names the p columns of X: the header names, or "col0",
	// "col1", ... by the column's 0-based index in the file when the file
	// has no header.
	Features []string
	// Target names the target column, in the same way as Features.
	Target string
	// Classes lists the class labels in the order of Y's columns;
	// it is nil for regression.
	Classes []string
}

// Labels returns the class index of each example, the index of the largest
// value in each row of d.Y. Labels panics if d.Classes is nil.
func (d *Dataset) Labels() []int {
	if d.Classes == nil {
		panic("nn: Labels of a regression dataset (Classes is nil)")
	}
	return ArgMax(nil, d.Y)
}

// Subset returns a new Dataset holding copies of the rows idx of d, in the
// order of idx. Features and Classes are copied too.
//
// Subset panics if idx is empty (a mat.Dense cannot have zero rows) or if an
// index is out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	if len(idx) == 0 {
		panic("nn: Subset with no rows")
	}
	s := &Dataset{
		X:        gatherRows(d.X, idx),
		Features: slices.Clone(d.Features),
		Target:   d.Target,
		Classes:  slices.Clone(d.Classes),
	}
	if d.Y != nil {
		s.Y = gatherRows(d.Y, idx)
	}
	return s
}

// Split returns a seeded random split of d into a training and a test set
// with round(testFraction*n) test rows, copying the rows.
//
// When d.Classes is not nil the split is stratified: each class is divided
// in the same proportion, with the rows left over by rounding going to the
// classes with the largest fractional share (lowest class index first on a
// tie). The rows of each returned set are in random order.
//
// The split depends only on d, testFraction and seed. Split returns an
// error if testFraction is not in (0, 1) or if either set would be empty.
func (d *Dataset) Split(testFraction float64, seed uint64) (train, test *Dataset, err error) {
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("nn: test fraction %v not in (0, 1)", testFraction)
	}
	n, _ := d.X.Dims()
	nTest := int(math.Round(testFraction * float64(n)))
	if nTest == 0 || nTest == n {
		side := "test"
		if nTest == n {
			side = "training"
		}
		return nil, nil, fmt.Errorf("nn: test fraction %v of %d rows leaves the %s set empty", testFraction, n, side)
	}
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	trainIdx := make([]int, 0, n-nTest)
	testIdx := make([]int, 0, nTest)
	if d.Classes == nil {
		perm := rnd.Perm(n)
		testIdx = append(testIdx, perm[:nTest]...)
		trainIdx = append(trainIdx, perm[nTest:]...)
	} else {
		byClass := make([][]int, len(d.Classes))
		for i, c := range d.Labels() {
			byClass[c] = append(byClass[c], i)
		}
		counts := stratumCounts(byClass, testFraction, nTest)
		for c, rows := range byClass {
			rnd.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
			testIdx = append(testIdx, rows[:counts[c]]...)
			trainIdx = append(trainIdx, rows[counts[c]:]...)
		}
		rnd.Shuffle(len(testIdx), func(i, j int) { testIdx[i], testIdx[j] = testIdx[j], testIdx[i] })
		rnd.Shuffle(len(trainIdx), func(i, j int) { trainIdx[i], trainIdx[j] = trainIdx[j], trainIdx[i] })
	}
	return d.Subset(trainIdx), d.Subset(testIdx), nil
}

// stratumCounts returns how many rows of each stratum go to the test set so
// that the total is nTest, using the largest remainder method.
func stratumCounts(strata [][]int, frac float64, nTest int) []int {
	counts := make([]int, len(strata))
	rem := make([]float64, len(strata))
	order := make([]int, len(strata))
	left := nTest
	for c, rows := range strata {
		// q_c = f·n_c; take floor(q_c) now, the remainder later.
		q := frac * float64(len(rows))
		counts[c] = min(int(q), len(rows))
		rem[c] = q - float64(counts[c])
		left -= counts[c]
		order[c] = c
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for _, c := range order {
		if left == 0 {
			break
		}
		if counts[c] < len(strata[c]) {
			counts[c]++
			left--
		}
	}
	return counts
}

// OneHot returns the len(labels)×k matrix whose row i is 1 in column
// labels[i] and 0 elsewhere. OneHot panics if labels is empty or a label is
// outside [0, k).
func OneHot(labels []int, k int) *mat.Dense {
	if len(labels) == 0 {
		panic("nn: OneHot of no labels")
	}
	m := mat.NewDense(len(labels), k, nil)
	for i, l := range labels {
		if l < 0 || l >= k {
			panic(fmt.Sprintf("nn: label %d at index %d outside [0, %d)", l, i, k))
		}
		m.Set(i, l, 1)
	}
	return m
}

// ArgMax stores in dst the column index of the largest value in each row of
// P and returns dst. The first index wins a tie, and NaN values are ignored
// unless a row holds nothing else. If dst is nil a new slice is allocated;
// otherwise ArgMax panics unless len(dst) is the number of rows of P.
func ArgMax(dst []int, P mat.Matrix) []int {
	r, c := P.Dims()
	if dst == nil {
		dst = make([]int, r)
	}
	if len(dst) != r {
		panic(mat.ErrShape)
	}
	for i := range dst {
		best := math.NaN()
		dst[i] = 0
		for j := range c {
			v := P.At(i, j)
			if v > best || (math.IsNaN(best) && !math.IsNaN(v)) {
				best, dst[i] = v, j
			}
		}
	}
	return dst
}

// Errors wrapped by ParseError.
var (
	// ErrEmpty: the input has no data rows (it is empty or holds a header
	// only).
	ErrEmpty = errors.New("no data rows")
	// ErrFieldCount: a row has a different number of fields from the
	// first row.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrNotNumber: a feature, or a regression target, is not a number.
	ErrNotNumber = errors.New("not a number")
	// ErrNonFinite: a value is NaN or ±Inf, or overflows float64.
	ErrNonFinite = errors.New("non-finite value")
	// ErrNoTarget: the target column does not exist.
	ErrNoTarget = errors.New("target column not found")
	// ErrUnknownClass: a label is not in the fixed class list.
	ErrUnknownClass = errors.New("unknown class")
	// ErrDuplicateColumn: two header columns have the same name.
	ErrDuplicateColumn = errors.New("duplicate column name")
)

// ParseError is a problem in CSV data at a place in the input, modeled on
// encoding/csv's ParseError. Err wraps one of the Err* values of this
// package, or an error of encoding/csv such as csv.ErrQuote.
type ParseError struct {
	// File is the name of the file, "" when reading an io.Reader.
	File string
	// Line is the 1-based line of the problem, or 0 if it concerns the
	// whole input (ErrEmpty).
	Line int
	// Column is the 1-based field number (column of the table) of the
	// problem, or 0 if it concerns the whole row. For syntax errors found
	// by encoding/csv (Err is csv.ErrQuote or csv.ErrBareQuote) it is the
	// 1-based byte column that encoding/csv reports instead.
	Column int
	// Err is the underlying error.
	Err error
}

// Error returns the problem prefixed by its place: "file:line:column: err"
// with the parts that are known, or "line L, column C: err" when File is
// empty.
func (e *ParseError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }

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
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			pe.File = path
			return nil, pe
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
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

// ScaleKind is a way to scale feature columns.
type ScaleKind int

const (
	// NoScaling leaves values as they are: offset 0, scale 1.
	NoScaling ScaleKind = iota
	// Standardize subtracts the column mean and divides by the column's
	// population standard deviation (divisor n, as scikit-learn's
	// StandardScaler), giving mean 0 and standard deviation 1.
	Standardize
	// MinMax maps the column's range [min, max] onto [0, 1].
	MinMax
	// MaxAbs divides by the column's largest absolute value, as the
	// tutorial's X/np.amax(X, axis=0) does for non-negative data, giving
	// values in [-1, 1].
	MaxAbs
)

var scaleKindNames = [...]string{
	NoScaling:   "none",
	Standardize: "standard",
	MinMax:      "minmax",
	MaxAbs:      "maxabs",
}

// String returns the name of k as accepted by ParseScaleKind.
func (k ScaleKind) String() string {
	if k >= 0 && int(k) < len(scaleKindNames) {
		return scaleKindNames[k]
	}
	return "ScaleKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseScaleKind returns the ScaleKind named s: "none", "standard",
// "minmax" or "maxabs".
func ParseScaleKind(s string) (ScaleKind, error) {
	for k, name := range scaleKindNames {
		if s == name {
			return ScaleKind(k), nil
		}
	}
	return 0, fmt.Errorf("nn: unknown scaling %q: want one of %s", s, strings.Join(scaleKindNames[:], ", "))
}

// Scaler maps column j of a matrix as x' = (x - Offset[j]) / Scale[j].
// Its fields are exported so that model files can save it.
//
// Offset and Scale have the same length, the number of columns. The zero
// value (both nil) is the identity for matrices of any width.
type Scaler struct {
	// Kind records how the scaler was fitted.
	Kind ScaleKind
	// Offset and Scale are the per-column offsets and scales.
	Offset, Scale []float64
}

// FitScaler returns a Scaler of the given kind fitted to the columns of X.
// A column whose scale would be 0 (a constant column) gets scale 1, so
// Transform never divides by zero. FitScaler panics if X has no rows or
// kind is unknown.
func FitScaler(kind ScaleKind, X mat.Matrix) *Scaler {
	r, c := X.Dims()
	if r == 0 {
		panic("nn: FitScaler of an empty matrix")
	}
	s := &Scaler{Kind: kind, Offset: make([]float64, c), Scale: make([]float64, c)}
	col := make([]float64, r)
	for j := range c {
		mat.Col(col, j, X)
		var offset, scale float64
		switch kind {
		case NoScaling:
			offset, scale = 0, 1
		case Standardize:
			offset, scale = stat.PopMeanStdDev(col, nil)
		case MinMax:
			lo, hi := floats.Min(col), floats.Max(col)
			offset, scale = lo, hi-lo
		case MaxAbs:
			for _, v := range col {
				scale = math.Max(scale, math.Abs(v))
			}
		default:
			panic("nn: unknown " + kind.String())
		}
		if scale == 0 {
			scale = 1
		}
		s.Offset[j], s.Scale[j] = offset, scale
	}
	return s
}

// width returns the number of columns of s, or -1 for the identity.
func (s *Scaler) width() int {
	if len(s.Offset) != len(s.Scale) {
		panic("nn: Scaler with Offset and Scale of different lengths")
	}
	if s.Offset == nil {
		return -1
	}
	return len(s.Offset)
}

// prepare copies X into dst, sizing an empty dst, after checking shapes.
func (s *Scaler) prepare(dst *mat.Dense, X mat.Matrix) (identity bool) {
	r, c := X.Dims()
	w := s.width()
	if w >= 0 && c != w {
		panic(mat.ErrShape)
	}
	if dst.IsEmpty() {
		dst.ReuseAs(r, c)
	} else if dr, dc := dst.Dims(); dr != r || dc != c {
		panic(mat.ErrShape)
	}
	dst.Copy(X)
	return w < 0
}

// Transform stores the scaled X in dst: dst[i,j] = (X[i,j] - Offset[j]) /
// Scale[j]. dst may be X itself, to scale in place; an empty dst is sized
// to X. Transform panics if X does not have len(s.Scale) columns (unless s
// is the identity) or a non-empty dst is not the size of X.
func (s *Scaler) Transform(dst *mat.Dense, X mat.Matrix) {
	if s.prepare(dst, X) {
		return
	}
	r, _ := dst.Dims()
	for i := range r {
		row := dst.RawRowView(i)
		// x' = (x - offset) / scale
		floats.Sub(row, s.Offset)
		floats.Div(row, s.Scale)
	}
}

// TransformRow stores the scaled x in dst, without allocating. dst may be
// x itself. It panics if dst and x do not both have len(s.Scale) elements
// (or the same length, for the identity).
func (s *Scaler) TransformRow(dst, x []float64) {
	w := s.width()
	if len(dst) != len(x) || (w >= 0 && len(x) != w) {
		panic(mat.ErrShape)
	}
	if w < 0 {
		copy(dst, x)
		return
	}
	for j, v := range x {
		dst[j] = (v - s.Offset[j]) / s.Scale[j]
	}
}

// Inverse undoes Transform, storing X[i,j]·Scale[j] + Offset[j] in dst,
// for example to bring predicted regression targets back to their units.
// dst may be X itself; an empty dst is sized to X. It panics as Transform
// does.
func (s *Scaler) Inverse(dst *mat.Dense, X mat.Matrix) {
	if s.prepare(dst, X) {
		return
	}
	r, _ := dst.Dims()
	for i := range r {
		row := dst.RawRowView(i)
		// x = x'·scale + offset
		floats.Mul(row, s.Scale)
		floats.Add(row, s.Offset)
	}
}
