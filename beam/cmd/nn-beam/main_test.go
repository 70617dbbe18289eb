package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
	nnbeam "github.com/neuralgo/nn/beam"
	"github.com/neuralgo/nn/beam/internal/beamtest"
)

// The commands the tests run: nn-beam, built from this directory, and the
// core nn, built from the root of the repository, whose predictions are
// the reference.
var nnBeam, nnCmd string

// irisData is the iris table of the core module, with a header.
var irisData = beamtest.Testdata("iris.csv")

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "nn-beam-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	nnBeam = filepath.Join(dir, "nn-beam")
	if out, err := exec.Command("go", "build", "-o", nnBeam, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build .: %v\n%s", err, out)
		return 1
	}
	if nnCmd, err = beamtest.BuildNN(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// result is what a run of nn-beam gave.
type result struct {
	stdout, stderr string
	status         int
}

// nnBeamRun runs nn-beam with args.
func nnBeamRun(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(nnBeam, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("nn-beam %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// nnPredict runs nn predict on the file data and returns its lines.
func nnPredict(t *testing.T, model, data string) []string {
	t.Helper()
	return beamtest.Predict(t, nnCmd, model, data)
}

// readCSV reads the CSV file path, whose records have n fields.
func readCSV(t *testing.T, path string, n int) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = n
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// shards writes rows over the files of dir named by names, each with
// header if it is not "", putting bad rows at their lines: bad maps a
// file name to the bad rows by line. It returns the place, "file:line",
// of each row of rows.
func shards(t *testing.T, dir, header string, rows []string, names []string, bad map[string]map[int]string) []string {
	t.Helper()
	at := make([]string, len(rows))
	per := (len(rows) + len(names) - 1) / len(names)
	next := 0
	for _, name := range names {
		path := filepath.Join(dir, name)
		var lines []string
		if header != "" {
			lines = append(lines, header)
		}
		end := min(next+per, len(rows))
		for next < end || bad[name][len(lines)+1] != "" {
			if r, ok := bad[name][len(lines)+1]; ok {
				lines = append(lines, r)
				continue
			}
			at[next] = path + ":" + strconv.Itoa(len(lines)+1)
			lines = append(lines, rows[next])
			next++
		}
		beamtest.WriteFile(t, path, strings.Join(lines, "\n")+"\n")
	}
	return at
}

// TestScore scores the iris rows, split over two files with headers and
// bad rows among them, and checks the labels against nn predict's, the
// probabilities against Model.Predict's, bit for bit, and the errors file
// against the bad rows.
func TestScore(t *testing.T) {
	dir := t.TempDir()
	modelPath, model := beamtest.IrisModel(t, dir)
	header, rows := beamtest.IrisRows(t)
	good := filepath.Join(dir, "good.csv")
	beamtest.WriteFile(t, good, header+"\n"+strings.Join(rows, "\n")+"\n")
	labels, outputs := beamtest.Reference(t, nnCmd, modelPath, model, good)

	in := filepath.Join(dir, "in")
	bad := map[string]map[int]string{ // file → line → bad row
		"a.csv": {
			3:  "5.1,3.5,1.4,setosa",
			7:  "5.1,abc,1.4,0.2,setosa",
			40: `"5,1", 3.5,1.4,0.2,setosa`, // quotes and a comma for the errors file
		},
		"b.csv": {10: "1e400,3.5,1.4,0.2,virginica"},
	}
	at := shards(t, in, header, rows, []string{"a.csv", "b.csv"}, bad)
	index := make(map[string]int, len(at)) // "file:line" → row
	for i, place := range at {
		index[place] = i
	}

	for _, proba := range []bool{false, true} {
		t.Run(fmt.Sprintf("proba=%v", proba), func(t *testing.T) {
			out := filepath.Join(dir, "out", "iris")
			args := []string{"score", "-model", modelPath, "-input", filepath.Join(in, "*.csv"), "-output", out, "-block", "16"}
			fields := 3
			if proba {
				args = append(args, "-proba")
				fields += len(model.Classes)
			}
			r := nnBeamRun(t, args...)
			if r.status != 0 {
				t.Fatalf("status %d, stderr:\n%s", r.status, r.stderr)
			}
			// At the default log level, Beam says nothing: the summary
			// is all.
			want := fmt.Sprintf("nn-beam: %d rows scored, 4 dead letters (see %s-errors.csv), in ", len(rows), out)
			if strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, " rows/s\n") {
				t.Errorf("stderr %q, want one line starting %q", r.stderr, want)
			}

			for i, rec := range checkLabels(t, out+"-predictions.csv", fields, index, labels) {
				if !proba {
					continue
				}
				place := rec[0] + ":" + rec[1]
				for j, f := range rec[3:] {
					got, err := strconv.ParseFloat(f, 64)
					if want := outputs.At(i, j); err != nil || math.Float64bits(got) != math.Float64bits(want) {
						t.Errorf("%s: probability %d: got %s, want %v (Model.Predict)", place, j, f, want)
					}
				}
			}

			dead := readCSV(t, out+"-errors.csv", 4)
			wantDead := 0
			for name, lines := range bad {
				for line, row := range lines {
					wantDead++
					file := filepath.Join(in, name)
					found := false
					for _, rec := range dead {
						if rec[0] == file && rec[1] == strconv.Itoa(line) {
							found = true
							if rec[3] != row || rec[2] == "" {
								t.Errorf("%s:%d: got row %q, error %q; want row %q and an error", file, line, rec[3], rec[2], row)
							}
						}
					}
					if !found {
						t.Errorf("%s:%d: no dead letter", file, line)
					}
				}
			}
			if len(dead) != wantDead {
				t.Errorf("got %d dead letters, want %d: %q", len(dead), wantDead, dead)
			}
		})
	}
}

// TestScoreLongLine scores the iris rows, with a line just over
// nnbeam.MaxLineBytes among them, and checks that the command exits 0, as
// it does for dead letters, with every good row's prediction at its
// place, those after the long line included, and the long line in the
// errors file, naming its file and line; with -fail-fast, that the job
// fails naming it.
func TestScoreLongLine(t *testing.T) {
	dir := t.TempDir()
	modelPath, _ := beamtest.IrisModel(t, dir)
	header, rows := beamtest.IrisRows(t)
	good := filepath.Join(dir, "good.csv")
	beamtest.WriteFile(t, good, header+"\n"+strings.Join(rows, "\n")+"\n")
	labels := nnPredict(t, modelPath, good)

	// A row whose last field runs over the limit: not a row nn-beam may
	// cut short and score.
	const line = 40
	long := "5.1,3.5,1.4,0.2," + strings.Repeat("x", nnbeam.MaxLineBytes-15)
	in := filepath.Join(dir, "in")
	at := shards(t, in, header, rows, []string{"a.csv"}, map[string]map[int]string{"a.csv": {line: long}})
	index := make(map[string]int, len(at))
	for i, place := range at {
		index[place] = i
	}
	file := filepath.Join(in, "a.csv")
	if want := file + ":" + strconv.Itoa(line+1); at[line-2] != want {
		t.Fatalf("the row after the long line is at %s, want %s", at[line-2], want) // the header is line 1
	}

	out := filepath.Join(dir, "out", "iris")
	r := nnBeamRun(t, "score", "-model", modelPath, "-input", filepath.Join(in, "*.csv"), "-output", out, "-block", "16")
	if r.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.status, r.stderr)
	}
	if want := fmt.Sprintf("nn-beam: %d rows scored, 1 dead letter (see %s-errors.csv), in ", len(rows), out); !strings.HasPrefix(r.stderr, want) {
		t.Errorf("stderr %q, want it to start %q", r.stderr, want)
	}
	checkLabels(t, out+"-predictions.csv", 3, index, labels)
	dead := readCSV(t, out+"-errors.csv", 4)
	wantErr := fmt.Sprintf(`line longer than the limit of %d bytes: %q… (%d bytes)`, nnbeam.MaxLineBytes, long[:64], len(long))
	if want := [][]string{{file, strconv.Itoa(line), wantErr, ""}}; !slices.EqualFunc(dead, want, slices.Equal) {
		t.Errorf("errors file: got %.300q, want %q", dead, want)
	}

	r = nnBeamRun(t, "score", "-model", modelPath, "-input", filepath.Join(in, "*.csv"), "-output", out, "-fail-fast")
	if want := fmt.Sprintf("%s:%d: line longer than the limit", file, line); r.status != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("-fail-fast: status %d, stderr %.300q; want 1 and %q", r.status, r.stderr, want)
	}
}

