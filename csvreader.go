package nn

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralgo/nn/internal/excerpt"
)

// CSVReader reads the rows of CSV data one at a time, storing the features
// of each in a slice the caller owns, so that data larger than memory
// streams through in constant space. It finds the columns as ReadCSV does,
// and, given the features of a model (CSVOptions.Features), finds them by
// name in any order among other columns. ReadCSV and LoadCSV are built on
// it.
//
// The first row decides the layout, as CSVOptions describes: whether it is
// a header, which column is the target, and where each feature is. A
// UTF-8 byte order mark before it, as spreadsheets write, is skipped.
type CSVReader struct {
	opts  CSVOptions
	cr    *csv.Reader
	limit *rowLimit // under cr: bounds the bytes of a row
	next  int       // the line after the last row read, where the next starts

	started bool
	err     error // of the first row, returned by every call once it is read

	columns           // the layout, once the first row is read
	features []string // the names of the features, in the order Read stores them
	target   int      // field of the target, or -1
	extra    []int    // fields of the targets after the first (CSVOptions.Targets)
	weight   int      // field of the weight, or -1
	header   bool     // the first row is a header
	why      string   // why an automatically detected header is one, for errors
	first    int      // the line of the first row
	pending  []string // the first row, when it is data, until Read returns it
	rec      []string // the row Read read last, or nil

	// needTarget makes a missing target column an error even when
	// opts.Features is set, and checkTarget, if not nil, checks the
	// target field of a row whose features fail after it, for ReadCSV.
	needTarget  bool
	checkTarget func(label string) error
}

// NewCSVReader returns a reader of the CSV data r, laid out as opts says
// (nil means the zero CSVOptions). It reads nothing until Columns or Read
// is called.
func NewCSVReader(r io.Reader, opts *CSVOptions) *CSVReader {
	var o CSVOptions
	if opts != nil {
		o = *opts
		o.Features = slices.Clone(o.Features)
		o.Classes = slices.Clone(o.Classes)
		o.Targets = slices.Clone(o.Targets)
	}
	budget := MemoryBudget()
	limit := &rowLimit{r: r, max: max(budget/rowShare, 64<<10), budget: budget}
	br := bufio.NewReader(limit)
	skipBOM(br)
	cr := csv.NewReader(br)
	if o.Comma != 0 {
		cr.Comma = o.Comma
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	// Reading for a model (given features), the hints of options that
	// read other values do not apply: the model takes what it takes.
	return &CSVReader{opts: o, cr: cr, limit: limit, next: 1, target: -1, weight: -1, columns: columns{hints: o.Features == nil}}
}

// rowShare is the share of the memory budget that one row of CSV may take
// in bytes, 16 MiB of the default budget: encoding/csv takes some 40 times
// the length of a row of one-character fields to split it.
const rowShare = 256

// errRowTooLong is the error of a rowLimit.
var errRowTooLong = errors.New("row too long")

// rowLimit reads r, failing once more than max bytes have been read since
// the start of the row, so that a line without end cannot exhaust memory.
// It sits under the buffer of encoding/csv, which reads at most a buffer's
// length ahead.
type rowLimit struct {
	r      io.Reader
	n, max int64
	budget int64 // the memory budget max was set from, for messages
}

func (l *rowLimit) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, errRowTooLong
	}
	if int64(len(p)) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// readRecord reads the next record and returns it with the line it starts
// on.
func (r *CSVReader) readRecord() (rec []string, line int, err error) {
	r.limit.n = 0
	rec, err = r.cr.Read()
	if errors.Is(err, errRowTooLong) {
		return nil, 0, &ParseError{Line: r.next, Err: fmt.Errorf("the row is longer than %s, the most that one row may take under the memory budget of %s: %w",
			bytesText(float64(r.limit.max)), bytesText(float64(r.limit.budget)), ErrMemoryBudget)}
	}
	if err != nil {
		return nil, 0, csvError(err)
	}
	line, _ = r.cr.FieldPos(0)
	// The next row starts after the last field, which may span lines, or
	// after blank lines that follow.
	last, _ := r.cr.FieldPos(len(rec) - 1)
	r.next = last + strings.Count(rec[len(rec)-1], "\n") + 1
	return rec, line, nil
}

