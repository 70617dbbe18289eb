package nn

// The schema of a fitted model: the columns it reads by name, their
// categories and missing values, its outputs, and the one gate through
// which a row of its table becomes the network's inputs.

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn/internal/excerpt"
)

// Schema is what a fitted Model reads and writes, by name: the columns of
// the table it predicts from, in order, with the categories of each text
// column and the spellings of a missing value, and its outputs, class
// labels or target names. It is the one way from data with names to the
// network: rows in a Dataset (Schema.Table), CSV records (Schema.Parser,
// and CSVReader with Model.CSVOptions), values one at a time (RowParser's
// Value, Number and Missing, for the server's JSON) all come through it,
// so that a column is found by its name whatever the order of the data,
// and a category gets the model's code whatever the data's encoding.
// Prepare then turns a row of the table into the network's inputs, and
// Predictor predicts streams of rows a block at a time.
//
// A model saved without names gets the names that LoadCSV gives the
// columns of a file without a header, col0, col1, …; a classifier saved
// without class labels gets "0", "1", ….
//
// A Schema is made by Model.Schema and does not change: any number of
// goroutines may use it at once. It refers to its model, which must not
// change while it is in use.
type Schema struct {
	model    *Model
	features []string       // one per column of the table
	index    map[string]int // feature name → column
	table    *table         // the categories and missing values, nil if none; never counts
	missingN []float64      // the missing spellings that are numbers ("-999")
	inputs   []string       // the names of the network's inputs
	in, out  int            // the network's inputs and outputs
	classes  []string       // nil for regression
	fields   [][]byte       // each class label as a CSV field
	targets  []string       // the names of a regression's outputs, nil if unknown
	proba    bool           // a classifier's outputs are probabilities
}

// Schema returns the schema of m. It returns an error if m does not fit
// together: a feature named twice, which no column could be told apart
// from, names or class labels that do not match the network's inputs and
// outputs, or categories listed twice. LoadModel and DecodeModel refuse
// such files, so only a Model built by hand can fail. Schema panics if
// m.Network is nil.
func (m *Model) Schema() (*Schema, error) {
	sizes := m.Network.sizes
	s := &Schema{model: m, in: sizes[0], out: sizes[len(sizes)-1]}
	cols := m.Columns()
	s.features = slices.Clone(m.Features)
	if s.features == nil {
		s.features = make([]string, cols)
		for j := range s.features {
			s.features[j] = "col" + strconv.Itoa(j)
		}
	}
	if len(s.features) != cols {
		return nil, fmt.Errorf("nn: the model names %d features for the %d columns it takes", len(s.features), cols)
	}
	if k, j := duplicate(s.features); j >= 0 {
		return nil, fmt.Errorf("nn: the model names the feature %s twice (columns %d and %d), so its columns cannot be told apart; train it again on data whose columns have distinct names", excerpt.Quote(s.features[j]), k+1, j+1)
	}
	s.index = indexes(s.features)
	s.inputs = s.features
	if e := m.Encoding; e != nil {
		if w := e.Width(); w != s.in {
			return nil, fmt.Errorf("nn: the model's Encoding makes %d inputs, and its network takes %d", w, s.in)
		}
		s.inputs = e.Inputs(s.features)
		o := m.CSVOptions()
		if o.Missing == nil {
			// Without spellings, a missing value is still NaN, which the
			// Encoding fills in: only text can't be missing.
			o.Missing = []string{}
		}
		t, err := newTable(s.features, o, false)
		if err != nil {
			return nil, err
		}
		s.table = t
		for _, spelling := range o.Missing {
			if v, err := parseCSVNumber(spelling); err == nil {
				s.missingN = append(s.missingN, v)
			}
		}
	} else if m.Scaler != nil && (len(m.Scaler.Offset) != s.in || len(m.Scaler.Scale) != s.in) {
		return nil, fmt.Errorf("nn: the model's Scaler scales %d columns, and its network takes %d inputs", len(m.Scaler.Offset), s.in)
	}
	if err := s.setOutputs(); err != nil {
		return nil, err
	}
	return s, nil
}

