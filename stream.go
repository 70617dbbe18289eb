package nn

// Training on tables larger than memory: a first pass over the CSV files
// learns what the model needs (categories, classes, the scaler, the fill
// of missing values) and writes the parsed rows to a binary cache; each
// epoch then reads the cache through a seeded shuffle buffer.

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/neuralgo/nn/internal/excerpt"
	"gonum.org/v1/gonum/mat"
)

// DefaultShuffleBuffer is the number of rows in the shuffle buffer of a
// Stream that does not set one.
const DefaultShuffleBuffer = 65536

// Stream is a table too large to hold in memory: CSV files read one after
// another as one table, whose rows FitStream trains on in passes.
//
// The first pass reads the files, checks every row (an error names the
// file, line and column, before any training), learns the categories,
// classes, scaler and fill values from the training rows, and writes the
// parsed rows to a binary cache, files of 8 bytes per value in CacheDir
// whose names are removed as soon as they are created (where the system
// allows; else when training ends), so that a program killed while it
// trains leaves no cache behind.
// Each epoch reads the cache in order through a shuffle buffer of
// ShuffleBuffer rows: a row read replaces one drawn at random from the
// buffer, which goes to the batch, so that rows are mixed within about
// ShuffleBuffer of their place in the files. (Rows sorted by class or
// time need a buffer of a good part of the table, or a shuffle of the
// files beforehand.) The draws come from the seed, so that a run is
// reproducible, and a checkpointed run resumes as it would have gone on.
//
// The validation rows (ValidationFraction) are chosen by their row number
// and the seed, not by their class, and are measured after every epoch
// from their own cache. Memory is bounded by the shuffle buffer, the
// batches and blocks of validation rows, not by the size of the table.
type Stream struct {
	// Files are the CSV files of the table, in order; a file whose name
	// ends in .gz is gzip-compressed. Each has the same columns in the
	// same order, and its own header if the options say so.
	Files []string
	// CSV are the options that read the files (nil for the zero ones).
	// CSVOptions.Classify and Target decide the task as for ReadCSV.
	CSV *CSVOptions
	// ShuffleBuffer is the number of rows of the shuffle buffer; zero
	// means DefaultShuffleBuffer.
	ShuffleBuffer int
	// CacheDir is the directory of the cache files of parsed rows; ""
	// means os.TempDir().
	CacheDir string
	// Wrap, if not nil, wraps the reader of each file in the first pass,
	// as nn train does to show how much of it has been read.
	Wrap func(r io.Reader, file string) io.Reader
	// Scanned, if not nil, is called after the first pass with what it
	// found; an error it returns ends FitStream before training, as nn
	// train does for a network whose model file would be too large.
	Scanned func(StreamScan) error
}

// StreamScan is what the first pass over a Stream found.
type StreamScan struct {
	// Train and Validation are the numbers of rows to train on and held
	// out for validation.
	Train, Validation int
	// Inputs and Outputs are the widths of the network's input (the
	// features, encoded) and output (the classes, or the targets).
	Inputs, Outputs int
	// Features, Target and Targets name the columns (Targets those of a
	// regression on several targets, nil for one), and Classes are the
	// class labels of a classifier, sorted.
	Features []string
	Target   string
	Targets  []string
	Classes  []string
}

// FitStream trains the classifier on the rows of s, with the first pass
// and cache that Stream describes, and sets c.Model and c.Report (HeldOut
// stays nil: the validation rows stay in the cache). The hyperparameters
// are those of Fit, but for Impute: a stream fills in a missing number
// with the mean (ImputeMean) only, and a missing category with the most
// frequent. Refit is not supported.
func (c *Classifier) FitStream(ctx context.Context, s *Stream) error {
	c.Model, c.Report, c.HeldOut, c.partial = nil, nil, nil, nil
	h, err := c.hyper()
	if err != nil {
		return err
	}
	m, report, err := fitStream(ctx, h, s, true)
	if report != nil {
		c.Model, c.Report = m, report
	}
	return err
}

// FitStream trains the regressor on the rows of s, as Classifier's
// FitStream does.
func (r *Regressor) FitStream(ctx context.Context, s *Stream) error {
	r.Model, r.Report, r.HeldOut, r.partial = nil, nil, nil, nil
	h, err := r.hyper()
	if err != nil {
		return err
	}
	m, report, err := fitStream(ctx, h, s, false)
	if report != nil {
		r.Model, r.Report = m, report
	}
	return err
}