// skipBOM skips a UTF-8 byte order mark (U+FEFF) at the start of r.
func skipBOM(r *bufio.Reader) {
	const bom = "\ufeff"
	if b, err := r.Peek(len(bom)); err == nil && string(b) == bom {
		r.Discard(len(bom))
	}
}

// Columns reads the first row, if Read has not, and returns the names of
// the feature columns, in the order in which Read stores their values, and
// the name of the target column ("" if the data has none). It returns
// io.EOF for data with no rows at all, and the errors of Read for a first
// row that does not fit the options.
func (r *CSVReader) Columns() (features []string, target string, err error) {
	if err := r.start(); err != nil {
		return nil, "", err
	}
	if r.target >= 0 {
		target = r.names[r.target]
	}
	return slices.Clone(r.features), target, nil
}

// Read reads the next data row, skipping the header, stores its features
// in dst, and returns the line on which the row starts. It returns io.EOF
// at the end of the data. A row that does not fit — the wrong number of
// fields, a feature that is not a finite number, a CSV syntax error — is
// returned as a *ParseError with the line and column; its File is empty,
// for the caller to set. Once the first row is read, Read allocates
// nothing but the text of each row, which encoding/csv allocates in one
// piece, unless it fails. It panics if len(dst) is not the number of
// features.
func (r *CSVReader) Read(dst []float64) (line int, err error) {
	r.rec = nil
	if err := r.start(); err != nil {
		return 0, err
	}
	if len(dst) != len(r.cols) {
		panic(fmt.Sprintf("nn: CSVReader.Read into %d values, want %d (one per feature)", len(dst), len(r.cols)))
	}
	rec := r.pending
	if rec != nil {
		r.pending = nil
		line = r.first
	} else {
		rec, line, err = r.readRecord()
		if err != nil {
			return 0, err
		}
	}
	if err := r.parse(dst, rec, line, r.fieldLine); err != nil {
		if pe, ok := err.(*ParseError); ok && r.checkTarget != nil && r.target >= 0 && r.target+1 < pe.Column {
			if err := r.checkTarget(strings.TrimSpace(rec[r.target])); err != nil {
				return line, err
			}
		}
		return line, err
	}
	r.rec = rec
	return line, nil
}

// Target returns the target field of the row that Read read last, with
// surrounding spaces trimmed: a class label, or a number in text. It
// returns "" if the data has no target column or the last Read failed.
func (r *CSVReader) Target() string {
	if r.target < 0 || r.rec == nil {
		return ""
	}
	return strings.TrimSpace(r.rec[r.target])
}

// fieldLine returns the line on which field j of the row read last
// starts: a quoted field before it may span lines.
func (r *CSVReader) fieldLine(j int) int {
	line, _ := r.cr.FieldPos(j)
	return line
}

// start reads the first row and lays out the columns, once.
func (r *CSVReader) start() error {
	if r.started {
		return r.err
	}
	r.started = true
	if err := r.checkOptions(); err != nil {
		r.err = err
		return err
	}
	first, line, err := r.readRecord()
	if err != nil {
		r.err = err
		return r.err
	}
	first = slices.Clone(first)
	r.first = line
	r.width = len(first)
	if r.opts.Features == nil {
		err = r.layoutAll(first)
	} else {
		err = r.layoutFeatures(first)
	}
	if err != nil {
		if _, ok := err.(*ParseError); !ok {
			err = &ParseError{Line: r.first, Err: err}
		}
		r.err = err
		return err
	}
	if err := r.layoutTable(); err != nil {
		r.err = err
		return err
	}
	if !r.header {
		r.pending = first
	}
	return nil
}