// TestScoreHeaderNo scores files without headers, holding the features
// only, with -header no, and checks the labels against nn predict's.
func TestScoreHeaderNo(t *testing.T) {
	dir := t.TempDir()
	modelPath, _ := beamtest.IrisModel(t, dir)
	_, rows := beamtest.IrisRows(t)
	for i, r := range rows {
		rows[i] = r[:strings.LastIndexByte(r, ',')] // the four features
	}
	good := filepath.Join(dir, "good.csv")
	beamtest.WriteFile(t, good, strings.Join(rows, "\n")+"\n")
	labels := nnPredict(t, modelPath, good)
	in := filepath.Join(dir, "in")
	at := shards(t, in, "", rows, []string{"a.csv", "b.csv", "c.csv"}, nil)

	out := filepath.Join(dir, "out")
	r := nnBeamRun(t, "score", "-model", modelPath, "-input", filepath.Join(in, "*.csv"), "-output", out, "-header", "no")
	if r.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.status, r.stderr)
	}
	want := make(map[string]string)
	for i, place := range at {
		want[place] = labels[i]
	}
	recs := readCSV(t, out+"-predictions.csv", 3)
	for _, rec := range recs {
		if place := rec[0] + ":" + rec[1]; rec[2] != want[place] {
			t.Errorf("%s: got label %q, want %q", place, rec[2], want[place])
		}
	}
	if len(recs) != len(rows) {
		t.Errorf("got %d predictions, want %d", len(recs), len(rows))
	}
	// The errors file is written, and empty.
	if b, err := os.ReadFile(out + "-errors.csv"); err != nil || len(b) != 0 {
		t.Errorf("errors file: %q, %v; want it empty", b, err)
	}
}