func fitStream(ctx context.Context, h *hyper, s *Stream, classify bool) (*Model, *Report, error) {
	switch {
	case len(s.Files) == 0:
		return nil, nil, errors.New("nn: Stream has no Files")
	case s.ShuffleBuffer < 0:
		return nil, nil, fmt.Errorf("nn: Stream.ShuffleBuffer is %d, want a positive number of rows (or 0 for %d)", s.ShuffleBuffer, DefaultShuffleBuffer)
	case h.refit:
		return nil, nil, errors.New("nn: Refit trains twice on the rows in memory; FitStream does not support it")
	case h.impute != ImputeMean:
		return nil, nil, fmt.Errorf("nn: Impute %v needs every value of a column at once; FitStream fills in the mean (ImputeMean)", h.impute)
	}
	o := CSVOptions{}
	if s.CSV != nil {
		o = *s.CSV
	}
	if o.Classify != classify {
		if classify {
			return nil, nil, errors.New("nn: a Classifier's Stream reads class labels: set CSVOptions.Classify")
		}
		return nil, nil, errors.New("nn: a Regressor's Stream reads numeric targets: CSVOptions.Classify must be false")
	}
	dir := s.CacheDir
	if dir == "" {
		dir = os.TempDir()
	}
	sc := &streamScan{s: s, h: h, opts: o, dir: dir}
	defer sc.close() // whatever trainStream closed already
	if err := sc.scan(ctx); err != nil {
		return nil, nil, err
	}
	prep, err := sc.prepare()
	if err != nil {
		return nil, nil, err
	}
	outputs := len(sc.classes)
	if !classify {
		outputs = sc.targets
	}
	if s.Scanned != nil {
		scan := StreamScan{
			Train: sc.trainRows, Validation: sc.valRows, Inputs: prep.inputs(), Outputs: outputs,
			Features: slices.Clone(sc.features), Target: sc.target, Targets: slices.Clone(sc.targetNames), Classes: slices.Clone(sc.classes),
		}
		if err := s.Scanned(scan); err != nil {
			return nil, nil, err
		}
	}
	for label := range h.classWeights {
		if !slices.Contains(sc.classes, label) {
			return nil, nil, fmt.Errorf("nn: ClassWeights names the class %s, which the stream does not hold (classes: %s)", excerpt.Quote(label), excerpt.Quotes(sc.classes))
		}
	}
	net, err := New(h.config(prep.inputs(), outputs, classify))
	if err != nil {
		return nil, nil, err
	}
	train := &cacheSet{file: sc.trainCache.f, rows: sc.trainRows, prep: prep}
	var val passSet
	if sc.valRows > 0 {
		val = &cacheSet{file: sc.valCache.f, rows: sc.valRows, prep: prep, noWeights: true}
	}
	buffer := s.ShuffleBuffer
	if buffer == 0 {
		buffer = DefaultShuffleBuffer
	}
	report, err := trainStream(ctx, net, h.settings(h.epochs), train, val, min(buffer, sc.trainRows), sc.digest+"/"+prep.digest(sc.classes))
	if report == nil {
		return nil, nil, err
	}
	if prep.yScaler != nil {
		unscaleOutput(net, prep.yScaler)
	}
	m := &Model{Network: net, Scaler: prep.scaler, Encoding: prep.enc, Features: sc.features, Target: sc.target, Targets: sc.targetNames, Classes: slices.Clone(sc.classes)}
	if !sc.needEnc {
		m.Encoding = nil
	}
	return m, report, err
}

// isValidation reports whether data row i (0-based, over all the files)
// of a stream trained with seed is held out for validation, which a
// fraction frac of the rows are: a hash of the row number and the seed
// below frac of its range.
func isValidation(i int64, seed uint64, frac float64) bool {
	if frac <= 0 {
		return false
	}
	// SplitMix64 of the row number, keyed by the seed.
	z := uint64(i)*0x9e3779b97f4a7c15 + seed*0xbf58476d1ce4e5b9 + 0x6e6e2d76616c // "nn-val"
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11)/(1<<53) < frac
}

// columnStats are the statistics of a feature over the training rows of
// a stream: of its numbers, by Welford's method, or the count of each of
// its categories.
type columnStats struct {
	n           int64 // values that are not missing
	mean, m2    float64
	lo, hi, abs float64
	missing     int64
	counts      []int64 // of each category code, for a categorical feature
	unknown     int64   // codes −1: categories not among fixed ones
	// all counts each category code in every row, validation rows too,
	// for the check of a column made categorical by detection; anyMissing
	// says whether a row of any kind misses the value.
	all        []int64
	anyMissing bool
}

func (c *columnStats) add(v float64) {
	c.n++
	d := v - c.mean
	c.mean += d / float64(c.n)
	c.m2 += d * (v - c.mean)
	if c.n == 1 {
		c.lo, c.hi = v, v
	}
	c.lo, c.hi, c.abs = min(c.lo, v), max(c.hi, v), max(c.abs, math.Abs(v))
}

// streamScan is the first pass over a stream.
type streamScan struct {
	s    *Stream
	h    *hyper
	opts CSVOptions
	dir  string

	features    []string
	target      string
	targetNames []string // of several targets
	targets     int      // the number of targets of a regression
	weighted    bool
	table       *table // categories, shared by the files
	cols        []columnStats
	ys          []columnStats // of each target
	b           *csvBuilder   // reads the targets and learns the classes
	classes     []string      // sorted, once the pass is done
	classCounts []int64       // in the training rows
	needEnc     bool

	trainRows, valRows   int
	trainCache, valCache *cacheWriter // the cache files, open
	digest               string       // of the cached rows
	width                int          // values per cached row
	catRemap             [][]int      // of each feature: the sorted index of each code, or nil
}

