package nnplot_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/nnplot"
)

// report returns a made-up run of 60 epochs whose training loss falls from
// 1 to about 1e-3 and whose validation loss bottoms out at epoch 40, with
// a NaN and an infinity that the plot must skip.
func report() *nn.Report {
	r := &nn.Report{BestEpoch: 40, Stop: nn.NoImprovement}
	for e := 1; e <= 60; e++ {
		x := float64(e)
		r.History = append(r.History, nn.Epoch{
			Epoch:       e,
			Loss:        math.Exp(-x / 9),
			ValLoss:     math.Exp(-x/12) + 1e-4*(x-40)*(x-40),
			ValAccuracy: math.NaN(),
		})
	}
	r.History[10].Loss = math.NaN()
	r.History[11].ValLoss = math.Inf(1)
	return r
}

func TestLossCurve(t *testing.T) {
	dir := t.TempDir()
	noVal := report()
	for i := range noVal.History {
		noVal.History[i].ValLoss = math.NaN()
	}
	noVal.BestEpoch = 60
	for i, test := range []struct {
		name   string
		report *nn.Report
		magic  []byte
	}{
		{"loss.png", report(), []byte("\x89PNG\r\n\x1a\n")},
		{"LOSS.PNG", report(), []byte("\x89PNG\r\n\x1a\n")},
		{"loss.svg", report(), []byte("<?xml")},
		{"train-only.svg", noVal, []byte("<?xml")},
	} {
		path := filepath.Join(dir, test.name)
		if err := nnplot.LossCurve(test.report, path); err != nil {
			t.Fatalf("%d: LossCurve(%s): %v", i, test.name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, test.magic) {
			t.Errorf("%d: %s starts with %q, want %q", i, test.name, b[:min(len(b), 16)], test.magic)
		}
		// A figure with axes, text and curves takes over 8 kB in either
		// format; an empty plot.New() saved at the same size takes about
		// 3.5 kB (measured with gonum/plot v0.17.0).
		if len(b) < 7000 {
			t.Errorf("%d: %s has %d bytes, want at least 7000", i, test.name, len(b))
		}
		if bytes.HasPrefix(test.magic, []byte("<?xml")) && !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%d: %s has no <svg element", i, test.name)
		}
	}
}

func TestLossCurveErrors(t *testing.T) {
	dir := t.TempDir()
	allNaN := &nn.Report{History: []nn.Epoch{{Epoch: 1, Loss: math.NaN(), ValLoss: math.NaN()}}}
	for i, test := range []struct {
		name   string
		report *nn.Report
		want   error
	}{
		{"loss.gif", report(), nnplot.ErrFormat},
		{"loss", report(), nnplot.ErrFormat},
		{"loss.png", &nn.Report{}, nnplot.ErrNoData},
		{"loss.svg", allNaN, nnplot.ErrNoData},
	} {
		path := filepath.Join(dir, test.name)
		err := nnplot.LossCurve(test.report, path)
		if !errors.Is(err, test.want) {
			t.Errorf("%d: LossCurve(%s) = %v, want an error wrapping %v", i, test.name, err, test.want)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%d: LossCurve(%s) failed but created the file (stat: %v)", i, test.name, err)
		}
	}
}

func TestLossCurveTo(t *testing.T) {
	var b bytes.Buffer
	if err := nnplot.LossCurveTo(&b, "svg", report()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte("<svg")) {
		t.Errorf("LossCurveTo(svg) wrote no <svg element")
	}
	b.Reset()
	if err := nnplot.LossCurveTo(&b, "pdf", report()); !errors.Is(err, nnplot.ErrFormat) || b.Len() != 0 {
		t.Errorf("LossCurveTo(pdf) = %v after writing %d bytes, want ErrFormat and nothing written", err, b.Len())
	}
}

