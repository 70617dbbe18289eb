package nn

// The categorical and missing values of CSV tables: the categories of each
// column, learned or fixed, the spellings of a missing value, and how a
// CSVReader sets them up and reports them.

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/neuralgo/nn/internal/excerpt"
)

// table reads the categorical and missing values of the features of a
// record.
type table struct {
	cats    []*categories   // of each feature: nil for a numeric one
	missing map[string]bool // the spellings of a missing value; nil: none
	// missFirst and missLen are the first bytes and the lengths (the
	// last bit for 63 and more) of the spellings, which rule out most
	// fields without a lookup in missing.
	missFirst [4]uint64
	missLen   uint64
	detect    bool // a feature with a value that is not a number becomes categorical
	strict    bool // an unknown category is an error
	unknown   int  // unknown categories met

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

// parse returns the value of feature j in the field s: a number, a
// category code, or NaN for a missing value.
func (t *table) parse(j int, s string) (float64, error) {
	if t.isMissing(s) {
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

// isMissing reports whether the field s, its surrounding spaces trimmed,
// spells a missing value.
func (t *table) isMissing(s string) bool {
	if t.missing == nil {
		return false
	}
	if n := len(s); n > 0 && s[0] > ' ' && s[0] < utf8.RuneSelf && s[n-1] > ' ' && s[n-1] < utf8.RuneSelf {
		// Nothing to trim: rule out a length or first byte that no
		// spelling has.
		if t.missLen&(1<<min(n, 63)) == 0 || t.missFirst[s[0]>>6]&(1<<(s[0]&63)) == 0 {
			return false
		}
		return t.missing[s]
	}
	return t.missing[strings.TrimSpace(s)]
}

// layoutTable sets up the reading of categorical and missing values, if
// the options ask for them.
func (r *CSVReader) layoutTable() error {
	// Only ReadCSV, which sees every row before the Dataset is made,
	// detects categorical columns: a stream of rows would have handed out
	// numbers before the column turned categorical.
	t, err := newTable(r.features, &r.opts, r.opts.DetectCategorical && r.needTarget)
	r.table = t
	return err
}

// newTable returns the table that reads the categorical and missing values
// of features as o says, or nil if o has none.
func newTable(features []string, o *CSVOptions, detect bool) (*table, error) {
	if o.Categorical == nil && !o.DetectCategorical && o.Categories == nil && o.Missing == nil {
		return nil, nil
	}
	t := &table{cats: make([]*categories, len(features)), detect: detect, strict: o.StrictCategories, pending: -1}
	if o.Missing != nil {
		t.missing = make(map[string]bool, len(o.Missing))
		for _, m := range o.Missing {
			m = strings.TrimSpace(m)
			t.missing[m] = true
			t.missLen |= 1 << min(len(m), 63)
			if m != "" {
				t.missFirst[m[0]>>6] |= 1 << (m[0] & 63)
			}
		}
	}
	index := indexes(features)
	for _, name := range o.Categorical {
		j := colIndex(index, name)
		if j < 0 {
			return nil, fmt.Errorf("nn: CSVOptions.Categorical names %s, which is not a feature column (features: %s)", excerpt.Quote(name), excerpt.Names(features))
		}
		t.cats[j], _ = newCategories(nil)
	}
	names := make([]string, 0, len(o.Categories))
	for name := range o.Categories {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		j := colIndex(index, name)
		if j < 0 {
			return nil, fmt.Errorf("nn: CSVOptions.Categories names %s, which is not a feature column (features: %s)", excerpt.Quote(name), excerpt.Names(features))
		}
		fixed := o.Categories[name]
		if fixed == nil {
			fixed = []string{}
		}
		var err error
		if t.cats[j], err = newCategories(fixed); err != nil {
			return nil, fmt.Errorf("nn: CSVOptions.Categories of %s: %v", excerpt.Quote(name), err)
		}
	}
	return t, nil
}

// Unknown returns the number of values of categorical features read so far
// that were not among their fixed categories (CSVOptions.Categories), and
// were coded −1.
func (r *CSVReader) Unknown() int {
	if r.table == nil {
		return 0
	}
	return r.table.unknown
}

// categoryBytes returns the memory of the categories learned.
func (r *CSVReader) categoryBytes() int {
	if r.table == nil {
		return 0
	}
	n := 0
	for _, c := range r.table.cats {
		if c != nil {
			n += c.bytes
		}
	}
	return n
}

// Categories returns, for each feature in the order of Columns, its
// categories: the fixed ones, or those learned so far in order of first
// appearance (the codes Read stores), or nil for a numeric feature. It
// returns nil if no feature is categorical.
func (r *CSVReader) Categories() [][]string {
	if r.table == nil || !slices.ContainsFunc(r.table.cats, func(c *categories) bool { return c != nil }) {
		return nil
	}
	out := make([][]string, len(r.table.cats))
	for j, c := range r.table.cats {
		if c != nil {
			out[j] = slices.Clone(c.names)
			if out[j] == nil {
				out[j] = []string{}
			}
		}
	}
	return out
}