// scan runs the first pass, again if it found columns of text that must
// be read as categories from the start.
func (sc *streamScan) scan(ctx context.Context) error {
	detected, err := sc.pass(ctx)
	if err != nil || len(detected) == 0 {
		return err
	}
	// Columns that turned out to hold text: read them as categories from
	// the first row, then hold them to the rule of ReadCSV, that a column
	// of numbers with a stray text is an error.
	for j := range detected {
		sc.opts.Categorical = append(slices.Clone(sc.opts.Categorical), sc.features[j])
	}
	if _, err := sc.pass(ctx); err != nil {
		return err
	}
	// In the order of the columns, as ReadCSV checks them.
	for _, j := range slices.Sorted(maps.Keys(detected)) {
		at := detected[j]
		c := sc.table.cats[j]
		var numbers, text int64
		for code, n := range sc.cols[j].all {
			if _, err := parseCSVNumber(c.names[code]); err == nil {
				numbers += n
			} else {
				text += n
			}
		}
		if numbers >= text {
			return &ParseError{File: at.file, Line: at.line, Column: at.column, Err: fmt.Errorf("%w: %s (column %s), in a column of numbers (%d of its %d values are); to read the column as categories, name it in CSVOptions.Categorical, or to read the value as missing, list it in CSVOptions.Missing", ErrNotNumber, excerpt.Quote(at.text), excerpt.Quote(sc.features[j]), numbers, numbers+text)}
		}
	}
	return nil
}

// detectedAt is where a column made categorical by detection first held
// text.
type detectedAt struct {
	fieldText
	file string
}

// pass reads every file once, gathering the statistics and writing the
// cache. It returns the columns made categorical by detection in it.
func (sc *streamScan) pass(ctx context.Context) (map[int]detectedAt, error) {
	sc.table, sc.cols, sc.ys, sc.b, sc.features, sc.classCounts = nil, nil, nil, nil, nil, nil
	sc.trainRows, sc.valRows = 0, 0
	sc.close()
	var err error
	if sc.trainCache, err = newCacheWriter(sc.dir); err != nil {
		return nil, err
	}
	if sc.valCache, err = newCacheWriter(sc.dir); err != nil {
		return nil, err
	}
	train, val := sc.trainCache, sc.valCache
	detected := map[int]detectedAt{}
	var row int64
	for _, file := range sc.s.Files {
		if err := sc.file(ctx, file, &row, train, val, detected); err != nil {
			return nil, err
		}
	}
	if err := train.flush(); err != nil {
		return nil, err
	}
	if err := val.flush(); err != nil {
		return nil, err
	}
	if sc.trainRows == 0 {
		return nil, &ParseError{File: sc.s.Files[0], Err: fmt.Errorf("%w: no training rows in %d rows", ErrEmpty, sc.valRows)}
	}
	if sc.valRows == 0 && sc.h.val > 0 {
		return nil, &ParseError{File: sc.s.Files[0], Err: fmt.Errorf("%d rows are too few to hold out a fraction of %v of them for validation (set ValidationFraction negative, or nn train's -val 0, for none)", sc.trainRows, sc.h.val)}
	}
	sc.digest = fmt.Sprintf("%d:%08x/%d:%08x", sc.trainRows, train.sum.Sum32(), sc.valRows, val.sum.Sum32())
	return detected, nil
}

// close closes the files of the cache.
func (sc *streamScan) close() {
	for _, c := range []*cacheWriter{sc.trainCache, sc.valCache} {
		if c != nil {
			c.close()
		}
	}
	sc.trainCache, sc.valCache = nil, nil
}

