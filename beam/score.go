package nnbeam

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

func init() {
	beam.RegisterType(reflect.TypeFor[Prediction]())
	beam.RegisterType(reflect.TypeFor[DeadLetter]())
	register.DoFn4x1[context.Context, Line, func(Prediction), func(DeadLetter), error](&scoreLinesFn{})
	register.DoFn4x1[context.Context, string, func(Prediction), func(DeadLetter), error](&scoreRecordsFn{})
	register.DoFn4x1[context.Context, []float64, func(Prediction), func(DeadLetter), error](&scoreVectorsFn{})
	register.DoFn5x1[context.Context, string, []float64, func(Prediction), func(DeadLetter), error](&scoreKeyedFn{})
	register.Emitter1[Prediction]()
	register.Emitter1[DeadLetter]()
}

// Prediction is the prediction of a model for one row.
type Prediction struct {
	// Key says which row was predicted: "file:line" for a Line, the
	// record itself for a CSV record, the key of a keyed vector, and for
	// a feature vector its values as CSV, in the shortest text that reads
	// back as the same numbers.
	Key string
	// Label is the class label of a classifier's prediction, as
	// nn predict writes it; "" for a regression.
	Label string
	// Class is the index of Label among the model's classes, as
	// Network.ClassesTo gives it; 0 for a regression.
	Class int
	// Outputs are the network's outputs for the row, bit for bit those
	// of Network.Predict: the predictions of a regression, the class
	// probabilities of a softmax classifier, or the probability of the
	// second class for a single sigmoid output.
	Outputs []float64
}

// DeadLetter is a row that could not be scored, with why.
type DeadLetter struct {
	// Key says which row it is, as Prediction.Key does.
	Key string
	// File and Line are where the row was read, for a Line; "" and 0
	// otherwise.
	File string
	Line int64
	// Row is the row: the text of a line or record, or the values of a
	// vector as CSV.
	Row string
	// Error says what is wrong with the row and, for a CSV field, in
	// which column.
	Error string
}

// ScoreOptions configures Score. A nil *ScoreOptions means the zero value.
type ScoreOptions struct {
	// Header names the fields of CSV rows (Line and string elements),
	// whose features are then found by name, in any order, as
	// nn predict finds them; other fields, such as a target, are
	// ignored. A Line numbered 1 whose fields are the header is skipped,
	// so that every file read by ReadLines may start with its header.
	// Nil means every row holds exactly the model's features, in order.
	Header []string
	// Comma is the field separator of CSV rows; zero means ','.
	Comma rune
	// StrictCategories makes a category that the model has not seen an
	// error (a dead letter), instead of encoding it as all zeros.
	StrictCategories bool
	// FailFast makes a row that cannot be scored fail the bundle, and
	// with it the job, instead of going to the dead-letter output.
	FailFast bool
	// BlockRows is the number of rows predicted at once; zero means 256.
	BlockRows int
}

// defaultBlockRows is the rows predicted at once unless
// ScoreOptions.BlockRows says otherwise: enough for the matrix kernels to
// run at full speed, few enough to fit in cache for small networks.
const defaultBlockRows = 256

// Score predicts the rows of col with the model of the file model (local,
// or on any file system registered with Beam, such as gs://), in the
// spirit of Beam's RunInference. Each worker loads the model once, in the
// Setup of the DoFn, and predicts the rows of a bundle in blocks of
// BlockRows, through Network.PredictTo with a workspace it reuses, so
// that a prediction is bit for bit that of nn predict on the same row.
// The elements of col may be:
//
//   - Line, as ReadLines reads them: a CSV record and where it is;
//   - string: a CSV record, as Beam's textio reads lines;
//   - []float64: a row of the table the model was trained on, one value
//     per feature in the model's order (a category code and NaN for a
//     missing value, for a model with an Encoding);
//   - KV<string, []float64>: such a row with a key.
//
// Blank lines are skipped, as CSV readers skip them. Score returns the
// predictions, a PCollection<Prediction>, and the rows
// that could not be scored, a PCollection<DeadLetter>: a record with the
// wrong number of fields, a field that is not a number or is not finite,
// a value that is not finite once scaled. A model file that cannot be read
// fails the job, with an error naming the file and what is wrong with it.
//
// Score predicts rows in blocks that span elements, and emits the rest of
// a block when a bundle ends, where Beam's Go SDK knows of no window: col
// must be in the global window, as a batch read is, and the predictions
// carry no meaningful event time.
//
// Score panics, as Beam's transforms do while a pipeline is built, if the
// elements of col are of any other type, or are not in the global window.
func Score(s beam.Scope, model string, col beam.PCollection, o *ScoreOptions) (predictions, deadLetters beam.PCollection) {
	s = s.Scope("nnbeam.Score")
	if o == nil {
		o = &ScoreOptions{}
	}
	run := fmt.Sprintf("%d-%d-%d", os.Getpid(), time.Now().UnixNano(), scoreRuns.Add(1))
	base := scorer{Model: model, Run: run, Header: o.Header, Comma: o.Comma, Strict: o.StrictCategories, FailFast: o.FailFast, BlockRows: o.BlockRows}
	var fn any
	t := col.Type()
	switch {
	case t.Type() == reflect.TypeFor[Line]():
		fn = &scoreLinesFn{base}
	case t.Type() == reflect.TypeFor[string]():
		fn = &scoreRecordsFn{base}
	case t.Type() == reflect.TypeFor[[]float64]():
		fn = &scoreVectorsFn{base}
	case typex.IsKV(t) && t.Components()[0].Type() == reflect.TypeFor[string]() && t.Components()[1].Type() == reflect.TypeFor[[]float64]():
		fn = &scoreKeyedFn{base}
	default:
		panic(fmt.Sprintf("nnbeam.Score: elements of type %v; want Line, string, []float64 or KV<string, []float64>", t))
	}
	if ws := col.WindowingStrategy(); ws != nil && ws.Fn != nil && ws.Fn.Kind != window.GlobalWindows {
		panic(fmt.Sprintf("nnbeam.Score: elements in windows %v; Score needs the global window (beam.WindowInto(s, window.NewGlobalWindows(), col))", ws.Fn))
	}
	return beam.ParDo2(s, fn, col)
}

