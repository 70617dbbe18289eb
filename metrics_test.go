package nn

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// closeTo reports whether got equals want within tol, treating NaNs as equal.
func closeTo(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

func TestAccuracy(t *testing.T) {
	for i, test := range []struct {
		yTrue, yPred []int
		want         float64
	}{
		{[]int{0, 1, 2, 2}, []int{0, 2, 2, 1}, 0.5}, // 2 of 4 right
		{[]int{1, 1, 1}, []int{1, 1, 1}, 1},
		{[]int{0}, []int{1}, 0},
		{nil, nil, math.NaN()}, // no examples
	} {
		if got := Accuracy(test.yTrue, test.yPred); !closeTo(got, test.want, 0) {
			t.Errorf("%d: got %v, want %v", i, got, test.want)
		}
	}
	if !dataPanics(func() { Accuracy([]int{1}, []int{1, 2}) }) {
		t.Error("Accuracy of different lengths did not panic")
	}
}

func TestConfusion(t *testing.T) {
	// scikit-learn's confusion_matrix example:
	//   y_true = [2, 0, 2, 2, 0, 1], y_pred = [0, 0, 2, 2, 0, 2]
	//   confusion_matrix → [[2 0 0] [0 0 1] [1 0 2]]
	yTrue := []int{2, 0, 2, 2, 0, 1}
	yPred := []int{0, 0, 2, 2, 0, 2}
	c := NewConfusion(yTrue, yPred, 3)
	want := mat.NewDense(3, 3, []float64{
		2, 0, 0,
		0, 0, 1,
		1, 0, 2,
	})
	if !mat.Equal(c.Counts, want) {
		t.Errorf("got %v, want %v", mat.Formatted(c.Counts), mat.Formatted(want))
	}
	// precision_score(average=None) = [2/3, 0, 2/3]: class 1 is never
	//   predicted, 0 by zero_division=0.
	// recall_score(average=None) = [1, 0, 2/3].
	// f1_score(average=None) = [0.8, 0, 2/3]: 2·(2/3)·1/(2/3+1) = 0.8.
	for class, want := range []struct{ p, r, f1 float64 }{
		{2.0 / 3, 1, 0.8},
		{0, 0, 0},
		{2.0 / 3, 2.0 / 3, 2.0 / 3},
	} {
		if got := c.Precision(class); !closeTo(got, want.p, 1e-15) {
			t.Errorf("precision %d: got %v, want %v", class, got, want.p)
		}
		if got := c.Recall(class); !closeTo(got, want.r, 1e-15) {
			t.Errorf("recall %d: got %v, want %v", class, got, want.r)
		}
		if got := c.F1(class); !closeTo(got, want.f1, 1e-15) {
			t.Errorf("F1 %d: got %v, want %v", class, got, want.f1)
		}
	}
	// 4 of 6 on the diagonal.
	if got, want := c.Accuracy(), 4.0/6; !closeTo(got, want, 1e-15) {
		t.Errorf("accuracy: got %v, want %v", got, want)
	}
	if got, want := c.Accuracy(), Accuracy(yTrue, yPred); got != want {
		t.Errorf("accuracy: got %v, want Accuracy's %v", got, want)
	}

	// A class absent from both the truth and the predictions: every score
	// is 0, with scikit-learn's zero_division=0.
	c = NewConfusion([]int{0, 0}, []int{0, 0}, 2)
	if p, r, f := c.Precision(1), c.Recall(1), c.F1(1); p != 0 || r != 0 || f != 0 {
		t.Errorf("absent class: got %v, %v, %v, want 0, 0, 0", p, r, f)
	}
	if got := NewConfusion(nil, nil, 2).Accuracy(); !math.IsNaN(got) {
		t.Errorf("no examples: got accuracy %v, want NaN", got)
	}

	for i, f := range []func(){
		func() { NewConfusion([]int{0}, []int{0, 1}, 2) },
		func() { NewConfusion([]int{2}, []int{0}, 2) },
		func() { NewConfusion([]int{0}, []int{-1}, 2) },
		func() { NewConfusion(nil, nil, 0) },
		func() { c.Precision(2) },
		func() { c.Recall(-1) },
	} {
		if !dataPanics(f) {
			t.Errorf("%d: did not panic", i)
		}
	}
}

func TestLogLoss(t *testing.T) {
	for i, test := range []struct {
		name string
		y, p *mat.Dense
		want float64
	}{
		{
			// scikit-learn's log_loss example:
			//   log_loss(["spam", "ham", "ham", "spam"],
			//            [[.1, .9], [.9, .1], [.8, .2], [.35, .65]])
			//   = 0.21616...
			// = -(ln .9 + ln .9 + ln .8 + ln .65)/4.
			name: "sklearn example",
			y:    mat.NewDense(4, 2, []float64{0, 1, 1, 0, 1, 0, 0, 1}),
			p:    mat.NewDense(4, 2, []float64{.1, .9, .9, .1, .8, .2, .35, .65}),
			want: -(math.Log(.9) + math.Log(.9) + math.Log(.8) + math.Log(.65)) / 4,
		},
		{
			// The same problem with one column, P(spam): binary
			// cross-entropy gives the same loss.
			name: "binary, one column",
			y:    mat.NewDense(4, 1, []float64{1, 0, 0, 1}),
			p:    mat.NewDense(4, 1, []float64{.9, .1, .2, .65}),
			want: -(math.Log(.9) + math.Log(.9) + math.Log(.8) + math.Log(.65)) / 4,
		},
		{
			// A certain, wrong prediction is clipped to 1e-15:
			// -ln(1e-15) = 34.538776394910684.
			name: "clipped",
			y:    mat.NewDense(1, 2, []float64{1, 0}),
			p:    mat.NewDense(1, 2, []float64{0, 1}),
			want: 34.538776394910684,
		},
		{
			// Perfect predictions: -ln(1-1e-15) ≈ 1e-15 after clipping.
			name: "perfect",
			y:    mat.NewDense(2, 2, []float64{1, 0, 0, 1}),
			p:    mat.NewDense(2, 2, []float64{1, 0, 0, 1}),
			want: 1e-15,
		},
	} {
		if got := LogLoss(test.y, test.p); !closeTo(got, test.want, 1e-12) {
			t.Errorf("%d %s: got %v, want %v", i, test.name, got, test.want)
		}
	}
	if !dataPanics(func() { LogLoss(mat.NewDense(2, 2, nil), mat.NewDense(2, 1, nil)) }) {
		t.Error("LogLoss of different shapes did not panic")
	}
}

func TestRegressionMetrics(t *testing.T) {
	for i, test := range []struct {
		name         string
		y, p         *mat.Dense
		mse, mae, r2 float64
	}{
		{
			// scikit-learn's examples:
			//   y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8]
			//   mean_squared_error = 0.375: (0.25+0.25+0+1)/4
			//   mean_absolute_error = 0.5: (0.5+0.5+0+1)/4
			//   r2_score = 0.9486081370449679:
			//     mean 2.875, SS_tot = 29.1875, SS_res = 1.5
			name: "sklearn single output",
			y:    mat.NewDense(4, 1, []float64{3, -0.5, 2, 7}),
			p:    mat.NewDense(4, 1, []float64{2.5, 0, 2, 8}),
			mse:  0.375, mae: 0.5, r2: 0.9486081370449679,
		},
		{
			//   y_true = [[0.5, 1], [-1, 1], [7, -6]]
			//   y_pred = [[0, 2], [-1, 2], [8, -5]]
			//   mean_squared_error = 0.7083333333333334: (0.25+1+0+1+1+1)/6
			//   mean_absolute_error = 0.75: (0.5+1+0+1+1+1)/6
			//   r2_score (uniform_average) = 0.9368005266622779
			name: "sklearn multi-output",
			y:    mat.NewDense(3, 2, []float64{0.5, 1, -1, 1, 7, -6}),
			p:    mat.NewDense(3, 2, []float64{0, 2, -1, 2, 8, -5}),
			mse:  0.7083333333333334, mae: 0.75, r2: 0.9368005266622779,
		},
		{
			// r2_score([1, 2, 3], [1, 2, 3]) = 1.
			name: "perfect",
			y:    mat.NewDense(3, 1, []float64{1, 2, 3}),
			p:    mat.NewDense(3, 1, []float64{1, 2, 3}),
			mse:  0, mae: 0, r2: 1,
		},
		{
			// r2_score([1, 2, 3], [2, 2, 2]) = 0: predicting the mean.
			name: "mean",
			y:    mat.NewDense(3, 1, []float64{1, 2, 3}),
			p:    mat.NewDense(3, 1, []float64{2, 2, 2}),
			mse:  2.0 / 3, mae: 2.0 / 3, r2: 0,
		},
		{
			// r2_score([1, 2, 3], [3, 2, 1]) = -3: SS_res 8 over SS_tot 2.
			name: "worse than the mean",
			y:    mat.NewDense(3, 1, []float64{1, 2, 3}),
			p:    mat.NewDense(3, 1, []float64{3, 2, 1}),
			mse:  8.0 / 3, mae: 4.0 / 3, r2: -3,
		},
		{
			// Constant targets (SS_tot = 0), force_finite=True:
			// r2_score([-2, -2, -2], [-2, -2, -2]) = 1.0 and
			// r2_score([-2, -2, -2], [-2, -2, -2 + 1e-8]) = 0.0.
			name: "constant, exact",
			y:    mat.NewDense(3, 1, []float64{-2, -2, -2}),
			p:    mat.NewDense(3, 1, []float64{-2, -2, -2}),
			mse:  0, mae: 0, r2: 1,
		},
		{
			name: "constant, not exact",
			y:    mat.NewDense(3, 1, []float64{-2, -2, -2}),
			p:    mat.NewDense(3, 1, []float64{-2, -2, -2 + 1e-8}),
			mse:  1e-16 / 3, mae: 1e-8 / 3, r2: 0,
		},
		{
			// r2_score is not defined for fewer than two samples: NaN.
			name: "one row",
			y:    mat.NewDense(1, 1, []float64{1}),
			p:    mat.NewDense(1, 1, []float64{2}),
			mse:  1, mae: 1, r2: math.NaN(),
		},
	} {
		if got := MeanSquaredError(test.y, test.p); !closeTo(got, test.mse, 1e-15) {
			t.Errorf("%d %s: MSE: got %v, want %v", i, test.name, got, test.mse)
		}
		if got := MeanAbsoluteError(test.y, test.p); !closeTo(got, test.mae, 1e-15) {
			t.Errorf("%d %s: MAE: got %v, want %v", i, test.name, got, test.mae)
		}
		if got := R2(test.y, test.p); !closeTo(got, test.r2, 1e-15) {
			t.Errorf("%d %s: R2: got %v, want %v", i, test.name, got, test.r2)
		}
	}
	a, b := mat.NewDense(2, 2, nil), mat.NewDense(2, 1, nil)
	for i, f := range []func(mat.Matrix, mat.Matrix) float64{MeanSquaredError, MeanAbsoluteError, R2} {
		if !dataPanics(func() { f(a, b) }) {
			t.Errorf("%d: different shapes did not panic", i)
		}
	}
}