// file reads one file of the stream, whose first data row is row.
func (sc *streamScan) file(ctx context.Context, file string, row *int64, train, val *cacheWriter, detected map[int]detectedAt) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<16)
	gz := strings.HasSuffix(file, ".gz")
	if gz {
		zr, err := gzip.NewReader(r)
		switch {
		case err == io.EOF:
			return nil // an empty file, as an empty part of CSV
		case err != nil:
			return fmt.Errorf("nn: %s: not gzip data, as its name says: %v", file, err)
		}
		defer zr.Close()
		r = zr
	}
	r = ctxReader{ctx, r}
	if sc.s.Wrap != nil {
		r = sc.s.Wrap(r, file)
	}
	var cr *CSVReader
	fail := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if pe, ok := err.(*ParseError); ok {
			pe.File = file
			return err
		}
		if !strings.HasPrefix(err.Error(), "nn: ") {
			// An error of reading the file, such as gzip's.
			if gz && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader)) {
				line := 1
				if cr != nil {
					line = cr.next
				}
				return fmt.Errorf("nn: %s:%d: the gzip data is cut short or damaged here: %w", file, line, err)
			}
			return fmt.Errorf("nn: %s: %w", file, err)
		}
		return err
	}
	cr = NewCSVReader(r, &sc.opts)
	cr.needTarget = true
	features, target, err := cr.Columns()
	if err == io.EOF {
		return nil // an empty part adds no rows
	}
	if err != nil {
		return fail(err)
	}
	if sc.features == nil {
		b, err := newCSVBuilder(cr)
		if err != nil {
			return err
		}
		sc.b = b
		sc.start(cr, features, target)
	} else if !slices.Equal(features, sc.features) || target != sc.target {
		return fmt.Errorf("nn: %s: the columns %s (target %s) are not those of %s: %s (target %s)", file, excerpt.Names(features), excerpt.Quote(target), sc.s.Files[0], excerpt.Names(sc.features), excerpt.Quote(sc.target))
	}
	cr.table = sc.table
	b := sc.b
	b.r = cr
	cr.checkTarget = func(label string) error {
		_, _, err := b.target(label)
		return err
	}
	x := make([]float64, len(features))
	rec := make([]float64, sc.width)
	for {
		line, err := cr.Read(x)
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		if t := cr.table; t != nil && len(t.detected) > len(detected) {
			for j, at := range t.detected {
				if _, ok := detected[j]; !ok {
					detected[j] = detectedAt{at, file}
				}
			}
		}
		class, v, err := b.label()
		if err != nil {
			return fail(err)
		}
		copy(rec, x)
		k := len(x)
		if b.classify {
			rec[k] = float64(class)
			k++
		} else {
			rec[k] = v
			copy(rec[k+1:], b.extraY)
			k += 1 + len(b.extraY)
		}
		if sc.weighted {
			rec[k] = b.weight
		}
		out := train
		if isValidation(*row, sc.h.seed, sc.h.val) {
			out = val
			sc.valRows++
			sc.countAll(x)
		} else {
			sc.trainRows++
			sc.countAll(x)
			sc.count(x, class, v, b.extraY)
		}
		if err := out.write(rec); err != nil {
			return err
		}
		*row++
		if *row%4096 == 0 {
			// What grows with the rows: the categories and classes
			// learned (a column of identifiers has one per row), and
			// their counts.
			need := float64(cr.categoryBytes()+b.classBytes) + float64(sc.categoryCount()+len(b.classes))*8
			if err := overBudget(need, fmt.Sprintf("the categories and classes of the %d rows up to this one", *row)); err != nil {
				return &ParseError{File: file, Line: line, Err: fmt.Errorf("%w; a column of identifiers has a category per row: drop it", err)}
			}
		}
	}
	return nil
}

// start lays out the stream from its first file, read by cr.
func (sc *streamScan) start(cr *CSVReader, features []string, target string) {
	sc.features, sc.target = features, target
	sc.table = cr.table
	sc.weighted = cr.weight >= 0
	sc.targets = 1 + len(cr.extra)
	if len(sc.opts.Targets) > 0 {
		sc.targetNames = []string{target}
		for _, k := range cr.extra {
			sc.targetNames = append(sc.targetNames, cr.names[k])
		}
	}
	sc.cols = make([]columnStats, len(features))
	sc.ys = make([]columnStats, sc.targets)
	sc.width = len(features) + sc.targets
	if sc.opts.Classify {
		sc.width = len(features) + 1
	}
	if sc.weighted {
		sc.width++
	}
}

// categoryCount returns the number of categories counted.
func (sc *streamScan) categoryCount() int {
	n := 0
	for j := range sc.cols {
		n += len(sc.cols[j].counts) + len(sc.cols[j].all)
	}
	return n
}

// countAll adds a row of any kind to what is counted over every row: the
// categories, and whether values are missing.
func (sc *streamScan) countAll(x []float64) {
	for j, xv := range x {
		c := &sc.cols[j]
		switch {
		case math.IsNaN(xv):
			c.anyMissing = true
		case xv >= 0 && sc.table != nil && sc.table.cats[j] != nil:
			code := int(xv)
			for len(c.all) <= code {
				c.all = append(c.all, 0)
			}
			c.all[code]++
		}
	}
}

// count adds a training row to the statistics: its features x, and its
// class or targets v and extra.
func (sc *streamScan) count(x []float64, class int, v float64, extra []float64) {
	for j, xv := range x {
		c := &sc.cols[j]
		switch {
		case math.IsNaN(xv):
			c.missing++
		case sc.table != nil && sc.table.cats[j] != nil:
			if xv < 0 {
				c.unknown++
				continue
			}
			code := int(xv)
			for len(c.counts) <= code {
				c.counts = append(c.counts, 0)
			}
			c.counts[code]++
		default:
			c.add(xv)
		}
	}
	if sc.opts.Classify {
		for len(sc.classCounts) <= class {
			sc.classCounts = append(sc.classCounts, 0)
		}
		sc.classCounts[class]++
		return
	}
	sc.ys[0].add(v)
	for k, e := range extra {
		sc.ys[k+1].add(e)
	}
}