// TestScoreRegression scores a regression on two targets with a
// categorical feature, and checks the outputs against Model.Predict's,
// bit for bit.
func TestScoreRegression(t *testing.T) {
	dir := t.TempDir()
	d, err := nn.LoadCSV(irisData, &nn.CSVOptions{Targets: []string{"petal_length", "petal_width"}, DetectCategorical: true})
	if err != nil {
		t.Fatal(err)
	}
	reg := &nn.Regressor{Hidden: []int{4}, Epochs: 10, Seed: 1}
	if err := reg.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	modelPath := filepath.Join(dir, "reg.json")
	if err := reg.Model.Save(modelPath); err != nil {
		t.Fatal(err)
	}
	d, err = nn.LoadCSV(irisData, reg.Model.CSVOptions())
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := reg.Model.Predict(d.X)
	if err != nil {
		t.Fatal(err)
	}
	header, rows := beamtest.IrisRows(t)
	in := filepath.Join(dir, "in")
	at := shards(t, in, header, rows, []string{"a.csv", "b.csv"}, nil)
	index := make(map[string]int, len(at))
	for i, place := range at {
		index[place] = i
	}

	out := filepath.Join(dir, "out")
	r := nnBeamRun(t, "score", "-model", modelPath, "-input", filepath.Join(in, "*.csv"), "-output", out)
	if r.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.status, r.stderr)
	}
	recs := readCSV(t, out+"-predictions.csv", 4)
	for _, rec := range recs {
		place := rec[0] + ":" + rec[1]
		i, ok := index[place]
		if !ok {
			t.Errorf("prediction for %s: no such row", place)
			continue
		}
		for j, f := range rec[2:] {
			got, err := strconv.ParseFloat(f, 64)
			if want := outputs.At(i, j); err != nil || math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("%s: output %d: got %s, want %v", place, j, f, want)
			}
		}
	}
	if len(recs) != len(rows) {
		t.Errorf("got %d predictions, want %d", len(recs), len(rows))
	}

	// -proba needs a classifier.
	r = nnBeamRun(t, "score", "-model", modelPath, "-input", filepath.Join(in, "*.csv"), "-output", out, "-proba")
	if want := "regression model"; r.status != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("-proba: status %d, stderr %q; want 2 and %q", r.status, r.stderr, want)
	}
}