// checkOptions returns an error for options that no data could fit.
func (r *CSVReader) checkOptions() error {
	o := &r.opts
	if len(o.Targets) > 0 {
		switch {
		case o.Target != "":
			return errors.New("nn: CSVOptions.Target and Targets are both set; give every target in Targets")
		case o.Classify:
			return errors.New("nn: CSVOptions.Targets with Classify: several targets are for regression")
		}
		if _, j := duplicate(o.Targets); j >= 0 {
			return fmt.Errorf("nn: CSVOptions.Targets lists %s twice", excerpt.Quote(o.Targets[j]))
		}
		o.Target = o.Targets[0]
	}
	if o.Weight != "" && (o.Weight == o.Target || slices.Contains(o.Targets, o.Weight) || slices.Contains(o.Features, o.Weight)) {
		return fmt.Errorf("nn: CSVOptions.Weight %s is also a target or a feature", excerpt.Quote(o.Weight))
	}
	for _, t := range o.Targets {
		if slices.Contains(o.Features, t) {
			return fmt.Errorf("nn: CSVOptions.Targets %s is also a feature", excerpt.Quote(t))
		}
	}
	if o.Features != nil && len(o.Features) == 0 {
		return errors.New("nn: CSVOptions.Features is empty; nil means every column but the target")
	}
	if _, j := duplicate(o.Features); j >= 0 {
		return fmt.Errorf("nn: CSVOptions.Features lists %s twice", excerpt.Quote(o.Features[j]))
	}
	for _, f := range o.Features {
		if f == o.Target {
			return fmt.Errorf("nn: CSVOptions.Target %s is also a feature", excerpt.Quote(f))
		}
	}
	return nil
}

// layoutAll lays out rows shaped like first as ReadCSV reads them without
// given features: the target column, and every other column a feature, in
// order.
func (r *CSVReader) layoutAll(first []string) error {
	if len(first) < 2 {
		return fmt.Errorf("%w: need at least 2 (features and target), got %d", ErrFieldCount, len(first))
	}
	var err error
	r.target, r.header, err = findTarget(first, &r.opts)
	if err != nil {
		return err
	}
	r.nameColumns(first)
	if err := r.checkNames(); err != nil {
		return err
	}
	if err := r.findExtras(first); err != nil {
		return err
	}
	for j, name := range r.names {
		if j != r.target && j != r.weight && !slices.Contains(r.extra, j) {
			r.features = append(r.features, name)
			r.cols = append(r.cols, j)
		}
	}
	if len(r.cols) == 0 {
		return fmt.Errorf("%w: the rows have no column left for features besides the target and weight columns", ErrFieldCount)
	}
	return nil
}

// findExtras finds the columns of the targets after the first and of the
// weight, as the options give them, by header name or index.
func (r *CSVReader) findExtras(first []string) error {
	o := &r.opts
	find := func(name, what string) (int, error) {
		if r.header {
			if j := slices.Index(r.names, name); j >= 0 {
				return j, nil
			}
		}
		if k := targetIndex(name); k >= 0 && k < r.width {
			return k, nil
		}
		return -1, fmt.Errorf("%w: %s %s not among %s", ErrNoTarget, what, excerpt.Quote(name), quoteFields(first))
	}
	r.weight = -1
	if o.Weight != "" {
		j, err := find(o.Weight, "the weight column")
		if err != nil {
			return err
		}
		r.weight = j
	}
	for i, t := range o.Targets {
		if i == 0 {
			continue
		}
		j, err := find(t, "the target")
		if err != nil {
			return err
		}
		if j == r.target || j == r.weight || slices.Contains(r.extra, j) {
			return fmt.Errorf("CSVOptions.Targets %s names column %d again", excerpt.Quote(t), j+1)
		}
		r.extra = append(r.extra, j)
	}
	if r.weight >= 0 && r.weight == r.target {
		return fmt.Errorf("the weight column %s is the target column", excerpt.Quote(o.Weight))
	}
	return nil
}

// layoutFeatures lays out rows shaped like first for the given features:
// whether first is a header, where the target and the features are.
func (r *CSVReader) layoutFeatures(first []string) error {
	o := &r.opts
	if r.needTarget && len(first) < 2 {
		return fmt.Errorf("%w: need at least 2 (features and target), got %d", ErrFieldCount, len(first))
	}
	r.features = o.Features
	positional := r.positional(len(first))
	r.header, r.why = r.detectHeader(first, positional)
	r.nameColumns(first)
	switch {
	case r.header:
		r.target = slices.Index(r.names, o.Target)
		if k := decimal(o.Target); k >= 0 && k < r.width {
			r.target = k // an index, as ReadCSV takes it
		}
		if o.Target == "" && !slices.Contains(r.features, r.names[r.width-1]) {
			r.target = r.width - 1
		}
	case positional:
		r.placeFeatures()
	default:
		// The rows hold the features alone, in order.
		r.cols = make([]int, len(r.features))
		for j := range r.cols {
			r.cols[j] = j
		}
		r.names, r.width = r.features, len(r.features)
	}
	if r.needTarget && r.target < 0 {
		return r.noTarget(first)
	}
	if err := r.checkNames(); err != nil {
		return err
	}
	if r.header {
		if err := r.findFeatures(); err != nil {
			return err
		}
		if r.needTarget {
			return r.findExtras(first)
		}
		return nil
	}
	if r.needTarget && (len(o.Targets) > 1 || o.Weight != "") {
		return errors.New("nn: CSVOptions.Targets and Weight need a header, or no Features, to be found")
	}
	return nil
}

