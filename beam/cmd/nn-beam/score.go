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
	"os"
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
	register.DoFn1x1[nnbeam.Prediction, string](&predictionCSVFn{})
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
	                        that is not a finite number…)

Numbers are written in the shortest form that reads back as the same
float64. Both files are written, empty if need be, replacing files of
the same names. With -fail-fast, a row that cannot be scored fails the
job instead, and the command exits with status 1 and the row's
file:line; the output files are then left empty or incomplete.

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
	for _, f := range []struct{ name, value, what string }{
		{"model", o.model, "the model file to predict with"},
		{"input", o.input, "a glob of the CSV files to score"},
		{"output", o.output, "the prefix of the output files"},
	} {
		if f.value == "" {
			return usagef("score", "flag -%s is required: %s", f.name, f.what)
		}
	}
	if o.block < 0 {
		return usagef("score", "invalid value %d for flag -block: want a number of rows ≥ 1, or 0 for 256", o.block)
	}
	if r := *runners.Runner; (r == "flink" || r == "spark") && *jobopts.Endpoint == "" {
		return usagef("score", "-runner %s needs the address of its job server: --endpoint HOST:PORT", r)
	}
	if *runners.Runner == "dataflow" {
		for _, f := range []struct{ name, value string }{{"model", o.model}, {"input", o.input}, {"output", o.output}} {
			if !hasScheme(f.value) {
				return usagef("score", "-%s %s is a local path, which Dataflow's workers cannot reach: give a gs:// path", f.name, excerpt.Quote(f.value))
			}
		}
	}

	for _, out := range []string{o.output + predictionsSuffix, o.output + errorsSuffix} {
		if matches(o.input, out) {
			return usagef("score", "-output %s: the output file %s would be among the files of -input %s", excerpt.Quote(o.output), excerpt.Quote(out), excerpt.Quote(o.input))
		}
	}

	m, err := readModel(ctx, o.model)
	if err != nil {
		return err
	}
	info, err := modelInfo(m, o.model)
	if err != nil {
		return err
	}
	if o.proba && info.classes == nil {
		return usagef("score", "-proba needs a classification model; %s is a regression model", o.model)
	}
	if o.proba && !info.probabilities {
		return usagef("score", "-proba needs probabilities; the single output of %s is not a sigmoid", o.model)
	}

	files, err := match(ctx, o.input)
	if err != nil {
		return err
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
			if err := checkHeader(m, info.features, header, file, o.header, o.strict); err != nil {
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
	p, err := o.pipeline(header, info.classes != nil)
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

// pipeline builds the pipeline of score. Beam's transforms panic on what
// they cannot build, such as a path of a file system Beam does not know;
// pipeline returns that as an error.
func (o *scoreOptions) pipeline(header []string, classify bool) (p *beam.Pipeline, err error) {
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
	textio.Write(s, o.output+predictionsSuffix, beam.ParDo(s, &predictionCSVFn{Classify: classify, Proba: o.proba}, preds))
	textio.Write(s, o.output+errorsSuffix, beam.ParDo(s, deadLetterCSV, dead))
	return p, nil
}

// truncate makes path an empty file, through Beam's file system of its
// scheme.
func truncate(ctx context.Context, path string) error {
	err := safely(func() error {
		fsys, err := filesystem.New(ctx, path)
		if err != nil {
			return err
		}
		defer fsys.Close()
		w, err := fsys.OpenWrite(ctx, path)
		if err != nil {
			return err
		}
		return w.Close()
	})
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil {
		return fmt.Errorf("output %s: %v", path, err)
	}
	return nil
}

// matches reports whether the glob matches the file name: for local
// paths, once both are absolute; for others, by the rules of path.Match,
// which Cloud Storage's globs follow but for "**".
func matches(glob, name string) bool {
	if hasScheme(glob) {
		ok, _ := path.Match(glob, name)
		return ok
	}
	if hasScheme(name) {
		return false
	}
	g, err1 := filepath.Abs(glob)
	n, err2 := filepath.Abs(name)
	ok, _ := filepath.Match(g, n)
	return ok && err1 == nil && err2 == nil
}

// hasScheme reports whether path names a file system by a scheme, as in
// gs://bucket/file, rather than a local file.
func hasScheme(path string) bool {
	return strings.Contains(path, "://")
}

// safely returns the error of f, or its panic as an error: Beam's file
// systems panic on some failures, such as a Cloud Storage client that
// cannot be made.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return f()
}

// readModel reads the model file path: a local file with nn.LoadModel,
// another through Beam's file system of its scheme.
func readModel(ctx context.Context, path string) (*nn.Model, error) {
	if !hasScheme(path) {
		m, err := nn.LoadModel(path)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("model %s: %v", path, pe.Err)
		}
		if err != nil {
			// "nn: path: what is wrong"
			return nil, fmt.Errorf("model %s", strings.TrimPrefix(err.Error(), "nn: "))
		}
		return m, nil
	}
	var m *nn.Model
	err := safely(func() error {
		fsys, err := filesystem.New(ctx, path)
		if err != nil {
			return err
		}
		defer fsys.Close()
		r, err := fsys.OpenRead(ctx, path)
		if err != nil {
			return err
		}
		defer r.Close()
		m, err = nn.DecodeModel(r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("model %s: %s", path, strings.TrimPrefix(err.Error(), "nn: "))
	}
	return m, nil
}

// scoredModel is what score needs to know of a model on the driver.
type scoredModel struct {
	// features are the names of the model's columns, or col0, col1, …
	features []string
	// classes are the class labels of a classifier, or 0, 1, … if it
	// has none; nil for a regression.
	classes []string
	// probabilities says that the outputs of a classifier are class
	// probabilities: one output per class, or a single sigmoid.
	probabilities bool
}

// modelInfo returns what score needs to know of m, read from the file
// path, checking what nnbeam checks on the workers, so that a model that
// cannot be scored fails before the job starts: one class label per
// output (two for a single output), and features of distinct names.
func modelInfo(m *nn.Model, path string) (*scoredModel, error) {
	cfg := m.Network.Config()
	out := cfg.Sizes[len(cfg.Sizes)-1]
	acts := cfg.Activations
	info := &scoredModel{
		features:      m.Features,
		probabilities: out > 1 || acts[len(acts)-1] == nn.Sigmoid || acts[len(acts)-1] == nn.Softmax,
	}
	if info.features == nil {
		info.features = make([]string, m.Columns())
		for j := range info.features {
			info.features[j] = "col" + strconv.Itoa(j)
		}
	}
	seen := make(map[string]bool, len(info.features))
	for _, f := range info.features {
		if seen[f] {
			return nil, fmt.Errorf("model %s names the feature %s twice, so its columns cannot be told apart", path, excerpt.Quote(f))
		}
		seen[f] = true
	}
	k := out
	if out == 1 {
		k = 2 // a single output: classes 0 and 1
	}
	switch {
	case m.Classes == nil && cfg.Loss != nn.SquaredError:
		info.classes = make([]string, k)
		for i := range info.classes {
			info.classes[i] = strconv.Itoa(i)
		}
	case m.Classes != nil && len(m.Classes) != k:
		return nil, fmt.Errorf("model %s has %d class labels for its %d outputs; want %d", path, len(m.Classes), out, k)
	default:
		info.classes = m.Classes
	}
	return info, nil
}

// match returns the files that glob matches, in the order of their
// names, leaving out local directories, as nnbeam.ReadLines does. It
// returns an error if there are none.
func match(ctx context.Context, glob string) ([]string, error) {
	var files []string
	err := safely(func() error {
		fsys, err := filesystem.New(ctx, glob)
		if err != nil {
			return err
		}
		defer fsys.Close()
		files, err = fsys.List(ctx, glob)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("input %s: %v", glob, err)
	}
	if !hasScheme(glob) {
		files = slices.DeleteFunc(files, func(f string) bool {
			st, err := os.Stat(f)
			return err == nil && st.IsDir()
		})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no file matches -input %s", excerpt.Quote(glob))
	}
	slices.Sort(files)
	return files, nil
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
	err := safely(func() error {
		fsys, err := filesystem.New(ctx, path)
		if err != nil {
			return err
		}
		defer fsys.Close()
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
		line, err = bufio.NewReader(io.LimitReader(r, nnbeam.MaxLineBytes+1)).ReadString('\n')
		if err == io.EOF {
			err = nil
		}
		if err == nil && len(line) > nnbeam.MaxLineBytes {
			err = fmt.Errorf("the first line is longer than %d bytes", nnbeam.MaxLineBytes)
		}
		return err
	})
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
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

// checkHeader checks that header, the first line of file, names every
// feature of the model m, and that m can read rows laid out as it says.
func checkHeader(m *nn.Model, features, header []string, file string, mode nn.Header, strict bool) error {
	hint := ""
	if mode == nn.HeaderAuto {
		hint = "; -header no reads the first line as data"
	}
	names := make(map[string]bool, len(header))
	for _, h := range header {
		names[strings.TrimSpace(h)] = true
	}
	for _, f := range features {
		if !names[f] {
			return fmt.Errorf("%s: the header names no column %s, a feature of the model (header: %s%s)", file, excerpt.Quote(f), excerpt.Quotes(header), hint)
		}
	}
	if _, err := m.RowParser(header, strict); err != nil {
		return fmt.Errorf("%s: header: %s", file, strings.TrimPrefix(err.Error(), "nn: "))
	}
	return nil
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

// predictionCSVFn formats a Prediction of a Line as a CSV line:
// file,line then the label, the label and the class probabilities, or
// the outputs of a regression.
type predictionCSVFn struct {
	// Classify says the model is a classifier.
	Classify bool
	// Proba asks for the class probabilities after the label.
	Proba bool
}

// ProcessElement returns the CSV line of p.
func (f *predictionCSVFn) ProcessElement(p nnbeam.Prediction) string {
	file, line := splitKey(p.Key)
	rec := make([]string, 0, 4+len(p.Outputs))
	rec = append(rec, file, line)
	if f.Classify {
		rec = append(rec, p.Label)
	}
	if f.Classify && !f.Proba {
		return csvLine(rec)
	}
	out := p.Outputs
	if f.Classify && len(out) == 1 {
		out = []float64{1 - out[0], out[0]} // a single sigmoid output p: classes 0 and 1
	}
	for _, v := range out {
		rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return csvLine(rec)
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
	return csvLine([]string{file, line, d.Error, d.Row})
}

// csvLine returns rec as a line of CSV without its line end, quoting the
// fields that need it as encoding/csv does.
func csvLine(rec []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(rec) // cannot fail: the writer's separator is valid
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}