// TestErrors checks the exit status and the message of command lines
// that fail, before the job runs or, with -fail-fast, while it runs.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	modelPath, _ := beamtest.IrisModel(t, dir)
	header, rows := beamtest.IrisRows(t)
	in := filepath.Join(dir, "in")
	shards(t, in, header, rows[:20], []string{"a.csv"}, map[string]map[int]string{"a.csv": {3: "5.1,3.5,1.4,setosa"}})
	noWidth := filepath.Join(dir, "nowidth", "a.csv")
	beamtest.WriteFile(t, noWidth, "sepal_length,sepal_width,petal_length,species\n5.1,3.5,1.4,setosa\n")
	glob := filepath.Join(in, "*.csv")
	out := filepath.Join(dir, "out", "x")
	missing := filepath.Join(dir, "missing.json")

	for _, test := range []struct {
		name   string
		args   []string
		status int
		want   []string // in stderr
	}{
		{"fail-fast", []string{"score", "-model", modelPath, "-input", glob, "-output", out, "-fail-fast"},
			1, []string{"nn-beam: job failed: " + filepath.Join(in, "a.csv") + ":3: wrong number of fields"}},
		{"no model file", []string{"score", "-model", missing, "-input", glob, "-output", out},
			1, []string{"nn-beam: ", missing}},
		{"no -model", []string{"score", "-input", glob, "-output", out},
			2, []string{"nn-beam: flag -model is required"}},
		{"no -output", []string{"score", "-model", modelPath, "-input", glob},
			2, []string{"nn-beam: flag -output is required"}},
		{"no match", []string{"score", "-model", modelPath, "-input", filepath.Join(dir, "none", "*.csv"), "-output", out},
			1, []string{"nn-beam: -input: no file matches " + filepath.Join(dir, "none", "*.csv")}},
		{"unknown scheme", []string{"score", "-model", modelPath, "-input", "xyz://b/*.csv", "-output", out},
			1, []string{"nn-beam: -input: xyz://b/*.csv: ", "xyz"}},
		{"feature not in header", []string{"score", "-model", modelPath, "-input", noWidth, "-output", out},
			1, []string{"nn-beam: " + noWidth + `: feature "petal_width" not in header`}},
		{"model file unreadable", []string{"score", "-model", filepath.Join(dir, "nowidth"), "-input", glob, "-output", out},
			1, []string{"nn-beam: model " + filepath.Join(dir, "nowidth") + ": "}},
		{"bad runner", []string{"score", "-model", modelPath, "-input", glob, "-output", out, "-runner", "nope"},
			2, []string{`nn-beam: invalid value "nope" for flag -runner`}},
		{"bad header mode", []string{"score", "-model", modelPath, "-input", glob, "-output", out, "-header", "maybe"},
			2, []string{`nn-beam: invalid value "maybe" for flag -header`}},
		{"bad log level", []string{"score", "-log-level", "loud"},
			2, []string{`nn-beam: invalid value "loud" for flag -log-level`}},
		{"unknown flag", []string{"score", "-modle", modelPath},
			2, []string{"nn-beam: flag provided but not defined: -modle"}},
		{"argument", []string{"score", "-model", modelPath, "-input", glob, "-output", out, "extra"},
			2, []string{`nn-beam: unexpected argument "extra"`}},
		{"unknown command", []string{"scroe"},
			2, []string{`nn-beam: unknown command "scroe"`}},
		{"no command", nil,
			2, []string{"nn-beam: no command"}},
		{"output among the inputs", []string{"score", "-model", modelPath, "-input", glob, "-output", filepath.Join(in, "x")},
			2, []string{"would be among the files of -input"}},
		{"dataflow, local files", []string{"score", "-model", modelPath, "-input", glob, "-output", out, "-runner", "dataflow"},
			2, []string{"is a local path"}},
		{"flink, no endpoint", []string{"score", "-model", modelPath, "-input", glob, "-output", out, "-runner", "flink"},
			2, []string{"--endpoint"}},
	} {
		t.Run(test.name, func(t *testing.T) {
			r := nnBeamRun(t, test.args...)
			if r.status != test.status {
				t.Errorf("got status %d, want %d; stderr:\n%s", r.status, test.status, r.stderr)
			}
			// The message is the last line; a failed job's runner logs
			// its own error first.
			last := r.stderr[strings.LastIndexByte(strings.TrimSuffix(r.stderr, "\n"), '\n')+1:]
			for _, want := range test.want {
				if !strings.Contains(last, want) {
					t.Errorf("got stderr ending %q, want %q in it", last, want)
				}
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
				t.Errorf("stderr holds a panic:\n%s", r.stderr)
			}
		})
	}
}

