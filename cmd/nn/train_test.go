package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/neuralgo/nn"
)

// TestTrainDefaultsAreTheLibrarys trains with nn train's defaults and with
// the zero nn.Classifier and nn.Regressor (but for the seed, which nn
// train sets to 1) on the same rows: the model files must be the same,
// byte for byte, so that every default of the command (-method, -lr,
// -epochs, -batch, -val, -patience, -hidden, -activation, -scale,
// -impute) is the library's. The banner names the learning rate in use.
func TestTrainDefaultsAreTheLibrarys(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg.csv")
	writeRegression(t, reg, 200, 4)
	for i, test := range []struct {
		data, task, target string
		est                func(ctx context.Context, d *nn.Dataset) (*nn.Model, error)
	}{
		{irisPath, "classify", "species", func(ctx context.Context, d *nn.Dataset) (*nn.Model, error) {
			c := &nn.Classifier{Seed: 1}
			err := c.Fit(ctx, d)
			return c.Model, err
		}},
		{reg, "regress", "y", func(ctx context.Context, d *nn.Dataset) (*nn.Model, error) {
			r := &nn.Regressor{Seed: 1}
			err := r.Fit(ctx, d)
			return r.Model, err
		}},
	} {
		path := filepath.Join(dir, fmt.Sprintf("m%d.json", i))
		r := mustRun(t, "", "train", "-data", test.data, "-task", test.task, "-target", test.target, "-o", path)
		if !strings.Contains(r.stderr, "; adam, lr 0.01, batch 32, up to 200 epochs") {
			t.Errorf("%d: the banner does not name adam's rate 0.01:\n%s", i, r.stderr)
		}
		cli, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f := defaultTrainFlags()
		f.task, f.target = test.task, test.target
		d, err := nn.LoadCSV(test.data, f.csvOptions())
		if err != nil {
			t.Fatal(err)
		}
		m, err := test.est(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		var lib bytes.Buffer
		if err := m.Encode(&lib); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cli, lib.Bytes()) {
			t.Errorf("%d: %s: nn train's model differs from the zero %s's", i, test.task, map[string]string{"classify": "Classifier", "regress": "Regressor"}[test.task])
		}
	}
	// Another method, another default rate.
	r := mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-o", filepath.Join(dir, "sgd.json"), "-method", "sgd", "-epochs", "2")
	if !strings.Contains(r.stderr, "; sgd, lr 0.1, batch 32, up to 2 epochs") {
		t.Errorf("the banner does not name sgd's rate 0.1:\n%s", r.stderr)
	}
}

// writeSeveralTargets writes n rows of a, b and three targets y1 = a + b,
// y2 = a − b and y3 = 2a, with noise.
func writeSeveralTargets(t *testing.T, path string, n int, seed uint64) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 5))
	var b strings.Builder
	b.WriteString("a,b,y1,y2,y3\n")
	for range n {
		a, c := rnd.NormFloat64(), rnd.NormFloat64()
		noise := func() float64 { return 0.05 * rnd.NormFloat64() }
		fmt.Fprintf(&b, "%.4f,%.4f,%.4f,%.4f,%.4f\n", a, c, a+c+noise(), a-c+noise(), 2*a+noise())
	}
	writeFile(t, path, b.String())
}

// TestBanner checks what nn train announces: every target of a
// regression, and a target of numbers read as classes, with the flag that
// reads it as numbers.
func TestBanner(t *testing.T) {
	dir := t.TempDir()
	several := filepath.Join(dir, "several.csv")
	writeSeveralTargets(t, several, 100, 1)
	// A pulse of 9 distinct numbers, as linnerud's, and a 0/1 target.
	pulse, binary := filepath.Join(dir, "pulse.csv"), filepath.Join(dir, "binary.csv")
	var p, bin strings.Builder
	p.WriteString("chins,situps,Pulse\n")
	bin.WriteString("chins,situps,passed\n")
	for i := range 60 {
		fmt.Fprintf(&p, "%d,%d,%d\n", i%17, (i*7)%50, 50+2*(i%9))
		fmt.Fprintf(&bin, "%d,%d,%d\n", i%17, (i*7)%50, i%2)
	}
	writeFile(t, pulse, p.String())
	writeFile(t, binary, bin.String())
	const note = `target "Pulse": 9 distinct numbers, read as classes; -task regress reads them as numbers`
	for i, test := range []struct {
		args []string
		want string
		not  string // what the banner must not say
	}{
		{[]string{"-data", several, "-task", "regress", "-target", "y1,y2,y3"}, `: regression of "y1", "y2", "y3"; adam`, ""},
		{[]string{"-data", several, "-task", "regress", "-target", "y2"}, `: regression of "y2"; adam`, ""},
		{[]string{"-data", pulse}, "\n" + note + "\n", ""},
		{[]string{"-data", pulse, "-task", "classify"}, `: 9 classes of "Pulse"`, note},
		{[]string{"-data", binary}, `: 2 classes of "passed"`, "distinct numbers"},
	} {
		args := append([]string{"train", "-o", filepath.Join(dir, "m.json"), "-epochs", "2", "-val", "0"}, test.args...)
		r := mustRun(t, "", args...)
		if !strings.Contains(r.stderr, test.want) || test.not != "" && strings.Contains(r.stderr, test.not) {
			t.Errorf("%d: nn %s: stderr\n%s\nwant it to hold %q and not %q", i, strings.Join(test.args, " "), r.stderr, test.want, test.not)
		}
	}
}