// setOutputs sets the class labels of a classifier, or the target names
// of a regression.
func (s *Schema) setOutputs() error {
	m := s.model
	if m.Classes == nil && m.Network.loss == SquaredError {
		if len(m.Targets) == s.out {
			s.targets = slices.Clone(m.Targets)
		} else if s.out == 1 && m.Target != "" {
			s.targets = []string{m.Target}
		}
		return nil
	}
	k := max(s.out, 2) // a single output stands for classes 0 and 1
	s.classes = slices.Clone(m.Classes)
	if s.classes == nil {
		s.classes = make([]string, k)
		for i := range k {
			s.classes[i] = strconv.Itoa(i)
		}
	}
	if len(s.classes) != k {
		if s.out == 1 {
			return fmt.Errorf("nn: the model has %d class labels for its single output, which needs 2 (for class 0 and class 1)", len(s.classes))
		}
		return fmt.Errorf("nn: the model has %d class labels for its %d outputs; want one per output", len(s.classes), s.out)
	}
	if _, j := duplicate(s.classes); j >= 0 {
		return fmt.Errorf("nn: the model lists the class %s twice", excerpt.Quote(s.classes[j]))
	}
	act := m.Network.acts[len(m.Network.acts)-1]
	s.proba = s.out > 1 && act == Softmax || s.out == 1 && act == Sigmoid
	s.fields = make([][]byte, len(s.classes))
	for i, c := range s.classes {
		s.fields[i] = appendCSVField(nil, c)
	}
	return nil
}

// Model returns the model of s.
func (s *Schema) Model() *Model { return s.model }

// Features returns the names of the columns of the model's table, in the
// order of its rows. The caller must not change the slice.
func (s *Schema) Features() []string { return s.features }

// Column returns the column of the feature name, or −1 if the model takes
// none of that name.
func (s *Schema) Column(name string) int { return colIndex(s.index, name) }

// Categories returns the categories of column j, in the order of their
// codes, or nil for a numeric column. The caller must not change the
// slice. It panics if j is out of range.
func (s *Schema) Categories(j int) []string {
	_ = s.features[j]
	if s.table == nil || s.table.cats[j] == nil {
		return nil
	}
	return s.table.cats[j].names
}

// TakesMissing reports whether the model takes missing values: whether it
// has an Encoding, which fills them in.
func (s *Schema) TakesMissing() bool { return s.model.Encoding != nil }

// Inputs returns the names of the network's inputs: the features, or for
// a model with an Encoding the inputs it makes of them (see
// Encoding.Inputs). The caller must not change the slice.
func (s *Schema) Inputs() []string { return s.inputs }

// Outputs returns the number of the network's outputs.
func (s *Schema) Outputs() int { return s.out }

// Classes returns the class labels of a classifier, one per output or two
// for a single output, or nil for a regression. The caller must not
// change the slice.
func (s *Schema) Classes() []string { return s.classes }

// Targets returns the names of a regression's outputs, one per output, or
// nil if the model does not know them or is a classifier. The caller must
// not change the slice.
func (s *Schema) Targets() []string { return s.targets }

// Probabilities reports whether the outputs of a classifier are class
// probabilities: one softmax output per class, or a single sigmoid output
// that is the probability of the second class. Other outputs (the logits
// of an identity layer, say) are scores, not probabilities.
func (s *Schema) Probabilities() bool { return s.proba }

// ProbabilitiesTo stores in dst the probability of each class given the
// outputs of one row, and returns dst: the outputs themselves, or 1−p and
// p for a single output p. If dst is nil a new slice is allocated;
// otherwise ProbabilitiesTo panics unless len(dst) is len(Classes()). It
// panics too if s is not a classifier whose outputs are probabilities, or
// len(outputs) is not Outputs().
func (s *Schema) ProbabilitiesTo(dst, outputs []float64) []float64 {
	if !s.proba {
		panic("nn: ProbabilitiesTo of a model whose outputs are not probabilities")
	}
	if len(outputs) != s.out {
		panic(mat.ErrShape)
	}
	if dst == nil {
		dst = make([]float64, len(s.classes))
	}
	if len(dst) != len(s.classes) {
		panic(mat.ErrShape)
	}
	if s.out == 1 {
		dst[0], dst[1] = 1-outputs[0], outputs[0]
		return dst
	}
	copy(dst, outputs)
	return dst
}

