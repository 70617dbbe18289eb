// Package beamtest holds what the tests of package nnbeam and of the
// command nn-beam share: the data of the core module, a small classifier
// of the iris rows, the nn command whose predictions are their
// reference, and networks whose weights overflow for chosen rows.
package beamtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// root returns the directory of the core module, github.com/neuralgo/nn,
// three levels above this file's.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// Testdata returns the path of the file name of the core module's
// testdata directory.
func Testdata(name string) string {
	return filepath.Join(root(), "testdata", name)
}

// IrisRows returns the header and the data rows of the iris file.
func IrisRows(t testing.TB) (header string, rows []string) {
	t.Helper()
	b, err := os.ReadFile(Testdata("iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[0], lines[1:]
}

// IrisModel trains a small classifier of the iris species, saves it in
// dir as iris.json, and returns its path and the model.
func IrisModel(t testing.TB, dir string) (string, *nn.Model) {
	t.Helper()
	d, err := nn.LoadCSV(Testdata("iris.csv"), &nn.CSVOptions{Target: "species", Classify: true})
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

// WriteFile writes text to the file path, making its directory if need
// be.
func WriteFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// BuildNN builds the nn command of the core module into the directory
// dir and returns its path.
func BuildNN(dir string) (string, error) {
	path := filepath.Join(dir, "nn")
	cmd := exec.Command("go", "build", "-o", path, "./cmd/nn")
	cmd.Dir = root()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/nn: %v\n%s", err, out)
	}
	return path, nil
}

// Predict runs "nn predict" of the command nn (see BuildNN) with the
// model file on the file data, and returns the lines it writes.
func Predict(t testing.TB, nnPath, model, data string) []string {
	t.Helper()
	out, err := exec.Command(nnPath, "predict", "-model", model, "-data", data).Output()
	if err != nil {
		t.Fatalf("nn predict: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// Reference returns the predictions of the model m, saved in the file
// model, for the rows of the CSV file data, which starts with a header:
// the lines that "nn predict" of the command nn writes, and the outputs
// of Model.Predict. They are what Score and nn-beam must give, bit for
// bit. It fails the test unless there is a line per row.
func Reference(t testing.TB, nnPath, model string, m *nn.Model, data string) (lines []string, outputs *mat.Dense) {
	t.Helper()
	lines = Predict(t, nnPath, model, data)
	d, err := nn.LoadCSV(data, m.CSVOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := d.X.Dims(); len(lines) != r {
		t.Fatalf("nn predict gave %d lines for %d rows", len(lines), r)
	}
	outputs, err = m.Predict(d.X)
	if err != nil {
		t.Fatal(err)
	}
	return lines, outputs
}

// Overflow sets the weights of net, of three hidden units, so that its
// weights overflow for the rows whose input big is large: the hidden
// units h1 and h2 are both 1e300·x[big], h3 is x[other] + offset, and the
// output unit takes 1e-300·h1 − 1e-300·h2 + h3, about h3 while
// |x[big]| < 1.8e8, and ∞ − ∞ = NaN beyond, whatever its activation. It
// panics unless net has a single hidden layer of three units and a single
// output.
func Overflow(net *nn.Network, big, other int, offset float64) {
	if s := net.Sizes(); len(s) != 3 || s[1] != 3 || s[2] != 1 {
		panic(fmt.Sprintf("beamtest: Overflow of a network of sizes %v", s))
	}
	clear(net.Params())
	w1, w2 := net.Weights(0), net.Weights(1)
	w1.Set(big, 0, 1e300)
	w1.Set(big, 1, 1e300)
	w1.Set(other, 2, 1)
	net.Bias(0)[2] = offset
	w2.Set(0, 0, 1e-300)
	w2.Set(1, 0, -1e-300)
	w2.Set(2, 0, 1)
}