// prepare makes the encoding, scalers and class order of the stream from
// its statistics, and the preparation of its cached rows.
func (sc *streamScan) prepare() (*rawPrep, error) {
	h := sc.h
	p := len(sc.features)
	enc := &Encoding{Columns: make([]ColumnEncoding, p), Missing: slices.Clone(sc.opts.Missing)}
	sc.catRemap = make([][]int, p)
	for j := range p {
		c := &sc.cols[j]
		name := "column " + excerpt.Quote(sc.features[j])
		ce := &enc.Columns[j]
		if sc.table != nil && sc.table.cats[j] != nil {
			cat := sc.table.cats[j]
			names, remap := cat.sorted()
			if cat.fixed {
				names, remap = slices.Clone(cat.names), nil
			}
			ce.Categories = names
			if ce.Categories == nil {
				ce.Categories = []string{}
			}
			sc.catRemap[j] = remap
			counts := make([]int64, len(names))
			for code, n := range c.counts {
				if remap != nil {
					code = remap[code]
				}
				counts[code] = n
			}
			c.counts = counts
			best := -1
			for code, n := range counts {
				if n > 0 && (best < 0 || n > counts[best]) {
					best = code
				}
			}
			if best < 0 {
				return nil, fmt.Errorf("nn: %s: no training row holds a known category", name)
			}
			ce.Fill = float64(best)
			sc.needEnc = true
		} else {
			if c.n == 0 {
				return nil, fmt.Errorf("nn: %s: every one of its %d values in the training rows is missing; drop the column", name, c.missing)
			}
			ce.Fill = c.mean
		}
		// Missing values in any row, validation rows too, need the
		// encoding to fill them in; an indicator goes with those of the
		// training rows, as in memory.
		if c.anyMissing {
			sc.needEnc = true
		}
		ce.Indicator = h.indicator && c.missing > 0
	}
	prep := &rawPrep{p: p, classify: sc.opts.Classify, targets: sc.targets, weighted: sc.weighted, rowWeights: sc.weighted, catRemap: sc.catRemap}
	if sc.needEnc {
		prep.enc = enc
	}
	// The classes in order, and the remapping of their codes.
	if sc.opts.Classify {
		sc.classes = sc.b.classes
		if sc.b.fixed {
			sc.classes = slices.Clone(sc.classes)
		} else {
			order := sortLabels(sc.classes)
			remap := make([]int, len(order))
			sorted := make([]string, len(order))
			for i, old := range order {
				remap[old] = i
				sorted[i] = sc.classes[old]
			}
			sc.classes, prep.classRemap = sorted, remap
			counts := make([]int64, len(sorted))
			for old, n := range sc.classCounts {
				counts[remap[old]] = n
			}
			sc.classCounts = counts
		}
		for len(sc.classCounts) < len(sc.classes) {
			sc.classCounts = append(sc.classCounts, 0)
		}
		if len(sc.classes) < 2 {
			return nil, fmt.Errorf("nn: %s holds %d classes in the target column %s; classification needs at least two", sc.s.Files[0], len(sc.classes), excerpt.Quote(sc.target))
		}
		if err := checkClasses(sc.classes); err != nil {
			return nil, fmt.Errorf("nn: %w", err)
		}
		prep.classes = len(sc.classes)
		if h.balanced || h.classWeights != nil {
			sc.classWeights(prep)
		}
	}
	if h.scale != NoScaling {
		prep.scaler = sc.scaler(enc, prep.inputs())
		for j := range prep.scaler.Offset {
			if o, s := prep.scaler.Offset[j], prep.scaler.Scale[j]; !finite(o) || !finite(s) {
				return nil, fmt.Errorf("nn: the values of input %d are too large for scaling by %v (offset %v, scale %v); divide the column by a power of ten", j, h.scale, o, s)
			}
		}
	}
	if !sc.opts.Classify {
		prep.yScaler = &Scaler{Kind: Standardize, Offset: make([]float64, sc.targets), Scale: make([]float64, sc.targets)}
		for k := range sc.ys {
			c := &sc.ys[k]
			s := math.Sqrt(c.m2 / float64(c.n))
			if s == 0 {
				s = 1
			}
			if !finite(c.mean) || !finite(s) {
				name := sc.target
				if k < len(sc.targetNames) {
					name = sc.targetNames[k]
				}
				return nil, fmt.Errorf("nn: the values of the target %s are too large to standardise (offset %v, scale %v); divide the column by a power of ten", excerpt.Quote(name), c.mean, s)
			}
			prep.yScaler.Offset[k], prep.yScaler.Scale[k] = c.mean, s
		}
	}
	return prep, nil
}

// classWeights sets the weight of each class of the stream in prep.
func (sc *streamScan) classWeights(prep *rawPrep) {
	h := sc.h
	k := len(sc.classes)
	prep.classWeights = make([]float64, k)
	for c := range prep.classWeights {
		w := 1.0
		if h.balanced && sc.classCounts[c] > 0 {
			w = float64(sc.trainRows) / (float64(k) * float64(sc.classCounts[c]))
		}
		if v, ok := h.classWeights[sc.classes[c]]; ok {
			w *= v
		}
		prep.classWeights[c] = w
	}
	prep.weighted = true
}

