package nn

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralgo/nn/internal/tablegen"
)

// writeTable writes rows rows of the synthetic table to a file in dir and
// returns its path and its text.
func writeTable(t *testing.T, dir, name string, rows int, seed uint64) (string, string) {
	t.Helper()
	var b bytes.Buffer
	if err := tablegen.Write(&b, rows, seed); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, b.String()
}

func streamClassifier(epochs int) *Classifier {
	return &Classifier{Hidden: []int{16}, Epochs: epochs, Seed: 3, BatchSize: 16}
}

// TestFitStream checks that training on a stream learns what training on
// the same rows in memory does, to the accuracy of seeds, that a stream
// is reproducible bit for bit, and that its files are one table: two
// files, one of them gzip-compressed, give the model of the one file they
// make together.
func TestFitStream(t *testing.T) {
	dir := t.TempDir()
	whole, text := writeTable(t, dir, "whole.csv", 6000, 1)
	opts := &CSVOptions{Classify: true, Target: "label"}
	ctx := context.Background()
	fit := func(files ...string) *Classifier {
		t.Helper()
		c := streamClassifier(8)
		if err := c.FitStream(ctx, &Stream{Files: files, CSV: opts, ShuffleBuffer: 500, CacheDir: dir}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := fit(whole)
	if b := fit(whole); sameModel(a.Model, b.Model) != nil {
		t.Error("two streams of the same file and seed give different models")
	}
	// The same rows in two files: the first plain, the second gzip with
	// its own header.
	lines := strings.SplitAfter(text, "\n")
	first := filepath.Join(dir, "part1.csv")
	if err := os.WriteFile(first, []byte(strings.Join(lines[:2501], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(lines[0] + strings.Join(lines[2501:], "")))
	zw.Close()
	second := filepath.Join(dir, "part2.csv.gz")
	if err := os.WriteFile(second, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if b := fit(first, second); sameModel(a.Model, b.Model) != nil {
		t.Error("the table in two files, the second gzipped, gives another model than in one file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("the cache directory holds %d entries after training, want the 3 files of the test", len(entries))
	}

	// In memory, on the same rows.
	test, _ := writeTable(t, dir, "test.csv", 3000, 2)
	td, err := LoadCSV(test, opts)
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadCSV(whole, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := streamClassifier(8)
	if err := m.Fit(ctx, d); err != nil {
		t.Fatal(err)
	}
	streamed, err := a.Score(td)
	if err != nil {
		t.Fatal(err)
	}
	inMemory, err := m.Score(td)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("test accuracy: streamed %.4f, in memory %.4f", streamed, inMemory)
	if streamed < 0.9 || math.Abs(streamed-inMemory) > 0.02 {
		t.Errorf("test accuracy of the stream %.4f, in memory %.4f: want both ≥ 0.9 and within 0.02", streamed, inMemory)
	}
	h := a.Report.History
	if len(h) == 0 || math.IsNaN(h[0].ValLoss) || math.IsNaN(h[0].ValAccuracy) {
		t.Errorf("the stream's history %v has no validation loss and accuracy", h)
	}
}

// TestFitStreamResume checks that a stream checkpointed and resumed
// trains the model of a run that went on, bit for bit.
func TestFitStreamResume(t *testing.T) {
	dir := t.TempDir()
	path, _ := writeTable(t, dir, "t.csv", 3000, 4)
	ctx := context.Background()
	stream := &Stream{Files: []string{path}, CSV: &CSVOptions{Classify: true}, ShuffleBuffer: 300}
	whole := streamClassifier(6)
	whole.Patience = -1
	if err := whole.FitStream(ctx, stream); err != nil {
		t.Fatal(err)
	}
	var saved *Checkpoint
	first := streamClassifier(3)
	first.Patience = -1
	first.Configure = func(s *Settings) {
		s.CheckpointEvery = 3
		s.Checkpoint = func(c *Checkpoint) error { saved = c; return nil }
	}
	if err := first.FitStream(ctx, stream); err != nil {
		t.Fatal(err)
	}
	if saved == nil || saved.Epoch != 3 {
		t.Fatalf("checkpoint %v, want one after epoch 3", saved)
	}
	second := streamClassifier(6)
	second.Patience = -1
	second.Configure = func(s *Settings) { s.Resume = saved }
	if err := second.FitStream(ctx, stream); err != nil {
		t.Fatal(err)
	}
	if sameModel(whole.Model, second.Model) != nil {
		t.Error("a stream resumed after epoch 3 of 6 ends with other weights than one run through")
	}
	// Another shuffle buffer is another run.
	third := streamClassifier(6)
	third.Patience = -1
	third.Configure = func(s *Settings) { s.Resume = saved }
	other := *stream
	other.ShuffleBuffer = 100
	if err := third.FitStream(ctx, &other); !errors.Is(err, ErrResumeChanged) || !strings.Contains(err.Error(), "data digest") {
		t.Errorf("resuming with another shuffle buffer: error %v, want one naming the data", err)
	}
}

// TestFitStreamErrors checks that a bad row deep in the second file of a
// stream is an error at its file, line and column, before any training,
// and that what a stream cannot do is refused.
func TestFitStreamErrors(t *testing.T) {
	dir := t.TempDir()
	good, _ := writeTable(t, dir, "good.csv", 200, 5)
	_, text := writeTable(t, dir, "bad.csv", 300, 6)
	lines := strings.SplitAfter(text, "\n")
	lines[250] = "0.1,0.2,oops,0.4,0.5,0.6,0.7,0.8,0.9,1.0,a\n"
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644)
	other := filepath.Join(dir, "other.csv")
	os.WriteFile(other, []byte("a,b,label\n1,2,x\n"), 0o644)
	ctx := context.Background()
	opts := &CSVOptions{Classify: true}
	trained := false
	c := streamClassifier(2)
	c.Progress = func(Epoch) { trained = true }
	err := c.FitStream(ctx, &Stream{Files: []string{good, bad}, CSV: opts})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.File != bad || pe.Line != 251 || pe.Column != 3 || !errors.Is(err, ErrNotNumber) {
		t.Errorf("a bad value at bad.csv:251:3: error %v", err)
	}
	if trained || c.Model != nil {
		t.Error("training started before the first pass found the bad row")
	}
	if err := c.FitStream(ctx, &Stream{Files: []string{good, other}, CSV: opts}); err == nil || !strings.Contains(err.Error(), "not those of") {
		t.Errorf("files of other columns: error %v", err)
	}
	// A column of identifiers, a category per row, under a small budget.
	var ids strings.Builder
	ids.WriteString("id,x,label\n")
	for i := range 40000 {
		fmt.Fprintf(&ids, "row-%d,%d,%c\n", i, i%7, 'a'+i%2)
	}
	idFile := filepath.Join(dir, "ids.csv")
	os.WriteFile(idFile, []byte(ids.String()), 0o644)
	old := SetMemoryBudget(2 << 20)
	err = c.FitStream(ctx, &Stream{Files: []string{idFile}, CSV: &CSVOptions{Classify: true, DetectCategorical: true}})
	SetMemoryBudget(old)
	if !errors.Is(err, ErrMemoryBudget) || !errors.As(err, &pe) || pe.File != idFile || !strings.Contains(err.Error(), "identifiers") {
		t.Errorf("a column of identifiers under a budget of 2 MiB: error %v", err)
	}
	for _, tc := range []struct {
		c    *Classifier
		want string
	}{
		{&Classifier{Method: "lbfgs"}, "mini-batches"},
		{&Classifier{Impute: ImputeMedian}, "ImputeMean"},
		{&Classifier{Refit: true}, "Refit"},
	} {
		if err := tc.c.FitStream(ctx, &Stream{Files: []string{good}, CSV: opts}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one saying %q", tc.c, err, tc.want)
		}
	}
	if err := c.FitStream(ctx, &Stream{Files: []string{good}}); err == nil || !strings.Contains(err.Error(), "Classify") {
		t.Errorf("a Classifier's stream without Classify: error %v", err)
	}
}

// TestFitStreamTable checks that a stream learns the encoding of text
// columns and missing values that a Dataset in memory does: the same
// categories, columns found categorical by their text, fill values and
// scaler, up to rounding, when both fit on every row.
func TestFitStreamTable(t *testing.T) {
	opts := &CSVOptions{Target: "label", Classify: true, DetectCategorical: true, Missing: DefaultMissing}
	path := "testdata/consistency/classify.csv"
	ctx := context.Background()
	s := &Classifier{Epochs: 3, Seed: 1, ValidationFraction: -1, MissingIndicator: true}
	if err := s.FitStream(ctx, &Stream{Files: []string{path}, CSV: opts}); err != nil {
		t.Fatal(err)
	}
	d, err := LoadCSV(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := &Classifier{Epochs: 3, Seed: 1, ValidationFraction: -1, MissingIndicator: true}
	if err := m.Fit(ctx, d); err != nil {
		t.Fatal(err)
	}
	se, me := s.Model.Encoding, m.Model.Encoding
	if se == nil || len(se.Columns) != len(me.Columns) {
		t.Fatalf("stream's encoding %+v, in memory %+v", se, me)
	}
	for j := range me.Columns {
		a, b := se.Columns[j], me.Columns[j]
		if !slices.Equal(a.Categories, b.Categories) || a.Indicator != b.Indicator || math.Abs(a.Fill-b.Fill) > 1e-12*math.Max(1, math.Abs(b.Fill)) {
			t.Errorf("column %d: stream %+v, in memory %+v", j, a, b)
		}
	}
	for j := range m.Model.Scaler.Offset {
		for _, v := range [][2]float64{{s.Model.Scaler.Offset[j], m.Model.Scaler.Offset[j]}, {s.Model.Scaler.Scale[j], m.Model.Scaler.Scale[j]}} {
			if math.Abs(v[0]-v[1]) > 1e-9*math.Max(1, math.Abs(v[1])) {
				t.Errorf("input %d: the stream's scaler %v, in memory %v", j, v[0], v[1])
			}
		}
	}
	if !slices.Equal(s.Model.Classes, m.Model.Classes) {
		t.Errorf("classes %v, in memory %v", s.Model.Classes, m.Model.Classes)
	}
}

// TestIsValidation checks that the rule that holds rows out holds out
// about the fraction asked, and another set for another seed.
func TestIsValidation(t *testing.T) {
	n, same := 0, 0
	for i := range int64(100000) {
		a := isValidation(i, 1, 0.1)
		if a {
			n++
		}
		if a && isValidation(i, 2, 0.1) {
			same++
		}
	}
	if math.Abs(float64(n)/100000-0.1) > 0.005 {
		t.Errorf("%d of 100000 rows held out, want about 10000", n)
	}
	if same > 1500 {
		t.Errorf("seeds 1 and 2 hold out %d rows both, want about 1000", same)
	}
}

// TestFitStreamValidationRowsOnly checks what appears only in validation
// rows: a category of text in a column of numbers is held to ReadCSV's
// rule over every row, not a panic; missing values make the model fill
// them in, so that the validation loss is a number; and targets too large
// to standardise are an error, as in memory.
func TestFitStreamValidationRowsOnly(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	// The first validation row of seed 1.
	held := int64(0)
	for !isValidation(held, 1, 0.1) {
		held++
	}
	write := func(name string, row func(i int64) string) string {
		var b strings.Builder
		b.WriteString("x,c,label\n")
		for i := range int64(400) {
			b.WriteString(row(i))
		}
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(b.String()), 0o644)
		return path
	}
	colors := []string{"red", "blue"}
	text := write("text.csv", func(i int64) string {
		c := colors[i%2]
		if i == held {
			c = "green"
		}
		return fmt.Sprintf("%d,%s,%c\n", i%9, c, 'a'+i%2)
	})
	opts := &CSVOptions{Classify: true, DetectCategorical: true, Missing: DefaultMissing}
	c := &Classifier{Epochs: 2, Seed: 1}
	if err := c.FitStream(ctx, &Stream{Files: []string{text}, CSV: opts}); err != nil {
		t.Fatalf("a category seen only in a validation row: %v", err)
	}
	if got := c.Model.Encoding.Columns[1].Categories; !slices.Equal(got, []string{"blue", "green", "red"}) {
		t.Errorf("categories %v, want blue, green, red", got)
	}
	stray := write("stray.csv", func(i int64) string {
		x := fmt.Sprint(i % 9)
		if i == held {
			x = "nine"
		}
		return fmt.Sprintf("%s,%s,%c\n", x, colors[i%2], 'a'+i%2)
	})
	var pe *ParseError
	if err := c.FitStream(ctx, &Stream{Files: []string{stray}, CSV: opts}); !errors.As(err, &pe) || !errors.Is(err, ErrNotNumber) || pe.Line != int(held)+2 || pe.Column != 1 {
		t.Errorf("a stray text in a validation row of a column of numbers: error %v, want one at line %d, column 1", err, held+2)
	}
	missing := write("missing.csv", func(i int64) string {
		x := fmt.Sprint(i % 9)
		if isValidation(i, 1, 0.1) && i%3 == 0 {
			x = "NA"
		}
		return fmt.Sprintf("%s,%s,%c\n", x, colors[i%2], 'a'+i%2)
	})
	if err := c.FitStream(ctx, &Stream{Files: []string{missing}, CSV: opts}); err != nil {
		t.Fatal(err)
	}
	if l := c.Report.History[0].ValLoss; math.IsNaN(l) || c.Model.Encoding == nil {
		t.Errorf("missing values in validation rows only: validation loss %v, encoding %v", l, c.Model.Encoding)
	}
	huge := write("huge.csv", func(i int64) string { return fmt.Sprintf("%d,%s,%de300\n", i%9, colors[i%2], 1+i%5) })
	r := &Regressor{Epochs: 1, Seed: 1}
	if err := r.FitStream(ctx, &Stream{Files: []string{huge}, CSV: &CSVOptions{Missing: DefaultMissing, DetectCategorical: true}}); err == nil || !strings.Contains(err.Error(), "too large to standardise") {
		t.Errorf("targets too large to standardise: error %v", err)
	}
}
