package nn

import (
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"
)

// ClassificationReport scores a classifier's predictions class by class:
// precision, recall, F1 and support of each class, their macro and
// support-weighted averages over the classes that occur in the truth or
// the predictions (as scikit-learn's), and the confusion matrix, labelled. Its
// String method prints it as scikit-learn's classification_report does,
// followed by the confusion matrix.
type ClassificationReport struct {
	// Classes are the class labels, in the order of the class indexes.
	Classes []string
	// Confusion holds the counts of true class i predicted as class j.
	Confusion *Confusion
	// PerClass holds the scores of each class, in the order of Classes.
	PerClass []ClassScore
	// Macro holds the unweighted means of the per-class scores, and
	// Weighted their means weighted by support; their Support is the
	// number of rows.
	Macro, Weighted ClassScore
	// LogLoss is the cross-entropy of the predicted probabilities (see
	// LogLoss), which Model.Evaluate sets for a classifier whose outputs
	// are probabilities; NaN where it is unknown.
	LogLoss float64
}

// ClassScore holds the scores of one class, or their average, as
// Confusion's methods compute them (0 where they are 0/0).
type ClassScore struct {
	Precision, Recall, F1 float64
	// Support is the number of rows of the class.
	Support int
}

// NewClassificationReport returns the report of the predictions yPred of
// the true classes yTrue, indexes into classes. It panics as NewConfusion
// does.
func NewClassificationReport(classes []string, yTrue, yPred []int) *ClassificationReport {
	k := len(classes)
	c := NewConfusion(yTrue, yPred, k)
	r := &ClassificationReport{Classes: classes, Confusion: c, PerClass: make([]ClassScore, k), LogLoss: math.NaN()}
	n := len(yTrue)
	var valid int // classes in the truth or the predictions, for the macro mean
	for i := range k {
		support, predicted := 0, 0
		for j := range k {
			support += int(c.Counts.At(i, j))
			predicted += int(c.Counts.At(j, i))
		}
		s := ClassScore{Precision: c.Precision(i), Recall: c.Recall(i), F1: c.F1(i), Support: support}
		r.PerClass[i] = s
		// As scikit-learn, average over the classes that occur in the
		// truth or the predictions, with 0 for an undefined score.
		if support > 0 || predicted > 0 {
			valid++
			r.Macro.Precision += nanZero(s.Precision)
			r.Macro.Recall += s.Recall
			r.Macro.F1 += nanZero(s.F1)
			w := float64(support) / float64(n)
			r.Weighted.Precision += w * nanZero(s.Precision)
			r.Weighted.Recall += w * s.Recall
			r.Weighted.F1 += w * nanZero(s.F1)
		}
	}
	if valid > 0 {
		r.Macro.Precision /= float64(valid)
		r.Macro.Recall /= float64(valid)
		r.Macro.F1 /= float64(valid)
	}
	r.Macro.Support, r.Weighted.Support = n, n
	return r
}

// nanZero returns v, or 0 for NaN: a class never predicted has precision
// 0/0, which counts as 0 in the averages, as in scikit-learn.
func nanZero(v float64) float64 {
	if v != v {
		return 0
	}
	return v
}

// Accuracy returns the fraction of rows predicted right.
func (r *ClassificationReport) Accuracy() float64 { return r.Confusion.Accuracy() }