// Prepare stores in dst the network's inputs for row, a row of the
// model's table: one value per feature, a number, or for a categorical
// column the code of a category (its index in Categories, −1 for one the
// model has not seen), and NaN for a missing value. It encodes the row
// with the model's Encoding and scales it with its Scaler. Prepare is
// the gate of every prediction path: it returns an error naming the
// feature or input, and leaves dst undefined, for a value the model
// cannot take — NaN in a model without an Encoding, an infinite value, a
// code that is not one of a column's categories, or an input that is not
// finite once scaled (ErrNotFinite). It allocates nothing unless it
// fails. It panics if len(row) is not len(Features()) or len(dst) is not
// the network's inputs.
func (s *Schema) Prepare(dst, row []float64) error {
	if len(row) != len(s.features) || len(dst) != s.in {
		panic(mat.ErrShape)
	}
	m := s.model
	if e := m.Encoding; e != nil {
		if j, err := e.checkRow(row); err != nil {
			return fmt.Errorf("feature %s: %w", excerpt.Quote(s.features[j]), err)
		}
		e.EncodeRow(dst, row)
		if m.Scaler != nil {
			m.Scaler.TransformRow(dst, dst)
		}
	} else if m.Scaler != nil {
		m.Scaler.TransformRow(dst, row)
	} else {
		copy(dst, row)
	}
	// A value that is not finite stays so once scaled: one check of the
	// inputs finds it, and the row says what it was.
	for k, v := range dst {
		if finite(v) {
			continue
		}
		if m.Encoding != nil {
			return fmt.Errorf("input %s is %v after scaling: %w", excerpt.Quote(s.inputs[k]), v, ErrNotFinite)
		}
		switch in := row[k]; {
		case math.IsNaN(in):
			return fmt.Errorf("feature %s is missing (NaN), and the model has no Encoding to fill it in: %w", excerpt.Quote(s.features[k]), ErrNotFinite)
		case !finite(in):
			return fmt.Errorf("feature %s is %v: %w", excerpt.Quote(s.features[k]), in, ErrNotFinite)
		default:
			return fmt.Errorf("feature %s is %v after scaling (%v before): %w", excerpt.Quote(s.inputs[k]), v, in, ErrNotFinite)
		}
	}
	return nil
}

// CheckOutputs returns an error wrapping ErrNotFinite if one of the
// outputs of a row is NaN or infinite, as the outputs of a network whose
// weights overflow for the row's inputs are: such outputs are no
// prediction, and no path of the module writes them as one.
func (s *Schema) CheckOutputs(outputs []float64) error {
	for k, v := range outputs {
		if !finite(v) {
			return fmt.Errorf("the model's output %d is %v for this row: %w", k, v, ErrNotFinite)
		}
	}
	return nil
}

// Label returns the class label of class, an index among Classes. It
// panics if s is a regression or class is out of range.
func (s *Schema) Label(class int) string { return s.classes[class] }

