package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// What nn train prints: the banner before the first epoch and the summary
// after the last.

// inputs returns the number of network inputs that d makes, and a note
// on the categorical columns and missing values, for the banner.
func (f *trainFlags) inputs(d *nn.Dataset) (int, string) {
	_, cols := d.X.Dims()
	var cats []string
	for j, c := range d.Categories {
		if c != nil {
			cats = append(cats, fmt.Sprintf("%s (%d)", d.Features[j], len(c)))
		}
	}
	missing := 0
	raw := d.X.RawMatrix()
	for _, v := range raw.Data {
		if math.IsNaN(v) {
			missing++
		}
	}
	if cats == nil && missing == 0 {
		return cols, ""
	}
	width := 0
	for j := range cols {
		if d.Categories != nil && d.Categories[j] != nil {
			width += len(d.Categories[j])
		} else {
			width++
		}
	}
	if f.indicator && missing > 0 {
		// Which columns get an indicator depends on the training rows:
		// fit the encoding on them (a copy of the rows, for the banner of
		// -indicator only).
		train := d
		if f.val > 0 {
			train, _, _ = d.Split(f.val, f.seed)
		}
		enc, err := nn.FitEncoding(train, f.impute, f.indicator)
		if err != nil {
			return cols, ""
		}
		width = enc.Width()
	}
	var notes []string
	if cats != nil {
		notes = append(notes, "categories one-hot encoded: "+strings.Join(cats, ", "))
	}
	if missing > 0 {
		notes = append(notes, fmt.Sprintf("%d missing values filled in with the %v", missing, f.impute))
	}
	return width, strings.Join(notes, "; ")
}

// printBanner says on stderr what is about to be trained, on what, and how.
func printBanner(e *env, f *trainFlags, d *nn.Dataset, est estimator, resume *nn.Checkpoint) {
	rows, _ := d.X.Dims()
	trainRows := rows
	held := ""
	if f.val > 0 {
		vr := int(math.Round(f.val * float64(rows)))
		trainRows -= vr
		held = fmt.Sprintf(", %d held out for validation", vr)
	}
	what := "regression of " + excerpt.Quotes(targetNames(d))
	if f.task == "classify" {
		what = fmt.Sprintf("%d classes of %s", len(d.Classes), excerpt.Quote(d.Target))
	}
	_, outputs := d.Y.Dims()
	inputs, note := f.inputs(d)
	net := joinInts(append(append([]int{inputs}, f.hidden...), outputs), "-") + " network"
	if len(f.hidden) > 0 {
		net += " (" + f.activation.String() + ")"
	}
	how := f.method.String()
	if f.method != nn.LBFGS {
		lr := f.lr
		if lr == 0 {
			lr = defaultRate(f.method)
		}
		how += fmt.Sprintf(", lr %v", lr)
	}
	if f.method != nn.LBFGS && f.method != nn.GradientDescent {
		how += fmt.Sprintf(", batch %d", f.batch)
	}
	fmt.Fprintf(e.stderr, "training a %s on %d rows of %s%s: %s; %s, up to %d epochs\n",
		net, trainRows, f.data, held, what, how, f.epochs)
	if note != "" {
		fmt.Fprintf(e.stderr, "%s\n", note)
	}
	if note := f.numericClasses(d); note != "" {
		fmt.Fprintf(e.stderr, "%s\n", note)
	}
	if resume != nil {
		fmt.Fprintf(e.stderr, "resuming after epoch %d from %s\n", resume.Epoch, f.resume)
	}
}

// targetNames returns the names of the targets of d.
func targetNames(d *nn.Dataset) []string {
	if d.Targets != nil {
		return d.Targets
	}
	return []string{d.Target}
}

// numericClasses returns, for the banner, a note that the classes of d
// are numbers, which -task regress would read as numbers, or "" if -task
// was given, a class is not a number, or the target has only two classes
// (0 and 1 are classes far more often than numbers to predict).
// manyClasses has warned of a target with many classes already.
func (f *trainFlags) numericClasses(d *nn.Dataset) string {
	if f.taskSet || f.task != "classify" || len(d.Classes) <= 2 || manyClasses(d) {
		return ""
	}
	for _, c := range d.Classes {
		if _, err := strconv.ParseFloat(strings.TrimSpace(c), 64); err != nil {
			return ""
		}
	}
	return fmt.Sprintf("target %s: %d distinct numbers, read as classes; -task regress reads them as numbers", excerpt.Quote(d.Target), len(d.Classes))
}

// manyClasses reports whether d has so many classes for its rows (more
// than 20, each of fewer than two rows on average) that its target is
// likely a number to predict.
func manyClasses(d *nn.Dataset) bool {
	rows, _ := d.X.Dims()
	return len(d.Classes) > 20 && 2*len(d.Classes) > rows
}

// printSummary tells how training ended and how well the kept weights do
// on the held-out rows.
func printSummary(e *env, f *trainFlags, r *nn.Report, m *nn.Model, heldOut *nn.Dataset) {
	w := e.stderr
	n := len(r.History)
	monitored := "loss"
	if f.val > 0 {
		monitored = "val_loss"
	}
	kept := ""
	if r.BestEpoch != n && r.BestEpoch > 0 {
		kept = fmt.Sprintf("; kept the weights of epoch %d, the best %s", r.BestEpoch, monitored)
	}
	switch r.Stop {
	case nn.NoImprovement:
		fmt.Fprintf(w, "stopped after epoch %d of %d: no better %s for %d epochs%s\n", n, f.epochs, monitored, f.patience, kept)
	case nn.Converged:
		fmt.Fprintf(w, "converged after epoch %d of %d%s\n", n, f.epochs, kept)
	default:
		fmt.Fprintf(w, "ran all %d epochs%s\n", n, kept)
	}
	if f.refit && heldOut != nil {
		fmt.Fprintf(w, "refitted on all rows for the %d epochs early stopping chose\n", n)
	}
	var b strings.Builder
	if i := r.BestEpoch - 1; i >= 0 && i < n {
		ep := r.History[i]
		fmt.Fprintf(&b, "epoch %d: loss %.4g", ep.Epoch, ep.Loss)
		if !math.IsNaN(ep.ValLoss) {
			fmt.Fprintf(&b, ", val_loss %.4g", ep.ValLoss)
		}
	}
	if i := r.BestEpoch - 1; heldOut == nil && i >= 0 && i < n && !math.IsNaN(r.History[i].ValAccuracy) {
		fmt.Fprintf(&b, ", val_acc %.4f", r.History[i].ValAccuracy)
	}
	if heldOut != nil && !f.refit {
		if ev, err := m.Evaluate(heldOut, false); err == nil {
			if c := ev.Classification; c != nil {
				fmt.Fprintf(&b, ", val_acc %.4f", c.Accuracy())
			} else {
				fmt.Fprintf(&b, ", val_R² %.4f, val_RMSE %.4g", ev.Regression.Mean.R2, ev.Regression.Mean.RMSE)
			}
		}
	}
	fmt.Fprintf(&b, " (%s)", roundDuration(r.Elapsed))
	fmt.Fprintln(w, b.String())
	fmt.Fprintf(w, "model written to %s\n", f.out)
	if f.plot != "" {
		fmt.Fprintf(w, "loss curve drawn in %s\n", f.plot)
	}
}

func joinInts(s []int, sep string) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, sep)
}

// roundDuration rounds d for people: 312ms, 12.4s, 3m25s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond)
	case d < time.Minute:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
