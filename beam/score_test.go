package nnbeam

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/beam/internal/beamtest"
)

func init() {
	register.Function1x1(predictionText)
	register.Function1x1(deadLetterText)
	register.Function2x0(splitKeyed)
	register.Function1x1(keyLabel)
	register.Emitter2[string, []float64]()
}

func TestMain(m *testing.M) {
	if err := SetLogLevel("warn"); err != nil {
		panic(err)
	}
	code := ptest.MainRetWithDefault(m, "prism")
	if nnBinary.path != "" {
		os.RemoveAll(filepath.Dir(nnBinary.path))
	}
	os.Exit(code)
}

func TestSetLogLevel(t *testing.T) {
	if err := SetLogLevel("loud"); err == nil || log.LogLevel != "warn" {
		t.Errorf("SetLogLevel(\"loud\"): error %v, level now %q; want an error and warn kept", err, log.LogLevel)
	}
}

// predictionText formats p for passert: its key, label and outputs, each
// output in the shortest text that reads back as the same float64.
func predictionText(p Prediction) string {
	return p.Key + "|" + p.Label + "|" + formatVector(p.Outputs)
}

// deadLetterText formats d for passert.
func deadLetterText(d DeadLetter) string {
	return fmt.Sprintf("%s|%s:%d|%s|%s", d.Key, d.File, d.Line, d.Row, d.Error)
}

// splitKeyed turns a key and CSV row "k;v1,v2,…" into a keyed vector.
func splitKeyed(s string, emit func(string, []float64)) {
	k, row, _ := strings.Cut(s, ";")
	var v []float64
	for f := range strings.SplitSeq(row, ",") {
		x, _ := strconv.ParseFloat(f, 64)
		v = append(v, x)
	}
	emit(k, v)
}

var nnBinary struct {
	once sync.Once
	path string
	err  error
}

// nnCommand returns the path of the nn command, built from the core
// module once per test binary.
func nnCommand(t *testing.T) string {
	t.Helper()
	nnBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "nnbeam-nn")
		if err != nil {
			nnBinary.err = err
			return
		}
		nnBinary.path, nnBinary.err = beamtest.BuildNN(dir)
	})
	if nnBinary.err != nil {
		t.Fatal(nnBinary.err)
	}
	return nnBinary.path
}

// nnPredict runs nn predict on the file data and returns its lines.
func nnPredict(t *testing.T, model, data string) []string {
	t.Helper()
	return beamtest.Predict(t, nnCommand(t), model, data)
}

// TestScoreLines scores the iris rows, split over three files with
// headers, one of them without rows, with bad rows among them, and checks
// the labels against nn predict's and the outputs against
// Model.Predict's, bit for bit, and the bad rows against the dead
// letters.
func TestScoreLines(t *testing.T) {
	dir := t.TempDir()
	modelPath, model := beamtest.IrisModel(t, dir)
	header, rows := beamtest.IrisRows(t)

	// The good rows, as nn predict reads them, and the files of the
	// pipeline: a, with bad rows among the good ones, b, and empty,
	// with a header alone.
	good := filepath.Join(dir, "good.csv")
	beamtest.WriteFile(t, good, header+"\n"+strings.Join(rows, "\n")+"\n")
	bad := map[int]string{ // line of file a → the bad row
		3:  "5.1,3.5,1.4,setosa",
		5:  "5.1,abc,1.4,0.2,setosa",
		8:  "5.1,NaN,1.4,0.2,setosa",
		9:  "1e400,3.5,1.4,0.2,setosa",
		12: `"5.1,3.5,1.4,0.2,setosa`,
	}
	wantDead := map[int]string{
		3:  "wrong number of fields: expected 5, got 4",
		5:  `column 2: not a number: "abc" (column "sepal_width")`,
		8:  `column 2: non-finite value: "NaN" (column "sepal_width")`,
		9:  `column 1: non-finite value: "1e400" overflows float64 (column "sepal_length")`,
		12: `column 24: extraneous or missing " in quoted-field`,
	}
	in := filepath.Join(dir, "in")
	if err := os.Mkdir(in, 0o755); err != nil {
		t.Fatal(err)
	}
	var a []string
	at := map[string]string{} // row → "file:line" of its first place
	aRows, bRows := rows[:100], rows[100:]
	next := 0
	for line := 2; next < len(aRows); line++ {
		if r, ok := bad[line]; ok {
			a = append(a, r)
			continue
		}
		r := aRows[next]
		if line == 20 {
			r = `"` + strings.ReplaceAll(r, ",", `","`) + `"` // quoted fields
		}
		a = append(a, r)
		next++
	}
	fileA, fileB := filepath.Join(in, "a.csv"), filepath.Join(in, "b.csv")
	beamtest.WriteFile(t, fileA, header+"\n"+strings.Join(a, "\n")+"\n")
	// b: CRLF line ends, a blank line, no final newline.
	beamtest.WriteFile(t, fileB, header+"\r\n"+strings.Join(bRows[:10], "\r\n")+"\r\n\r\n"+strings.Join(bRows[10:], "\r\n"))
	beamtest.WriteFile(t, filepath.Join(in, "empty.csv"), header+"\n")

	labels, outputs := beamtest.Reference(t, nnCommand(t), modelPath, model, good)
	var want []any
	for i := range rows {
		var key string
		if i < 100 {
			key = placeOf(a, i, fileA)
		} else {
			line := i - 100 + 2
			if i-100 >= 10 {
				line++ // the blank line
			}
			key = fileB + ":" + strconv.Itoa(line)
		}
		at[rows[i]] = key
		want = append(want, key+"|"+labels[i]+"|"+formatVector(mat.Row(nil, i, outputs)))
	}
	var wantLetters []any
	for line, r := range bad {
		key := fileA + ":" + strconv.Itoa(line)
		wantLetters = append(wantLetters, fmt.Sprintf("%s|%s|%s|%s", key, key, r, wantDead[line]))
	}

	p, s := beam.NewPipelineWithRoot()
	lines := ReadLines(s, filepath.Join(in, "*.csv"))
	preds, dead := Score(s, modelPath, lines, &ScoreOptions{Header: strings.Split(header, ","), BlockRows: 16})
	passert.Equals(s, beam.ParDo(s, predictionText, preds), want...)
	passert.Equals(s, beam.ParDo(s, deadLetterText, dead), wantLetters...)
	ptest.RunAndValidate(t, p)
}

