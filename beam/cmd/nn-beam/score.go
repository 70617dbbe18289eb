package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	"github.com/neuralgo/nn"
	nnbeam "github.com/neuralgo/nn/beam"
	"github.com/neuralgo/nn/internal/excerpt"
)

func init() {
	register.DoFn2x2[context.Context, nnbeam.Prediction, string, error](&predictionCSVFn{})
	register.Function1x1(deadLetterCSV)
}

const scoreSynopsis = `Usage: nn-beam score -model MODEL -input GLOB -output PREFIX [flags] [Beam's flags]

Score predicts every row of the CSV files that GLOB matches with the model
file MODEL, on a Beam runner, bit for bit as nn predict does: each worker
loads the model once and predicts the rows of its bundles in blocks.
MODEL, GLOB and PREFIX are local paths or Cloud Storage paths (gs://…);
the files of a local GLOB must be readable where the workers run. Files
ending in .gz are decompressed.

Score writes two CSV files, their lines in no particular order:

	PREFIX-predictions.csv  file,line,prediction: for a classifier the
	                        class label (with -proba, the label then the
	                        probability of each class, in the order of
	                        the model's classes, 1−p and p for a single
	                        sigmoid output p); for a regression, one
	                        column per output
	PREFIX-errors.csv       file,line,error,row: the rows that could not
	                        be scored (a wrong number of fields, a value
	                        that is not a finite number, a line longer
	                        than 16 MiB, whose row is left empty and
	                        whose error quotes its start…), and those
	                        whose predictions are not finite numbers, as
	                        for a model whose weights overflow on them

The labels of a classifier saved without them are "0", "1", …, and the
features of a model saved without names col0, col1, …, as nn predict
names them.

Numbers are written in the shortest form that reads back as the same
float64. Both files are written, empty if need be, replacing files of
the same names. Rows in the errors file do not fail the job: the command
exits with status 0 once every other row is scored. With -fail-fast, a
row that cannot be scored fails the job instead, and the command exits
with status 1 and the row's file:line; the output files are then left
empty or incomplete.

With -header auto, the first line of the first file (in the order of
their names, skipping empty files) is a header if one of its fields is
not a number; -header yes or no says so. With a header, every file may
start with it, and the model's features are found by name among its
fields, other columns (the target) being ignored; the header must name
every feature, which is checked before the job starts. Without a header,
the rows hold exactly the model's features, in order.

When the job is done, a line on standard error says how many rows were
scored and how many went to the errors file, in what time, from the job's
counters.

Examples:

	nn-beam score -model iris.json -input 'data/*.csv' -output out/iris
	nn-beam score -model iris.json -input 'data/*.csv.gz' -output out/iris -proba -log-level info
` + runnerExamples

// The names of the output files, after the prefix of -output.
const (
	predictionsSuffix = "-predictions.csv"
	errorsSuffix      = "-errors.csv"
)

// scoreOptions are the flags of nn-beam score.
type scoreOptions struct {
	model, input, output string
	header               nn.Header
	proba                bool
	failFast             bool
	strict               bool
	block                int
}

func scoreFlags(fs *flag.FlagSet) func(ctx context.Context, e *env) error {
	o := &scoreOptions{}
	fs.StringVar(&o.model, "model", "", "the model `file` to predict with, local or gs:// (required)")
	fs.StringVar(&o.input, "input", "", "the CSV files to score: a `glob`, local or gs:// (required)")
	fs.StringVar(&o.output, "output", "", "the `prefix` of the files PREFIX-predictions.csv and PREFIX-errors.csv (required)")
	fs.TextVar(&o.header, "header", nn.HeaderAuto, "whether the files start with a header, by `mode`: auto, yes or no")
	fs.BoolVar(&o.proba, "proba", false, "write the probability of each class after the label")
	fs.BoolVar(&o.failFast, "fail-fast", false, "fail the job on the first row that cannot be scored, instead of writing it to PREFIX-errors.csv")
	fs.BoolVar(&o.strict, "strict", false, "make a category the model has not seen an error, instead of encoding it as all zeros")
	fs.IntVar(&o.block, "block", 0, "the `rows` predicted at once (default 256)")
	return o.run
}

