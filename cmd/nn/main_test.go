package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests run the nn binary as a user would, built once by TestMain.

var (
	binary   string // path of the nn binary
	shared   string // directory for files shared between tests
	irisPath = filepath.Join("..", "..", "testdata", "iris.csv")
	badPath  = filepath.Join("..", "..", "testdata", "bad.csv")
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "nn-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	defer removePlainBinary()
	binary = filepath.Join(dir, "nn")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	shared = filepath.Join(dir, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if openBLAS {
		// The binary computes as the tests do, so that the library's
		// predictions in the test process are the binary's bits.
		args = append(args, "-tags", "openblas")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building nn:", err)
		return 1
	}
	// A binary built with -race sleeps a second at exit (GORACE
	// atexit_sleep_ms) for other goroutines to report; the commands here
	// have none to wait for. A race still fails the run with status 66.
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	return m.Run()
}

// result is the outcome of one run of nn.
type result struct {
	stdout, stderr string
	code           int
}

// runNN runs nn with args and stdin (none if empty) in the current
// directory.
func runNN(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("nn %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{stdout.String(), stderr.String(), code}
}

// mustRun runs nn and fails the test unless it exits with status 0.
func mustRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	r := runNN(t, stdin, args...)
	if r.code != 0 {
		t.Fatalf("nn %s: exit status %d, want 0; stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

var (
	irisOnce  sync.Once
	irisModel string
	irisErr   string
)

// trainedIris returns the path of a model trained on iris.csv with the
// default flags, trained once for all tests.
func trainedIris(t *testing.T) string {
	t.Helper()
	irisOnce.Do(func() {
		path := filepath.Join(shared, "iris.json")
		r := runNN(t, "", "train", "-data", irisPath, "-target", "species", "-o", path, "-quiet")
		if r.code != 0 {
			irisErr = fmt.Sprintf("training the shared iris model: exit status %d: %s", r.code, r.stderr)
			return
		}
		irisModel = path
	})
	if irisErr != "" {
		t.Fatal(irisErr)
	}
	return irisModel
}

var irisClasses = []string{"setosa", "versicolor", "virginica"}

// irisFeatureRows returns the rows of iris.csv without header and species.
func irisFeatureRows(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(irisPath)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range lines(string(b))[1:] {
		f := strings.Split(l, ",")
		rows = append(rows, strings.Join(f[:4], ","))
	}
	return rows
}

func TestIrisTrainEvalPredict(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "iris.json")
	plot := filepath.Join(dir, "loss.png")
	r := mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-o", model, "-plot", plot)
	// stderr is not a terminal here: plain progress lines, then the
	// summary.
	if !strings.Contains(r.stderr, "epoch 1/200 loss ") || !strings.Contains(r.stderr, "val_acc") {
		t.Errorf("train printed no progress lines on stderr:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "model written to "+model) {
		t.Errorf("train did not say where the model went:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("train drew a progress bar (\\r) on a non-terminal:\n%q", r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("train wrote %q on stdout, want nothing", r.stdout)
	}
	png, err := os.ReadFile(plot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 5000 {
		t.Errorf("-plot wrote %d bytes starting %q, want a PNG", len(png), png[:min(8, len(png))])
	}

	// eval, as text and as JSON.
	r = mustRun(t, "", "eval", "-model", model, "-data", irisPath)
	m := regexp.MustCompile(`(?m)^accuracy +([0-9.]+) \((\d+) of 150\)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("eval printed no accuracy line:\n%s", r.stdout)
	}
	if acc, _ := strconv.ParseFloat(m[1], 64); acc < 0.9 {
		t.Errorf("eval accuracy %v on the training file, want ≥ 0.9", acc)
	}
	for _, want := range []string{"precision", "recall", "F1", "confusion matrix", "versicolor"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("eval output has no %q:\n%s", want, r.stdout)
		}
	}
	r = mustRun(t, "", "eval", "-model", model, "-data", irisPath, "-json")
	var res struct {
		Task      string
		Rows      int
		Accuracy  float64
		Classes   []struct{ Class string }
		Confusion [][]int
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, r.stdout)
	}
	total := 0
	for _, row := range res.Confusion {
		for _, n := range row {
			total += n
		}
	}
	if res.Task != "classify" || res.Rows != 150 || res.Accuracy < 0.9 || len(res.Classes) != 3 || total != 150 {
		t.Errorf("eval -json = %+v, want task classify, 150 rows, accuracy ≥ 0.9, 3 classes, 150 in the confusion matrix", res)
	}

	// predict from the file, which has a header and the target column.
	r = mustRun(t, "", "predict", "-model", model, "-data", irisPath)
	fromFile := lines(r.stdout)
	if len(fromFile) != 150 {
		t.Fatalf("predict -data wrote %d lines, want 150", len(fromFile))
	}
	for i, l := range fromFile {
		if !slices.Contains(irisClasses, l) {
			t.Fatalf("predict line %d is %q, want one of %q", i+1, l, irisClasses)
		}
	}
	// predict from a pipe, feature columns only, no header.
	features := irisFeatureRows(t)
	r = mustRun(t, strings.Join(features, "\n")+"\n", "predict", "-model", model)
	if got := lines(r.stdout); !slices.Equal(got, fromFile) {
		t.Errorf("predict from stdin gave %d lines differing from predict -data's", len(got))
	}

	// -proba: a header of class names, then probabilities summing to 1.
	r = mustRun(t, strings.Join(features[:20], "\n")+"\n", "predict", "-model", model, "-proba")
	out := lines(r.stdout)
	if len(out) != 21 || out[0] != "setosa,versicolor,virginica" {
		t.Fatalf("predict -proba wrote %d lines starting %q, want 21 starting with the class names", len(out), out[0])
	}
	for i, l := range out[1:] {
		var sum float64
		fields := strings.Split(l, ",")
		best := 0
		for j, f := range fields {
			p, err := strconv.ParseFloat(f, 64)
			if err != nil || p < 0 || p > 1 {
				t.Fatalf("predict -proba row %d: %q is not a probability", i+1, f)
			}
			// The shortest form that reads back as the same number.
			if short := strconv.FormatFloat(p, 'g', -1, 64); f != short {
				t.Errorf("predict -proba row %d: %q, want the shortest form %q", i+1, f, short)
			}
			sum += p
			if p > mustFloat(t, fields[best]) {
				best = j
			}
		}
		if len(fields) != 3 || math.Abs(sum-1) > 1e-12 {
			t.Errorf("predict -proba row %d = %q: %d probabilities summing to %v, want 3 summing to 1", i+1, l, len(fields), sum)
		}
		if irisClasses[best] != fromFile[i] {
			t.Errorf("predict -proba row %d = %q has its largest probability for %s, but predict says %s", i+1, l, irisClasses[best], fromFile[i])
		}
	}

	// -quiet: nothing on stderr.
	r = mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-o", model, "-quiet", "-epochs", "5")
	if r.stderr != "" {
		t.Errorf("train -quiet wrote on stderr:\n%s", r.stderr)
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPredictStreams predicts more rows than a batch holds, with a last
// batch that is not full, and checks that every row gets the prediction it
// gets alone.
func TestPredictStreams(t *testing.T) {
	model := trainedIris(t)
	features := irisFeatureRows(t)
	one := lines(mustRun(t, strings.Join(features, "\n")+"\n", "predict", "-model", model).stdout)
	var in strings.Builder
	in.WriteString("sepal_length,sepal_width,petal_length,petal_width\n")
	const copies = 7 // 1050 rows: 4 batches of 256 and one of 26
	for range copies {
		in.WriteString(strings.Join(features, "\n") + "\n")
	}
	got := lines(mustRun(t, in.String(), "predict", "-model", model).stdout)
	if len(got) != copies*len(features) {
		t.Fatalf("predict wrote %d lines for %d rows", len(got), copies*len(features))
	}
	for i, l := range got {
		if l != one[i%len(one)] {
			t.Fatalf("prediction %d is %q, want %q", i+1, l, one[i%len(one)])
		}
	}
}

// TestHeaderless trains on a file without a header and predicts on rows
// with and without the target column.
func TestHeaderless(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(irisPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := lines(string(b))[1:]
	data := filepath.Join(dir, "noheader.csv")
	if err := os.WriteFile(data, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.json")
	mustRun(t, "", "train", "-data", data, "-o", model, "-quiet", "-epochs", "50")
	withTarget := lines(mustRun(t, "", "predict", "-model", model, "-data", data).stdout)
	without := lines(mustRun(t, strings.Join(irisFeatureRows(t), "\n")+"\n", "predict", "-model", model).stdout)
	if len(withTarget) != 150 || !slices.Equal(withTarget, without) {
		t.Errorf("predictions with the target column (%d) and without (%d) differ", len(withTarget), len(without))
	}
	r := mustRun(t, "", "eval", "-model", model, "-data", data, "-json")
	var res struct{ Accuracy float64 }
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Accuracy < 0.8 {
		t.Errorf("eval of the headerless model: accuracy %v, err %v; want ≥ 0.8", res.Accuracy, err)
	}
}

// writeRegression writes n rows of y = 2a − b + 10 + noise to a CSV file.
func writeRegression(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("a,b,y\n")
	for range n {
		a, c := 10*rnd.Float64(), 10*rnd.Float64()-5
		fmt.Fprintf(&b, "%.4f,%.4f,%.4f\n", a, c, 2*a-c+10+0.3*rnd.NormFloat64())
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRegression(t *testing.T) {
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeRegression(t, train, 300, 1)
	writeRegression(t, test, 100, 2)
	model := filepath.Join(dir, "reg.json")
	r := mustRun(t, "", "train", "-data", train, "-task", "regress", "-o", model)
	if !strings.Contains(r.stderr, "val_R²") {
		t.Errorf("train -task regress printed no validation R²:\n%s", r.stderr)
	}
	r = mustRun(t, "", "eval", "-model", model, "-data", test, "-json")
	var res struct {
		Task         string
		Rows         int
		R2, MSE, MAE float64
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, r.stdout)
	}
	// The noise has variance 0.09 and y has variance 4·100/12 + 100/12 ≈ 42,
	// so the best model has R² ≈ 0.998.
	if res.Task != "regress" || res.Rows != 100 || res.R2 < 0.9 {
		t.Errorf("eval -json = %+v, want task regress, 100 rows and R² > 0.9", res)
	}
	r = mustRun(t, "", "eval", "-model", model, "-data", test)
	// The report's table: a row for the target, R² last.
	if !regexp.MustCompile(`(?m)^ +y( +[0-9.]+){3} +0\.9\d+$`).MatchString(r.stdout) {
		t.Errorf("eval printed no R² above 0.9:\n%s", r.stdout)
	}
	// Predictions are in the target's units (the target was standardised
	// for training): a=5, b=0 gives y ≈ 20.
	r = mustRun(t, "a,b\n5,0\n1,4\n", "predict", "-model", model)
	got := lines(r.stdout)
	for i, want := range []float64{20, 8} {
		if v := mustFloat(t, got[i]); math.Abs(v-want) > 1 {
			t.Errorf("predict row %d = %v, want about %v", i+1, v, want)
		}
	}
}

// TestErrors runs bad command lines and bad data. Each must fail with the
// right status and one line on stderr saying what and where, and leave an
// existing model file byte-identical.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	model := trainedIris(t)
	good, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	badQuote := write("quote.csv", "a,b,y\n1,2,3\n4,\"5,6\n7,8,9\n")
	ragged := write("ragged.csv", "a,b,y\n1,2,3\n4,5\n")
	nan := write("nan.csv", "a,b,y\n1,2,3\n4,NaN,6\n")
	inf := write("inf.csv", "a,b,y\n1,2,3\n4,5,+Inf\n")
	tooMany := write("rows.csv", "5.1,3.5,1.4,0.2\n4.9,3.0,1.4,0.2,0.5\n")
	text := write("text.csv", "5.1,3.5,1.4,0.2\n4.9,3.0,x,0.2\n")
	truncated := write("truncated.json", string(good[:bytes.LastIndexByte(good[:len(good)/2], '\n')]))
	corrupt := write("corrupt.json", string(good[:100])+"@@@"+string(good[103:]))
	notModel := write("notmodel.json", "[1, 2, 3]\n")
	reg := write("reg.csv", "a,b,y\n1,2,3\n4,5,6\n7,8,9\n2,2,2\n5,5,5\n")
	oneClass := write("one.csv", "a,y\n1,2\n1,3\n1,4\n")
	dup := write("dup.csv", "a,a,t\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
	dupIris := write("dup-iris.csv", "sepal_length,sepal_width,sepal_width,petal_length,petal_width,species\n5.1,3.5,3.5,1.4,0.2,setosa\n")
	huge := write("huge.csv", "a,b,t\n1e308,1,x\n-1e308,2,y\n1e308,3,x\n-1e308,4,y\n")
	hugeSum := write("hugesum.csv", "a,b,t\n1e308,1,x\n1e308,2,y\n1e308,3,x\n1e308,4,y\n")
	hugeTarget := write("hugetarget.csv", "a,y\n1,1e308\n2,-1e308\n3,1e308\n4,-1e308\n")
	badName := write("badname.csv", "a\xff,b,t\n1,2,x\n3,4,y\n")
	badLabel := write("badlabel.csv", "a,b,t\n1,2,x\n3,4,\xfe\n")
	// A regression model with two outputs and the name of one target,
	// which nn eval cannot score against one target column.
	reg2 := write("reg2.json", `{"format":"github.com/neuralgo/nn model","version":1,"sizes":[1,2],"activations":["identity"],"bias":true,"loss":"squared-error","weights":[[1,2]],"biases":[[0,0]],"features":["x"],"target":"t"}`)
	reg2Data := write("reg2.csv", "x,t\n1,2\n2,4\n")
	// A single sigmoid output with one class label, which would index
	// the labels out of range.
	oneLabel := write("onelabel.json", `{"format":"github.com/neuralgo/nn model","version":1,"sizes":[1,1],"activations":["sigmoid"],"bias":true,"loss":"binary-cross-entropy","weights":[[1]],"biases":[[0]],"features":["x"],"target":"t","classes":["yes"]}`)
	oneLabelData := write("onelabel.csv", "x,t\n1,yes\n-1,yes\n")
	// A model that reads its two inputs from columns of the same name.
	dupFeatures := write("dupfeat.json", `{"format":"github.com/neuralgo/nn model","version":1,"sizes":[2,1],"activations":["identity"],"bias":true,"loss":"squared-error","weights":[[1,2]],"biases":[[0]],"features":["a","a"],"target":"t"}`)
	noDir := filepath.Join(dir, "no", "such", "dir", "m.json")
	// A file with a header that lacks a feature of the model.
	noFeature := write("nofeature.csv", "sepal_length,sepal_width,petal_length,colour\n5.1,3.5,1.4,red\n")

	for i, test := range []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string // regular expression that stderr must match
	}{
		{"missing data file", []string{"train", "-data", filepath.Join(dir, "nope.csv"), "-o", "MODEL"}, "", 1, `^nn: .*nope\.csv: no such file or directory$`},
		{"malformed CSV", []string{"train", "-data", badQuote, "-task", "regress", "-o", "MODEL"}, "", 1, `^nn: .*quote\.csv:\d+:\d+: .*quote`},
		{"ragged row", []string{"train", "-data", ragged, "-task", "regress", "-o", "MODEL"}, "", 1, `^nn: .*ragged\.csv:3: wrong number of fields: expected 3, got 2$`},
		{"text in a numeric column", []string{"train", "-data", badPath, "-target", "species", "-o", "MODEL"}, "", 1, `^nn: .*bad\.csv:4:3: not a number: "abc"`},
		{"NaN", []string{"train", "-data", nan, "-task", "regress", "-o", "MODEL", "-missing", "none"}, "", 1, `^nn: .*nan\.csv:3:2: non-finite value: "NaN"`},
		{"Inf target", []string{"train", "-data", inf, "-task", "regress", "-o", "MODEL"}, "", 1, `^nn: .*inf\.csv:3:3: non-finite value`},
		{"unknown target", []string{"train", "-data", irisPath, "-target", "colour", "-o", "MODEL"}, "", 1, `^nn: .*iris\.csv:1: target column not found: "colour"`},
		{"single class", []string{"train", "-data", oneClass, "-target", "a", "-o", "MODEL", "-val", "0"}, "", 1, `^nn: .*one\.csv: the target column "a" holds the single class "1"; classification needs at least two`},
		{"too few rows to validate", []string{"train", "-data", reg, "-task", "regress", "-o", "MODEL", "-val", "0.01"}, "", 1, `^nn: .*reg\.csv: 5 rows are too few .*-val 0`},
		{"diverging", []string{"train", "-data", reg, "-task", "regress", "-o", "MODEL", "-val", "0", "-method", "gd", "-lr", "1e6", "-quiet"}, "", 1, `^nn: loss became .* training diverged`},
		{"missing output directory", []string{"train", "-data", irisPath, "-o", noDir}, "", 1, `^nn: .*m\.json: cannot write there: directory .* does not exist$`},
		{"predict: too many columns", []string{"predict", "-model", "MODEL", "-data", tooMany}, "", 1, `^nn: .*rows\.csv:2: wrong number of fields: expected 4, got 5$`},
		{"predict: too many columns on stdin", []string{"predict", "-model", "MODEL"}, "5.1,3.5,1.4,0.2\n1,2,3\n", 1, `^nn: <stdin>:2: wrong number of fields: expected 4, got 3$`},
		{"predict: text", []string{"predict", "-model", "MODEL", "-data", text}, "", 1, `^nn: .*text\.csv:2:3: not a number: "x"`},
		{"predict: NaN", []string{"predict", "-model", "MODEL"}, "1,2,3,NaN\n", 1, `^nn: <stdin>:1:4: non-finite value: "NaN"`},
		{"predict: header without a feature", []string{"predict", "-model", "MODEL"}, "a,b,c,d\n1,2,3,4\n", 1, `^nn: <stdin>:1: the header names no column "sepal_length"`},
		// The library's message, which names the missing feature and why
		// the first row is a header, and no hint of -header no, which
		// would only read the header as a row of data.
		{"predict: a file without a feature", []string{"predict", "-model", "MODEL", "-data", noFeature}, "", 1, `^nn: .*nofeature\.csv:1: the header names no column "petal_width" \(features: sepal_length, sepal_width, petal_length, petal_width; the data's columns: "sepal_length", "sepal_width", "petal_length", "colour"\); the first row was taken for a header because field 1, "sepal_length", is not a number: feature column not found$`},
		{"predict: bad quote", []string{"predict", "-model", "MODEL"}, "1,2,3,4\n1,\"2,3,4\n", 1, `^nn: <stdin>:2:\d+: .*quote`},
		{"predict: truncated model", []string{"predict", "-model", truncated, "-data", irisPath}, "", 1, `^nn: .*truncated\.json: model is truncated`},
		{"eval: corrupt model", []string{"eval", "-model", corrupt, "-data", irisPath}, "", 1, `^nn: .*corrupt\.json: model is not valid JSON`},
		{"eval: not a model", []string{"eval", "-model", notModel, "-data", irisPath}, "", 1, `^nn: .*notmodel\.json: model is a JSON array, want an object$`},
		{"eval: missing model", []string{"eval", "-model", filepath.Join(dir, "none.json"), "-data", irisPath}, "", 1, `^nn: .*none\.json: no such file or directory$`},
		{"eval: regression data", []string{"eval", "-model", "MODEL", "-data", reg}, "", 1, `^nn: .*reg\.csv:1: target column not found: "species"`},
		{"unknown subcommand", []string{"frobnicate"}, "", 2, `^nn: unknown command "frobnicate"`},
		{"no subcommand", nil, "", 2, `(?s)^nn trains`},
		{"unknown flag", []string{"train", "-data", irisPath, "-o", "MODEL", "-colour", "red"}, "", 2, `^nn train: flag provided but not defined: -colour`},
		{"bad -hidden", []string{"train", "-data", irisPath, "-o", "MODEL", "-hidden", "3,x"}, "", 2, `^nn train: invalid value "3,x" for flag -hidden: "x" is not a layer size`},
		{"bad -lr", []string{"train", "-data", irisPath, "-o", "MODEL", "-lr", "-1"}, "", 2, `^nn train: invalid value "-1" for flag -lr: want a number > 0`},
		{"bad -epochs", []string{"train", "-data", irisPath, "-o", "MODEL", "-epochs", "0"}, "", 2, `^nn train: invalid value "0" for flag -epochs`},
		{"bad -val", []string{"train", "-data", irisPath, "-o", "MODEL", "-val", "1"}, "", 2, `^nn train: invalid value "1" for flag -val`},
		{"bad -task", []string{"train", "-data", irisPath, "-o", "MODEL", "-task", "cluster"}, "", 2, `^nn train: invalid value "cluster" for flag -task: want classify or regress`},
		{"-max-memory too small", []string{"eval", "-model", "MODEL", "-data", irisPath, "-max-memory", "1000KiB"}, "", 2, `^nn eval: invalid value "1000KiB" for flag -max-memory: want a size of at least 1MiB`},
		{"-max-memory of 2⁶³ bytes", []string{"eval", "-model", "MODEL", "-data", irisPath, "-max-memory", "8388608TiB"}, "", 2, `^nn eval: invalid value "8388608TiB" for flag -max-memory`},
		{"-max-memory not a size", []string{"eval", "-model", "MODEL", "-data", irisPath, "-max-memory", "lots"}, "", 2, `^nn eval: invalid value "lots" for flag -max-memory`},
		{"bad -plot", []string{"train", "-data", irisPath, "-o", "MODEL", "-plot", "loss.gif"}, "", 2, `^nn train: -plot .*loss\.gif: want a file name ending in \.png or \.svg`},
		{"missing -o", []string{"train", "-data", irisPath}, "", 2, `^nn train: flag -o is required`},
		{"missing -data", []string{"train", "-o", "MODEL"}, "", 2, `^nn train: flag -data is required`},
		{"missing -model", []string{"predict", "-data", irisPath}, "", 2, `^nn predict: flag -model is required`},
		{"eval: missing -model", []string{"eval", "-data", irisPath}, "", 2, `^nn eval: flag -model is required`},
		{"stray argument", []string{"eval", "-model", "MODEL", "-data", irisPath, "extra"}, "", 2, `^nn eval: unexpected argument "extra"`},
		{"-proba of a regression model", []string{"predict", "-model", "REGMODEL", "-proba"}, "", 2, `^nn predict: -proba with .*reg\.json: probabilities need a classification model; this is a regression model`},

		// Two columns of the same name (B1).
		{"duplicate column", []string{"train", "-data", dup, "-o", "MODEL", "-val", "0"}, "", 1, `^nn: .*dup\.csv:.*duplicate column name: column "a"`},
		{"predict: duplicate column", []string{"predict", "-model", "MODEL"}, "sepal_length,sepal_width,petal_length,petal_width,petal_width\n1,2,3,4,5\n", 1, `^nn: <stdin>:1:5: duplicate column name: column "petal_width" also names column 4$`},
		{"eval: duplicate column", []string{"eval", "-model", "MODEL", "-data", dupIris}, "", 1, `^nn: .*dup-iris\.csv:.*duplicate column name: .*"sepal_width"`},
		{"predict: model with a feature twice", []string{"predict", "-model", dupFeatures}, "a,a\n1,2\n", 1, `^nn: .*dupfeat\.json: .*"a"`},
		{"eval: model with a feature twice", []string{"eval", "-model", dupFeatures, "-data", dup}, "", 1, `^nn: .*dupfeat\.json: .*"a"`},

		// Models that decode but do not fit the command (B3).
		{"eval: regression model with two outputs and one target name", []string{"eval", "-model", reg2, "-data", reg2Data}, "", 1, `^nn: .*reg2\.csv: .*the model predicts 2 targets, the data has 1$`},
		{"predict: single output with one class", []string{"predict", "-model", oneLabel}, "x\n1\n", 1, `^nn: .*onelabel\.json: .*1 class.*single output`},
		{"eval: single output with one class", []string{"eval", "-model", oneLabel, "-data", oneLabelData}, "", 1, `^nn: .*onelabel\.json: .*1 class.*single output`},

		// What would be saved is checked before training (B5).
		{"standardising ±1e308", []string{"train", "-data", huge, "-o", "MODEL", "-val", "0"}, "", 1, `^nn: .*huge\.csv: the values of column "a" are too large for scaling by standard \(offset .*, scale (NaN|\+Inf)\)`},
		{"mean of 1e308s", []string{"train", "-data", hugeSum, "-o", "MODEL", "-val", "0"}, "", 1, `^nn: .*hugesum\.csv: the values of column "a" are too large for scaling by standard \(offset \+Inf`},
		{"min-max of ±1e308", []string{"train", "-data", huge, "-o", "MODEL", "-val", "0", "-scale", "minmax"}, "", 1, `^nn: .*huge\.csv: the values of column "a" are too large for scaling by minmax \(offset -1e\+308, scale \+Inf\)`},
		{"standardising a ±1e308 target", []string{"train", "-data", hugeTarget, "-o", "MODEL", "-val", "0", "-task", "regress"}, "", 1, `^nn: .*hugetarget\.csv: the values of the target "y" are too large to standardise`},
		{"column name not UTF-8", []string{"train", "-data", badName, "-o", "MODEL", "-val", "0"}, "", 1, `^nn: .*badname\.csv: the column name "a\\xff" is not valid UTF-8`},
		{"class label not UTF-8", []string{"train", "-data", badLabel, "-o", "MODEL", "-val", "0"}, "", 1, `^nn: .*badlabel\.csv: the class label "\\xfe" \(column "t"\) is not valid UTF-8`},

		// A first row with a field that is not a number is a header, as
		// for train and eval (C3).
		{"predict: first row taken for a header", []string{"predict", "-model", "MODEL"}, "5.1,3.5,1.4,x\n4.9,3.0,1.4,0.2\n", 1, `^nn: <stdin>:1: the header names no column "sepal_length".*; the first row was taken for a header because field 4, "x", is not a number`},
	} {
		// Every case gets a fresh copy of a good model, which must
		// survive byte for byte.
		path := filepath.Join(dir, fmt.Sprintf("model%d.json", i))
		if err := os.WriteFile(path, good, 0o644); err != nil {
			t.Fatal(err)
		}
		args := slices.Clone(test.args)
		for j, a := range args {
			switch a {
			case "MODEL":
				args[j] = path
			case "REGMODEL":
				args[j] = regModel(t)
			}
		}
		r := runNN(t, test.stdin, args...)
		if r.code != test.code {
			t.Errorf("%d: %s: exit status %d, want %d; stderr:\n%s", i, test.name, r.code, test.code, r.stderr)
		}
		stderr := strings.TrimSuffix(r.stderr, "\n")
		if test.code == 1 && strings.Contains(stderr, "\n") {
			t.Errorf("%d: %s: stderr has %d lines, want one:\n%s", i, test.name, len(lines(r.stderr)), r.stderr)
		}
		if test.code == 2 && test.args != nil && strings.Contains(stderr, "\n") {
			t.Errorf("%d: %s: usage error has %d lines, want one:\n%s", i, test.name, len(lines(r.stderr)), r.stderr)
		}
		if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
			t.Errorf("%d: %s: stderr shows a panic:\n%s", i, test.name, r.stderr)
		}
		if !regexp.MustCompile(test.want).MatchString(stderr) {
			t.Errorf("%d: %s: stderr is\n\t%s\nwant a match for\n\t%s", i, test.name, stderr, test.want)
		}
		if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, good) {
			t.Errorf("%d: %s: the model file changed (err %v)", i, test.name, err)
		}
		if strings.HasPrefix(test.name, "predict") && test.code == 2 && r.stdout != "" {
			t.Errorf("%d: %s: wrote %q on stdout", i, test.name, r.stdout)
		}
	}
	// No temporary files are left behind by failed runs.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("a run left %s behind", e.Name())
		}
	}
}

var (
	regOnce sync.Once
	regPath string
)

// regModel returns a small regression model, trained once.
func regModel(t *testing.T) string {
	t.Helper()
	regOnce.Do(func() {
		data := filepath.Join(shared, "reg.csv")
		writeRegression(t, data, 50, 3)
		path := filepath.Join(shared, "reg.json")
		if r := runNN(t, "", "train", "-data", data, "-task", "regress", "-o", path, "-epochs", "5", "-quiet"); r.code == 0 {
			regPath = path
		}
	})
	if regPath == "" {
		t.Fatal("training the shared regression model failed")
	}
	return regPath
}

// TestInterrupt sends SIGINT during training: nn must stop, say so, exit
// with status 1 and leave the model file alone, or with -save-interrupted
// write the last finished epoch.
func TestInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on Windows")
	}
	model := trainedIris(t)
	good, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, save := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "m.json")
		if err := os.WriteFile(path, good, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"train", "-data", irisPath, "-o", path, "-epochs", "1000000", "-patience", "0"}
		if save {
			args = append(args, "-save-interrupted")
		}
		cmd := exec.Command(binary, args...)
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		var out []string
		for sc.Scan() {
			out = append(out, sc.Text())
			// The first progress line: training has started.
			if strings.HasPrefix(sc.Text(), "epoch 1/") {
				break
			}
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("nn did not stop within 30s of SIGINT; stderr:\n%s", strings.Join(out, "\n"))
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("save=%v: nn exited with %v after SIGINT, want status 1", save, err)
		}
		last := out[len(out)-1]
		if !strings.Contains(last, "interrupted after") {
			t.Errorf("save=%v: last line of stderr is %q, want it to say the run was interrupted", save, last)
		}
		now, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if changed := !bytes.Equal(now, good); changed != save {
			t.Errorf("save=%v: model file changed = %v, want %v; stderr:\n%s", save, changed, save, strings.Join(out, "\n"))
		}
		if save {
			mustRun(t, "", "eval", "-model", path, "-data", irisPath)
		}
	}
}