// nameColumns names the columns of rows shaped like first: by the header,
// spaces trimmed, or col0, col1, … where it has no name.
func (r *CSVReader) nameColumns(first []string) {
	r.names = make([]string, len(first))
	for j := range r.names {
		if r.header {
			r.names[j] = strings.TrimSpace(first[j])
		}
		if r.names[j] == "" {
			r.names[j] = "col" + strconv.Itoa(j)
		}
	}
}

// checkNames returns a *ParseError if two columns have the same name.
func (r *CSVReader) checkNames() error {
	if k, j := duplicate(r.names); j >= 0 {
		return &ParseError{Line: r.first, Column: j + 1, Err: fmt.Errorf("%w: column %s also names column %d", ErrDuplicateColumn, excerpt.Quote(r.names[j]), k+1)}
	}
	return nil
}

// duplicate returns the index of the first string of s that equals an
// earlier one, and the index of that one, or -1, -1 if the strings are
// distinct. It takes time linear in len(s), so that a header of a million
// columns is checked as fast as it is read.
func duplicate(s []string) (first, dup int) {
	seen := make(map[string]int, len(s))
	for j, v := range s {
		if i, ok := seen[v]; ok {
			return i, j
		}
		seen[v] = j
	}
	return -1, -1
}

// indexes returns the index of each of the distinct strings of s.
func indexes(s []string) map[string]int {
	m := make(map[string]int, len(s))
	for j, v := range s {
		m[v] = j
	}
	return m
}

// colIndex returns the index of name in m, made by indexes, or -1.
func colIndex(m map[string]int, name string) int {
	if j, ok := m[name]; ok {
		return j
	}
	return -1
}

// noTarget returns the error for data whose first row, first, has no
// column that the target option names, when the layout needs one.
func (r *CSVReader) noTarget(first []string) error {
	o := &r.opts
	k := targetIndex(o.Target)
	switch {
	case o.Target == "":
		return fmt.Errorf("%w: the last column is a feature, and CSVOptions.Target names no other", ErrNoTarget)
	case k >= 0 && !r.header:
		return fmt.Errorf("%w: index %d out of range: rows have %d columns (0 to %d)", ErrNoTarget, k, len(first), len(first)-1)
	case o.Header == HeaderNo:
		return fmt.Errorf("%w: %s given by name, but the input has no header", ErrNoTarget, excerpt.Quote(o.Target))
	}
	return fmt.Errorf("%w: %s not among %s", ErrNoTarget, excerpt.Quote(o.Target), quoteFields(first))
}

// findTarget returns, for ReadCSV's layout, the target column of the rows
// shaped like first and whether first is a header.
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
			return 0, false, fmt.Errorf("%w: %s given by name, but the input has no header", ErrNoTarget, excerpt.Quote(o.Target))
		}
		target = slices.IndexFunc(first, func(s string) bool { return strings.TrimSpace(s) == o.Target })
		if target < 0 {
			return 0, false, fmt.Errorf("%w: %s not among %s", ErrNoTarget, excerpt.Quote(o.Target), quoteFields(first))
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
		header = notNumber(first, target) >= 0
	}
	return target, header, nil
}

