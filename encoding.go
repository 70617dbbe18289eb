package nn

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn/internal/excerpt"
)

// Impute says how FitEncoding fills in the missing values of a numeric
// column.
type Impute int

const (
	// ImputeMean fills in the mean of the column's values.
	ImputeMean Impute = iota
	// ImputeMedian fills in the median of the column's values (the mean
	// of the middle two for an even count).
	ImputeMedian
	// ImputeMostFrequent fills in the column's most frequent value, the
	// smallest of those tied.
	ImputeMostFrequent
)

var imputes = enum[Impute]{"Impute", "imputation", []string{
	ImputeMean:         "mean",
	ImputeMedian:       "median",
	ImputeMostFrequent: "most-frequent",
}}

// String returns the strategy's name: "mean", "median" or "most-frequent".
func (i Impute) String() string { return imputes.name(i) }

// MarshalText returns the strategy's name, or an error if i is not a valid
// Impute.
func (i Impute) MarshalText() ([]byte, error) { return imputes.marshal(i) }

// UnmarshalText sets i to the strategy named text.
func (i *Impute) UnmarshalText(text []byte) error { return imputes.unmarshal(i, text) }

// Encoding turns the columns of a table as Dataset.X holds them — numbers,
// category codes and missing values (NaN) — into the inputs of a network:
// each categorical column becomes one input per category (one-hot), each
// missing value is filled in, and a column may add an indicator input that
// says where a value was missing. FitEncoding learns it from training rows
// and a Model applies it before its Scaler.
type Encoding struct {
	// Columns holds one encoding per column of the table, in order.
	Columns []ColumnEncoding
	// Missing holds the spellings of a missing value in the data the
	// encoding was fitted on (Dataset.Missing), with which Model.CSVOptions
	// reads rows to predict; nil if the data had none.
	Missing []string
}

// ColumnEncoding is the encoding of one column of a table.
type ColumnEncoding struct {
	// Categories, for a categorical column, are its categories, in the
	// order of their codes: the column becomes one input per category,
	// 1 for the row's category and 0 for the others, and all 0 for an
	// unknown category (code −1). Nil for a numeric column, which stays
	// one input.
	Categories []string
	// Fill replaces a missing value: a number for a numeric column, a
	// category code for a categorical one.
	Fill float64
	// Indicator adds an input after the column's: 1 where the value was
	// missing, 0 elsewhere.
	Indicator bool
}

// width returns the number of inputs the column becomes.
func (c *ColumnEncoding) width() int {
	w := 1
	if c.Categories != nil {
		w = len(c.Categories)
	}
	if c.Indicator {
		w++
	}
	return w
}

// input returns input k of the inputs that c makes of the value v, as
// EncodeRow stores it.
func (c *ColumnEncoding) input(v float64, k int) float64 {
	missing := math.IsNaN(v)
	if missing {
		v = c.Fill
	}
	n := 1
	if c.Categories != nil {
		n = len(c.Categories)
	}
	switch {
	case k == n: // the indicator
		if missing {
			return 1
		}
		return 0
	case c.Categories == nil:
		return v
	case v == float64(k):
		return 1
	}
	return 0
}

// Width returns the number of inputs that e makes of a row.
func (e *Encoding) Width() int {
	w := 0
	for i := range e.Columns {
		w += e.Columns[i].width()
	}
	return w
}

// Inputs returns the names of the inputs that e makes of the columns named
// features: a numeric column keeps its name, a categorical column c gives
// "c=category" for each category, and an indicator is "c (missing)". It
// panics if len(features) is not len(e.Columns).
func (e *Encoding) Inputs(features []string) []string {
	if len(features) != len(e.Columns) {
		panic(mat.ErrShape)
	}
	names := make([]string, 0, e.Width())
	for j := range e.Columns {
		c := &e.Columns[j]
		if c.Categories == nil {
			names = append(names, features[j])
		}
		for _, cat := range c.Categories {
			names = append(names, features[j]+"="+cat)
		}
		if c.Indicator {
			names = append(names, features[j]+" (missing)")
		}
	}
	return names
}

