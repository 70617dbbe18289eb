package nn

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func loadIrisCSV(t testing.TB) *Dataset {
	t.Helper()
	d, err := LoadCSV(filepath.Join("testdata", "iris.csv"), &CSVOptions{Target: "species", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// splitClassCounts returns the number of examples of each class of d.
func splitClassCounts(d *Dataset) []int {
	counts := make([]int, len(d.Classes))
	for _, c := range d.Labels() {
		counts[c]++
	}
	return counts
}

// splitSortedRows returns the rows of the X and Y of the datasets, formatted and
// sorted, to compare them as multisets.
func splitSortedRows(ds ...*Dataset) []string {
	var s []string
	for _, d := range ds {
		r, _ := d.X.Dims()
		for i := range r {
			s = append(s, fmt.Sprint(d.X.RawRowView(i), d.Y.RawRowView(i)))
		}
	}
	sort.Strings(s)
	return s
}

func TestSplitStratified(t *testing.T) {
	d := loadIrisCSV(t)
	train, test, err := d.Split(0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	// iris has 50 examples of each class: 0.2·50 = 10 of each go to test.
	if got, want := splitClassCounts(test), []int{10, 10, 10}; !slices.Equal(got, want) {
		t.Errorf("test classes: got %v, want %v", got, want)
	}
	if got, want := splitClassCounts(train), []int{40, 40, 40}; !slices.Equal(got, want) {
		t.Errorf("train classes: got %v, want %v", got, want)
	}
	if got, want := splitSortedRows(train, test), splitSortedRows(d); !slices.Equal(got, want) {
		t.Error("train and test together are not the rows of the dataset")
	}
	if !slices.Equal(train.Classes, d.Classes) || !slices.Equal(test.Features, d.Features) || test.Target != d.Target {
		t.Error("split lost the names")
	}
	// The classes are mixed, not in blocks.
	if l := test.Labels(); slices.IsSorted(l) {
		t.Errorf("test labels are sorted: %v", l)
	}

	train2, test2, err := d.Split(0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(train.X, train2.X) || !mat.Equal(test.Y, test2.Y) {
		t.Error("same seed gave a different split")
	}
	_, test3, err := d.Split(0.2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if mat.Equal(test.X, test3.X) {
		t.Error("another seed gave the same split")
	}
	// The split is a copy.
	test.X.Set(0, 0, -1)
	if mat.Min(d.X) < 0 {
		t.Error("changing the split changed the dataset")
	}
}

func TestSplitRegression(t *testing.T) {
	x := mat.NewDense(10, 1, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	d := &Dataset{X: x, Y: mat.DenseCopyOf(x), Features: []string{"x"}, Target: "y"}
	train, test, err := d.Split(0.25, 3)
	if err != nil {
		t.Fatal(err)
	}
	// round(0.25·10) = round(2.5) = 3, rounding half away from zero.
	if r, _ := test.X.Dims(); r != 3 {
		t.Errorf("test rows: got %d, want 3", r)
	}
	if r, _ := train.X.Dims(); r != 7 {
		t.Errorf("train rows: got %d, want 7", r)
	}
	if !mat.Equal(test.X, test.Y) {
		t.Error("rows of X and Y were separated")
	}
	if got, want := splitSortedRows(train, test), splitSortedRows(d); !slices.Equal(got, want) {
		t.Error("train and test together are not the rows of the dataset")
	}

	for i, frac := range []float64{0, 1, -0.1, 1.5, math.NaN(), 0.04, 0.96} {
		// 0.04·10 rounds to 0 test rows and 0.96·10 to 10.
		if _, _, err := d.Split(frac, 1); err == nil {
			t.Errorf("%d: fraction %v: got nil error", i, frac)
		}
	}
}

func TestStratumCounts(t *testing.T) {
	for i, test := range []struct {
		sizes []int
		frac  float64
		want  []int
	}{
		// 0.2·50 = 10 exactly for each class.
		{[]int{50, 50, 50}, 0.2, []int{10, 10, 10}},
		// q = 2.5, 1.5, 1: floors 2, 1, 1 leave round(0.5·10) - 4 = 1 row,
		// which goes to the first of the tied remainders 0.5.
		{[]int{5, 3, 2}, 0.5, []int{3, 1, 1}},
		// q = 0.3, 0.9: floors 0, 0 leave round(1.2) = 1 row for the
		// largest remainder, the second class.
		{[]int{1, 3}, 0.3, []int{0, 1}},
		// q = 0.5 for each of 4 singletons: round(2) = 2 rows to the first two.
		{[]int{1, 1, 1, 1}, 0.5, []int{1, 1, 0, 0}},
	} {
		strata := make([][]int, len(test.sizes))
		n := 0
		for c, size := range test.sizes {
			strata[c] = make([]int, size)
			n += size
		}
		got := stratumCounts(strata, test.frac, int(math.Round(test.frac*float64(n))))
		if !slices.Equal(got, test.want) {
			t.Errorf("%d: got %v, want %v", i, got, test.want)
		}
	}
}

func TestSubset(t *testing.T) {
	d := &Dataset{
		X:        mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6}),
		Y:        OneHot([]int{0, 1, 1}, 2),
		Features: []string{"a", "b"},
		Target:   "y",
		Classes:  []string{"no", "yes"},
	}
	s := d.Subset([]int{2, 0, 2})
	if got, want := denseRows(s.X), [][]float64{{5, 6}, {1, 2}, {5, 6}}; !reflect.DeepEqual(got, want) {
		t.Errorf("X: got %v, want %v", got, want)
	}
	if got, want := s.Labels(), []int{1, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("labels: got %v, want %v", got, want)
	}
	s.X.Set(0, 0, -1)
	s.Features[0] = "changed"
	if d.X.At(2, 0) != 5 || d.Features[0] != "a" {
		t.Error("Subset shares memory with the dataset")
	}
	if !dataPanics(func() { d.Subset(nil) }) {
		t.Error("Subset(nil) did not panic")
	}
	if !dataPanics(func() { d.Subset([]int{3}) }) {
		t.Error("Subset out of range did not panic")
	}
	if !dataPanics(func() { (&Dataset{X: d.X, Y: d.X}).Labels() }) {
		t.Error("Labels of a regression dataset did not panic")
	}
}