// scaler returns the scaler of the kind of sc.h fitted to the encoded
// training rows, from the statistics of their columns: a missing number
// is filled in with the mean, which adds nothing to the spread, and a
// category or an indicator is 1 in a share of the rows and 0 elsewhere.
func (sc *streamScan) scaler(enc *Encoding, width int) *Scaler {
	kind := sc.h.scale
	s := &Scaler{Kind: kind, Offset: make([]float64, 0, width), Scale: make([]float64, 0, width)}
	n := float64(sc.trainRows)
	put := func(mean, variance, lo, hi, abs float64) {
		var offset, scale float64
		switch kind {
		case Standardize:
			offset, scale = mean, math.Sqrt(max(variance, 0))
		case MinMax:
			offset, scale = lo, hi-lo
		case MaxAbs:
			scale = abs
		}
		if scale == 0 {
			scale = 1
		}
		s.Offset, s.Scale = append(s.Offset, offset), append(s.Scale, scale)
	}
	// share puts an input that is 1 in k of the n rows and 0 in the rest.
	share := func(k float64) {
		p := k / n
		lo, hi := 0.0, 1.0
		switch k {
		case 0:
			hi = 0
		case n:
			lo = 1
		}
		put(p, p*(1-p), lo, hi, hi)
	}
	for j := range enc.Columns {
		c := &sc.cols[j]
		ce := &enc.Columns[j]
		if ce.Categories != nil {
			for code := range ce.Categories {
				k := float64(c.counts[code])
				if float64(code) == ce.Fill {
					k += float64(c.missing)
				}
				share(k)
			}
		} else {
			put(c.mean, c.m2/n, c.lo, c.hi, c.abs)
		}
		if ce.Indicator {
			share(float64(c.missing))
		}
	}
	return s
}

// rawPrep prepares the rows of a stream's cache for the network: the
// codes of categories and classes remapped to their sorted order, the
// features encoded and scaled, the class one-hot or the targets scaled,
// and the weight of the row and its class last.
type rawPrep struct {
	p            int // features
	classify     bool
	classes      int // of a classifier
	targets      int
	weighted     bool      // the rows are weighted: by a column, or their class
	rowWeights   bool      // the cached rows hold a weight
	enc          *Encoding // nil for none
	scaler       *Scaler   // nil for none
	yScaler      *Scaler
	catRemap     [][]int // of each feature: the sorted index of each code, or nil
	classRemap   []int   // the sorted index of each class code, or nil
	classWeights []float64
	x            []float64 // the features of a row, remapped
}

// digest returns a digest of what p makes of the cached rows, with the
// classes, so that a checkpoint tells a run on the same rows prepared
// otherwise (another scaling, class weights, categories) from its own.
func (p *rawPrep) digest(classes []string) string {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	var buf []byte
	floats := func(v []float64) {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(v)))
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		}
		h.Write(buf)
	}
	text := func(v []string) {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(v)))
		for _, t := range v {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(len(t)))
			buf = append(buf, t...)
		}
		h.Write(buf)
	}
	text(classes)
	floats(p.classWeights)
	for _, sc := range []*Scaler{p.scaler, p.yScaler} {
		if sc == nil {
			floats(nil)
			continue
		}
		floats(sc.Offset)
		floats(sc.Scale)
	}
	if p.enc != nil {
		for _, c := range p.enc.Columns {
			text(c.Categories)
			ind := 0.0
			if c.Indicator {
				ind = 1
			}
			floats([]float64{c.Fill, ind})
		}
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

// inputs returns the number of inputs of a prepared row.
func (p *rawPrep) inputs() int {
	if p.enc != nil {
		return p.enc.Width()
	}
	return p.p
}

// outputs returns the number of targets of a prepared row, its weight
// included.
func (p *rawPrep) outputs(weights bool) int {
	n := p.targets
	if p.classify {
		n = p.classes
	}
	if weights && p.weighted {
		n++
	}
	return n
}

// row prepares the cached row raw into the input x and the targets y,
// with the weight last in y if weights.
func (p *rawPrep) row(x, y, raw []float64, weights bool) {
	if p.x == nil {
		p.x = make([]float64, p.p)
	}
	copy(p.x, raw[:p.p])
	for j, remap := range p.catRemap {
		if v := p.x[j]; remap != nil && v >= 0 {
			p.x[j] = float64(remap[int(v)])
		}
	}
	if p.enc != nil {
		p.enc.EncodeRow(x, p.x)
	} else {
		copy(x, p.x)
	}
	if p.scaler != nil {
		p.scaler.TransformRow(x, x)
	}
	k := p.p
	w := 1.0
	if p.classify {
		c := int(raw[k])
		if p.classRemap != nil {
			c = p.classRemap[c]
		}
		n := len(y)
		if weights && p.weighted {
			n--
		}
		clear(y[:n])
		y[c] = 1
		if p.classWeights != nil {
			w = p.classWeights[c]
		}
		k++
	} else {
		copy(y, raw[k:k+p.targets])
		p.yScaler.TransformRow(y[:p.targets], y[:p.targets])
		k += p.targets
	}
	if p.rowWeights {
		w *= raw[k]
	}
	if weights && p.weighted {
		y[len(y)-1] = w
	}
}

// cacheWriter writes rows of float64 to a cache file.
type cacheWriter struct {
	f    *os.File
	w    *bufio.Writer
	sum  hash.Hash32 // CRC-32C of the rows, to tell another table at resume
	buf  []byte
	name string // the name of the file, if it could not be removed at once
}

// newCacheWriter creates a cache file in dir, open for reading and
// writing, and removes its name at once where the system allows it (else
// close does), so that a program killed while it trains leaves no cache
// behind.
func newCacheWriter(dir string) (*cacheWriter, error) {
	f, err := os.CreateTemp(dir, "nn-stream-*.bin")
	if err != nil {
		return nil, fmt.Errorf("nn: the cache of the stream: %w", err)
	}
	c := &cacheWriter{f: f, w: bufio.NewWriterSize(f, 1<<16), sum: crc32.New(crc32.MakeTable(crc32.Castagnoli))}
	if os.Remove(f.Name()) != nil {
		c.name = f.Name()
	}
	return c, nil
}

func (c *cacheWriter) write(row []float64) error {
	c.buf = c.buf[:0]
	for _, v := range row {
		c.buf = binary.LittleEndian.AppendUint64(c.buf, math.Float64bits(v))
	}
	c.sum.Write(c.buf)
	if _, err := c.w.Write(c.buf); err != nil {
		return fmt.Errorf("nn: writing the cache of the stream: %w", err)
	}
	return nil
}

func (c *cacheWriter) flush() error {
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("nn: writing the cache of the stream: %w", err)
	}
	return nil
}

