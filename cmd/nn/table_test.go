package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/neuralgo/nn"
)

// writeTableCSV writes a table of n rows with a text column, missing values
// and a weight column, whose class follows from the text and a number.
func writeTableCSV(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 3))
	var b strings.Builder
	b.WriteString("x,shape,w,class\n")
	shapes := []string{"circle", "square", "triangle"}
	for range n {
		s := rnd.IntN(3)
		x := rnd.NormFloat64()
		class := "low"
		if (s == 0) != (x > 0.3) {
			class = "high"
		}
		xs := strconv.FormatFloat(x, 'g', 6, 64)
		if rnd.IntN(15) == 0 {
			xs = "NA"
		}
		fmt.Fprintf(&b, "%s,%s,%d,%s\n", xs, shapes[s], 1+rnd.IntN(2), class)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTable(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "table.csv")
	writeTableCSV(t, data, 400, 1)
	model := filepath.Join(dir, "m.json")

	r := mustRun(t, "", "train", "-data", data, "-target", "class", "-weight", "w", "-indicator", "-class-weight", "balanced", "-refit", "-o", model)
	for _, want := range []string{"categories one-hot encoded: shape (3)", "missing values filled in with the mean", "refitted on all rows", "training a 5-32-2 network"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("train's stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	m, err := nn.LoadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Encoding == nil || !m.Encoding.Columns[0].Indicator || len(m.Encoding.Columns[1].Categories) != 3 {
		t.Fatalf("encoding %+v", m.Encoding)
	}
	r = mustRun(t, "", "eval", "-model", model, "-data", data)
	acc := regexp.MustCompile(`(?m)^accuracy +([0-9.]+)`).FindStringSubmatch(r.stdout)
	if acc == nil {
		t.Fatalf("eval:\n%s", r.stdout)
	}
	if a, _ := strconv.ParseFloat(acc[1], 64); a < 0.9 {
		t.Errorf("accuracy %v on the training rows, want at least 0.9", a)
	}

	// Rows for prediction: columns in another order, a missing value, a
	// shape never seen.
	rows := "class,shape,x\n?,circle,1.5\n?,hexagon,NA\n?,square,\n"
	r = mustRun(t, rows, "predict", "-model", model)
	if got := strings.Fields(r.stdout); len(got) != 3 || got[0] != "low" {
		t.Errorf("predictions %q, want 3 with low first", got)
	}
	if !strings.Contains(r.stderr, "1 values of categorical columns were categories the model has not seen") {
		t.Errorf("predict's stderr: %q", r.stderr)
	}
	r = runNN(t, rows, "predict", "-model", model, "-strict")
	if r.code != 1 || !strings.Contains(r.stderr, `<stdin>:3:2: unknown category "hexagon": categories are "circle", "square", "triangle" (column "shape")`) {
		t.Errorf("predict -strict: status %d, stderr %q", r.code, r.stderr)
	}

	// A column of numbers with one text is an error naming it.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,y\n1,x\n2,y\n3,x\nthree,y\n"), 0o644)
	r = runNN(t, "", "train", "-data", bad, "-o", model)
	if r.code != 1 || !strings.Contains(r.stderr, `bad.csv:5:1: not a number: "three" (column "a"), in a column of numbers (3 of its 4 values are); to read the column as categories, name it in -categorical, or to read the value as missing, list it in -missing`) {
		t.Errorf("a text among numbers: status %d, stderr %q", r.code, r.stderr)
	}
	r = mustRun(t, "", "train", "-data", bad, "-categorical", "a", "-val", "0", "-o", model, "-quiet")
	negative := filepath.Join(dir, "neg.csv")
	os.WriteFile(negative, []byte("a,w,y\n1,1,x\n2,-1,y\n"), 0o644)
	r = runNN(t, "", "train", "-data", negative, "-weight", "w", "-o", model)
	if r.code != 1 || !strings.Contains(r.stderr, `neg.csv:3:2: not a number: weight "-1" is negative (column "w", the row weights; want a number ≥ 0)`) {
		t.Errorf("a negative weight: status %d, stderr %q", r.code, r.stderr)
	}
	allMissing := filepath.Join(dir, "allmissing.csv")
	os.WriteFile(allMissing, []byte("a,b,y\nNA,1,x\n,2,y\nNA,3,x\n,4,y\n"), 0o644)
	r = runNN(t, "", "train", "-data", allMissing, "-val", "0", "-o", model)
	if r.code != 1 || !strings.Contains(r.stderr, `allmissing.csv: column "a": every one of its 4 values is missing; drop the column`) {
		t.Errorf("a column with every value missing: status %d, stderr %q", r.code, r.stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-refit", "-val", "0"}, "-refit needs held-out rows"},
		{[]string{"-class-weight", "x=-1"}, `the weight of "x" is "-1"`},
		{[]string{"-class-weight", "purple=2"}, `-class-weight names the class "purple"`},
		{[]string{"-task", "regress", "-target", "class", "-class-weight", "balanced"}, "-class-weight needs -task classify"},
		{[]string{"-target", "x,w"}, "several targets need -task regress"},
	} {
		args := append([]string{"train", "-data", data, "-o", model}, tc.args...)
		r := runNN(t, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: status %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestTune(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "table.csv")
	writeTableCSV(t, data, 200, 2)
	best := filepath.Join(dir, "best.json")
	r := mustRun(t, "", "tune", "-data", data, "-target", "class", "-hidden", "none,8", "-lr", "0.01,0.00001", "-epochs", "30", "-folds", "3", "-o", best)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2+4 || !strings.HasPrefix(lines[2], "1 *") || !strings.Contains(lines[2], "lr=0.01 ") {
		t.Errorf("table:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "refitted on all 200 rows and written to") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if _, err := nn.LoadModel(best); err != nil {
		t.Fatal(err)
	}
	// The same search again gives the same table.
	again := mustRun(t, "", "tune", "-data", data, "-target", "class", "-hidden", "none,8", "-lr", "0.01,0.00001", "-epochs", "30", "-folds", "3", "-o", best)
	if again.stdout != r.stdout {
		t.Errorf("a second search differs:\n%s\n%s", r.stdout, again.stdout)
	}
	one := filepath.Join(dir, "one.csv")
	os.WriteFile(one, []byte("a,y\n1,x\n2,x\n3,x\n4,y\n5,x\n6,y\n"), 0o644)
	r = runNN(t, "", "tune", "-data", one, "-folds", "3", "-o", best)
	if r.code != 1 || !strings.Contains(r.stderr, `class "y" has 2 rows, fewer than the 3 folds`) {
		t.Errorf("a class with too few rows: status %d, stderr %q", r.code, r.stderr)
	}
	r = runNN(t, "", "tune", "-data", data, "-task", "regress", "-target", "x", "-class-weight", "balanced", "-o", best)
	if r.code != 2 || !strings.Contains(r.stderr, "-class-weight needs -task classify") {
		t.Errorf("-class-weight with -task regress: status %d, stderr %q", r.code, r.stderr)
	}
	r = runNN(t, "", "tune", "-data", data, "-activation", "softmax", "-o", best)
	if r.code != 2 || !strings.Contains(r.stderr, "-activation softmax: the hidden layers take") {
		t.Errorf("-activation softmax: status %d, stderr %q", r.code, r.stderr)
	}
}

func TestToolboxFlags(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.json")
	mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-o", model, "-quiet",
		"-hidden", "32,16", "-dropout", "0.2,0.1", "-method", "adamw", "-weight-decay", "0.01",
		"-schedule", "cosine", "-warmup", "5", "-per-step", "-clip", "1", "-monitor", "val_acc", "-activation", "gelu")
	m, err := nn.LoadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	if acts := m.Network.Config().Activations; acts[0] != nn.GELU || acts[1] != nn.GELU {
		t.Errorf("activations %v", acts)
	}
	mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-o", model, "-quiet", "-activation", "leaky-relu", "-leaky-slope", "0.2", "-schedule", "plateau", "-decay", "0.5")
	if m, err = nn.LoadModel(model); err != nil || m.Network.Config().LeakySlope != 0.2 {
		t.Errorf("leaky slope: %v, %v", m, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-weight-decay", "0.1"}, "-weight-decay is AdamW's decay: it needs -method adamw"},
		{[]string{"-schedule", "cosine", "-warmup", "300"}, "-warmup 300 is not shorter than -epochs 200"},
		{[]string{"-clip", "0"}, `invalid value "0" for flag -clip: want a number > 0`},
		{[]string{"-dropout", "1"}, `"1" is not a rate`},
		{[]string{"-dropout", "0.1,0.1"}, "-dropout has 2 rates for 1 hidden layers"},
		{[]string{"-monitor", "val_acc", "-val", "0"}, "-monitor val_acc needs held-out rows"},
		{[]string{"-leaky-slope", "0.1"}, "-leaky-slope needs -activation leaky-relu"},
		{[]string{"-min-lr", "0.001"}, "go with -schedule"},
		{[]string{"-method", "lbfgs", "-dropout", "0.1"}, "-method lbfgs takes no -dropout"},
	} {
		args := append([]string{"train", "-data", irisPath, "-target", "species", "-o", model}, tc.args...)
		r := runNN(t, "", args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: status %d, stderr %q, want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestTuneToolbox(t *testing.T) {
	dir := t.TempDir()
	best := filepath.Join(dir, "best.json")
	mustRun(t, "", "tune", "-data", irisPath, "-target", "species", "-hidden", "8x8,16x4", "-dropout", "0.1,0.1", "-epochs", "10", "-folds", "3", "-o", best, "-quiet")
	mustRun(t, "", "tune", "-data", irisPath, "-target", "species", "-activation", "leaky-relu,relu", "-leaky-slope", "0.2", "-epochs", "10", "-folds", "3", "-o", best, "-quiet")
	r := runNN(t, "", "tune", "-data", irisPath, "-target", "species", "-hidden", "8,8x8", "-dropout", "0.1", "-o", best)
	if r.code != 2 || !strings.Contains(r.stderr, "-dropout has 1 rates for 2 hidden layers") {
		t.Errorf("a candidate with another layer count: status %d, stderr %q", r.code, r.stderr)
	}
	mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-o", best, "-quiet", "-monitor", "val_acc", "-refit", "-schedule", "cosine", "-warmup", "50")
}