// TestResume checks that a run resumed from a checkpoint ends with the
// same model file as one uninterrupted run.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	whole, part, resumed := filepath.Join(dir, "whole.json"), filepath.Join(dir, "part.json"), filepath.Join(dir, "resumed.json")
	ck := filepath.Join(dir, "ck.json")
	common := []string{"-data", irisPath, "-patience", "0", "-quiet"}
	mustRun(t, "", append([]string{"train", "-o", whole, "-epochs", "30"}, common...)...)
	mustRun(t, "", append([]string{"train", "-o", part, "-epochs", "12", "-checkpoint", ck, "-checkpoint-every", "4"}, common...)...)
	mustRun(t, "", append([]string{"train", "-o", resumed, "-epochs", "30", "-resume", ck}, common...)...)
	a, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(resumed)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("the resumed run's model differs from the uninterrupted run's")
	}
}

func TestDemo(t *testing.T) {
	start := time.Now()
	r := mustRun(t, "", "demo")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("demo took %v", d)
	}
	for _, want := range []string{
		// The perceptron's table, as in ExampleTrainPerceptron.
		"| Input 0 | Input 1 | Input 2 | Threshold | Output |\n" +
			"| 0 | 0 | 0 | 2 | 0 |\n" +
			"| 1 | 0 | 1 | 2 | 0 |\n" +
			"| 1 | 1 | 1 | 2 | 1 |\n",
		// The test-score network's predictions beside y, and its cost,
		// as in ExampleTrain.
		"|     3 |     5 | 0.75 | 0.750 |\n",
		"|     5 |     1 | 0.82 | 0.830 |\n",
		"|    10 |     2 | 0.93 | 0.914 |\n",
		"5000       5.75e-05\n",
		"dJdW1 = ",
		"dJdW2 = ",
		// Iris.
		"test accuracy ",
		"confusion matrix",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("demo output lacks %q; it is:\n%s", want, r.stdout)
		}
	}
	if m := regexp.MustCompile(`test accuracy ([0-9.]+)`).FindStringSubmatch(r.stdout); m == nil || mustFloat(t, m[1]) < 0.9 {
		t.Errorf("demo's iris test accuracy is %v, want ≥ 0.9", m)
	}
}