// Table returns the rows of d as the model's table, ready for Prepare and
// Model.Predict: the model's features found by name among d.Features,
// whatever their order (d's other columns are ignored), and the values
// of each categorical column coded by the model's categories, whatever
// codes d gave them. A column that is numeric in d and categorical in the
// model has its numbers read as categories ("1", "2.5"), and one that is
// categorical in d and numeric in the model has its categories read as
// numbers. A category of d that is one of the model's spellings of a
// missing value is missing (NaN). A category the model has not seen is
// coded −1, which its Encoding encodes as all zeros, and counted in
// unknown; with strict it is an error wrapping ErrUnknownCategory
// instead.
//
// If d is laid out as the model's table already (its features and
// categories those of the model, as ReadCSV gives them with
// Model.CSVOptions), x is d.X itself; otherwise x is a new matrix. Table
// returns an error wrapping ErrNoFeature, naming the column, if d lacks
// a feature of the model, and wrapping ErrNotNumber for a category of d
// that is not a number in a numeric column of the model.
func (s *Schema) Table(d *Dataset, strict bool) (x *mat.Dense, unknown int, err error) {
	if d == nil || d.X == nil {
		return nil, 0, errors.New("nn: a Dataset without X")
	}
	r, c := d.X.Dims()
	if d.Features != nil && len(d.Features) != c {
		return nil, 0, fmt.Errorf("nn: %w: the Dataset names %d features for the %d columns of X", ErrShape, len(d.Features), c)
	}
	if d.Categories != nil && len(d.Categories) != c {
		return nil, 0, fmt.Errorf("nn: %w: the Dataset has categories for %d columns, and X has %d", ErrShape, len(d.Categories), c)
	}
	names := d.Features
	if names == nil {
		names = columnNames(d.X)
	}
	if k, j := duplicate(names); j >= 0 {
		return nil, 0, fmt.Errorf("nn: the data names columns %d and %d %s: %w", k, j, excerpt.Quote(names[j]), ErrDuplicateColumn)
	}
	index := indexes(names)
	src := make([]int, len(s.features))
	for j, f := range s.features {
		src[j] = colIndex(index, f)
		if src[j] < 0 {
			return nil, 0, fmt.Errorf("nn: the data has no column %s, which the model takes (the model's features: %s; the data's: %s): %w", excerpt.Quote(f), excerpt.Names(s.features), excerpt.Quotes(names), ErrNoFeature)
		}
	}
	// plan[j] says how the values of column src[j] of d become those of
	// the model's column j.
	same := true
	plan := make([]recode, len(s.features))
	for j, k := range src {
		var theirs []string
		if d.Categories != nil {
			theirs = d.Categories[k]
		}
		ours := s.Categories(j)
		p, err := s.plan(j, theirs, ours)
		if err != nil {
			return nil, 0, err
		}
		plan[j] = p
		same = same && k == j && p.kind == copyValues
	}
	// A number that spells a missing value must become NaN: not in d.X.
	same = same && s.missingN == nil
	if same && c == len(s.features) {
		x = d.X
	} else {
		x = mat.NewDense(r, len(s.features), nil)
	}
	for i := range r {
		in := d.X.RawRowView(i)
		for j, k := range src {
			v := in[k]
			p := &plan[j]
			switch {
			case math.IsNaN(v):
				// Missing in d, missing for the model.
			case p.kind == codes:
				code := int(v)
				if float64(code) != v || code < -1 || code >= len(p.values) {
					return nil, 0, fmt.Errorf("nn: X(%d,%d), column %s: %v is not the code of one of the data's %d categories", i, k, excerpt.Quote(names[k]), v, len(p.values))
				}
				switch {
				case code >= 0:
					v = p.values[code]
				case s.Categories(j) == nil:
					// Unknown to the data's own categories: its text is
					// lost, and no number can stand for it.
					return nil, 0, fmt.Errorf("nn: row %d, column %s: a category unknown to the data's categories (code −1), which the model reads as a number: %w", i, excerpt.Quote(names[k]), ErrNotNumber)
				}
			case (p.kind == numbers || s.Categories(j) == nil) && s.missingNumber(v):
				v = math.NaN()
			case p.kind == numbers:
				v = float64(s.table.cats[j].lookup(strconv.FormatFloat(v, 'g', -1, 64)))
			}
			if v == -1 && s.Categories(j) != nil {
				if strict {
					return nil, 0, fmt.Errorf("nn: row %d, column %s: %w %s: the model's categories are %s", i, excerpt.Quote(names[k]), ErrUnknownCategory, excerpt.Quote(p.text(d, k, in[k])), excerpt.Quotes(s.Categories(j)))
				}
				unknown++
			}
			if x != d.X {
				x.Set(i, j, v)
			}
		}
	}
	return x, unknown, nil
}

// recode says how a column of a Dataset becomes a column of the model's
// table.
type recode struct {
	kind   int
	values []float64 // for codes: the model's value of each of the data's codes
	names  []string  // for codes: the data's categories
}

// The kinds of recode.
const (
	copyValues = iota // the same numbers, or the same codes
	codes             // the data's codes, recoded
	numbers           // the data's numbers, read as categories
)

