package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/neuralgo/nn"
)

const predictSynopsis = `Usage: nn predict -model MODEL [-data FILE] [flags]

Predict reads CSV rows from FILE, or from standard input without -data (or
with -data -), and writes one prediction per row to standard output as CSV:
the class label for a classification model (with -proba, a header row of
the class names and one probability per class instead); the predicted
number for a regression model, or for a regression on several targets a
header row of the target names and one number per target.

The rows may hold the model's feature columns only, in the order of
training, or any columns at all under a header row that names the
features, in any order (a target column, for example, is ignored). -header
auto takes the first row for a header when a field other than the target
is not a number, as train and eval do, and a header must not name a column
twice. A leading UTF-8 byte order mark is ignored. A category of a text
column that the model has not seen is encoded as all zeros and counted on
standard error; -strict makes it an error.

A classification model predicts the class whose output is largest, or, for
a model with a single output, the second class where the output is at least
0.5 (0 for a tanh or identity output), as nn.Network.Classify does; -proba
writes 1−p and p for a single sigmoid output p. Numbers are written in the
shortest form that reads back as the same float64, and fields are quoted
as CSV needs, as everywhere in the module (nn.Model.PredictCSV writes
them).

Rows are read, scaled and predicted a block at a time, so files larger
than memory stream through in constant space. A row with the wrong number
of fields, a feature that is not a finite number, or outputs that are not
finite stop the command with an error naming its line (and column); the
predictions of the rows before it have been written by then.

Examples:

	nn predict -model iris.json -data testdata/iris.csv
	tail -n 5 testdata/iris.csv | cut -d, -f1-4 | nn predict -model iris.json -proba
`

func runPredict(e *env, args []string) error {
	var f rowFlags
	var proba, strict bool
	fs := newFlagSet("predict")
	f.register(fs, "the CSV `file` to predict (default standard input)")
	fs.BoolVar(&proba, "proba", false, "write the probability of every class instead of the label")
	fs.BoolVar(&strict, "strict", false, "make a category the model has not seen an error, instead of encoding it as all zeros")
	budget := memoryFlag(fs)
	if err := parseFlags(e, fs, "predict", predictSynopsis, args); err != nil {
		return err
	}
	setMemoryBudget(*budget)
	if err := required("predict", "model", f.model, "the model file to predict with"); err != nil {
		return err
	}
	m, s, err := loadModel(f.model)
	if err != nil {
		return err
	}
	m.Network.SetPrecision(f.precision)
	out := nn.Labels
	if proba {
		out = nn.Probabilities
	}
	// A model that has no probabilities is a mistake of the command line,
	// found before any row is read.
	if _, err := s.Header(out); err != nil {
		return &usageError{cmd: "predict", msg: fmt.Sprintf("-proba with %s: %s", f.model, strings.TrimPrefix(err.Error(), "nn: "))}
	}
	in, name := e.stdin, "<stdin>"
	if f.data != "" && f.data != "-" {
		file, err := os.Open(f.data)
		if err != nil {
			return err
		}
		defer file.Close()
		in, name = file, f.data
	}
	_, unknown, err := m.PredictCSV(e.stdout, in, &nn.PredictOptions{Header: f.header, StrictCategories: strict, Output: out})
	if err != nil {
		return inFile(name, err)
	}
	if unknown > 0 {
		fmt.Fprintf(e.stderr, "nn: %d values of categorical columns were categories the model has not seen, encoded as all zeros (-strict makes them errors)\n", unknown)
	}
	return nil
}

// inFile returns err, an error in reading the rows of the file name, with
// the file named: a *nn.ParseError gets its File. A header without a
// feature of the model is the library's error as it is, which names the
// feature and why the first row was taken for a header: what to fix is the
// file, or the model, rather than -header.
func inFile(name string, err error) error {
	if pe, ok := err.(*nn.ParseError); ok {
		pe.File = name
	}
	return err
}
