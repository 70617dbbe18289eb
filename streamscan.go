package nn

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/neuralgo/nn/internal/ctxread"
	"github.com/neuralgo/nn/internal/excerpt"
)

// The first pass over a Stream: the statistics of its training rows, from
// which the encoding, scalers and classes of its model are made, and the
// cache of its parsed rows that the epochs read.

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
	r = ctxread.Reader{Ctx: ctx, R: r}
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