// TestEmbeddedIris checks that the demo's embedded copy of iris.csv is the
// project's file.
func TestEmbeddedIris(t *testing.T) {
	want, err := os.ReadFile(irisPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(irisCSV, want) {
		t.Errorf("cmd/nn/iris.csv differs from testdata/iris.csv; copy it again")
	}
}

func TestHelp(t *testing.T) {
	for i, test := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "Commands:"},
		{[]string{"-h"}, "Commands:"},
		{[]string{"help", "train"}, "-hidden sizes"},
		{[]string{"train", "-h"}, "-checkpoint-every"},
		{[]string{"predict", "-h"}, "-proba"},
		{[]string{"eval", "-help"}, "-json"},
		{[]string{"demo", "-h"}, "tutorial"},
	} {
		r := runNN(t, "", test.args...)
		if r.code != 0 || !strings.Contains(r.stdout, test.want) || r.stderr != "" {
			t.Errorf("%d: nn %s: status %d, stdout containing %q: %v, stderr %q; want 0, true, empty", i, strings.Join(test.args, " "), r.code, test.want, strings.Contains(r.stdout, test.want), r.stderr)
		}
	}
}

// TestPanicIsOneLine runs, in process, a command that panics: run must
// report it on one line with status 1, not crash with a stack trace.
func TestPanicIsOneLine(t *testing.T) {
	t.Setenv("NN_DEBUG", "")
	saved := commands
	defer func() { commands = saved }()
	commands = append(slices.Clone(commands), &command{name: "boom", run: func(*env, []string) error {
		var m map[string]int
		m["x"]++ // assignment to entry in nil map
		return nil
	}})
	var stdout, stderr bytes.Buffer
	code := run(&env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}, []string{"boom"})
	if code != 1 || !regexp.MustCompile(`^nn: internal error: assignment to entry in nil map \(set NN_DEBUG=1 for a stack trace\)\n$`).MatchString(stderr.String()) {
		t.Errorf("a panicking command: status %d, stderr %q; want 1 and one line", code, stderr.String())
	}
}

