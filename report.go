package nn

import (
	"fmt"
	"strings"
	"text/tabwriter"
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
	r := &ClassificationReport{Classes: classes, Confusion: c, PerClass: make([]ClassScore, k)}
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