// scorer is what the DoFns of Score share: their options, set when the
// pipeline is built, and the model and buffers of a worker, set in Setup.
type scorer struct {
	Model string
	// Run names the Score, whose model alone the worker's cache gives
	// back: another Score reads the file afresh.
	Run       string
	Header    []string
	Comma     rune
	Strict    bool
	FailFast  bool
	BlockRows int

	l       *loaded
	parser  *nn.RowParser // nil until a CSV row comes
	first   string        // the first name of Header, trimmed
	row     []float64     // a row of the table
	fields  []string      // the fields of a record
	x, out  *mat.Dense    // a block: the network's inputs and outputs
	ws      nn.Workspace
	keys    []string // the keys of the rows of the block
	n       int      // rows in the block
	classes []int
	csv     *csv.Reader // for records with quotes
	rd      strings.Reader
	unknown int // unknown categories counted so far
	scored  beam.Counter
	dead    beam.Counter
	unknCtr beam.Counter
}

// Setup loads the model, once per worker, and makes the buffers of a
// block.
func (f *scorer) Setup(ctx context.Context) error {
	l, err := loadModel(ctx, f.Model, f.Run)
	if err != nil {
		return err
	}
	f.l = l
	sizes := l.m.Network.Sizes()
	in, out := sizes[0], sizes[len(sizes)-1]
	if f.BlockRows <= 0 {
		f.BlockRows = defaultBlockRows
	}
	// Bound the block by the memory budget, as nn predict does.
	f.BlockRows = max(1, min(f.BlockRows, int(nn.MemoryBudget()/16/int64((in+out)*8))))
	f.x = mat.NewDense(f.BlockRows, in, nil)
	f.out = mat.NewDense(f.BlockRows, out, nil)
	f.keys = make([]string, f.BlockRows)
	f.row = make([]float64, l.m.Columns())
	if f.Comma == 0 {
		f.Comma = ','
	}
	if len(f.Header) > 0 {
		f.first = strings.TrimSpace(f.Header[0])
	}
	f.scored = beam.NewCounter("nnbeam", "rows_scored")
	f.dead = beam.NewCounter("nnbeam", "rows_dead_letter")
	f.unknCtr = beam.NewCounter("nnbeam", "unknown_categories")
	return nil
}

// rowParser returns the parser of CSV records, made the first time.
func (f *scorer) rowParser() (*nn.RowParser, error) {
	if f.parser == nil {
		p, err := f.l.m.RowParser(f.Header, f.Strict)
		if err != nil {
			return nil, fmt.Errorf("nnbeam: model %s: %w", f.Model, err)
		}
		f.parser = p
	}
	return f.parser, nil
}

