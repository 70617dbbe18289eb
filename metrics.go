package nn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Accuracy returns the fraction of examples whose predicted class yPred[i]
// equals the true class yTrue[i]. It returns NaN if there are no examples,
// and panics if the lengths differ.
func Accuracy(yTrue, yPred []int) float64 {
	if len(yTrue) != len(yPred) {
		panic(fmt.Sprintf("nn: Accuracy of %d true and %d predicted labels", len(yTrue), len(yPred)))
	}
	if len(yTrue) == 0 {
		return math.NaN()
	}
	var right int
	for i, y := range yTrue {
		if y == yPred[i] {
			right++
		}
	}
	return float64(right) / float64(len(yTrue))
}

// Confusion is a confusion matrix of a classifier over k classes.
type Confusion struct {
	// Counts is k×k: Counts.At(i, j) is the number of examples of true
	// class i predicted as class j.
	Counts *mat.Dense
}

// NewConfusion returns the confusion matrix of the predictions yPred of the
// true classes yTrue over k classes. It panics if the lengths differ, k < 1,
// or a label is outside [0, k).
func NewConfusion(yTrue, yPred []int, k int) *Confusion {
	if len(yTrue) != len(yPred) {
		panic(fmt.Sprintf("nn: NewConfusion of %d true and %d predicted labels", len(yTrue), len(yPred)))
	}
	if k < 1 {
		panic(fmt.Sprintf("nn: NewConfusion with %d classes", k))
	}
	counts := mat.NewDense(k, k, nil)
	for i, t := range yTrue {
		p := yPred[i]
		if t < 0 || t >= k || p < 0 || p >= k {
			panic(fmt.Sprintf("nn: label %d or prediction %d at index %d outside [0, %d)", t, p, i, k))
		}
		counts.Set(t, p, counts.At(t, p)+1)
	}
	return &Confusion{Counts: counts}
}

// classCounts returns the true positives, false positives and false
// negatives of class.
func (c *Confusion) classCounts(class int) (tp, fp, fn float64) {
	k, _ := c.Counts.Dims()
	if class < 0 || class >= k {
		panic(fmt.Sprintf("nn: class %d outside [0, %d)", class, k))
	}
	tp = c.Counts.At(class, class)
	for i := range k {
		if i != class {
			fp += c.Counts.At(i, class)
			fn += c.Counts.At(class, i)
		}
	}
	return tp, fp, fn
}

// Precision returns the precision of class, tp/(tp+fp): the fraction of the
// examples predicted as class that are of class. It returns 0 when nothing
// is predicted as class, as scikit-learn does with zero_division=0. It
// panics if class is out of range.
func (c *Confusion) Precision(class int) float64 {
	tp, fp, _ := c.classCounts(class)
	if tp+fp == 0 {
		return 0
	}
	return tp / (tp + fp)
}

// Recall returns the recall of class, tp/(tp+fn): the fraction of the
// examples of class predicted as class. It returns 0 when there are no
// examples of class (zero_division=0). It panics if class is out of range.
func (c *Confusion) Recall(class int) float64 {
	tp, _, fn := c.classCounts(class)
	if tp+fn == 0 {
		return 0
	}
	return tp / (tp + fn)
}

// F1 returns the F1 score of class, the harmonic mean of its precision and
// recall, 2tp/(2tp+fp+fn). It returns 0 when the class is neither present
// nor predicted (zero_division=0). It panics if class is out of range.
func (c *Confusion) F1(class int) float64 {
	tp, fp, fn := c.classCounts(class)
	if 2*tp+fp+fn == 0 {
		return 0
	}
	return 2 * tp / (2*tp + fp + fn)
}

// Accuracy returns the fraction of examples predicted right, the trace of
// Counts over its sum, or NaN if Counts is all zero.
func (c *Confusion) Accuracy() float64 {
	k, _ := c.Counts.Dims()
	var right float64
	for i := range k {
		right += c.Counts.At(i, i)
	}
	total := mat.Sum(c.Counts)
	if total == 0 {
		return math.NaN()
	}
	return right / total
}

// metricDims returns the dimensions of Y and P, panicking with mat.ErrShape if
// they differ.
func metricDims(Y, P mat.Matrix) (r, c int) {
	r, c = Y.Dims()
	if pr, pc := P.Dims(); pr != r || pc != c {
		panic(mat.ErrShape)
	}
	return r, c
}

// logLossEps clips probabilities to [eps, 1-eps] so that the log loss of a
// confident mistake is large but finite.
const logLossEps = 1e-15

// LogLoss returns the cross-entropy of the predicted probabilities P given
// the targets Y, the mean over rows of -Σ_j y_ij log(p_ij), with each p
// clipped to [1e-15, 1-1e-15]. Rows of P are not renormalized.
//
// When Y and P have a single column, it holds the probability of the
// positive class of a binary problem and the loss of a row is
// -(y log(p) + (1-y) log(1-p)), as scikit-learn's log_loss for binary
// targets.
//
// LogLoss panics if Y and P differ in shape, and returns NaN for empty
// matrices.
func LogLoss(Y, P mat.Matrix) float64 {
	r, c := metricDims(Y, P)
	if r == 0 {
		return math.NaN()
	}
	var sum float64
	for i := range r {
		for j := range c {
			y := Y.At(i, j)
			p := min(max(P.At(i, j), logLossEps), 1-logLossEps)
			// J -= y log(p)
			sum -= y * math.Log(p)
			if c == 1 {
				// J -= (1-y) log(1-p)
				sum -= (1 - y) * math.Log(1-p)
			}
		}
	}
	return sum / float64(r)
}

// MeanSquaredError returns the mean over all elements of (y - p)², panicking
// if Y and P differ in shape. It returns NaN for empty matrices.
func MeanSquaredError(Y, P mat.Matrix) float64 {
	r, c := metricDims(Y, P)
	var sum float64
	for i := range r {
		for j := range c {
			d := Y.At(i, j) - P.At(i, j)
			sum += d * d
		}
	}
	return sum / float64(r*c)
}

// MeanAbsoluteError returns the mean over all elements of |y - p|,
// panicking if Y and P differ in shape. It returns NaN for empty matrices.
func MeanAbsoluteError(Y, P mat.Matrix) float64 {
	r, c := metricDims(Y, P)
	var sum float64
	for i := range r {
		for j := range c {
			sum += math.Abs(Y.At(i, j) - P.At(i, j))
		}
	}
	return sum / float64(r*c)
}

// R2 returns the coefficient of determination of the predictions P of the
// targets Y, 1 - SS_res/SS_tot per column, averaged uniformly over the
// columns as scikit-learn's r2_score does.
//
// As in scikit-learn, a constant column of Y (SS_tot = 0) scores 1 if it is
// predicted exactly and 0 otherwise, and R2 is NaN with fewer than two
// rows. R2 panics if Y and P differ in shape.
func R2(Y, P mat.Matrix) float64 {
	r, c := metricDims(Y, P)
	if r < 2 {
		return math.NaN()
	}
	var sum float64
	for j := range c {
		var mean float64
		for i := range r {
			mean += Y.At(i, j)
		}
		mean /= float64(r)
		var ssRes, ssTot float64
		for i := range r {
			y := Y.At(i, j)
			// SS_res = Σ (y - p)²
			d := y - P.At(i, j)
			ssRes += d * d
			// SS_tot = Σ (y - ȳ)²
			d = y - mean
			ssTot += d * d
		}
		switch {
		case ssTot != 0:
			sum += 1 - ssRes/ssTot
		case ssRes == 0:
			sum++
		}
	}
	return sum / float64(c)
}