// TestFlagHelp checks the help of the flags: each default is said once,
// -missing's empty spelling shows, and -method is the one name of the
// training method (-optimizer is no flag).
func TestFlagHelp(t *testing.T) {
	entry := regexp.MustCompile(`(?m)^  -(\S+).*\n((?:    \t.*\n)+)`)
	for _, cmd := range []string{"train", "tune", "eval", "predict", "serve", "export", "import"} {
		r := mustRun(t, "", cmd, "-h")
		for _, m := range entry.FindAllStringSubmatch(r.stdout, -1) {
			if n := strings.Count(m[2], "(default"); n > 1 {
				t.Errorf("nn %s -h: -%s gives its default %d times:\n%s", cmd, m[1], n, m[2])
			}
		}
	}
	r := mustRun(t, "", "train", "-h")
	if !strings.Contains(r.stdout, `(default "",NA,N/A,n/a,#N/A,NaN,nan,-NaN,-nan,NULL,null,None,<NA>)`) {
		t.Errorf("nn train -h does not list the default spellings of -missing:\n%s", r.stdout)
	}
	for _, cmd := range []string{"train", "tune"} {
		if r := mustRun(t, "", cmd, "-h"); !strings.Contains(r.stdout, "  -method method\n") || strings.Contains(r.stdout, "-optimizer") {
			t.Errorf("nn %s -h: want -method and no -optimizer:\n%s", cmd, r.stdout)
		}
		r := runNN(t, "", cmd, "-data", irisPath, "-o", filepath.Join(t.TempDir(), "m.json"), "-optimizer", "adam")
		if r.code != 2 || !strings.Contains(r.stderr, "flag provided but not defined: -optimizer") {
			t.Errorf("nn %s -optimizer adam: status %d, stderr %q; want 2 and an unknown flag", cmd, r.code, r.stderr)
		}
	}

	// -missing reads back what it shows.
	var got []string
	f := listFlag{&got}
	for i, test := range []struct {
		in   string
		want []string
	}{
		{`"",NA, n/a`, []string{"", "NA", "n/a"}},
		{`,NA`, []string{"", "NA"}},
		{`none`, nil},
	} {
		if err := f.Set(test.in); err != nil || !slices.Equal(got, test.want) {
			t.Errorf("%d: Set(%q) = %q, %v; want %q", i, test.in, got, err, test.want)
		}
		if test.want != nil {
			again := []string{"stale"}
			if err := (listFlag{&again}).Set(f.String()); err != nil || !slices.Equal(again, got) {
				t.Errorf("%d: Set(String()) = %q, %v; want %q", i, again, err, got)
			}
		}
	}
}

// nn train refuses, before training, a network whose model file or
// checkpoints nn predict and -resume could not read under the same
// memory budget, and names the flag that raises it.
func TestTrainRefusesUnloadableFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.json")
	for _, args := range [][]string{
		{"-hidden", "2000,2000,2000,2000"},
		{"-hidden", "500,500", "-checkpoint", filepath.Join(dir, "c.json"), "-max-memory", "300MiB"},
	} {
		r := runNN(t, "", append([]string{"train", "-data", irisPath, "-o", out}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "could be larger than") || !strings.Contains(r.stderr, "(-max-memory raises the budget)") || strings.Contains(r.stderr, "epoch") {
			t.Errorf("nn train %s: status %d, stderr %q; want 1 and the limit before any epoch", strings.Join(args, " "), r.code, r.stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("nn train %s left %d files", strings.Join(args, " "), len(entries))
		}
	}
	// Within the limit, the same network trains, saves and loads.
	mustRun(t, "", "train", "-data", irisPath, "-o", out, "-hidden", "500,500", "-epochs", "1", "-max-memory", "300MiB")
	mustRun(t, "", "predict", "-model", out, "-data", irisPath, "-max-memory", "300MiB")
}