// split returns the fields of the CSV record text, reusing f's buffers.
// A record without quotes is split on the separator; one with quotes is
// read by encoding/csv, and must be a single, complete record.
func (f *scorer) split(text string) ([]string, error) {
	text = strings.TrimSuffix(text, "\r")
	if !strings.ContainsRune(text, '"') {
		f.fields = f.fields[:0]
		for {
			i := strings.IndexRune(text, f.Comma)
			if i < 0 {
				f.fields = append(f.fields, text)
				return f.fields, nil
			}
			f.fields = append(f.fields, text[:i])
			text = text[i+utf8Len(f.Comma):]
		}
	}
	f.rd.Reset(text)
	if f.csv == nil {
		f.csv = csv.NewReader(&f.rd)
		f.csv.FieldsPerRecord = -1
		f.csv.Comma = f.Comma
		f.csv.ReuseRecord = true
	}
	rec, err := f.csv.Read()
	if err != nil {
		// The reader may hold the rest of text, after a newline, in its
		// buffer: a new one for the next record.
		f.csv = nil
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &nn.ParseError{Column: pe.Column, Err: pe.Err}
		}
		return nil, err
	}
	if _, err := f.csv.Read(); err == nil {
		f.csv = nil // as above
		return nil, errors.New("the line holds more than one CSV record")
	}
	return rec, nil
}

// utf8Len returns the bytes of r in UTF-8.
func utf8Len(r rune) int {
	return len(string(r))
}

// addRecord parses the CSV record text into the block, under key; file
// and line say where it was read, if known. A record that cannot be
// scored goes to dead, or fails the bundle with FailFast.
func (f *scorer) addRecord(ctx context.Context, key, text, file string, line int64, emit func(Prediction), dead func(DeadLetter)) error {
	if strings.TrimSpace(text) == "" {
		return nil // as CSV readers, nn predict's among them, skip blank lines
	}
	p, err := f.rowParser()
	if err != nil {
		return err
	}
	rec, err := f.split(text)
	if err == nil {
		err = p.Parse(f.row, rec, int(line))
	}
	if u := p.Unknown(); u > f.unknown {
		f.unknCtr.Inc(ctx, int64(u-f.unknown))
		f.unknown = u
	}
	if err == nil {
		err = f.scale()
	}
	if err != nil {
		return f.reject(ctx, DeadLetter{Key: key, File: file, Line: line, Row: text, Error: rowError(err)}, dead)
	}
	return f.push(ctx, key, emit)
}

// addVector adds the table row v to the block, under key.
func (f *scorer) addVector(ctx context.Context, key string, v []float64, emit func(Prediction), dead func(DeadLetter)) error {
	var err error
	if len(v) != len(f.row) {
		err = fmt.Errorf("%d values for the %d features of the model", len(v), len(f.row))
	} else {
		copy(f.row, v)
		err = f.checkCodes()
		if err == nil {
			err = f.scale()
		}
	}
	if err != nil {
		return f.reject(ctx, DeadLetter{Key: key, Row: formatVector(v), Error: err.Error()}, dead)
	}
	return f.push(ctx, key, emit)
}

// checkCodes checks that the values of the categorical features of f.row
// are category codes, for rows that did not come through the parser.
func (f *scorer) checkCodes() error {
	e := f.l.m.Encoding
	if e == nil {
		return nil
	}
	for j, v := range f.row {
		if cats := e.Columns[j].Categories; cats != nil && !math.IsNaN(v) && (v != math.Trunc(v) || v < -1 || v >= float64(len(cats))) {
			return fmt.Errorf("feature %q: %v is not a category code (there are %d categories)", f.l.features[j], v, len(cats))
		}
	}
	return nil
}

// scale encodes and scales f.row into the next row of the block and
// checks that the network's inputs are finite, as nn predict does.
func (f *scorer) scale() error {
	return f.l.schema.Prepare(f.x.RawRowView(f.n), f.row)
}

// rowError returns the message of err, the error of a row: a
// *nn.ParseError without its line, which the dead letter holds.
func rowError(err error) string {
	var pe *nn.ParseError
	if errors.As(err, &pe) && pe.Column > 0 {
		return fmt.Sprintf("column %d: %v", pe.Column, pe.Err)
	}
	if pe != nil {
		return pe.Err.Error()
	}
	return err.Error()
}

// reject sends d to the dead letters, or with FailFast fails the bundle.
func (f *scorer) reject(ctx context.Context, d DeadLetter, dead func(DeadLetter)) error {
	if f.FailFast {
		where := d.Key
		if d.File != "" {
			where = d.File + ":" + strconv.FormatInt(d.Line, 10)
		}
		return fmt.Errorf("nnbeam: %s: %s", where, d.Error)
	}
	f.dead.Inc(ctx, 1)
	dead(d)
	return nil
}

// push keeps key for the row just scaled into the block, and predicts the
// block once it is full.
func (f *scorer) push(ctx context.Context, key string, emit func(Prediction)) error {
	f.keys[f.n] = key
	f.n++
	if f.n == f.BlockRows {
		return f.flush(ctx, emit)
	}
	return nil
}