// text returns the category of d's column k that v codes, or v as text,
// for messages.
func (p *recode) text(d *Dataset, k int, v float64) string {
	if p.kind == codes && v >= 0 && int(v) < len(p.names) {
		return p.names[int(v)]
	}
	if d.Categories != nil && d.Categories[k] != nil && v >= 0 && int(v) < len(d.Categories[k]) {
		return d.Categories[k][int(v)]
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// plan returns how to read the values of a column of a Dataset with the
// categories theirs (nil for a numeric column) as column j of the model,
// with the categories ours (nil for a numeric column).
func (s *Schema) plan(j int, theirs, ours []string) (recode, error) {
	switch {
	case theirs == nil && ours == nil:
		return recode{kind: copyValues}, nil
	case theirs == nil:
		// Numbers read as categories: a category of text never matches
		// one, which is a sign of codes without their categories.
		if !slices.ContainsFunc(ours, func(c string) bool { _, err := parseCSVNumber(c); return err == nil }) {
			return recode{}, fmt.Errorf("nn: column %s holds numbers, and the model's categories of it are text (%s): if the numbers are category codes, give their categories in Dataset.Categories: %w", excerpt.Quote(s.features[j]), excerpt.Quotes(ours), ErrNotNumber)
		}
		return recode{kind: numbers}, nil
	case ours != nil && slices.Equal(theirs, ours):
		return recode{kind: copyValues}, nil
	}
	p := recode{kind: codes, values: make([]float64, len(theirs)), names: theirs}
	for c, name := range theirs {
		switch {
		case s.table != nil && s.table.missing[strings.TrimSpace(name)]:
			p.values[c] = math.NaN()
		case ours != nil:
			p.values[c] = float64(s.table.cats[j].lookup(name))
		default:
			v, err := parseCSVNumber(name)
			if err != nil {
				return recode{}, fmt.Errorf("nn: column %s holds the category %s, and the model reads the column as numbers: %w", excerpt.Quote(s.features[j]), excerpt.Quote(name), ErrNotNumber)
			}
			p.values[c] = v
		}
	}
	return p, nil
}

// missingNumber reports whether v is one of the model's spellings of a
// missing value that are numbers.
func (s *Schema) missingNumber(v float64) bool {
	for _, m := range s.missingN {
		if v == m {
			return true
		}
	}
	return false
}

// lookup returns the code of the category s among fixed categories, or
// −1, without counting it or learning it.
func (c *categories) lookup(s string) int {
	if i, ok := c.index[categoryKey(s)]; ok {
		return i
	}
	return -1
}

// Parser returns a parser of values and records for the model's table.
// If header is nil, records hold exactly the features, in order;
// otherwise the features are found by name in header, and records have
// len(header) fields, of which the others (such as a target) are
// ignored. The values of categorical columns are coded by the model's
// categories, and the spellings of a missing value it was trained with
// read as NaN. A category the model has not seen is coded −1, which its
// Encoding encodes as all zeros, and counted by RowParser.Unknown; with
// strict, it is an error wrapping ErrUnknownCategory instead. A parser
// is cheap to make, from a Schema made once: one per goroutine, or per
// request. Parser returns the errors of NewRowParser.
func (s *Schema) Parser(header []string, strict bool) (*RowParser, error) {
	p, err := NewRowParser(s.features, header)
	if err != nil {
		return nil, err
	}
	if s.table != nil {
		t := *s.table
		t.strict, t.unknown = strict, 0
		p.table = &t
	}
	p.schema = s
	return p, nil
}

// appendCSVField appends s to b as one CSV field: as it is, or quoted if
// a CSV reader would not read it back as it is — if it is empty (a line
// of nothing is skipped), holds a comma, a quote or a line break, or
// starts or ends with a space (which readers, nn's among them, trim).
func appendCSVField(b []byte, s string) []byte {
	if !needsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// needsQuotes reports whether the CSV field s needs quotes.
func needsQuotes(s string) bool {
	if s == "" || s == `\.` || strings.ContainsAny(s, ",\"\r\n") {
		return true
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsSpace(first) || unicode.IsSpace(last)
}

// AppendCSVField appends s to b as one field of a CSV record, quoted if a
// CSV reader would not read it back as s otherwise: empty, holding a
// comma, a quote or a line break, or starting or ending with a space. It
// is the quoting of every CSV file the module writes.
func AppendCSVField(b []byte, s string) []byte { return appendCSVField(b, s) }

// AppendFloat appends v to b in the shortest text that reads back as the
// same float64, the number format of every CSV file the module writes.
func AppendFloat(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'g', -1, 64) }

// Output says what a prediction written as text holds.
type Output int

const (
	// Labels writes the class label of a classifier, or the predicted
	// values of a regression, one per target.
	Labels Output = iota
	// Probabilities writes the probability of each class of a
	// classifier, in the order of its classes (1−p and p for a single
	// sigmoid output p).
	Probabilities
	// LabelsAndProbabilities writes the label, then the probabilities.
	LabelsAndProbabilities
)

var outputs = enum[Output]{"Output", "prediction output", []string{
	Labels:                 "labels",
	Probabilities:          "probabilities",
	LabelsAndProbabilities: "labels+probabilities",
}}

// String returns the output's name, as UnmarshalText reads it: "labels",
// "probabilities" or "labels+probabilities".
func (o Output) String() string { return outputs.name(o) }

// MarshalText returns the output's name, or an error if o is not a valid
// Output.
func (o Output) MarshalText() ([]byte, error) { return outputs.marshal(o) }

// UnmarshalText sets o to the output named text, as String names it.
func (o *Output) UnmarshalText(text []byte) error { return outputs.unmarshal(o, text) }

// Header returns the header of the predictions written with o, the names
// of their fields, or nil if they are a single unnamed field: the class
// names for Probabilities, "label" and the class names for
// LabelsAndProbabilities, and the target names of a regression on several
// targets. It returns an error if o asks for probabilities that the model
// does not give.
func (s *Schema) Header(o Output) ([]string, error) {
	if err := s.checkOutput(o); err != nil {
		return nil, err
	}
	switch {
	case s.classes == nil && s.out > 1:
		if s.targets != nil {
			return slices.Clone(s.targets), nil
		}
		h := make([]string, s.out)
		for k := range h {
			h[k] = "output" + strconv.Itoa(k)
		}
		return h, nil
	case s.classes == nil || o == Labels:
		return nil, nil
	case o == Probabilities:
		return slices.Clone(s.classes), nil
	}
	return append([]string{"label"}, s.classes...), nil
}

// checkOutput returns an error if o is not a valid Output for s.
func (s *Schema) checkOutput(o Output) error {
	switch {
	case !outputs.valid(o):
		return fmt.Errorf("nn: %v is not an output", o)
	case o != Labels && s.classes == nil:
		return fmt.Errorf("nn: probabilities need a classification model; this is a regression model")
	case o != Labels && !s.proba && s.out == 1:
		return fmt.Errorf("nn: probabilities need a softmax output, or a single sigmoid one; the single output of this model is %v", s.model.Network.acts[len(s.model.Network.acts)-1])
	case o != Labels && !s.proba:
		return fmt.Errorf("nn: probabilities need a softmax output, or a single sigmoid one; the %d outputs of this model are %v", s.out, s.model.Network.acts[len(s.model.Network.acts)-1])
	}
	return nil
}

// AppendPrediction appends to b the prediction of one row as the fields
// of a CSV record, without the end of the line, as o says: the class
// label of a classifier (class, an index among Classes) quoted as a CSV
// field needs, its probabilities, or both, or the values of a
// regression. Numbers are in the shortest text that reads back as the
// same float64. It allocates nothing. It panics if len(outputs) is not
// Outputs(), or if o asks for probabilities that the model does not give
// (see Header, which returns an error instead).
func (s *Schema) AppendPrediction(b []byte, outputs []float64, class int, o Output) []byte {
	if len(outputs) != s.out {
		panic(mat.ErrShape)
	}
	if o != Labels {
		if err := s.checkOutput(o); err != nil {
			panic(err.Error())
		}
	}
	if s.classes == nil {
		for k, v := range outputs {
			if k > 0 {
				b = append(b, ',')
			}
			b = AppendFloat(b, v)
		}
		return b
	}
	if o != Probabilities {
		b = append(b, s.fields[class]...)
		if o == Labels {
			return b
		}
		b = append(b, ',')
	}
	if s.out == 1 {
		b = AppendFloat(b, 1-outputs[0])
		b = append(b, ',')
		return AppendFloat(b, outputs[0])
	}
	for k, v := range outputs {
		if k > 0 {
			b = append(b, ',')
		}
		b = AppendFloat(b, v)
	}
	return b
}