// EncodeRow stores in dst the encoding of the row x, one value per column,
// and returns the number of unknown categories (code −1) it met, which
// encode as all zeros. It does not allocate. It panics if len(x) is not
// len(e.Columns) or len(dst) is not e.Width(), and, as a programmer's
// error, if a category code is not an integer in [−1, len(Categories));
// CheckRows checks rows from outside the program.
func (e *Encoding) EncodeRow(dst, x []float64) (unknown int) {
	if len(x) != len(e.Columns) {
		panic(mat.ErrShape)
	}
	k := 0
	for j := range e.Columns {
		c := &e.Columns[j]
		v := x[j]
		missing := math.IsNaN(v)
		if missing {
			v = c.Fill
		}
		if c.Categories == nil {
			dst[k] = v
			k++
		} else {
			n := len(c.Categories)
			one := dst[k : k+n]
			for i := range one {
				one[i] = 0
			}
			code := int(v)
			switch {
			case float64(code) != v || code < -1 || code >= n:
				panic(fmt.Sprintf("nn: category code %v of column %d not in [-1, %d)", v, j, n))
			case code == -1:
				unknown++
			default:
				one[code] = 1
			}
			k += n
		}
		if c.Indicator {
			dst[k] = 0
			if missing {
				dst[k] = 1
			}
			k++
		}
	}
	if k != len(dst) {
		panic(mat.ErrShape)
	}
	return unknown
}

// CheckRows returns an error naming the row and column of the first value
// of x that e cannot encode: an infinite value, or in a categorical column
// a value that is not a category code (an integer from −1 to the number of
// categories less one). NaN is a missing value, which e fills in. It
// returns an error wrapping ErrShape if x does not have one column per
// column of e.
func (e *Encoding) CheckRows(x mat.Matrix) error {
	r, cols := x.Dims()
	if cols != len(e.Columns) {
		return fmt.Errorf("nn: %w: X has %d columns, want %d", ErrShape, cols, len(e.Columns))
	}
	row := make([]float64, cols)
	for i := range r {
		mat.Row(row, i, x)
		if j, err := e.checkRow(row); err != nil {
			return fmt.Errorf("nn: X(%d,%d): %w", i, j, err)
		}
	}
	return nil
}

// checkRow returns the column of the first value of x that e cannot
// encode, and why.
func (e *Encoding) checkRow(x []float64) (int, error) {
	for j, v := range x {
		if math.IsInf(v, 0) {
			return j, fmt.Errorf("%w: %v", ErrNotFinite, v)
		}
		if n := len(e.Columns[j].Categories); e.Columns[j].Categories != nil && !math.IsNaN(v) {
			if c := int(v); float64(c) != v || c < -1 || c >= n {
				return j, fmt.Errorf("%v is not the code of one of the %d categories of column %d", v, n, j)
			}
		}
	}
	return 0, nil
}

// Encode stores the encoding of each row of x in dst, resizing an empty
// dst to x's rows and e.Width() columns, and returns the number of
// unknown categories met. It panics as EncodeRow does and if a non-empty
// dst has the wrong shape.
func (e *Encoding) Encode(dst *mat.Dense, x mat.Matrix) (unknown int) {
	r, c := x.Dims()
	w := e.Width()
	if dst.IsEmpty() {
		dst.ReuseAs(r, w)
	}
	if dr, dc := dst.Dims(); dr != r || dc != w {
		panic(mat.ErrShape)
	}
	row := make([]float64, c)
	for i := range r {
		mat.Row(row, i, x)
		unknown += e.EncodeRow(dst.RawRowView(i), row)
	}
	return unknown
}