// run checks the flags, the model, the first file and its header, then
// builds and runs the pipeline and reports its counters.
func (o *scoreOptions) run(ctx context.Context, e *env) error {
	if err := required("score",
		requiredFlag{"model", o.model, "the model file to predict with"},
		requiredFlag{"input", o.input, "a glob of the CSV files to score"},
		requiredFlag{"output", o.output, "the prefix of the output files"},
	); err != nil {
		return err
	}
	if o.block < 0 {
		return usagef("score", "invalid value %d for flag -block: want a number of rows ≥ 1, or 0 for 256", o.block)
	}
	if r := *runners.Runner; (r == "flink" || r == "spark") && *jobopts.Endpoint == "" {
		return usagef("score", "-runner %s needs the address of its job server: --endpoint HOST:PORT", r)
	}
	if *runners.Runner == "dataflow" {
		for _, f := range []struct{ name, value string }{{"model", o.model}, {"input", o.input}, {"output", o.output}} {
			if nnbeam.IsLocal(f.value) {
				return usagef("score", "-%s %s is a local path, which Dataflow's workers cannot reach: give a gs:// path", f.name, excerpt.Quote(f.value))
			}
		}
	}

	for _, out := range []string{o.output + predictionsSuffix, o.output + errorsSuffix} {
		if matches(o.input, out) {
			return usagef("score", "-output %s: the output file %s would be among the files of -input %s", excerpt.Quote(o.output), excerpt.Quote(out), excerpt.Quote(o.input))
		}
	}

	// What the workers read and check, read and checked here, so that a
	// model or a header that cannot be scored fails before the job
	// starts.
	m, err := nnbeam.ReadModel(ctx, o.model)
	if err != nil {
		return errors.New(message(err))
	}
	schema, err := m.Schema()
	if err != nil {
		return fmt.Errorf("model %s: %s", o.model, message(err))
	}
	output := nn.Labels
	if o.proba {
		output = nn.LabelsAndProbabilities
	}
	if _, err := schema.Header(output); err != nil {
		return usagef("score", "-proba: %s: %s", o.model, message(err))
	}

	files, err := nnbeam.Match(ctx, o.input)
	if err != nil {
		return flagError("input", err)
	}
	var header []string
	if o.header != nn.HeaderNo {
		file, line, err := firstLine(ctx, files)
		if err != nil {
			return err
		}
		if header, err = headerOf(line, file, o.header); err != nil {
			return err
		}
		if header != nil {
			if err := checkHeader(schema, header, file, o.header, o.strict); err != nil {
				return err
			}
		}
	}

	// textio.Write writes no file for no lines: empty the outputs
	// first, so that no file of an earlier run is taken for this one's.
	// That also finds an output that cannot be written before the job
	// runs.
	for _, path := range []string{o.output + predictionsSuffix, o.output + errorsSuffix} {
		if err := truncate(ctx, path); err != nil {
			return err
		}
	}
	p, err := o.pipeline(header, output)
	if err != nil {
		return err
	}
	start := time.Now()
	pr, err := beam.Run(ctx, *runners.Runner, p)
	elapsed := time.Since(start)
	if err != nil {
		return jobError(err)
	}
	summarize(e.stderr, pr, elapsed, o.output+errorsSuffix)
	return nil
}