// TestHelp checks that the help is printed, with examples of every
// runner, and exits 0.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"help", "score"}, {"score", "-h"}} {
		r := nnBeamRun(t, args...)
		if r.status != 0 {
			t.Errorf("%q: status %d, want 0; stderr:\n%s", args, r.status, r.stderr)
		}
		for _, want := range []string{
			"nn-beam score -model",
			"prism",
			"--runner dataflow --project P --region R",
			"--temp_location gs://b/tmp --staging_location gs://b/staging",
			"--runner flink --endpoint localhost:8099 --environment_type LOOPBACK",
			"--runner spark --endpoint localhost:8099",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%q: the help does not hold %q", args, want)
			}
		}
	}
}

// TestCSVLine checks that the fields of output lines are quoted as
// encoding/csv reads them back, and that the key of a prediction is split
// into its file and line.
func TestCSVLine(t *testing.T) {
	for _, rec := range [][]string{
		{"a", "1", "b"},
		{"a,b", `say "x"`, " lead", "trail ", "cr\rlf\n", ""},
	} {
		line := string(appendRecord(nil, rec...))
		got, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil || strings.Join(got, "|") != strings.Join(rec, "|") {
			t.Errorf("appendRecord(%q) = %q, read back as %q, %v", rec, line, got, err)
		}
	}
	for _, test := range []struct{ key, file, line string }{
		{"a.csv:3", "a.csv", "3"},
		{"gs://b/c:d.csv:12", "gs://b/c:d.csv", "12"},
	} {
		if file, line := splitKey(test.key); file != test.file || line != test.line {
			t.Errorf("splitKey(%q) = %q, %q; want %q, %q", test.key, file, line, test.file, test.line)
		}
	}
}

