package nnbeam

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
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
	// nn predict writes it, one of nn.Schema.Classes ("0", "1", … for a
	// model saved without labels); "" for a regression.
	Label string
	// Class is the index of Label among the model's classes, as
	// Network.ClassesTo gives it; 0 for a regression.
	Class int
	// Outputs are the network's outputs for the row, bit for bit those
	// of Network.Predict: the predictions of a regression, the class
	// probabilities of a softmax classifier, or the probability of the
	// second class for a single sigmoid output. They are finite: a row
	// whose outputs are not is a DeadLetter.
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
	// vector as CSV; "" for a Line too long to read, whose Error quotes
	// its start.
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
	// BlockRows is the number of rows predicted at once; zero means
	// nn.DefaultBlockRows (256). A block is made smaller if it would
	// take more than its share of the memory budget, as
	// nn.Schema.NewPredictor says.
	BlockRows int
}

// Score predicts the rows of col with the model of the file model (local,
// or on any file system registered with Beam, such as gs://), in the
// spirit of Beam's RunInference. Each worker reads the model once, in the
// Setup of the DoFn, and predicts the rows of a bundle in blocks of
// BlockRows through an nn.Predictor, the module's one streaming
// prediction path, so that a prediction is bit for bit that of
// nn predict on the same row. The elements of col may be:
//
//   - Line, as ReadLines reads them: a CSV record and where it is;
//   - string: a CSV record, as Beam's textio reads lines;
//   - []float64: a row of the table the model was trained on, one value
//     per feature in the model's order (a category code and NaN for a
//     missing value, for a model with an Encoding);
//   - KV<string, []float64>: such a row with a key.
//
// Blank lines are skipped, as CSV readers skip them. Score returns the
// predictions, a PCollection<Prediction>, and the rows that could not be
// scored, a PCollection<DeadLetter>: those that nn.Schema.Prepare refuses
// (a record with the wrong number of fields, a field that is not a number
// or is not finite, a value that is not finite once scaled, a code that
// is not one of a column's categories), and those whose outputs are not
// finite, as those of a network whose weights overflow for the row are,
// which get no prediction, and the Lines that ReadLines could not read,
// those longer than MaxLineBytes. A model file that cannot be read fails
// the job, with an error naming the file and what is wrong with it.
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

	schema  *nn.Schema
	pred    *nn.Predictor // the block
	rows    []blockRow    // beside the block: where each of its rows came from
	parser  *nn.RowParser // nil until a CSV row comes
	first   string        // the first name of Header, trimmed
	row     []float64     // a row of the table
	fields  []string      // the fields of a record
	csv     *csv.Reader   // for records with quotes
	rd      strings.Reader
	unknown int // unknown categories counted so far
	scored  beam.Counter
	dead    beam.Counter
	unknCtr beam.Counter
}

// blockRow is a row of the block: its key and, should its outputs not be
// finite, what its dead letter says of it.
type blockRow struct {
	key, file string
	line      int64
	text      string    // a CSV row
	vector    []float64 // a vector, nil for a CSV row
}

// Setup reads the model, once per worker, and makes the block.
func (f *scorer) Setup(ctx context.Context) error {
	s, err := loadSchema(ctx, f.Model, f.Run)
	if err != nil {
		return err
	}
	f.schema = s
	f.pred = s.NewPredictor(f.BlockRows)
	f.row = make([]float64, len(s.Features()))
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
		p, err := f.schema.Parser(f.Header, f.Strict)
		if err != nil {
			return nil, modelError(f.Model, err)
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
		err = f.pred.Add(f.row)
	}
	if err != nil {
		return f.reject(ctx, DeadLetter{Key: key, File: file, Line: line, Row: text, Error: rowError(err)}, dead)
	}
	*f.next() = blockRow{key: key, file: file, line: line, text: text}
	return f.flushFull(ctx, emit, dead)
}

// addVector adds the table row v to the block, under key.
func (f *scorer) addVector(ctx context.Context, key string, v []float64, emit func(Prediction), dead func(DeadLetter)) error {
	var err error
	if len(v) != len(f.row) {
		err = fmt.Errorf("%d values for the %d features of the model", len(v), len(f.row))
	} else {
		err = f.pred.Add(v)
	}
	if err != nil {
		return f.reject(ctx, DeadLetter{Key: key, Row: formatVector(v), Error: err.Error()}, dead)
	}
	r := f.next()
	*r = blockRow{key: key, vector: append(r.vector[:0], v...)}
	return f.flushFull(ctx, emit, dead)
}

