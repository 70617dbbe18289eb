package nn

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestOneHot(t *testing.T) {
	got := OneHot([]int{2, 0, 1, 2}, 3)
	want := mat.NewDense(4, 3, []float64{
		0, 0, 1,
		1, 0, 0,
		0, 1, 0,
		0, 0, 1,
	})
	if !mat.Equal(got, want) {
		t.Errorf("got %v, want %v", mat.Formatted(got), mat.Formatted(want))
	}
	for i, labels := range [][]int{{0, 3}, {-1}, nil} {
		if !dataPanics(func() { OneHot(labels, 3) }) {
			t.Errorf("%d: OneHot(%v, 3) did not panic", i, labels)
		}
	}
}

func TestArgMax(t *testing.T) {
	nan := math.NaN()
	p := mat.NewDense(5, 3, []float64{
		0.1, 0.7, 0.2, // 1
		0.5, 0.5, 0, // a tie: the first, 0
		-3, -2, -1, // 2
		nan, 1, 2, // NaN ignored: 2
		nan, nan, nan, // nothing else: 0
	})
	want := []int{1, 0, 2, 2, 0}
	if got := ArgMax(nil, p); !slices.Equal(got, want) {
		t.Errorf("Dense: got %v, want %v", got, want)
	}
	// A matrix that is not a RawMatrixer takes the general path: the
	// transpose of the transpose of p.
	dst := make([]int, 5)
	if got := ArgMax(dst, mat.Transpose{Matrix: p.T()}); !slices.Equal(got, want) || &got[0] != &dst[0] {
		t.Errorf("Matrix: got %v, want %v in dst", got, want)
	}
	if !dataPanics(func() { ArgMax(make([]int, 4), p) }) {
		t.Error("ArgMax with a short dst did not panic")
	}
}