func (c *cacheWriter) close() {
	c.f.Close()
	if c.name != "" {
		os.Remove(c.name)
	}
}

// cacheSet is the rows of a cache file, read in order a pass at a time.
type cacheSet struct {
	file      *os.File // written by the first pass; closed by close
	rows      int
	prep      *rawPrep
	noWeights bool // the validation rows: targets without weights

	r     *bufio.Reader
	raw   []float64
	bytes []byte
	err   error
}

// width returns the number of values of a cached row.
func (c *cacheSet) width() int {
	p := c.prep
	w := p.p + p.targets
	if p.classify {
		w = p.p + 1
	}
	if p.rowWeights {
		w++
	}
	return w
}

// rewind starts a pass over the rows.
func (c *cacheSet) rewind() error {
	if c.r == nil {
		c.r = bufio.NewReaderSize(c.file, 1<<20)
		c.bytes = make([]byte, 8*c.width())
	}
	if _, err := c.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("nn: the cache of the stream: %w", err)
	}
	c.r.Reset(c.file)
	return nil
}

// next reads the next cached row into dst.
func (c *cacheSet) next(dst []float64) error {
	if _, err := io.ReadFull(c.r, c.bytes); err != nil {
		return fmt.Errorf("nn: reading the cache of the stream: %w", err)
	}
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(c.bytes[8*i:]))
	}
	return nil
}

func (c *cacheSet) close() {
	if c.file != nil {
		c.file.Close()
		c.file = nil
	}
}

// The validation rows as a blockSource.
func (c *cacheSet) len() int     { return c.rows }
func (c *cacheSet) inputs() int  { return c.prep.inputs() }
func (c *cacheSet) outputs() int { return c.prep.outputs(!c.noWeights) }
func (c *cacheSet) error() error { return c.err }

func (c *cacheSet) gatherRange(x, y *mat.Dense, off int) {
	if c.err != nil {
		return
	}
	if c.raw == nil {
		c.raw = make([]float64, c.width())
	}
	c.err = readBlock(c, c.raw, x, y, off)
}

func (c *cacheSet) prepare(x, y, raw []float64) { c.prep.row(x, y, raw, !c.noWeights) }
func (c *cacheSet) weighted() bool              { return c.prep.weighted && !c.noWeights }

// passSet is a set of rows read a pass at a time, in order: a stream's
// cache, or Rows.
type passSet interface {
	blockSource
	// width returns the number of values of a row as read.
	width() int
	// rewind starts a pass.
	rewind() error
	// next reads the next row into raw.
	next(raw []float64) error
	// prepare stores the input and targets of the row raw in x and y,
	// with its weight last in y if the rows are weighted.
	prepare(x, y, raw []float64)
	weighted() bool
	close()
}

// readBlock reads the rows off, off+1, … of p into the rows of x and y,
// as many as they have, starting a pass at row 0; raw holds a row as read.
func readBlock(p passSet, raw []float64, x, y *mat.Dense, off int) error {
	if off == 0 {
		if err := p.rewind(); err != nil {
			return err
		}
	}
	r, _ := x.Dims()
	for i := range r {
		if err := p.next(raw); err != nil {
			return err
		}
		p.prepare(x.RawRowView(i), y.RawRowView(i), raw)
	}
	return nil
}

// shuffler draws the rows of a pass over a cacheSet through a shuffle
// buffer.
type shuffler struct {
	set  passSet
	rnd  *rand.Rand
	buf  []float64 // size rows of the cached width
	size int
	n    int // rows in buf
	read int // rows of the pass read into buf
	out  int // rows of the pass drawn
}

func newShuffler(set passSet, size int) *shuffler {
	return &shuffler{set: set, size: size, buf: make([]float64, size*set.width())}
}

// start begins a pass, drawing from rnd.
func (s *shuffler) start(rnd *rand.Rand) error {
	s.rnd, s.n, s.read, s.out = rnd, 0, 0, 0
	return s.set.rewind()
}

// draw prepares the next row of the pass into x and y, and reports
// whether there was one.
func (s *shuffler) draw(x, y []float64) (bool, error) {
	w := s.set.width()
	for s.n < s.size && s.read < s.set.len() {
		if err := s.set.next(s.buf[s.n*w : (s.n+1)*w]); err != nil {
			return false, err
		}
		s.n++
		s.read++
	}
	if s.n == 0 {
		return false, nil
	}
	// Draw a row of the buffer; the last of the buffer takes its place,
	// and the next row read fills the end.
	i := s.rnd.IntN(s.n)
	row := s.buf[i*w : (i+1)*w]
	s.set.prepare(x, y, row)
	s.n--
	copy(row, s.buf[s.n*w:(s.n+1)*w])
	s.out++
	return true, nil
}