// String returns the report as text: a table of the per-class scores and
// their averages, the accuracy, and the confusion matrix with true classes
// in rows and predictions in columns.
func (r *ClassificationReport) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tprecision\trecall\tF1\tsupport\t")
	for i, c := range r.Classes {
		s := r.PerClass[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t\n", c, score(s.Precision), score(s.Recall), score(s.F1), s.Support)
	}
	fmt.Fprintln(tw, "\t\t\t\t\t")
	n := r.Macro.Support
	right := 0
	for i := range r.Classes {
		right += int(r.Confusion.Counts.At(i, i))
	}
	fmt.Fprintf(tw, "accuracy\t\t\t%s\t%d\t\n", score(r.Accuracy()), n)
	if !math.IsNaN(r.LogLoss) {
		fmt.Fprintf(tw, "log loss\t\t\t%s\t\t\n", score(r.LogLoss))
	}
	fmt.Fprintf(tw, "macro avg\t%s\t%s\t%s\t%d\t\n", score(r.Macro.Precision), score(r.Macro.Recall), score(r.Macro.F1), n)
	fmt.Fprintf(tw, "weighted avg\t%s\t%s\t%s\t%d\t\n", score(r.Weighted.Precision), score(r.Weighted.Recall), score(r.Weighted.F1), n)
	tw.Flush()
	fmt.Fprintf(&b, "\nconfusion matrix (%d of %d right; rows: true class, columns: predicted)\n", right, n)
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t", c)
	}
	fmt.Fprintln(tw)
	for i, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t", c)
		for j := range r.Classes {
			fmt.Fprintf(tw, "%d\t", int(r.Confusion.Counts.At(i, j)))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// score formats a score with four decimals, or "-" for NaN.
func score(v float64) string {
	if v != v {
		return "-"
	}
	return fmt.Sprintf("%.4f", v)
}

// String returns the confusion matrix as a table of counts, true classes
// in rows and predicted classes in columns, numbered from 0.
func (c *Confusion) String() string {
	var b strings.Builder
	k, _ := c.Counts.Dims()
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for j := range k {
		fmt.Fprintf(tw, "%d\t", j)
	}
	fmt.Fprintln(tw)
	for i := range k {
		fmt.Fprintf(tw, "%d\t", i)
		for j := range k {
			fmt.Fprintf(tw, "%d\t", int(c.Counts.At(i, j)))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	return b.String()
}

// RegressionReport scores a regression's predictions target by target:
// the mean squared error, its root, the mean absolute error and the
// coefficient of determination R² of each, and their means over the
// targets (R²'s as scikit-learn's r2_score with uniform averaging). Its
// String method prints it as a table.
type RegressionReport struct {
	// Targets names the targets, one per column of the predictions:
	// their names, or "output0", "output1", … where unknown.
	Targets []string
	// PerTarget holds the scores of each target, in the order of
	// Targets.
	PerTarget []RegressionScore
	// Mean holds the means of the per-target scores.
	Mean RegressionScore
	// Rows is the number of rows scored.
	Rows int
}

// RegressionScore holds the scores of one target, or their means.
type RegressionScore struct {
	MSE, RMSE, MAE, R2 float64
}

// NewRegressionReport returns the report of the predictions P of the
// targets Y, one column per target, named by targets (nil for
// "output0", "output1", …). It panics if Y and P differ in shape, or if
// targets is not nil and does not name every column.
func NewRegressionReport(targets []string, Y, P mat.Matrix) *RegressionReport {
	r, k := metricDims(Y, P)
	if targets != nil && len(targets) != k {
		panic(mat.ErrShape)
	}
	rep := &RegressionReport{Targets: targets, PerTarget: make([]RegressionScore, k), Rows: r}
	if targets == nil {
		rep.Targets = make([]string, k)
		for j := range k {
			rep.Targets[j] = fmt.Sprintf("output%d", j)
		}
	} else {
		rep.Targets = append([]string(nil), targets...)
	}
	y, p := mat.NewVecDense(r, nil), mat.NewVecDense(r, nil)
	for j := range k {
		mat.Col(y.RawVector().Data, j, Y)
		mat.Col(p.RawVector().Data, j, P)
		mse := MeanSquaredError(y, p)
		s := RegressionScore{MSE: mse, RMSE: math.Sqrt(mse), MAE: MeanAbsoluteError(y, p), R2: R2(y, p)}
		rep.PerTarget[j] = s
		rep.Mean.MSE += s.MSE / float64(k)
		rep.Mean.RMSE += s.RMSE / float64(k)
		rep.Mean.MAE += s.MAE / float64(k)
		rep.Mean.R2 += s.R2 / float64(k)
	}
	return rep
}

// String returns the report as a table: a row per target, with MSE,
// RMSE, MAE and R², and a row of their means for several targets.
func (r *RegressionReport) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tMSE\tRMSE\tMAE\tR²\t")
	row := func(name string, s RegressionScore) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name, general(s.MSE), general(s.RMSE), general(s.MAE), score(s.R2))
	}
	for j, t := range r.Targets {
		row(t, r.PerTarget[j])
	}
	if len(r.Targets) > 1 {
		fmt.Fprintln(tw, "\t\t\t\t\t")
		row("mean", r.Mean)
	}
	tw.Flush()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n") + "\n"
}

// general formats a value with four significant digits, or "-" for NaN.
func general(v float64) string {
	if v != v {
		return "-"
	}
	return fmt.Sprintf("%.4g", v)
}
