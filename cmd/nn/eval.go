package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

const evalSynopsis = `Usage: nn eval -model MODEL -data FILE [-json]

Eval predicts the rows of the labelled CSV file FILE with the model and
compares the predictions with the file's target columns (found by the
names they had in training, or their positions for a file without a
header). The feature columns are found by name, in any order, among other
columns, as nn predict finds them; a category of a text column that the
model has not seen is encoded as all zeros and counted.

For a classification model it prints the accuracy, the log loss (when the
outputs are probabilities: not for a single tanh or identity output), the
precision, recall and F1 score of each class, their macro averages (over
the classes that occur in the file or the predictions, as scikit-learn's)
and weighted averages, and the confusion matrix (in the tables for up to
100 classes); for a regression model the mean squared error, its root,
the mean absolute error and R² of each target, and their means for
several targets. With -json it prints the same figures as one JSON object
(a value that is not a number, such as R² of a single row, is null). A
row whose outputs are not finite numbers is an error: no figure is
computed from one.

Example:

	nn eval -model iris.json -data testdata/iris.csv
`

func runEval(e *env, args []string) error {
	var f rowFlags
	var asJSON bool
	fs := newFlagSet("eval")
	f.register(fs, "the labelled CSV `file` to score the model on (required)")
	fs.BoolVar(&asJSON, "json", false, "print a JSON object instead of tables")
	budget := memoryFlag(fs)
	if err := parseFlags(e, fs, "eval", evalSynopsis, args); err != nil {
		return err
	}
	setMemoryBudget(*budget)
	holdData()
	if err := required("eval", "model", f.model, "the model file to score"); err != nil {
		return err
	}
	if err := required("eval", "data", f.data, "the labelled CSV file to score it on"); err != nil {
		return err
	}
	m, s, err := loadModel(f.model)
	if err != nil {
		return err
	}
	m.Network.SetPrecision(f.precision)
	// The model's options find its features, target and classes by name.
	o := m.CSVOptions()
	o.Header = f.header
	d, err := readCSVFile(context.Background(), e, f.data, o, false)
	if err != nil {
		return err
	}
	if k := float64(len(s.Classes())); k > 0 {
		// The confusion matrix as counts, as ints and in the report; the
		// probabilities of the rows.
		rows, _ := d.X.Dims()
		need := 4*k*k*8 + float64(rows)*k*8
		if err := nn.CheckMemoryBudget(need, fmt.Sprintf("scoring %d classes", len(s.Classes()))); err != nil {
			return fileErrorf(f.model, "%w", err)
		}
	}
	ev, err := m.Evaluate(d, false)
	if err != nil {
		return fileErrorf(f.data, "%s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	res := newEvalResult(f.model, f.data, ev)
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.print(e.stdout)
	return nil
}

// evalResult is what nn eval reports, in the form of its JSON output. Its
// figures are those of the one report of nn.Model.Evaluate, which the
// text tables print too.
type evalResult struct {
	Model string `json:"model"`
	Data  string `json:"data"`
	Task  string `json:"task"`
	Rows  int    `json:"rows"`

	// Classification.
	Accuracy *jsonNumber `json:"accuracy,omitempty"`
	Correct  *int        `json:"correct,omitempty"`
	LogLoss  *jsonNumber `json:"log_loss,omitempty"`
	// Macro averages: the unweighted means over the classes that occur
	// in the truth or the predictions, as scikit-learn's.
	MacroPrecision *jsonNumber `json:"macro_precision,omitempty"`
	MacroRecall    *jsonNumber `json:"macro_recall,omitempty"`
	MacroF1        *jsonNumber `json:"macro_f1,omitempty"`
	// Weighted averages: the means weighted by the classes' support.
	WeightedPrecision *jsonNumber   `json:"weighted_precision,omitempty"`
	WeightedRecall    *jsonNumber   `json:"weighted_recall,omitempty"`
	WeightedF1        *jsonNumber   `json:"weighted_f1,omitempty"`
	Classes           []classResult `json:"classes,omitempty"`
	Confusion         [][]int       `json:"confusion,omitempty"`

	// Unknown counts the values of categorical columns not among the
	// model's categories, encoded as all zeros.
	Unknown *int `json:"unknown_categories,omitempty"`

	// Regression: the target names separated by commas, the means of the
	// scores over the targets, and each target's scores.
	Target  string         `json:"target,omitempty"`
	MSE     *jsonNumber    `json:"mse,omitempty"`
	RMSE    *jsonNumber    `json:"rmse,omitempty"`
	MAE     *jsonNumber    `json:"mae,omitempty"`
	R2      *jsonNumber    `json:"r2,omitempty"`
	Targets []targetResult `json:"targets,omitempty"`

	classification *nn.ClassificationReport
	regression     *nn.RegressionReport
}

// classResult is the scores of one class in the JSON output.
type classResult struct {
	Class     string     `json:"class"`
	Precision jsonNumber `json:"precision"`
	Recall    jsonNumber `json:"recall"`
	F1        jsonNumber `json:"f1"`
	Support   int        `json:"support"`
}

// targetResult is the scores of one target of a regression in the JSON
// output.
type targetResult struct {
	Target string     `json:"target"`
	MSE    jsonNumber `json:"mse"`
	RMSE   jsonNumber `json:"rmse"`
	MAE    jsonNumber `json:"mae"`
	R2     jsonNumber `json:"r2"`
}

// jsonNumber is a float64 written as null when it is NaN or infinite,
// which JSON cannot hold.
type jsonNumber float64

func (v jsonNumber) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func num(v float64) *jsonNumber { j := jsonNumber(v); return &j }

// newEvalResult returns the result of the evaluation ev of the model file
// model on the data file data.
func newEvalResult(model, data string, ev *nn.Evaluation) *evalResult {
	res := &evalResult{Model: model, Data: data, Rows: ev.Rows}
	if ev.Unknown > 0 {
		res.Unknown = &ev.Unknown
	}
	if r := ev.Regression; r != nil {
		res.Task, res.regression = "regress", r
		res.Target = strings.Join(r.Targets, ", ")
		res.MSE, res.RMSE, res.MAE, res.R2 = num(r.Mean.MSE), num(r.Mean.RMSE), num(r.Mean.MAE), num(r.Mean.R2)
		for j, t := range r.Targets {
			s := r.PerTarget[j]
			res.Targets = append(res.Targets, targetResult{t, jsonNumber(s.MSE), jsonNumber(s.RMSE), jsonNumber(s.MAE), jsonNumber(s.R2)})
		}
		return res
	}
	r := ev.Classification
	res.Task, res.classification = "classify", r
	correct := 0
	for i := range r.Classes {
		correct += int(r.Confusion.Counts.At(i, i))
	}
	res.Accuracy, res.Correct = num(r.Accuracy()), &correct
	if !math.IsNaN(r.LogLoss) {
		res.LogLoss = num(r.LogLoss)
	}
	res.MacroPrecision, res.MacroRecall, res.MacroF1 = num(r.Macro.Precision), num(r.Macro.Recall), num(r.Macro.F1)
	res.WeightedPrecision, res.WeightedRecall, res.WeightedF1 = num(r.Weighted.Precision), num(r.Weighted.Recall), num(r.Weighted.F1)
	for i, c := range r.Classes {
		s := r.PerClass[i]
		res.Classes = append(res.Classes, classResult{c, jsonNumber(s.Precision), jsonNumber(s.Recall), jsonNumber(s.F1), s.Support})
		counts := make([]int, len(r.Classes))
		for j := range counts {
			counts[j] = int(r.Confusion.Counts.At(i, j))
		}
		res.Confusion = append(res.Confusion, counts)
	}
	return res
}

// print writes r as text tables.
func (r *evalResult) print(w io.Writer) {
	if rep := r.regression; rep != nil {
		fmt.Fprintf(w, "%s: %d rows, regression of %s\n", r.Data, r.Rows, excerpt.Quotes(rep.Targets))
		if r.Unknown != nil {
			fmt.Fprintf(w, "unknown categories  %d (encoded as all zeros)\n", *r.Unknown)
		}
		fmt.Fprintln(w)
		fmt.Fprint(w, rep)
		return
	}
	rep := r.classification
	fmt.Fprintf(w, "%s: %d rows, %d classes\n\n", r.Data, r.Rows, len(rep.Classes))
	fmt.Fprintf(w, "accuracy  %.4f (%d of %d)\n", rep.Accuracy(), *r.Correct, r.Rows)
	if r.LogLoss != nil {
		fmt.Fprintf(w, "log loss  %.4f\n", rep.LogLoss)
	}
	if r.Unknown != nil {
		fmt.Fprintf(w, "unknown categories  %d (encoded as all zeros)\n", *r.Unknown)
	}
	fmt.Fprintln(w)
	if len(rep.Classes) <= maxConfusionTable {
		fmt.Fprint(w, rep)
		return
	}
	// Too many classes for the report's confusion matrix: its scores
	// alone.
	score := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf("%.4f", v)
	}
	row := func(name string, s nn.ClassScore) []string {
		return []string{name, score(s.Precision), score(s.Recall), score(s.F1), strconv.Itoa(s.Support)}
	}
	table := [][]string{{"class", "precision", "recall", "F1", "support"}}
	for i, c := range rep.Classes {
		table = append(table, row(c, rep.PerClass[i]))
	}
	table = append(table, row("macro avg", rep.Macro), row("weighted avg", rep.Weighted))
	writeTable(w, table)
	fmt.Fprintf(w, "\nconfusion matrix of %d classes left out (nn eval -json writes it)\n", len(rep.Classes))
}

// maxConfusionTable is the number of classes above which nn eval leaves
// the confusion matrix out of its tables: a table of more would be too wide
// to read.
const maxConfusionTable = 100

// writeTable writes the rows of table as aligned columns two spaces apart,
// the first column aligned left and the others right.
func writeTable(w io.Writer, table [][]string) {
	var width []int
	for _, row := range table {
		for j, cell := range row {
			if j == len(width) {
				width = append(width, 0)
			}
			width[j] = max(width[j], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	for _, row := range table {
		b.Reset()
		for j, cell := range row {
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(cell))
			if j == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
