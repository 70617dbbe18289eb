package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestEvalMacroAverages scores a three-class model on a file in which
// one class occurs neither in the truth nor in the predictions: the macro
// averages are over the two classes present, as scikit-learn's, in the
// table and in -json alike.
func TestEvalMacroAverages(t *testing.T) {
	dir := t.TempDir()
	// Softmax of (−x, x, −100): class a for x < 0, b for x > 0, c never.
	model := filepath.Join(dir, "abc.json")
	writeFile(t, model, `{"format":"github.com/neuralgo/nn model","version":1,"sizes":[1,3],"activations":["softmax"],"bias":true,"loss":"cross-entropy","weights":[[-1,1,0]],"biases":[[0,0,-100]],"features":["x"],"target":"t","classes":["a","b","c"]}`)
	data := filepath.Join(dir, "ab.csv")
	// Predicted a, b, b, a: class a has precision 2/2, recall 2/3 and F1
	// 0.8; b precision 1/2, recall 1/1, F1 2/3; c none at all.
	writeFile(t, data, "x,t\n-1,a\n1,b\n2,a\n-2,a\n")
	const (
		macroP, macroR, macroF1 = 0.75, 5.0 / 6, 11.0 / 15 // (1+1/2)/2, (2/3+1)/2, (4/5+2/3)/2
		weightP, weightR        = 0.875, 0.75              // 3/4·1 + 1/4·1/2, 3/4·2/3 + 1/4·1
		weightF1                = 0.6 + 1.0/6              // 3/4·4/5 + 1/4·2/3
	)
	r := mustRun(t, "", "eval", "-model", model, "-data", data, "-json")
	var res struct {
		MacroPrecision    *float64 `json:"macro_precision"`
		MacroRecall       *float64 `json:"macro_recall"`
		MacroF1           *float64 `json:"macro_f1"`
		WeightedPrecision *float64 `json:"weighted_precision"`
		WeightedRecall    *float64 `json:"weighted_recall"`
		WeightedF1        *float64 `json:"weighted_f1"`
		Classes           []struct {
			Class     string
			Precision *float64
			Support   int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, r.stdout)
	}
	for _, c := range []struct {
		name      string
		got       *float64
		want      float64
		textField int // the field of the text's avg row
	}{
		{"macro_precision", res.MacroPrecision, macroP, 0},
		{"macro_recall", res.MacroRecall, macroR, 1},
		{"macro_f1", res.MacroF1, macroF1, 2},
		{"weighted_precision", res.WeightedPrecision, weightP, 0},
		{"weighted_recall", res.WeightedRecall, weightR, 1},
		{"weighted_f1", res.WeightedF1, weightF1, 2},
	} {
		if c.got == nil || math.Abs(*c.got-c.want) > 1e-15 {
			t.Errorf("eval -json: %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// A class without rows or predictions scores 0, as in the report.
	if c := res.Classes; len(c) != 3 || c[2].Class != "c" || c[2].Precision == nil || *c[2].Precision != 0 || c[2].Support != 0 {
		t.Errorf("eval -json: classes %s, want c last with precision 0 and no rows", r.stdout)
	}

	// The table prints the same figures.
	r = mustRun(t, "", "eval", "-model", model, "-data", data)
	for _, avg := range []struct {
		name string
		want [3]float64
	}{{"macro avg", [3]float64{macroP, macroR, macroF1}}, {"weighted avg", [3]float64{weightP, weightR, weightF1}}} {
		want := fmt.Sprintf("%s  %.4f  %.4f  %.4f  4", avg.name, avg.want[0], avg.want[1], avg.want[2])
		if !regexp.MustCompile(`(?m)^ *` + regexp.QuoteMeta(avg.name) + ` +` + strings.Join(strings.Fields(strings.TrimPrefix(want, avg.name)), " +") + `$`).MatchString(r.stdout) {
			t.Errorf("eval: no row %q:\n%s", want, r.stdout)
		}
	}
}

// TestEvalSeveralTargets trains a regression on three targets and scores
// it: eval names every target, gives each one's scores in the table and
// in -json, with their means, and the two agree.
func TestEvalSeveralTargets(t *testing.T) {
	dir := t.TempDir()
	train, test := filepath.Join(dir, "train.csv"), filepath.Join(dir, "test.csv")
	writeSeveralTargets(t, train, 300, 1)
	writeSeveralTargets(t, test, 100, 2)
	model := filepath.Join(dir, "m.json")
	mustRun(t, "", "train", "-data", train, "-task", "regress", "-target", "y1,y2,y3", "-epochs", "100", "-o", model, "-quiet")

	r := mustRun(t, "", "eval", "-model", model, "-data", test, "-json")
	type scores struct{ MSE, RMSE, MAE, R2 float64 }
	var res struct {
		Task, Target string
		Rows         int
		scores
		Targets []struct {
			Target string
			scores
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("eval -json: %v\n%s", err, r.stdout)
	}
	if res.Task != "regress" || res.Rows != 100 || res.Target != "y1, y2, y3" || len(res.Targets) != 3 {
		t.Fatalf("eval -json = %s\nwant task regress, 100 rows, target \"y1, y2, y3\" and 3 targets", r.stdout)
	}
	var mean scores
	for j, s := range res.Targets {
		if want := fmt.Sprintf("y%d", j+1); s.Target != want {
			t.Errorf("target %d is %q, want %q", j, s.Target, want)
		}
		// The noise has a deviation of 0.05 and the targets about 1.4:
		// R² ≈ 0.999 at best.
		if s.R2 < 0.9 || math.Abs(s.RMSE-math.Sqrt(s.MSE)) > 1e-15 {
			t.Errorf("target %s: R² %v, RMSE %v, MSE %v; want R² > 0.9 and RMSE² = MSE", s.Target, s.R2, s.RMSE, s.MSE)
		}
		mean.MSE += s.MSE / 3
		mean.RMSE += s.RMSE / 3
		mean.MAE += s.MAE / 3
		mean.R2 += s.R2 / 3
	}
	for _, c := range [][3]any{{"mse", res.MSE, mean.MSE}, {"rmse", res.RMSE, mean.RMSE}, {"mae", res.MAE, mean.MAE}, {"r2", res.R2, mean.R2}} {
		if got, want := c[1].(float64), c[2].(float64); math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("%s = %v, want the mean of the targets' %v", c[0], got, want)
		}
	}

	r = mustRun(t, "", "eval", "-model", model, "-data", test)
	if !strings.HasPrefix(r.stdout, test+`: 100 rows, regression of "y1", "y2", "y3"`+"\n") {
		t.Errorf("eval does not name every target:\n%s", r.stdout)
	}
	rows := append(slices.Clone(res.Targets), struct {
		Target string
		scores
	}{"mean", res.scores})
	for _, s := range rows {
		// The table's R² is the JSON's to four decimals.
		want := regexp.MustCompile(`(?m)^ *` + s.Target + `( +\S+){3} +` + regexp.QuoteMeta(strconv.FormatFloat(s.R2, 'f', 4, 64)) + `$`)
		if !want.MatchString(r.stdout) {
			t.Errorf("eval has no row of %s with R² %.4f:\n%s", s.Target, s.R2, r.stdout)
		}
	}

	// predict writes a header of the targets and a number for each.
	r = mustRun(t, "", "predict", "-model", model, "-data", test)
	out := lines(r.stdout)
	if len(out) != 101 || out[0] != "y1,y2,y3" {
		t.Fatalf("predict wrote %d lines starting %q, want 101 starting with y1,y2,y3", len(out), out[0])
	}
	for i, l := range out[1:] {
		fields := strings.Split(l, ",")
		if len(fields) != 3 {
			t.Fatalf("predict row %d = %q, want 3 numbers", i+1, l)
		}
		for _, f := range fields {
			if v := mustFloat(t, f); strconv.FormatFloat(v, 'g', -1, 64) != f {
				t.Errorf("predict row %d: %q is not the shortest form of %v", i+1, f, v)
			}
		}
	}
}