// placeOf returns "file:line" of the i-th good row of the rows a of file,
// which starts with a header.
func placeOf(a []string, i int, file string) string {
	n := -1
	for j := range a {
		if strings.Count(a[j], ",") == 4 && !strings.Contains(a[j], "abc") && !strings.Contains(a[j], "NaN") && !strings.Contains(a[j], "1e400") && !strings.HasPrefix(a[j], `"5.1,3.5`) {
			n++
		}
		if n == i {
			return file + ":" + strconv.Itoa(j+2)
		}
	}
	panic("row not found")
}

// regressionModel trains a small regression of petal width on the other
// iris measurements and saves it in dir.
func regressionModel(t *testing.T, dir string) (string, *nn.Model) {
	t.Helper()
	d, err := nn.LoadCSV(beamtest.Testdata("iris.csv"), &nn.CSVOptions{Target: "petal_width", Features: []string{"sepal_length", "sepal_width", "petal_length"}})
	if err != nil {
		t.Fatal(err)
	}
	r := &nn.Regressor{Hidden: []int{6}, Epochs: 20, Seed: 4}
	if err := r.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "petal.json")
	if err := r.Model.Save(path); err != nil {
		t.Fatal(err)
	}
	return path, r.Model
}

// TestScoreRegression scores CSV records (strings, as textio reads
// them) with a regression model whose features are a subset of the
// columns, in another order, and checks the predictions against
// nn predict's, which writes them in full precision, bit for bit.
func TestScoreRegression(t *testing.T) {
	dir := t.TempDir()
	modelPath, _ := regressionModel(t, dir)
	header, rows := beamtest.IrisRows(t)
	data := filepath.Join(dir, "rows.csv")
	beamtest.WriteFile(t, data, header+"\n"+strings.Join(rows, "\n")+"\n")
	values := nnPredict(t, modelPath, data)
	var records []string
	var want []any
	for i, r := range rows {
		records = append(records, r)
		want = append(want, r+"||"+values[i])
	}
	p, s := beam.NewPipelineWithRoot()
	col := beam.CreateList(s, append([]string{header}, records...))
	preds, dead := Score(s, modelPath, col, &ScoreOptions{Header: strings.Split(header, ",")})
	passert.Equals(s, beam.ParDo(s, predictionText, preds), want...)
	passert.Empty(s, dead)
	ptest.RunAndValidate(t, p)
}