// FitEncoding learns an Encoding from the rows of d: the categories of
// the columns that d.Categories says are categorical, and for every column
// the value that fills in a missing one (the most frequent category of a
// categorical column, and as impute says for a numeric one), and, if
// indicator is true, an indicator input for each column with a missing
// value in d. It returns an error naming the column if one holds no value
// at all, every row missing, or if a category code of d is invalid.
func FitEncoding(d *Dataset, impute Impute, indicator bool) (*Encoding, error) {
	return fitEncoding(d, nil, impute, indicator)
}

// fitEncoding is FitEncoding on the rows idx of d, or every row if idx is
// nil.
func fitEncoding(d *Dataset, idx []int, impute Impute, indicator bool) (*Encoding, error) {
	if !imputes.valid(impute) {
		return nil, fmt.Errorf("nn: imputation %d is not one of %s", impute, excerpt.Quotes(imputes.names))
	}
	r, c := d.X.Dims()
	if d.Categories != nil && len(d.Categories) != c {
		return nil, fmt.Errorf("nn: %w: Dataset has %d columns and %d Categories", ErrShape, c, len(d.Categories))
	}
	e := &Encoding{Columns: make([]ColumnEncoding, c), Missing: slices.Clone(d.Missing)}
	if idx != nil {
		r = len(idx)
	}
	col := make([]float64, r)
	for j := range c {
		var cats []string
		if d.Categories != nil {
			cats = d.Categories[j]
		}
		e.Columns[j].Categories = slices.Clone(cats)
		if cats != nil && e.Columns[j].Categories == nil {
			e.Columns[j].Categories = []string{}
		}
		if idx == nil {
			mat.Col(col, j, d.X)
		} else {
			raw := d.X.RawMatrix()
			for i, k := range idx {
				col[i] = raw.Data[k*raw.Stride+j]
			}
		}
		values := slices.DeleteFunc(slices.Clone(col), math.IsNaN)
		name := fmt.Sprintf("column %d", j)
		if j < len(d.Features) {
			name = "column " + excerpt.Quote(d.Features[j])
		}
		if len(values) == 0 {
			return nil, fmt.Errorf("nn: %s: every one of its %d values is missing; drop the column", name, r)
		}
		for i, v := range values {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("nn: %s: value %d is %v: %w", name, i, v, ErrNotFinite)
			}
		}
		how := impute
		if cats != nil {
			for _, v := range values {
				if k := int(v); float64(k) != v || k < -1 || k >= len(cats) {
					return nil, fmt.Errorf("nn: %s: %v is not the code of one of its %d categories", name, v, len(cats))
				}
			}
			values = slices.DeleteFunc(values, func(v float64) bool { return v < 0 })
			if len(values) == 0 {
				return nil, fmt.Errorf("nn: %s: no row holds a known category", name)
			}
			how = ImputeMostFrequent
		}
		e.Columns[j].Fill = fill(values, how)
		e.Columns[j].Indicator = indicator && slices.ContainsFunc(col, math.IsNaN)
	}
	return e, nil
}

// fill returns the value that fills in a missing one among values, as how
// says. It sorts values.
func fill(values []float64, how Impute) float64 {
	switch how {
	case ImputeMedian:
		slices.Sort(values)
		n := len(values)
		if n%2 == 1 {
			return values[n/2]
		}
		return values[n/2-1]/2 + values[n/2]/2
	case ImputeMostFrequent:
		slices.Sort(values)
		best, count := values[0], 0
		for i := 0; i < len(values); {
			k := i
			for k < len(values) && values[k] == values[i] {
				k++
			}
			if k-i > count {
				best, count = values[i], k-i
			}
			i = k
		}
		return best
	}
	// The mean, summed in sorted order so that it does not depend on the
	// order of the rows.
	slices.SortFunc(values, func(a, b float64) int { return cmp.Compare(math.Abs(a), math.Abs(b)) })
	var s float64
	for _, v := range values {
		s += v
	}
	return s / float64(len(values))
}
