package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

const evalSynopsis = `Usage: nn eval -model MODEL -data FILE [-json]

Eval predicts the rows of the labelled CSV file FILE with the model and
compares the predictions with the file's target column (found by the name
it had in training, or its position for a file without a header).

For a classification model it prints the accuracy, the log loss (when the
outputs are probabilities: not for a single tanh or identity output), the
precision, recall and F1 score of each class and the confusion matrix (in
the tables for up to 100 classes); for a regression model the mean squared
error, its root, the mean absolute error and R². With -json it prints the
same as one JSON object (a value that is not a number, such as R² of a
single row, is null).

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
	if err := required("eval", "model", f.model, "the model file to score"); err != nil {
		return err
	}
	if err := required("eval", "data", f.data, "the labelled CSV file to score it on"); err != nil {
		return err
	}
	model, data, header := f.model, f.data, f.header
	m, err := nn.LoadModel(model)
	if err != nil {
		return err
	}
	classes, err := modelClasses(m, model)
	if err != nil {
		return err
	}
	if sizes := m.Network.Sizes(); classes == nil && sizes[len(sizes)-1] != 1 && len(m.Targets) != sizes[len(sizes)-1] {
		return fileErrorf(model, "the regression model has %d outputs; nn eval scores a single output against the target column", sizes[len(sizes)-1])
	}
	d, err := loadLabelled(m, model, classes, data, header)
	if err != nil {
		return err
	}
	if k := float64(len(classes)); k > 0 {
		// The confusion matrix as counts, as ints and in the report; the
		// probabilities of the rows.
		rows, _ := d.X.Dims()
		need := 4*k*k*8 + float64(rows)*k*8
		if err := nn.CheckMemoryBudget(need, fmt.Sprintf("scoring %d classes", len(classes))); err != nil {
			return fileErrorf(model, "%w", err)
		}
	}
	p, err := predictLabelled(m, d, data)
	if err != nil {
		return err
	}
	var res *evalResult
	if classes != nil {
		res = evalClassifier(d, m.Network, classes, p)
	} else {
		res = evalRegression(d, p)
	}
	res.Model, res.Data = model, data
	if u := unknownCategories(m, d); u > 0 {
		res.Unknown = &u
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	res.print(e.stdout)
	return nil
}

// loadLabelled reads the labelled file path for the model m, read from
// the file model, with the class labels classes (nil for regression). Its
// feature columns are found by the model's names, in any order, and those
// the model does not use are ignored, as by nn predict; the target column
// is found by the name it had in training, or is the last column if the
// model does not name it.
func loadLabelled(m *nn.Model, model string, classes []string, path string, header nn.Header) (*nn.Dataset, error) {
	features, err := modelFeatures(m, model)
	if err != nil {
		return nil, err
	}
	o := m.CSVOptions()
	o.Features, o.Classify, o.Classes, o.Header = features, classes != nil, classes, header
	return nn.LoadCSV(path, o)
}

// unknownCategories returns the number of values of categorical columns of
// d that are not among the model's categories (coded −1).
func unknownCategories(m *nn.Model, d *nn.Dataset) int {
	if m.Encoding == nil {
		return 0
	}
	n := 0
	rows, _ := d.X.Dims()
	for j, c := range m.Encoding.Columns {
		if c.Categories == nil {
			continue
		}
		for i := range rows {
			if d.X.At(i, j) == -1 {
				n++
			}
		}
	}
	return n
}

// predictLabelled returns the outputs of m for the rows of d, read from
// the file path, scaling d.X in place. It returns an error naming the data
// row and the feature if a scaled value is not finite.
func predictLabelled(m *nn.Model, d *nn.Dataset, path string) (*mat.Dense, error) {
	p, err := m.Predict(d.X)
	if err != nil {
		return nil, fileErrorf(path, "%s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	return p, nil
}

// evalResult is what nn eval reports, in the form of its JSON output.
type evalResult struct {
	Model string `json:"model"`
	Data  string `json:"data"`
	Task  string `json:"task"`
	Rows  int    `json:"rows"`

	// Classification.
	Accuracy *jsonNumber `json:"accuracy,omitempty"`
	Correct  *int        `json:"correct,omitempty"`
	LogLoss  *jsonNumber `json:"log_loss,omitempty"`
	// Macro averages: the unweighted means over the classes.
	MacroPrecision *jsonNumber   `json:"macro_precision,omitempty"`
	MacroRecall    *jsonNumber   `json:"macro_recall,omitempty"`
	MacroF1        *jsonNumber   `json:"macro_f1,omitempty"`
	Classes        []classResult `json:"classes,omitempty"`
	Confusion      [][]int       `json:"confusion,omitempty"`

	report *nn.ClassificationReport // the text tables of a classification

	// Unknown counts the values of categorical columns not among the
	// model's categories, encoded as all zeros.
	Unknown *int `json:"unknown_categories,omitempty"`

	// Regression.
	Target string      `json:"target,omitempty"`
	MSE    *jsonNumber `json:"mse,omitempty"`
	RMSE   *jsonNumber `json:"rmse,omitempty"`
	MAE    *jsonNumber `json:"mae,omitempty"`
	R2     *jsonNumber `json:"r2,omitempty"`
}

type classResult struct {
	Class     string     `json:"class"`
	Precision jsonNumber `json:"precision"`
	Recall    jsonNumber `json:"recall"`
	F1        jsonNumber `json:"f1"`
	Support   int        `json:"support"`
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

// evalClassifier scores the outputs p of net, a classifier with the given
// class labels, on the labelled rows d. The classes are decided by
// net.ClassesTo, as nn predict and Network.Classify decide them. The log
// loss is left out for a single output that is not a probability.
func evalClassifier(d *nn.Dataset, net *nn.Network, classes []string, p *mat.Dense) *evalResult {
	rows, _ := p.Dims()
	k := len(classes)
	truth := d.Labels()
	pred := net.ClassesTo(nil, p)
	conf := nn.NewConfusion(truth, pred, k)
	acc := nn.Accuracy(truth, pred)
	correct := int(math.Round(acc * float64(rows)))
	res := &evalResult{
		report:   nn.NewClassificationReport(classes, truth, pred),
		Task:     "classify",
		Rows:     rows,
		Accuracy: num(acc),
		Correct:  &correct,
	}
	if hasProbabilities(net) {
		probs := mat.NewDense(rows, k, nil)
		var pr []float64
		for i := range rows {
			pr = probabilities(pr, p.RawRowView(i))
			probs.SetRow(i, pr)
		}
		res.LogLoss = num(nn.LogLoss(d.Y, probs))
	}
	var mp, mr, mf float64
	for c, name := range classes {
		support := int(floats.Sum(conf.Counts.RawRowView(c)))
		res.Classes = append(res.Classes, classResult{
			Class:     name,
			Precision: jsonNumber(conf.Precision(c)),
			Recall:    jsonNumber(conf.Recall(c)),
			F1:        jsonNumber(conf.F1(c)),
			Support:   support,
		})
		mp += conf.Precision(c)
		mr += conf.Recall(c)
		mf += conf.F1(c)
		counts := make([]int, k)
		for j := range counts {
			counts[j] = int(conf.Counts.At(c, j))
		}
		res.Confusion = append(res.Confusion, counts)
	}
	res.MacroPrecision = num(mp / float64(k))
	res.MacroRecall = num(mr / float64(k))
	res.MacroF1 = num(mf / float64(k))
	return res
}

// targetNames returns the name of the target of d, or of its targets
// separated by commas.
func targetNames(d *nn.Dataset) string {
	if d.Targets != nil {
		return strings.Join(d.Targets, ", ")
	}
	return d.Target
}

func evalRegression(d *nn.Dataset, p *mat.Dense) *evalResult {
	rows, _ := p.Dims()
	mse := nn.MeanSquaredError(d.Y, p)
	return &evalResult{
		Task:   "regress",
		Rows:   rows,
		Target: targetNames(d),
		MSE:    num(mse),
		RMSE:   num(math.Sqrt(mse)),
		MAE:    num(nn.MeanAbsoluteError(d.Y, p)),
		R2:     num(nn.R2(d.Y, p)),
	}
}

// print writes r as text tables.
func (r *evalResult) print(w io.Writer) {
	if r.Task == "regress" {
		fmt.Fprintf(w, "%s: %d rows, regression of %q\n\n", r.Data, r.Rows, r.Target)
		writeTable(w, [][]string{
			{"MSE", fmt.Sprintf("%.4g", float64(*r.MSE))},
			{"RMSE", fmt.Sprintf("%.4g", float64(*r.RMSE))},
			{"MAE", fmt.Sprintf("%.4g", float64(*r.MAE))},
			{"R²", fmt.Sprintf("%.4f", float64(*r.R2))},
		})
		return
	}
	fmt.Fprintf(w, "%s: %d rows, %d classes\n\n", r.Data, r.Rows, len(r.Classes))
	fmt.Fprintf(w, "accuracy  %.4f (%d of %d)\n", float64(*r.Accuracy), *r.Correct, r.Rows)
	if r.LogLoss != nil {
		fmt.Fprintf(w, "log loss  %.4f\n", float64(*r.LogLoss))
	}
	if r.Unknown != nil {
		fmt.Fprintf(w, "unknown categories  %d (encoded as all zeros)\n", *r.Unknown)
	}
	fmt.Fprintln(w)
	if r.report != nil && len(r.Classes) <= maxConfusionTable {
		fmt.Fprint(w, r.report)
		return
	}

	table := [][]string{{"class", "precision", "recall", "F1", "support"}}
	for _, c := range r.Classes {
		table = append(table, []string{c.Class,
			fmt.Sprintf("%.4f", float64(c.Precision)), fmt.Sprintf("%.4f", float64(c.Recall)), fmt.Sprintf("%.4f", float64(c.F1)),
			strconv.Itoa(c.Support)})
	}
	table = append(table, []string{"macro avg",
		fmt.Sprintf("%.4f", float64(*r.MacroPrecision)), fmt.Sprintf("%.4f", float64(*r.MacroRecall)), fmt.Sprintf("%.4f", float64(*r.MacroF1)),
		strconv.Itoa(r.Rows)})
	writeTable(w, table)

	names := make([]string, len(r.Classes))
	for i, c := range r.Classes {
		names[i] = c.Class
	}
	if len(names) > maxConfusionTable {
		fmt.Fprintf(w, "\nconfusion matrix of %d classes left out (nn eval -json writes it)\n", len(names))
		return
	}
	fmt.Fprintf(w, "\nconfusion matrix (rows: true class, columns: predicted class)\n")
	writeConfusion(w, names, func(i, j int) int { return r.Confusion[i][j] })
}

// maxConfusionTable is the number of classes above which nn eval leaves
// the confusion matrix out of its tables: a table of more would be too wide
// to read.
const maxConfusionTable = 100

// writeConfusion writes a confusion matrix with the given class names and
// counts.
func writeConfusion(w io.Writer, classes []string, count func(i, j int) int) {
	table := [][]string{append([]string{""}, classes...)}
	for i, c := range classes {
		row := []string{c}
		for j := range classes {
			row = append(row, strconv.Itoa(count(i, j)))
		}
		table = append(table, row)
	}
	writeTable(w, table)
}

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