// TestScoreVectors scores feature vectors, keyed and not, with the iris
// model, against Model.Predict bit for bit, and sends vectors of the
// wrong length or with NaN to the dead letters.
func TestScoreVectors(t *testing.T) {
	dir := t.TempDir()
	modelPath, model := beamtest.IrisModel(t, dir)
	_, rows := beamtest.IrisRows(t)
	var keyed []string
	var vectors [][]float64
	var wantKeyed, wantVectors []any
	for i, r := range rows[:40] {
		fields := strings.Split(r, ",")[:4]
		v := make([]float64, 4)
		for j, f := range fields {
			v[j], _ = strconv.ParseFloat(f, 64)
		}
		out, err := model.Predict(mat.NewDense(1, 4, v))
		if err != nil {
			t.Fatal(err)
		}
		label := model.Classes[model.Network.ClassesTo(nil, out)[0]]
		key := "row" + strconv.Itoa(i)
		keyed = append(keyed, key+";"+strings.Join(fields, ","))
		vectors = append(vectors, v)
		wantKeyed = append(wantKeyed, key+"|"+label+"|"+formatVector(out.RawRowView(0)))
		wantVectors = append(wantVectors, formatVector(v)+"|"+label+"|"+formatVector(out.RawRowView(0)))
	}
	keyed = append(keyed, "short;1,2,3", "nan;1,NaN,3,4")
	p, s := beam.NewPipelineWithRoot()
	kv := beam.ParDo(s, splitKeyed, beam.CreateList(s, keyed))
	preds, dead := Score(s, modelPath, kv, &ScoreOptions{BlockRows: 7})
	passert.Equals(s, beam.ParDo(s, predictionText, preds), wantKeyed...)
	passert.Equals(s, beam.ParDo(s, deadLetterText, dead),
		"short|:0|1,2,3|3 values for the 4 features of the model",
		`nan|:0|1,NaN,3,4|feature "sepal_width" is missing (NaN), and the model has no Encoding to fill it in: non-finite value`)
	vpreds, vdead := Score(s, modelPath, beam.CreateList(s, vectors), nil)
	passert.Equals(s, beam.ParDo(s, predictionText, vpreds), wantVectors...)
	passert.Empty(s, vdead)
	ptest.RunAndValidate(t, p)
}

// TestScoreCategorical scores rows of a table with categories and missing
// values, and a category the model has not seen, against nn predict, and
// with StrictCategories sends the unseen category to the dead letters.
func TestScoreCategorical(t *testing.T) {
	dir := t.TempDir()
	d, err := nn.LoadCSV(beamtest.Testdata("tabular/penguins.csv"), &nn.CSVOptions{Target: "species", Classify: true, DetectCategorical: true, Missing: nn.DefaultMissing})
	if err != nil {
		t.Fatal(err)
	}
	c := &nn.Classifier{Hidden: []int{8}, Epochs: 20, Seed: 5}
	if err := c.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	modelPath := filepath.Join(dir, "penguins.json")
	if err := c.Model.Save(modelPath); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(beamtest.Testdata("tabular/penguins.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header, rows := lines[0], lines[1:61]
	rows[3] = strings.Replace(rows[3], "Torgersen", "Atlantis", 1) // a category not seen
	data := filepath.Join(dir, "in.csv")
	beamtest.WriteFile(t, data, header+"\n"+strings.Join(rows, "\n")+"\n")
	labels := nnPredict(t, modelPath, data)
	var want []any
	for i := range rows {
		want = append(want, fmt.Sprintf("%s:%d|%s", data, i+2, labels[i]))
	}
	p, s := beam.NewPipelineWithRoot()
	lines2 := ReadLines(s, data)
	preds, dead := Score(s, modelPath, lines2, &ScoreOptions{Header: strings.Split(header, ",")})
	passert.Equals(s, beam.ParDo(s, keyLabel, preds), want...)
	passert.Empty(s, dead)
	_, strictDead := Score(s, modelPath, lines2, &ScoreOptions{Header: strings.Split(header, ","), StrictCategories: true})
	passert.Equals(s, beam.ParDo(s, deadLetterText, strictDead),
		fmt.Sprintf(`%s:5|%s:5|%s|column 1: unknown category "Atlantis": categories are "Biscoe", "Dream", "Torgersen" (column "island")`, data, data, rows[3]))
	ptest.RunAndValidate(t, p)
}

// TestScoreRereadsModel scores with a model file, replaces the file with
// another model and scores again in the same process (Prism's worker):
// the second Score must predict with the new model, not the one the first
// left in the cache.
func TestScoreRereadsModel(t *testing.T) {
	dir := t.TempDir()
	modelPath, _ := beamtest.IrisModel(t, dir)
	_, reg := regressionModel(t, dir)
	p, s := beam.NewPipelineWithRoot()
	preds, _ := Score(s, modelPath, beam.CreateList(s, [][]float64{{5.1, 3.5, 1.4, 0.2}}), nil)
	passert.Count(s, preds, "iris predictions", 1)
	ptest.RunAndValidate(t, p)

	if err := reg.Save(modelPath); err != nil {
		t.Fatal(err)
	}
	v := []float64{5.1, 3.5, 1.4}
	out, err := reg.Predict(mat.NewDense(1, 3, v))
	if err != nil {
		t.Fatal(err)
	}
	p, s = beam.NewPipelineWithRoot()
	preds, dead := Score(s, modelPath, beam.CreateList(s, [][]float64{v}), nil)
	passert.Equals(s, beam.ParDo(s, predictionText, preds), formatVector(v)+"||"+formatVector(out.RawRowView(0)))
	passert.Empty(s, dead)
	ptest.RunAndValidate(t, p)
}

// TestScoreWindowed checks that Score refuses, while the pipeline is
// built, elements in windows other than the global one, whose predictions
// it would emit in the wrong window (at the end of a bundle, in the
// global window, which failed the job at run time).
func TestScoreWindowed(t *testing.T) {
	_, s := beam.NewPipelineWithRoot()
	col := beam.WindowInto(s, window.NewFixedWindows(time.Minute), beam.CreateList(s, [][]float64{{1, 2, 3, 4}}))
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "global window") {
			t.Errorf("Score of windowed elements: got panic %v, want one about the global window", r)
		}
	}()
	Score(s, "model.json", col, nil)
}