// next returns the blockRow of the row just added to the block, whose
// vector reuses the memory of the row of a block before, if any.
func (f *scorer) next() *blockRow {
	n := f.pred.Len()
	if n > cap(f.rows) {
		f.rows = append(f.rows[:cap(f.rows)], blockRow{})
	}
	f.rows = f.rows[:n]
	return &f.rows[n-1]
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

// flushFull predicts the block once it is full.
func (f *scorer) flushFull(ctx context.Context, emit func(Prediction), dead func(DeadLetter)) error {
	if f.pred.Full() {
		return f.flush(ctx, emit, dead)
	}
	return nil
}

// flush predicts the rows of the block and emits their predictions, or
// for a row whose outputs are not finite, a dead letter. It leaves the
// block empty, even when it fails the bundle.
func (f *scorer) flush(ctx context.Context, emit func(Prediction), dead func(DeadLetter)) error {
	p := f.pred
	if p.Len() == 0 {
		return nil
	}
	defer func() {
		p.Reset()
		for i := range f.rows {
			r := &f.rows[i]
			r.key, r.file, r.text = "", "", "" // for the collector; vector's memory is reused
		}
		f.rows = f.rows[:0]
	}()
	if err := p.Predict(); err != nil {
		return fmt.Errorf("nnbeam: model %s: %w", f.Model, unprefixed{err})
	}
	classes := f.schema.Classes()
	scored := 0
	for i := range p.Len() {
		r := &f.rows[i]
		if err := p.Err(i); err != nil {
			d := DeadLetter{Key: r.key, File: r.file, Line: r.line, Row: r.text, Error: err.Error()}
			if r.vector != nil {
				d.Row = formatVector(r.vector)
			}
			if err := f.reject(ctx, d, dead); err != nil {
				return err
			}
			continue
		}
		pr := Prediction{Key: r.key, Outputs: slices.Clone(p.Outputs(i))}
		if classes != nil {
			pr.Class = p.Class(i)
			pr.Label = classes[pr.Class]
		}
		emit(pr)
		scored++
	}
	f.scored.Inc(ctx, int64(scored))
	return nil
}

// formatVector returns v as CSV, each value in the shortest text that
// reads back as it, as the module writes numbers.
func formatVector(v []float64) string {
	b := make([]byte, 0, 8*len(v))
	for j, x := range v {
		if j > 0 {
			b = append(b, ',')
		}
		b = nn.AppendFloat(b, x)
	}
	return string(b)
}

// scoreLinesFn scores Lines.
type scoreLinesFn struct{ scorer }

// ProcessElement adds the record of l to the block, skipping a header,
// or sends l to the dead letters if it could not be read.
func (f *scoreLinesFn) ProcessElement(ctx context.Context, l Line, emit func(Prediction), dead func(DeadLetter)) error {
	if l.Err != "" {
		return f.reject(ctx, DeadLetter{Key: l.String(), File: l.File, Line: l.Number, Row: l.Text, Error: l.Err}, dead)
	}
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
func (f *scoreLinesFn) FinishBundle(ctx context.Context, emit func(Prediction), dead func(DeadLetter)) error {
	return f.flush(ctx, emit, dead)
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
func (f *scoreRecordsFn) FinishBundle(ctx context.Context, emit func(Prediction), dead func(DeadLetter)) error {
	return f.flush(ctx, emit, dead)
}

// scoreVectorsFn scores rows of the table.
type scoreVectorsFn struct{ scorer }

// ProcessElement adds the row to the block.
func (f *scoreVectorsFn) ProcessElement(ctx context.Context, v []float64, emit func(Prediction), dead func(DeadLetter)) error {
	return f.addVector(ctx, formatVector(v), v, emit, dead)
}

// FinishBundle predicts the rows left in the block.
func (f *scoreVectorsFn) FinishBundle(ctx context.Context, emit func(Prediction), dead func(DeadLetter)) error {
	return f.flush(ctx, emit, dead)
}

// scoreKeyedFn scores keyed rows of the table.
type scoreKeyedFn struct{ scorer }

// ProcessElement adds the row to the block under its key.
func (f *scoreKeyedFn) ProcessElement(ctx context.Context, key string, v []float64, emit func(Prediction), dead func(DeadLetter)) error {
	return f.addVector(ctx, key, v, emit, dead)
}

// FinishBundle predicts the rows left in the block.
func (f *scoreKeyedFn) FinishBundle(ctx context.Context, emit func(Prediction), dead func(DeadLetter)) error {
	return f.flush(ctx, emit, dead)
}