// detectHeader reports, for a layout with given features, whether first
// is a header, and if it was detected as one, why, for error messages.
// In headerless data whose features are found at the positions of their
// generated names (positional), a field that is not a number makes first
// a header unless it is in the target's column. Otherwise a first row
// that names the target is a header, and so is one with any field that is
// not a number.
func (r *CSVReader) detectHeader(first []string, positional bool) (header bool, why string) {
	o := &r.opts
	switch o.Header {
	case HeaderYes:
		return true, ""
	case HeaderNo:
		return false, ""
	}
	skip := -1
	switch {
	case positional:
		skip = r.positionalTarget(len(first))
	case o.Target != "" && slices.ContainsFunc(first, func(s string) bool { return strings.TrimSpace(s) == o.Target }):
		return true, fmt.Sprintf("; the first row was taken for a header because it names the target %s", excerpt.Quote(o.Target))
	}
	if j := notNumber(first, skip); j >= 0 {
		return true, fmt.Sprintf("; the first row was taken for a header because field %d, %s, is not a number", j+1, excerpt.Quote(strings.TrimSpace(first[j])))
	}
	return false, ""
}

// findFeatures finds the features by name in the header.
func (r *CSVReader) findFeatures() error {
	r.cols = make([]int, len(r.features))
	index := indexes(r.names)
	for j, f := range r.features {
		r.cols[j] = colIndex(index, f)
		if r.cols[j] < 0 {
			return fmt.Errorf("the header names no column %s (features: %s; the data's columns: %s)%s: %w", excerpt.Quote(f), excerpt.Names(r.features), excerpt.Quotes(r.names), r.why, ErrNoFeature)
		}
	}
	return nil
}

// placeFeatures lays out the features of headerless rows at the positions
// their generated names give, and the target at its own.
func (r *CSVReader) placeFeatures() {
	r.cols = make([]int, len(r.features))
	for j, f := range r.features {
		r.cols[j] = generatedIndex(f)
	}
	r.target = r.positionalTarget(r.width)
}

// positional reports whether the features of headerless rows of width
// fields are found at the positions of their names, as LoadCSV names the
// columns of headerless data (col0, col1, …): all of them have such names,
// within the row, and the row holds more than the features.
func (r *CSVReader) positional(width int) bool {
	if width == len(r.opts.Features) {
		return false
	}
	for _, f := range r.opts.Features {
		if k := generatedIndex(f); k < 0 || k >= width {
			return false
		}
	}
	return true
}

// positionalTarget returns the target column of headerless rows of width
// fields laid out by position: the column that the target option gives by
// generated name or index, or the last one for "" if it holds no feature;
// -1 for none.
func (r *CSVReader) positionalTarget(width int) int {
	o := &r.opts
	k := targetIndex(o.Target)
	if o.Target == "" {
		k = width - 1
		for _, f := range o.Features {
			if generatedIndex(f) == k {
				return -1
			}
		}
	}
	if k >= width {
		return -1
	}
	return k
}

// generatedIndex returns k for the name "colk", as LoadCSV names column k
// of headerless data, with k written without sign or leading zeros, and
// -1 for any other name.
func generatedIndex(name string) int {
	d, ok := strings.CutPrefix(name, "col")
	if !ok {
		return -1
	}
	return decimal(d)
}

// targetIndex returns the column k that a target option gives by index
// ("3") or by generated name ("col3"), or -1.
func targetIndex(target string) int {
	if k := generatedIndex(target); k >= 0 {
		return k
	}
	return decimal(target)
}

// decimal returns the value of s, a non-negative integer written in
// decimal without leading zeros, or -1 if s is anything else or too large.
func decimal(s string) int {
	if s == "" || strings.Trim(s, "0123456789") != "" || (len(s) > 1 && s[0] == '0') {
		return -1
	}
	k, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return k
}

// notNumber returns the index of the first field of row, other than
// field skip, that is not a number, or -1. A number too large or too small
// for a float64 counts as one.
func notNumber(row []string, skip int) int {
	for j, s := range row {
		if j == skip {
			continue
		}
		t := strings.TrimSpace(s)
		if goSyntax(t) {
			return j
		}
		if _, err := strconv.ParseFloat(t, 64); err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
				continue
			}
			return j
		}
	}
	return -1
}

// isIndex reports whether s is a decimal integer, possibly negative.
func isIndex(s string) bool {
	s = strings.TrimPrefix(s, "-")
	return s != "" && strings.Trim(s, "0123456789") == ""
}
