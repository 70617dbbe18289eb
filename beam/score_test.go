package nnbeam

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

func init() {
	register.Function1x1(predictionText)
	register.Function1x1(deadLetterText)
	register.Function2x0(splitKeyed)
	register.Emitter2[string, []float64]()
}

func TestMain(m *testing.M) {
	log.LogLevel = "warn"
	ptest.MainWithDefault(m, "prism")
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
		nnBinary.path = filepath.Join(dir, "nn")
		cmd := exec.Command("go", "build", "-o", nnBinary.path, "./cmd/nn")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			nnBinary.err = fmt.Errorf("go build ./cmd/nn: %v\n%s", err, out)
		}
	})
	if nnBinary.err != nil {
		t.Fatal(nnBinary.err)
	}
	return nnBinary.path
}

// nnPredict runs nn predict on the file data and returns its lines.
func nnPredict(t *testing.T, model, data string) []string {
	t.Helper()
	out, err := exec.Command(nnCommand(t), "predict", "-model", model, "-data", data).Output()
	if err != nil {
		t.Fatalf("nn predict: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// irisModel trains a small classifier on the iris rows and saves it in
// dir.
func irisModel(t *testing.T, dir string) (string, *nn.Model) {
	t.Helper()
	d, err := nn.LoadCSV("../testdata/iris.csv", &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &nn.Classifier{Hidden: []int{8}, Epochs: 30, Seed: 3}
	if err := c.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "iris.json")
	if err := c.Model.Save(path); err != nil {
		t.Fatal(err)
	}
	return path, c.Model
}

// irisRows returns the data rows of the iris file.
func irisRows(t *testing.T) (header string, rows []string) {
	t.Helper()
	b, err := os.ReadFile("../testdata/iris.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[0], lines[1:]
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestScoreLines scores the iris rows, split over three files with
// headers, one of them without rows, with bad rows among them, and checks
// the labels against nn predict's and the outputs against
// Model.Predict's, bit for bit, and the bad rows against the dead
// letters.
func TestScoreLines(t *testing.T) {
	dir := t.TempDir()
	modelPath, model := irisModel(t, dir)
	header, rows := irisRows(t)

	// The good rows, as nn predict reads them, and the files of the
	// pipeline: a, with bad rows among the good ones, b, and empty,
	// with a header alone.
	good := filepath.Join(dir, "good.csv")
	writeFile(t, good, header+"\n"+strings.Join(rows, "\n")+"\n")
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
	writeFile(t, fileA, header+"\n"+strings.Join(a, "\n")+"\n")
	// b: CRLF line ends, a blank line, no final newline.
	writeFile(t, fileB, header+"\r\n"+strings.Join(bRows[:10], "\r\n")+"\r\n\r\n"+strings.Join(bRows[10:], "\r\n"))
	writeFile(t, filepath.Join(in, "empty.csv"), header+"\n")

	labels := nnPredict(t, modelPath, good)
	if len(labels) != len(rows) {
		t.Fatalf("nn predict gave %d lines for %d rows", len(labels), len(rows))
	}
	d, err := nn.LoadCSV(good, model.CSVOptions())
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := model.Predict(d.X)
	if err != nil {
		t.Fatal(err)
	}
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