// TestScoreSplitAfterBadRecord checks that a record with quotes is split
// as it is whatever the records before it were: a bad one, or one of
// several records, whose rest after a newline encoding/csv had buffered
// was read as the start of the next record.
func TestScoreSplitAfterBadRecord(t *testing.T) {
	for i, bad := range []string{"\"a\"b\n9\n", "\"1\",2\n3,4\n5,6"} {
		f := &scorer{Comma: ','}
		if _, err := f.split(bad); err == nil {
			t.Errorf("%d: split(%q): no error", i, bad)
		}
		rec, err := f.split(`"2",3`)
		if err != nil || !slices.Equal(rec, []string{"2", "3"}) {
			t.Errorf("%d: after %q, split(%q) = %q, %v; want [\"2\" \"3\"], nil", i, bad, `"2",3`, rec, err)
		}
	}
}

// keyLabel formats a prediction's key and label.
func keyLabel(p Prediction) string { return p.Key + "|" + p.Label }

// TestScoreFailures checks that a model file that cannot be read fails
// the job with an error naming it, and that FailFast fails it at the
// first bad row, naming its file and line.
func TestScoreFailures(t *testing.T) {
	dir := t.TempDir()
	modelPath, _ := beamtest.IrisModel(t, dir)
	header, rows := beamtest.IrisRows(t)
	data := filepath.Join(dir, "in.csv")
	beamtest.WriteFile(t, data, header+"\n"+rows[0]+"\n5.1,x,1.4,0.2,setosa\n")

	broken := filepath.Join(dir, "broken.json")
	beamtest.WriteFile(t, broken, `{"format": "github.com/neuralgo/nn model", "version": 1, "sizes": [4,3]`)
	for _, test := range []struct {
		model string
		o     *ScoreOptions
		want  string
	}{
		{filepath.Join(dir, "missing.json"), nil, "nnbeam: model " + filepath.Join(dir, "missing.json") + ": "},
		{broken, nil, "nnbeam: model " + broken + ": model is truncated"},
		{modelPath, &ScoreOptions{FailFast: true}, "nnbeam: " + data + `:3: column 2: not a number: "x" (column "sepal_width")`},
	} {
		o := test.o
		if o == nil {
			o = &ScoreOptions{}
		}
		o.Header = strings.Split(header, ",")
		p, s := beam.NewPipelineWithRoot()
		Score(s, test.model, ReadLines(s, data), o)
		_, err := ptest.RunWithMetrics(p)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got %v, want an error containing %q", filepath.Base(test.model), err, test.want)
		}
	}
}