// ctxReader reads r until ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// trainStream trains n on the stream train, validated on val (nil for
// none), as Train does on rows in memory: the same schedules, early
// stopping, checkpoints and resume, with the rows of each epoch drawn
// through a shuffle buffer of buffer rows.
func trainStream(ctx context.Context, n *Network, s *Settings, train, val passSet, buffer int, digest string) (*Report, error) {
	start := time.Now()
	c := s.WithDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	if val != nil && (s == nil || s.Patience == 0) {
		c.Patience = defaultPatience
	}
	if c.Method == LBFGS || c.Method == GradientDescent {
		return nil, fmt.Errorf("nn: Method %v takes a step on every row at once; a stream trains by mini-batches (sgd, momentum, nesterov, adam, adamw)", c.Method)
	}
	vrows := 0
	if val != nil {
		vrows = val.len()
	}
	size := min(max(c.BatchSize, 1), train.len())
	if c.BatchSize == 0 {
		size = min(32, train.len())
	}
	need := trainBytes(n, &c, size, min(vrows, valBlock), false) + float64(buffer)*float64(train.width())*float64Bytes
	if err := overBudget(need, fmt.Sprintf("training a network of %d parameters by %v on a stream with a shuffle buffer of %d rows", len(n.params), c.Method, buffer)); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	if c.Monitor == MonitorAccuracy && (val == nil || n.loss == SquaredError) {
		return nil, errors.New("nn: Settings.Monitor is accuracy, which needs a validation set (ValidationFraction) and a classifier's loss (cross-entropy)")
	}
	defer train.close()
	pcg := rand.NewPCG(c.Seed, 0x6e6e2d747261696e) // "nn-train"
	rnd := rand.New(pcg)
	if val != nil {
		defer val.close()
	}
	r := newRun(ctx, n, &c, start, val)
	r.weighted = train.weighted()
	if (c.CheckpointEvery > 0 && c.Checkpoint != nil) || c.Resume != nil {
		// The data of a stream is its rows and the order the shuffle
		// buffer draws them in.
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/shuffle-buffer=%d", digest, buffer))
		r.fingerprint = fingerprint(n, &c, train.len(), val != nil, hex.EncodeToString(sum[:]))
	}
	var err error
	if r.trainer, err = NewTrainer(n, r.s); err == nil {
		r.trainer.weighted = r.weighted
		if c.Resume != nil {
			err = r.resume(c.Resume, pcg)
		}
		if err == nil {
			err = r.descendStream(train, newShuffler(train, buffer), size, rnd, pcg)
		}
	}
	r.end()
	return r.report, err
}

// descendStream takes one step per mini-batch of size rows, drawn from
// the shuffler sh a pass of the stream train at a time; the loss of an
// epoch is the mean of its batches' losses, as in descendBatches.
func (r *run) descendStream(train passSet, sh *shuffler, size int, rnd *rand.Rand, pcg *rand.PCG) error {
	t := r.trainer
	t.prev = slices.Clone(r.net.params)
	rows := train.len()
	bx := mat.NewDense(size, train.inputs(), nil)
	by := mat.NewDense(size, train.outputs(), nil)
	// The last, shorter batch views the buffers of a full one.
	rx, ry := bx, by
	if last := rows % size; last != 0 {
		rx = bx.Slice(0, last, 0, train.inputs()).(*mat.Dense)
		ry = by.Slice(0, last, 0, train.outputs()).(*mat.Dense)
	}
	spe := (rows + size - 1) / size
	for e := len(r.report.History) + 1; e <= r.s.Epochs; e++ {
		t.lr = r.s.rateAt(e-1, t.t, spe, r.plateau.rate)
		r.epochLR = t.lr
		if err := sh.start(rnd); err != nil {
			return err
		}
		var sum float64
		for off := 0; off < rows; off += size {
			if err := r.cancelled(); err != nil {
				return err
			}
			if r.s.PerStep {
				t.lr = r.s.rateAt(e-1, t.t, spe, r.plateau.rate)
			}
			k := min(size, rows-off)
			x, y := bx, by
			if k < size {
				x, y = rx, ry
			}
			for i := range k {
				ok, err := sh.draw(x.RawRowView(i), y.RawRowView(i))
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("nn: the cache of the stream ended after %d of its %d rows", off+i, rows)
				}
			}
			cost := t.step(x, y)
			if !finite(cost) {
				return r.diverged(e, cost, t.prev)
			}
			sum += cost * float64(k)
		}
		if !paramsFinite(r.net.params) {
			return r.diverged(e, sum/float64(rows), t.prev)
		}
		loss := sum/float64(rows) + r.net.l2Penalty(r.s.L2)
		stop, err := r.endEpoch(e, loss, pcg)
		if err == nil && r.val != nil {
			err = r.val.set.error()
		}
		if stop || err != nil {
			return err
		}
	}
	return nil
}