// TestSameFile gives nn train two flags that name the same file, spelt
// alike, differently, or through links: each is a usage error naming the
// two flags, and no file is touched. Only -resume may equal -checkpoint.
func TestSameFile(t *testing.T) {
	dir := t.TempDir()
	iris, err := os.ReadFile(irisPath)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data.csv")
	if err := os.WriteFile(data, iris, 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.json")
	ck := filepath.Join(dir, "ck.json")
	plot := filepath.Join(dir, "ck.png")
	sep := string(filepath.Separator)
	other := dir + sep + "sub" + sep + ".." + sep + "." + sep + "data.csv" // another spelling of data
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.csv")
	if err := os.Link(data, hard); err != nil {
		t.Logf("no hard link: %v", err)
		hard = ""
	}
	sym := filepath.Join(dir, "sym.csv")
	if err := os.Symlink("data.csv", sym); err != nil {
		t.Logf("no symbolic link: %v", err)
		sym = ""
	}
	base := []string{"train", "-data", data, "-quiet", "-epochs", "2"}
	for i, test := range []struct {
		name string
		args []string
		want string
	}{
		{"-checkpoint is -data", []string{"-o", model, "-checkpoint", data}, `-data and -checkpoint both name .*data\.csv: the checkpoint would overwrite the training data`},
		{"-checkpoint is -data spelt otherwise", []string{"-o", model, "-checkpoint", other}, `-data .*data\.csv and -checkpoint .*sub.\.\..\..data\.csv are the same file: the checkpoint would overwrite the training data`},
		{"-checkpoint is a hard link to -data", []string{"-o", model, "-checkpoint", hard}, `-data .*data\.csv and -checkpoint .*hard\.csv are the same file: the checkpoint would overwrite the training data`},
		{"-o is a symbolic link to -data", []string{"-o", sym}, `-data .*data\.csv and -o .*sym\.csv are the same file: the model would overwrite the training data`},
		{"-o is -data", []string{"-o", data}, `-data and -o both name .*: the model would overwrite the training data`},
		{"-plot is -data", []string{"-o", model, "-data", plot, "-plot", plot}, `-data and -plot both name .*ck\.png: the plot would overwrite the training data`},
		{"-plot is -checkpoint", []string{"-o", model, "-checkpoint", plot, "-plot", plot}, `-checkpoint and -plot both name .*ck\.png: the checkpoint and the plot would overwrite each other`},
		{"-o is -checkpoint", []string{"-o", ck, "-checkpoint", ck}, `-o and -checkpoint both name .*ck\.json: the model and the checkpoint would overwrite each other`},
		{"-o is -checkpoint spelt otherwise, neither existing", []string{"-o", ck, "-checkpoint", dir + sep + "." + sep + "ck.json"}, `-o .*ck\.json and -checkpoint .*\..ck\.json are the same file: the model and the checkpoint would overwrite each other`},
		{"-o is -plot", []string{"-o", plot, "-plot", plot}, `-o and -plot both name .*: the model and the plot would overwrite each other`},
		{"-o is -resume", []string{"-o", ck, "-resume", ck}, `-resume and -o both name .*ck\.json: the model would overwrite the checkpoint to resume from`},
		{"-plot is -resume", []string{"-o", model, "-resume", plot, "-checkpoint", ck, "-plot", plot}, `-resume and -plot both name .*ck\.png: the plot would overwrite the checkpoint to resume from`},
	} {
		if slices.Contains(test.args, "") {
			continue // no link on this system
		}
		r := runNN(t, "", append(slices.Clone(base), test.args...)...)
		if r.code != 2 || !regexp.MustCompile(`^nn train: `+test.want+`; give them different names \(see 'nn train -h'\)\n$`).MatchString(r.stderr) {
			t.Errorf("%d: %s: status %d, stderr %q; want 2 and a line matching %s", i, test.name, r.code, r.stderr, test.want)
		}
		if b, err := os.ReadFile(data); err != nil || !bytes.Equal(b, iris) {
			t.Fatalf("%d: %s: the training data changed (err %v)", i, test.name, err)
		}
		for _, path := range []string{model, ck, plot} {
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%d: %s: %s was written", i, test.name, path)
				os.Remove(path)
			}
		}
	}

	// -resume may be -checkpoint: the run continues and saves to it.
	mustRun(t, "", append(slices.Clone(base), "-o", model, "-checkpoint", ck, "-checkpoint-every", "1")...)
	mustRun(t, "", "train", "-data", data, "-quiet", "-epochs", "4", "-o", model, "-checkpoint", ck, "-checkpoint-every", "1", "-resume", ck)
	b, err := os.ReadFile(ck)
	if err != nil || !bytes.Contains(b, []byte(`"epoch": 4`)) && !bytes.Contains(b, []byte(`"epoch":4`)) {
		t.Errorf("resuming from the checkpoint file and saving to it: the checkpoint is not of epoch 4 (err %v)", err)
	}
}