// overflowModel saves in dir a regression on the features a and b whose
// weights overflow for rows with a large b (see beamtest.Overflow): its
// output is about a while |b| < 1.8e8, and NaN beyond.
func overflowModel(t *testing.T, dir string) (string, *nn.Model) {
	t.Helper()
	net, err := nn.New(nn.Config{Sizes: []int{2, 3, 1}, Activations: []nn.Activation{nn.Identity, nn.Identity}})
	if err != nil {
		t.Fatal(err)
	}
	beamtest.Overflow(net, 1, 0, 0)
	m := &nn.Model{Network: net, Features: []string{"a", "b"}, Target: "y"}
	path := filepath.Join(dir, "overflow.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	return path, m
}

// TestScoreNonFinite scores rows, CSV lines and vectors, for some of
// which the weights of the model overflow: they go to the dead letters,
// with where they are and why, and the others are predicted bit for bit
// as Network.Predict predicts them; with FailFast, the first such row
// fails the job, naming its file and line.
func TestScoreNonFinite(t *testing.T) {
	dir := t.TempDir()
	modelPath, model := overflowModel(t, dir)
	rows := [][]float64{{1, 2}, {3, 1e10}, {0.5, -4}, {-1, -1e9}, {2, 0.25}}
	overflows := map[int]bool{1: true, 3: true}
	var text []string
	var wantLines, wantVectors, wantLetters, wantVectorLetters []any
	data := filepath.Join(dir, "in.csv")
	for i, v := range rows {
		text = append(text, formatVector(v))
		out, err := model.Network.Predict(mat.NewDense(1, 2, v))
		if err != nil {
			t.Fatal(err)
		}
		if finite := !math.IsNaN(out.At(0, 0)) && !math.IsInf(out.At(0, 0), 0); finite == overflows[i] {
			t.Fatalf("row %v: output %v; the test wants it to overflow: %v", v, out.At(0, 0), overflows[i])
		}
		key := data + ":" + strconv.Itoa(i+2)
		if overflows[i] {
			msg := fmt.Sprintf("the model's output 0 is %v for this row: non-finite value", out.At(0, 0))
			wantLetters = append(wantLetters, fmt.Sprintf("%s|%s|%s|%s", key, key, text[i], msg))
			wantVectorLetters = append(wantVectorLetters, fmt.Sprintf("%s|:0|%s|%s", text[i], text[i], msg))
			continue
		}
		wantLines = append(wantLines, key+"||"+formatVector(out.RawRowView(0)))
		wantVectors = append(wantVectors, text[i]+"||"+formatVector(out.RawRowView(0)))
	}
	beamtest.WriteFile(t, data, "a,b\n"+strings.Join(text, "\n")+"\n")

	p, s := beam.NewPipelineWithRoot()
	preds, dead := Score(s, modelPath, ReadLines(s, data), &ScoreOptions{Header: []string{"a", "b"}, BlockRows: 2})
	passert.Equals(s, beam.ParDo(s, predictionText, preds), wantLines...)
	passert.Equals(s, beam.ParDo(s, deadLetterText, dead), wantLetters...)
	vpreds, vdead := Score(s, modelPath, beam.CreateList(s, rows), nil)
	passert.Equals(s, beam.ParDo(s, predictionText, vpreds), wantVectors...)
	passert.Equals(s, beam.ParDo(s, deadLetterText, vdead), wantVectorLetters...)
	ptest.RunAndValidate(t, p)

	p, s = beam.NewPipelineWithRoot()
	Score(s, modelPath, ReadLines(s, data), &ScoreOptions{Header: []string{"a", "b"}, FailFast: true})
	_, err := ptest.RunWithMetrics(p)
	if want := "nnbeam: " + data + ":3: the model's output 0 is NaN for this row: non-finite value"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("FailFast: got %v, want an error containing %q", err, want)
	}
}

// TestScoreByteOrderMark scores a file whose first line, a data row,
// starts with a byte order mark, as nn predict reads it, and a record
// that does.
func TestScoreByteOrderMark(t *testing.T) {
	dir := t.TempDir()
	modelPath, _ := beamtest.IrisModel(t, dir)
	_, rows := beamtest.IrisRows(t)
	for i := range rows[:2] {
		rows[i] = rows[i][:strings.LastIndex(rows[i], ",")] // the features alone
	}
	data := filepath.Join(dir, "bom.csv")
	beamtest.WriteFile(t, data, "\ufeff"+rows[0]+"\n"+rows[1]+"\n")
	labels := nnPredict(t, modelPath, data)
	p, s := beam.NewPipelineWithRoot()
	preds, dead := Score(s, modelPath, ReadLines(s, data), nil)
	passert.Equals(s, beam.ParDo(s, keyLabel, preds), data+":1|"+labels[0], data+":2|"+labels[1])
	passert.Empty(s, dead)
	rpreds, rdead := Score(s, modelPath, beam.Create(s, "\ufeff"+rows[0]), nil)
	passert.Count(s, rpreds, "records", 1)
	passert.Empty(s, rdead)
	ptest.RunAndValidate(t, p)
}