// flush predicts the rows of the block and emits their predictions.
func (f *scorer) flush(ctx context.Context, emit func(Prediction)) error {
	if f.n == 0 {
		return nil
	}
	x, out := f.x, f.out
	if f.n < f.BlockRows {
		x = x.Slice(0, f.n, 0, x.RawMatrix().Cols).(*mat.Dense)
		out = out.Slice(0, f.n, 0, out.RawMatrix().Cols).(*mat.Dense)
	}
	if err := f.l.m.Network.PredictTo(out, x, &f.ws); err != nil {
		return fmt.Errorf("nnbeam: predict: %w", err)
	}
	classes := f.l.classes
	if classes != nil {
		f.classes = f.l.m.Network.ClassesTo(f.classes, out)
	}
	for i := range f.n {
		p := Prediction{Key: f.keys[i], Outputs: slices.Clone(out.RawRowView(i))}
		if classes != nil {
			p.Class = f.classes[i]
			p.Label = classes[p.Class]
		}
		emit(p)
		f.keys[i] = ""
	}
	f.scored.Inc(ctx, int64(f.n))
	f.n = 0
	return nil
}

// formatVector returns v as CSV, each value in the shortest text that
// reads back as it.
func formatVector(v []float64) string {
	b := make([]byte, 0, 8*len(v))
	for j, x := range v {
		if j > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
	}
	return string(b)
}

// scoreLinesFn scores Lines.
type scoreLinesFn struct{ scorer }

// ProcessElement adds the record of l to the block, skipping a header.
func (f *scoreLinesFn) ProcessElement(ctx context.Context, l Line, emit func(Prediction), dead func(DeadLetter)) error {
	text := l.Text
	if l.Number == 1 {
		if f.isHeader(text) {
			return nil
		}
		// A byte order mark starts the file, not its first field, as
		// nn predict reads it.
		text = strings.TrimPrefix(text, "\ufeff")
	}
	return f.addRecord(ctx, l.String(), text, l.File, l.Number, emit, dead)
}

// isHeader reports whether text is the record of ScoreOptions.Header,
// ignoring spaces around fields and a byte order mark.
func (f *scorer) isHeader(text string) bool {
	if f.Header == nil || !strings.HasPrefix(strings.TrimLeft(strings.TrimPrefix(text, "\ufeff"), " \t"), f.first) {
		return false
	}
	rec, err := f.split(strings.TrimPrefix(text, "\ufeff"))
	if err != nil || len(rec) != len(f.Header) {
		return false
	}
	for j, h := range f.Header {
		if strings.TrimSpace(rec[j]) != strings.TrimSpace(h) {
			return false
		}
	}
	return true
}

// FinishBundle predicts the rows left in the block.
func (f *scoreLinesFn) FinishBundle(ctx context.Context, emit func(Prediction), _ func(DeadLetter)) error {
	return f.flush(ctx, emit)
}

// scoreRecordsFn scores CSV records.
type scoreRecordsFn struct{ scorer }

// ProcessElement adds the record to the block, skipping a header.
func (f *scoreRecordsFn) ProcessElement(ctx context.Context, record string, emit func(Prediction), dead func(DeadLetter)) error {
	if f.isHeader(record) {
		return nil
	}
	// A byte order mark is the start of a file, not of a field.
	return f.addRecord(ctx, record, strings.TrimPrefix(record, "\ufeff"), "", 0, emit, dead)
}

// FinishBundle predicts the rows left in the block.
func (f *scoreRecordsFn) FinishBundle(ctx context.Context, emit func(Prediction), _ func(DeadLetter)) error {
	return f.flush(ctx, emit)
}

// scoreVectorsFn scores rows of the table.
type scoreVectorsFn struct{ scorer }

// ProcessElement adds the row to the block.
func (f *scoreVectorsFn) ProcessElement(ctx context.Context, v []float64, emit func(Prediction), dead func(DeadLetter)) error {
	return f.addVector(ctx, formatVector(v), v, emit, dead)
}

// FinishBundle predicts the rows left in the block.
func (f *scoreVectorsFn) FinishBundle(ctx context.Context, emit func(Prediction), _ func(DeadLetter)) error {
	return f.flush(ctx, emit)
}

// scoreKeyedFn scores keyed rows of the table.
type scoreKeyedFn struct{ scorer }

// ProcessElement adds the row to the block under its key.
func (f *scoreKeyedFn) ProcessElement(ctx context.Context, key string, v []float64, emit func(Prediction), dead func(DeadLetter)) error {
	return f.addVector(ctx, key, v, emit, dead)
}

// FinishBundle predicts the rows left in the block.
func (f *scoreKeyedFn) FinishBundle(ctx context.Context, emit func(Prediction), _ func(DeadLetter)) error {
	return f.flush(ctx, emit)
}