// TestScoreProbaNoLabels scores with -proba a binary classifier saved
// without class labels, whose single sigmoid output p is the probability
// of class "1": each line holds the label, "0" or "1" as nn names the
// classes of such a model, then 1−p and p, as nn.Schema.AppendPrediction
// writes them. Its weights overflow for a row with a large petal_width,
// whose output is NaN: that row goes to the errors file.
func TestScoreProbaNoLabels(t *testing.T) {
	dir := t.TempDir()
	// Its output is about σ(sepal_length − 5.8), and NaN where
	// petal_width ≥ 1.8e8 (see beamtest.Overflow).
	net, err := nn.New(nn.Config{Sizes: []int{4, 3, 1}, Activations: []nn.Activation{nn.Identity, nn.Sigmoid}, Loss: nn.BinaryCrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	beamtest.Overflow(net, 3, 0, -5.8)
	header, rows := beamtest.IrisRows(t)
	model := &nn.Model{Network: net, Features: strings.Split(header, ",")[:4]}
	modelPath := filepath.Join(dir, "binary.json")
	if err := model.Save(modelPath); err != nil {
		t.Fatal(err)
	}
	rows = rows[:60]
	bad := "5.1,3.5,1.4,1e10,setosa"
	data := filepath.Join(dir, "in", "a.csv")
	beamtest.WriteFile(t, data, header+"\n"+strings.Join(rows, "\n")+"\n"+bad+"\n")

	out := filepath.Join(dir, "out")
	r := nnBeamRun(t, "score", "-model", modelPath, "-input", data, "-output", out, "-proba")
	if r.status != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.status, r.stderr)
	}
	want := make(map[string]string, len(rows)) // line → the fields after file,line
	labels := map[string]int{}
	for i, row := range rows {
		x := make([]float64, 4)
		for j, f := range strings.Split(row, ",")[:4] {
			x[j], _ = strconv.ParseFloat(f, 64)
		}
		y, err := model.Predict(mat.NewDense(1, 4, x))
		if err != nil {
			t.Fatal(err)
		}
		p := y.At(0, 0)
		label := strconv.Itoa(net.ClassesTo(nil, y)[0])
		labels[label]++
		want[strconv.Itoa(i+2)] = label + "," + strconv.FormatFloat(1-p, 'g', -1, 64) + "," + strconv.FormatFloat(p, 'g', -1, 64)
	}
	if labels["0"] == 0 || labels["1"] == 0 {
		t.Fatalf("labels %v: the test wants rows of both classes", labels)
	}
	recs := readCSV(t, out+"-predictions.csv", 5)
	for _, rec := range recs {
		if got := strings.Join(rec[2:], ","); rec[0] != data || got != want[rec[1]] {
			t.Errorf("%s:%s: got %s, want %s", rec[0], rec[1], got, want[rec[1]])
		}
	}
	if len(recs) != len(rows) {
		t.Errorf("got %d predictions, want %d", len(recs), len(rows))
	}
	dead := readCSV(t, out+"-errors.csv", 4)
	wantDead := []string{data, strconv.Itoa(len(rows) + 2), "the model's output 0 is NaN for this row: non-finite value", bad}
	if len(dead) != 1 || !slices.Equal(dead[0], wantDead) {
		t.Errorf("errors file: got %q, want %q", dead, wantDead)
	}
}

// checkLabels reads the predictions file path, of records of fields
// fields (file, line, label, …), and checks that each names a row of
// index (a "file:line" for each row) once, with the row's label in labels,
// and that every row has one. It returns the records by row.
func checkLabels(t *testing.T, path string, fields int, index map[string]int, labels []string) map[int][]string {
	t.Helper()
	byRow := make(map[int][]string)
	for _, rec := range readCSV(t, path, fields) {
		place := rec[0] + ":" + rec[1]
		i, ok := index[place]
		if _, twice := byRow[i]; !ok || twice {
			t.Errorf("prediction for %s: no such row, or twice", place)
			continue
		}
		byRow[i] = rec
		if rec[2] != labels[i] {
			t.Errorf("%s: got label %q, want %q (nn predict)", place, rec[2], labels[i])
		}
	}
	if len(byRow) != len(index) {
		t.Errorf("got %d predictions, want %d", len(byRow), len(index))
	}
	return byRow
}