// TestSingleOutputClassifier predicts and evaluates with a model whose
// single sigmoid output p stands for two classes: the class is the second
// where p ≥ 0.5, as Network.Classify decides, and -proba writes 1−p, p.
func TestSingleOutputClassifier(t *testing.T) {
	dir := t.TempDir()
	// p = sigmoid(x): 0.5 exactly at x = 0.
	model := filepath.Join(dir, "sig.json")
	if err := os.WriteFile(model, []byte(`{"format":"github.com/neuralgo/nn model","version":1,"sizes":[1,1],"activations":["sigmoid"],"bias":true,"loss":"binary-cross-entropy","weights":[[1]],"biases":[[0]],"features":["x"],"target":"t","classes":["no","yes"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, "x\n-1\n0\n2\n", "predict", "-model", model)
	if got, want := lines(r.stdout), []string{"no", "yes", "yes"}; !slices.Equal(got, want) {
		t.Errorf("predict = %q, want %q (p = 0.5 is the second class)", got, want)
	}
	r = mustRun(t, "x\n-1\n0\n2\n", "predict", "-model", model, "-proba")
	// 1−σ(x) and σ(x), each in the shortest form that reads back as the
	// same float64: σ(−1) = 0.268941421369995120…, σ(2) = 0.880797077977882444….
	if got, want := lines(r.stdout), []string{"no,yes", "0.7310585786300049,0.2689414213699951", "0.5,0.5", "0.11920292202211769,0.8807970779778823"}; !slices.Equal(got, want) {
		t.Errorf("predict -proba = %q, want %q", got, want)
	}
	data := filepath.Join(dir, "s.csv")
	if err := os.WriteFile(data, []byte("x,t\n-1,no\n0,yes\n2,yes\n-3,yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, "", "eval", "-model", model, "-data", data, "-json")
	var res struct {
		Accuracy  float64
		Correct   int
		LogLoss   *float64 `json:"log_loss"`
		Confusion [][]int
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, r.stdout)
	}
	// log loss: −(log(1−σ(−1)) + log σ(0) + log σ(2) + log σ(−3))/4.
	wantLoss := -(math.Log(1-sigmoid(-1)) + math.Log(sigmoid(0)) + math.Log(sigmoid(2)) + math.Log(sigmoid(-3))) / 4
	if res.Accuracy != 0.75 || res.Correct != 3 || res.LogLoss == nil || math.Abs(*res.LogLoss-wantLoss) > 1e-9 ||
		!slices.EqualFunc(res.Confusion, [][]int{{1, 0}, {1, 2}}, slices.Equal) {
		t.Errorf("eval -json = %s\nwant accuracy 0.75, 3 correct, log loss %v, confusion [[1 0] [1 2]]", r.stdout, wantLoss)
	}
	r = mustRun(t, "", "eval", "-model", model, "-data", data)
	if !strings.Contains(r.stdout, "accuracy  0.7500 (3 of 4)\nlog loss  ") {
		t.Errorf("eval printed no accuracy of 3 of 4 and log loss:\n%s", r.stdout)
	}

	// A single tanh output: class 1 from 0 up, and no probabilities.
	tanh := filepath.Join(dir, "tanh.json")
	if err := os.WriteFile(tanh, []byte(`{"format":"github.com/neuralgo/nn model","version":1,"sizes":[1,1],"activations":["tanh"],"bias":true,"loss":"squared-error","weights":[[1]],"biases":[[0]],"features":["x"],"target":"t","classes":["no","yes"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, "x\n-1\n0\n0.3\n", "predict", "-model", tanh)
	if got, want := lines(r.stdout), []string{"no", "yes", "yes"}; !slices.Equal(got, want) {
		t.Errorf("predict with a tanh output = %q, want %q (0 is the second class)", got, want)
	}
	r = runNN(t, "x\n1\n", "predict", "-model", tanh, "-proba")
	if r.code != 2 || r.stdout != "" || !regexp.MustCompile(`^nn predict: -proba with .*tanh\.json: probabilities need a softmax output, or a single sigmoid one; the single output of this model is tanh`).MatchString(r.stderr) {
		t.Errorf("predict -proba with a tanh output: status %d, stdout %q, stderr %q; want 2, nothing and a usage error", r.code, r.stdout, r.stderr)
	}
	r = mustRun(t, "", "eval", "-model", tanh, "-data", data, "-json")
	if strings.Contains(r.stdout, "log_loss") || !strings.Contains(r.stdout, `"correct": 3`) {
		t.Errorf("eval -json with a tanh output, want 3 correct and no log loss:\n%s", r.stdout)
	}
	r = mustRun(t, "", "eval", "-model", tanh, "-data", data)
	if strings.Contains(r.stdout, "log loss") || !strings.Contains(r.stdout, "accuracy  0.7500 (3 of 4)\n\n") {
		t.Errorf("eval with a tanh output, want 3 of 4 and no log loss:\n%s", r.stdout)
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// TestBOM reads files that start with a UTF-8 byte order mark, as Excel
// writes them: the mark is not part of the first column's name, and no
// row is lost.
func TestBOM(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(irisPath)
	if err != nil {
		t.Fatal(err)
	}
	const bom = "\ufeff"
	data := filepath.Join(dir, "bom.csv")
	if err := os.WriteFile(data, append([]byte(bom), b...), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.json")
	mustRun(t, "", "train", "-data", data, "-target", "species", "-o", model, "-quiet", "-epochs", "20")
	m, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(m, []byte(`"features": ["sepal_length",`)) && !bytes.Contains(m, []byte(`"features":["sepal_length",`)) {
		t.Errorf("the model's features do not start with \"sepal_length\":\n%s", m)
	}

	// predict: a header, and rows of features only, each after a mark.
	plain := lines(mustRun(t, "", "predict", "-model", model, "-data", irisPath).stdout)
	if got := lines(mustRun(t, "", "predict", "-model", model, "-data", data).stdout); !slices.Equal(got, plain) {
		t.Errorf("predict on the file with a byte order mark gave %d lines differing from the %d without", len(got), len(plain))
	}
	rows := strings.Join(irisFeatureRows(t), "\n") + "\n"
	if got := lines(mustRun(t, bom+rows, "predict", "-model", model).stdout); !slices.Equal(got, plain) {
		t.Errorf("predict of rows after a byte order mark gave %d lines differing from the %d without", len(got), len(plain))
	}
	// A quoted first field after the mark.
	if got := lines(mustRun(t, bom+`"sepal_length",sepal_width,petal_length,petal_width`+"\n"+rows, "predict", "-model", model).stdout); !slices.Equal(got, plain) {
		t.Errorf("predict of a quoted header after a byte order mark gave %d lines differing from the %d without", len(got), len(plain))
	}
	r := mustRun(t, "", "eval", "-model", model, "-data", data)
	if !strings.Contains(r.stdout, "150 rows") {
		t.Errorf("eval of the file with a byte order mark did not read 150 rows:\n%s", r.stdout)
	}
}