// pipeline builds the pipeline of score, which writes the predictions
// as output says. Beam's transforms panic on what they cannot build, such
// as a path of a file system Beam does not know; pipeline returns that as
// an error.
func (o *scoreOptions) pipeline(header []string, output nn.Output) (p *beam.Pipeline, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("building the pipeline: %v", r)
		}
	}()
	p, s := beam.NewPipelineWithRoot()
	lines := nnbeam.ReadLines(s, o.input)
	preds, dead := nnbeam.Score(s, o.model, lines, &nnbeam.ScoreOptions{
		Header:           header,
		StrictCategories: o.strict,
		FailFast:         o.failFast,
		BlockRows:        o.block,
	})
	textio.Write(s, o.output+predictionsSuffix, beam.ParDo(s, &predictionCSVFn{Model: o.model, Output: output}, preds))
	textio.Write(s, o.output+errorsSuffix, beam.ParDo(s, deadLetterCSV, dead))
	return p, nil
}

// truncate makes path an empty file, through Beam's file system of its
// scheme.
func truncate(ctx context.Context, path string) error {
	err := withFS(ctx, path, func(fsys filesystem.Interface) error {
		w, err := fsys.OpenWrite(ctx, path)
		if err != nil {
			return err
		}
		return w.Close()
	})
	if err != nil {
		return fmt.Errorf("output %s: %v", path, err)
	}
	return nil
}

// matches reports whether the glob matches the file name: for local
// paths, once both are absolute; for others, by the rules of path.Match,
// which Cloud Storage's globs follow but for "**".
func matches(glob, name string) bool {
	if !nnbeam.IsLocal(glob) {
		ok, _ := path.Match(glob, name)
		return ok
	}
	if !nnbeam.IsLocal(name) {
		return false
	}
	g, err1 := filepath.Abs(glob)
	n, err2 := filepath.Abs(name)
	ok, _ := filepath.Match(g, n)
	return ok && err1 == nil && err2 == nil
}

// withFS calls f with Beam's file system of path, and returns its error,
// or its panic as an error (Beam's file systems panic on some failures,
// such as a Cloud Storage client that cannot be made), without the path
// that an error of the local file system repeats.
func withFS(ctx context.Context, path string, f func(fsys filesystem.Interface) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
	}()
	fsys, err := filesystem.New(ctx, path)
	if err != nil {
		return err
	}
	defer fsys.Close()
	return f(fsys)
}

// message returns the message of err, an error of package nn or nnbeam,
// without the prefix of the package, which "nn-beam: " replaces.
func message(err error) string {
	s := err.Error()
	if t, ok := strings.CutPrefix(s, "nnbeam: "); ok {
		return t
	}
	return strings.TrimPrefix(s, "nn: ")
}

// flagError returns err, an error of package nnbeam about the value of
// the flag name, as nn-beam says it: "-input: no file matches …".
func flagError(name string, err error) error {
	return fmt.Errorf("-%s: %s", name, message(err))
}

// maxHeaderFiles is the most files firstLine opens to find a line that
// is not blank.
const maxHeaderFiles = 16

// firstLine returns the first line of the first of files whose first line
// is not blank, among the first maxHeaderFiles, and that file; the first
// file and "" if there is none. The line is without its line end and a
// byte order mark, and a file ending in .gz is decompressed, as
// nnbeam.ReadLines reads it.
func firstLine(ctx context.Context, files []string) (file, line string, err error) {
	for _, file := range files[:min(len(files), maxHeaderFiles)] {
		line, err := readFirstLine(ctx, file)
		if err != nil || strings.TrimSpace(line) != "" {
			return file, line, err
		}
	}
	return files[0], "", nil
}