// TestLossCurveAtomic checks that LossCurve replaces a file whole, through
// a temporary file that a failed write removes, so that a failure never
// leaves a partial picture or a temporary file behind.
func TestLossCurveAtomic(t *testing.T) {
	dir := t.TempDir()
	noTemp := func(dir string) {
		t.Helper()
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("LossCurve left %s behind", e.Name())
			}
		}
	}

	// An existing file is replaced by the whole picture, and keeps its
	// mode.
	path := filepath.Join(dir, "loss.png")
	if err := os.WriteFile(path, []byte("an old plot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := nnplot.LossCurve(report(), path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("the replaced file starts with %q, want a PNG", b[:min(len(b), 16)])
	}
	if fi, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("the replaced file has mode %v, want its own 0600", fi.Mode())
	}
	noTemp(dir)

	// The rename fails onto a directory: an error, the directory as it was
	// and no temporary file left.
	busy := filepath.Join(dir, "busy.svg")
	if err := os.MkdirAll(filepath.Join(busy, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := nnplot.LossCurve(report(), busy); err == nil {
		t.Errorf("LossCurve onto a directory succeeded")
	}
	if fi, err := os.Stat(busy); err != nil || !fi.IsDir() {
		t.Errorf("LossCurve onto a directory replaced it (stat: %v, %v)", fi, err)
	}
	noTemp(dir)

	// The temporary file cannot be created in a read-only directory: an
	// error, and the existing plot as it was.
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Log("skipping the read-only directory: permissions do not apply")
		return
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(ro, "loss.svg")
	if err := os.WriteFile(old, []byte("an old plot"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o755)
	if err := nnplot.LossCurve(report(), old); err == nil {
		t.Errorf("LossCurve into a read-only directory succeeded")
	}
	if b, err := os.ReadFile(old); err != nil || string(b) != "an old plot" {
		t.Errorf("a failed LossCurve changed the existing plot to %q (err %v)", b, err)
	}
	noTemp(ro)
}

// Errors name the package, and LossCurve's the file after it.
func TestErrorMessages(t *testing.T) {
	var b bytes.Buffer
	if err := nnplot.LossCurveTo(&b, "gif", report()); err == nil || !strings.HasPrefix(err.Error(), "nnplot: unknown plot format") {
		t.Errorf("LossCurveTo(gif): got %v, want an error starting %q", err, "nnplot: unknown plot format")
	}
	path := filepath.Join(t.TempDir(), "loss.gif")
	if err := nnplot.LossCurve(report(), path); err == nil || !strings.HasPrefix(err.Error(), "nnplot: "+path+": unknown plot format") {
		t.Errorf("LossCurve(%s): got %v, want an error starting with the package and the path", path, err)
	}
}

// TestLossCurveOddLosses draws plots in both formats, on linear and
// log axes, of reports whose losses an axis cannot show as they are: zero
// and negative losses on a log axis, a constant loss, a loss constant but
// for its last bits, a single epoch, no positive loss at all.
func TestLossCurveOddLosses(t *testing.T) {
	dir := t.TempDir()
	edit := func(f func(r *nn.Report)) *nn.Report {
		r := report()
		f(r)
		return r
	}
	flat := func(loss float64) func(r *nn.Report) {
		return func(r *nn.Report) {
			for i := range r.History {
				r.History[i].Loss, r.History[i].ValLoss = loss, loss
			}
		}
	}
	for i, test := range []struct {
		name   string
		report *nn.Report
	}{
		{"falling", report()},
		// Less than a decade: the automatic axis is linear.
		{"narrow", edit(func(r *nn.Report) {
			for i := range r.History {
				r.History[i].Loss = 0.3 + 2*math.Exp(-float64(i)/3)
				r.History[i].ValLoss = r.History[i].Loss + 0.05
			}
		})},
		{"zero loss", edit(func(r *nn.Report) { r.History[59].Loss, r.History[58].Loss = 0, 0 })},
		{"negative loss", edit(func(r *nn.Report) { r.History[30].ValLoss = -1 })},
		{"constant", edit(flat(0.5))},
		{"last bits", edit(func(r *nn.Report) {
			for i := range r.History {
				r.History[i].Loss = math.Log(2)
				if i%2 == 1 {
					r.History[i].Loss = math.Nextafter(math.Log(2), 1)
				}
				r.History[i].ValLoss = math.NaN()
			}
		})},
		{"all zero", edit(flat(0))},
		{"one epoch", &nn.Report{History: []nn.Epoch{{Epoch: 1, Loss: 0.7, ValLoss: math.NaN()}}}},
		{"one zero epoch", &nn.Report{History: []nn.Epoch{{Epoch: 1, Loss: 0, ValLoss: 0}}}},
	} {
		for _, logY := range []bool{false, true} {
			for _, ext := range []string{".png", ".svg"} {
				path := filepath.Join(dir, strings.ReplaceAll(test.name, " ", "-")+ext)
				if err := nnplot.LossCurveWith(test.report, path, &nnplot.LossCurveOptions{LogY: logY}); err != nil {
					t.Errorf("%d: %s: LossCurveWith(%s, LogY %t): %v", i, test.name, ext, logY, err)
					continue
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				// Over the 3.5 kB of an empty figure (see TestLossCurve).
				if len(b) < 5000 {
					t.Errorf("%d: %s: %s, LogY %t, has %d bytes, want a figure of at least 5000", i, test.name, ext, logY, len(b))
				}
			}
		}
	}
}

// TestLossCurveWithOptions checks that nil and zero options draw what
// LossCurve draws, and that LogY changes the picture of losses that the
// default draws on a linear axis.
func TestLossCurveWithOptions(t *testing.T) {
	dir := t.TempDir()
	narrow := report()
	for i := range narrow.History {
		narrow.History[i].Loss = 0.3 + 2*math.Exp(-float64(i)/3)
	}
	draw := func(name string, opts *nnplot.LossCurveOptions) string {
		t.Helper()
		path := filepath.Join(dir, name)
		var err error
		if name == "plain.svg" {
			err = nnplot.LossCurve(narrow, path)
		} else {
			err = nnplot.LossCurveWith(narrow, path, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plain := draw("plain.svg", nil)
	if got := draw("nil.svg", nil); got != plain {
		t.Errorf("LossCurveWith(nil) draws another picture than LossCurve")
	}
	if got := draw("zero.svg", &nnplot.LossCurveOptions{}); got != plain {
		t.Errorf("LossCurveWith(&LossCurveOptions{}) draws another picture than LossCurve")
	}
	logY := draw("log.svg", &nnplot.LossCurveOptions{LogY: true})
	if logY == plain || !strings.Contains(logY, "log scale") || strings.Contains(plain, "log scale") {
		t.Errorf("LogY: the log-scale picture is the same or does not say it is one")
	}
}