// readFirstLine returns the first line of the file path, as firstLine
// does; "" for an empty file.
func readFirstLine(ctx context.Context, path string) (string, error) {
	var line string
	err := withFS(ctx, path, func(fsys filesystem.Interface) error {
		f, err := fsys.OpenRead(ctx, path)
		if err != nil {
			return err
		}
		defer f.Close()
		var r io.Reader = f
		if strings.HasSuffix(path, ".gz") {
			zr, err := gzip.NewReader(f)
			if err != nil {
				return err
			}
			defer zr.Close()
			r = zr
		}
		// The line end is not counted in the limit: "\r\n" is 2 bytes.
		line, err = bufio.NewReader(io.LimitReader(r, nnbeam.MaxLineBytes+2)).ReadString('\n')
		if err == io.EOF {
			err = nil
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if err == nil && len(line) > nnbeam.MaxLineBytes {
			err = fmt.Errorf("the first line is longer than %d bytes, too long for a header (with -header no, it is a row, which goes to the errors file)", nnbeam.MaxLineBytes)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	return strings.TrimPrefix(line, "\ufeff"), nil
}

// headerOf returns the fields of line, the first line of file, if it is
// a header by mode (HeaderYes or HeaderAuto), or nil. With HeaderAuto,
// line is a header if one of its fields is not a number.
func headerOf(line, file string, mode nn.Header) ([]string, error) {
	if strings.TrimSpace(line) == "" {
		if mode == nn.HeaderYes {
			return nil, fmt.Errorf("%s: the first line is blank, not a header (-header yes)", file)
		}
		return nil, nil
	}
	r := csv.NewReader(strings.NewReader(line))
	r.FieldsPerRecord = -1
	fields, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: the first line is not a CSV record: %v", file, err)
	}
	if mode == nn.HeaderYes {
		return fields, nil
	}
	for _, f := range fields {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil {
			return fields, nil
		}
	}
	return nil, nil
}

// checkHeader checks that the model of schema can read rows laid out as
// header, the first line of file, says: that it names every feature.
// Where the header was detected (-header auto) from a line as wide as the
// model's rows that names none of its features, the line may well be a
// row: the error says that -header no reads it as one.
func checkHeader(schema *nn.Schema, header []string, file string, mode nn.Header, strict bool) error {
	_, err := schema.Parser(header, strict)
	if err == nil {
		return nil
	}
	hint := ""
	if mode == nn.HeaderAuto && len(header) == len(schema.Features()) && !slices.ContainsFunc(header, func(h string) bool { return schema.Column(strings.TrimSpace(h)) >= 0 }) {
		hint = " (-header no reads the first line as data)"
	}
	return fmt.Errorf("%s: %s%s", file, message(err), hint)
}

// jobError returns the error of a job that failed. A runner's error
// wraps the error of the DoFn that failed in its own words, over many
// lines (the runner has logged them all); jobError keeps the first line
// of the DoFn's error, which says where and what, with what the pipeline
// was for if nnbeam says so, or else the line of nnbeam's error, or the
// last line.
func jobError(err error) error {
	msg := strings.TrimSpace(err.Error())
	// What the pipeline was for, if nnbeam said: "nnbeam: fitting the
	// scaler: job … failed".
	what := ""
	if head, _, _ := strings.Cut(msg, "\n"); strings.HasPrefix(head, "nnbeam: ") {
		if k := strings.Index(head, ": job "); k >= 0 {
			what = " (" + strings.TrimPrefix(head[:k], "nnbeam: ") + ")"
		}
	}
	// The error of the DoFn that failed, which the runner quotes after
	// its name.
	if i := strings.LastIndex(msg, "] failed:\n"); i >= 0 {
		cause, _, _ := strings.Cut(msg[i+len("] failed:\n"):], "\n")
		cause = strings.TrimPrefix(strings.TrimSpace(cause), "nnbeam: ")
		if strings.Count(cause, `"`)%2 == 1 {
			// The runner quoted the error and the quote closes here.
			cause = strings.TrimSuffix(cause, `"`)
		}
		if cause != "" {
			return fmt.Errorf("job failed%s: %s", what, cause)
		}
	}
	if i := strings.Index(msg, "nnbeam: "); i >= 0 {
		msg = strings.TrimPrefix(msg[i:], "nnbeam: ")
		if j := strings.IndexAny(msg, "\r\n"); j >= 0 {
			msg = msg[:j]
		}
	} else if i := strings.LastIndexAny(msg, "\r\n"); i >= 0 {
		msg = msg[i+1:]
	}
	return fmt.Errorf("job failed: %s", msg)
}

// summarize writes the line that sums up a job: the rows scored and the
// dead letters, from the job's counters, the wall time and the rows per
// second.
func summarize(w io.Writer, pr beam.PipelineResult, elapsed time.Duration, errorsFile string) {
	wall := elapsed.Round(time.Millisecond)
	var scored, dead int64
	found := false
	if pr != nil {
		for _, c := range pr.Metrics().AllMetrics().Counters() {
			if c.Namespace() != "nnbeam" {
				continue
			}
			switch c.Name() {
			case "rows_scored":
				scored += c.Result()
				found = true
			case "rows_dead_letter":
				dead += c.Result()
				found = true
			}
		}
	}
	if !found {
		// No rows, or a runner that reports no metrics.
		fmt.Fprintf(w, "nn-beam: job done in %v; the runner counted no rows\n", wall)
		return
	}
	letters := "dead letters"
	if dead == 1 {
		letters = "dead letter"
	}
	if dead > 0 {
		letters += " (see " + errorsFile + ")"
	}
	fmt.Fprintf(w, "nn-beam: %d rows scored, %d %s, in %v, %.0f rows/s\n",
		scored, dead, letters, wall, float64(scored)/elapsed.Seconds())
}

// predictionCSVFn formats a Prediction of a Line as a CSV line: file,line
// then the prediction as nn.Schema.AppendPrediction writes it with
// Output.
type predictionCSVFn struct {
	// Model is the model file of the predictions, whose schema names
	// the classes.
	Model string
	// Output is what to write of a prediction.
	Output nn.Output

	schema *nn.Schema
	buf    []byte
}

// Setup reads the model.
func (f *predictionCSVFn) Setup(ctx context.Context) error {
	m, err := nnbeam.ReadModel(ctx, f.Model)
	if err != nil {
		return err
	}
	f.schema, err = m.Schema()
	if err != nil {
		return fmt.Errorf("model %s: %w", f.Model, err)
	}
	return nil
}

// ProcessElement returns the CSV line of p.
func (f *predictionCSVFn) ProcessElement(_ context.Context, p nnbeam.Prediction) (string, error) {
	if len(p.Outputs) != f.schema.Outputs() {
		return "", fmt.Errorf("model %s: %d outputs in a prediction of %s, for a model of %d: the model file changed while the job ran", f.Model, len(p.Outputs), p.Key, f.schema.Outputs())
	}
	file, line := splitKey(p.Key)
	b := appendRecord(f.buf[:0], file, line)
	b = append(b, ',')
	b = f.schema.AppendPrediction(b, p.Outputs, p.Class, f.Output)
	f.buf = b
	return string(b), nil
}

// splitKey returns the file and line of the key "file:line" of a
// Prediction of a Line; a file name may hold colons, the line not.
func splitKey(key string) (file, line string) {
	i := strings.LastIndexByte(key, ':')
	if i < 0 {
		return key, ""
	}
	return key[:i], key[i+1:]
}

// deadLetterCSV formats a DeadLetter of a Line as a CSV line:
// file,line,error,row.
func deadLetterCSV(d nnbeam.DeadLetter) string {
	file, line := d.File, strconv.FormatInt(d.Line, 10)
	if file == "" {
		file, line = splitKey(d.Key)
	}
	return string(appendRecord(nil, file, line, d.Error, d.Row))
}

// appendRecord appends fields to b as a CSV record without its line end,
// each quoted as nn.AppendCSVField quotes the fields of every CSV file the
// module writes.
func appendRecord(b []byte, fields ...string) []byte {
	for j, s := range fields {
		if j > 0 {
			b = append(b, ',')
		}
		b = nn.AppendCSVField(b, s)
	}
	return b
}
