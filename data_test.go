package nn

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// dataPanics reports whether f panics.
func dataPanics(f func()) (panicked bool) {
	defer func() {
		if recover() != nil {
			panicked = true
		}
	}()
	f()
	return false
}

// denseRows returns the rows of m as slices, for comparing in tests.
func denseRows(m mat.Matrix) [][]float64 {
	r, _ := m.Dims()
	out := make([][]float64, r)
	for i := range out {
		out[i] = mat.Row(nil, i, m)
	}
	return out
}

func TestReadCSV(t *testing.T) {
	for i, test := range []struct {
		name     string
		in       string
		opts     *CSVOptions
		x, y     [][]float64
		features []string
		target   string
		classes  []string
	}{
		{
			name:     "header detected, regression on last column (nil options)",
			in:       "a,b,y\n1,2,3\n4,5,6\n",
			x:        [][]float64{{1, 2}, {4, 5}},
			y:        [][]float64{{3}, {6}},
			features: []string{"a", "b"},
			target:   "y",
		},
		{
			name:     "no header detected",
			in:       "1,2,3\n4,5,6\n",
			opts:     &CSVOptions{},
			x:        [][]float64{{1, 2}, {4, 5}},
			y:        [][]float64{{3}, {6}},
			features: []string{"col0", "col1"},
			target:   "col2",
		},
		{
			name:     "target by name, classify, classes sorted lexically",
			in:       "x,label,z\n1,b,2\n3,a,4\n5,b,6\n",
			opts:     &CSVOptions{Target: "label", Classify: true},
			x:        [][]float64{{1, 2}, {3, 4}, {5, 6}},
			y:        [][]float64{{0, 1}, {1, 0}, {0, 1}},
			features: []string{"x", "z"},
			target:   "label",
			classes:  []string{"a", "b"},
		},
		{
			name:     "target by index, no header",
			in:       "7,1,2\n8,3,4\n",
			opts:     &CSVOptions{Target: "0"},
			x:        [][]float64{{1, 2}, {3, 4}},
			y:        [][]float64{{7}, {8}},
			features: []string{"col1", "col2"},
			target:   "col0",
		},
		{
			name:     "target by index, header",
			in:       "t,a,b\n7,1,2\n",
			opts:     &CSVOptions{Target: "0"},
			x:        [][]float64{{1, 2}},
			y:        [][]float64{{7}},
			features: []string{"a", "b"},
			target:   "t",
		},
		{
			name:     "numeric class labels sort numerically",
			in:       "1.5,10\n2.5,2\n3.5,10\n4,1\n",
			opts:     &CSVOptions{Classify: true},
			x:        [][]float64{{1.5}, {2.5}, {3.5}, {4}},
			y:        [][]float64{{0, 0, 1}, {0, 1, 0}, {0, 0, 1}, {1, 0, 0}},
			features: []string{"col0"},
			target:   "col1",
			classes:  []string{"1", "2", "10"},
		},
		{
			name:     "classification without header: only features decide",
			in:       "1,2,setosa\n3,4,virginica\n",
			opts:     &CSVOptions{Classify: true},
			x:        [][]float64{{1, 2}, {3, 4}},
			y:        [][]float64{{1, 0}, {0, 1}},
			features: []string{"col0", "col1"},
			target:   "col2",
			classes:  []string{"setosa", "virginica"},
		},
		{
			name:     "semicolon separator",
			in:       "a;b;c\n1;2;x\n3;4;y\n",
			opts:     &CSVOptions{Comma: ';', Classify: true},
			x:        [][]float64{{1, 2}, {3, 4}},
			y:        [][]float64{{1, 0}, {0, 1}},
			features: []string{"a", "b"},
			target:   "c",
			classes:  []string{"x", "y"},
		},
		{
			name:     "HeaderYes with numeric names",
			in:       "1,2,3\n4,5,6\n",
			opts:     &CSVOptions{Header: HeaderYes},
			x:        [][]float64{{4, 5}},
			y:        [][]float64{{6}},
			features: []string{"1", "2"},
			target:   "3",
		},
		{
			name:     "HeaderNo",
			in:       "1,2,3\n",
			opts:     &CSVOptions{Header: HeaderNo},
			x:        [][]float64{{1, 2}},
			y:        [][]float64{{3}},
			features: []string{"col0", "col1"},
			target:   "col2",
		},
		{
			name:     "fixed classes keep their order",
			in:       "a,y\n1,x\n2,z\n",
			opts:     &CSVOptions{Classify: true, Classes: []string{"z", "y", "x"}},
			x:        [][]float64{{1}, {2}},
			y:        [][]float64{{0, 0, 1}, {1, 0, 0}},
			features: []string{"a"},
			target:   "y",
			classes:  []string{"z", "y", "x"},
		},
		{
			name:     "a single class is allowed",
			in:       "a,y\n1,x\n2,x\n",
			opts:     &CSVOptions{Classify: true},
			x:        [][]float64{{1}, {2}},
			y:        [][]float64{{1}, {1}},
			features: []string{"a"},
			target:   "y",
			classes:  []string{"x"},
		},
		{
			name:     "spaces, quotes, CRLF, blank lines, exponents and underflow",
			in:       " a ,\"b\",y\r\n\r\n 1 ,\"2e3\", x \r\n-0.5,1e-400,y\r\n",
			opts:     &CSVOptions{Classify: true},
			x:        [][]float64{{1, 2000}, {-0.5, 0}},
			y:        [][]float64{{1, 0}, {0, 1}},
			features: []string{"a", "b"},
			target:   "y",
			classes:  []string{"x", "y"},
		},
		{
			name:     "empty header name becomes colN",
			in:       "a,,y\n1,2,3\n",
			x:        [][]float64{{1, 2}},
			y:        [][]float64{{3}},
			features: []string{"a", "col1"},
			target:   "y",
		},
	} {
		d, err := ReadCSV(strings.NewReader(test.in), test.opts)
		if err != nil {
			t.Errorf("%d %s: unexpected error: %v", i, test.name, err)
			continue
		}
		if got := denseRows(d.X); !reflect.DeepEqual(got, test.x) {
			t.Errorf("%d %s: X: got %v, want %v", i, test.name, got, test.x)
		}
		if got := denseRows(d.Y); !reflect.DeepEqual(got, test.y) {
			t.Errorf("%d %s: Y: got %v, want %v", i, test.name, got, test.y)
		}
		if !slices.Equal(d.Features, test.features) {
			t.Errorf("%d %s: Features: got %q, want %q", i, test.name, d.Features, test.features)
		}
		if d.Target != test.target {
			t.Errorf("%d %s: Target: got %q, want %q", i, test.name, d.Target, test.target)
		}
		if !reflect.DeepEqual(d.Classes, test.classes) {
			t.Errorf("%d %s: Classes: got %q, want %q", i, test.name, d.Classes, test.classes)
		}
	}
}

func TestReadCSVErrors(t *testing.T) {
	type test struct {
		name      string
		in        string
		opts      *CSVOptions
		err       error // wrapped error, checked with errors.Is
		line, col int
		msg       string // the whole message of the error
	}
	tests := []test{
		{
			name: "ragged row, short",
			in:   "a,b,y\n1,2,3\n4,5\n",
			err:  ErrFieldCount, line: 3,
			msg: "line 3: wrong number of fields: expected 3, got 2",
		},
		{
			name: "ragged row, long",
			in:   "1,2\n3,4,5\n",
			err:  ErrFieldCount, line: 2,
			msg: "line 2: wrong number of fields: expected 2, got 3",
		},
		{
			name: "single column",
			in:   "a\n1\n",
			err:  ErrFieldCount, line: 1,
			msg: "line 1: wrong number of fields: need at least 2 (features and target), got 1",
		},
		{
			name: "text in a feature column",
			in:   "a,b,y\n1,2,3\n4,abc,6\n",
			err:  ErrNotNumber, line: 3, col: 2,
			msg: `line 3, column 2: not a number: "abc" (column "b")`,
		},
		{
			name: "text in a regression target",
			in:   "a,b,y\n1,2,zz\n",
			err:  ErrNotNumber, line: 2, col: 3,
			msg: `line 2, column 3: not a number: "zz" (column "y")`,
		},
		{
			name: "missing value",
			in:   "a,b,y\n1,,3\n",
			err:  ErrNotNumber, line: 2, col: 2,
			msg: `line 2, column 2: not a number: "" (column "b")`,
		},
		{
			name: "error in a field after a multi-line quoted field is on its own line",
			in:   "a,b,y\n1,\"2\",3\n\"4\n\",x,6\n",
			err:  ErrNotNumber, line: 4, col: 2,
			msg: `line 4, column 2: not a number: "x" (column "b")`,
		},
		{
			name: "NaN in target",
			in:   "a,b,y\n1,2,NaN\n",
			err:  ErrNonFinite, line: 2, col: 3,
			msg: `line 2, column 3: non-finite value: "NaN" (column "y")`,
		},
		{
			name: "overflow",
			in:   "a,b,y\n1,1e400,3\n",
			err:  ErrNonFinite, line: 2, col: 2,
			msg: `line 2, column 2: non-finite value: "1e400" overflows float64 (column "b")`,
		},
		{
			name: "NaN in the first row is data, not a header",
			in:   "NaN,1,2\n",
			err:  ErrNonFinite, line: 1, col: 1,
			msg: `line 1, column 1: non-finite value: "NaN" (column "col0")`,
		},
		{name: "empty file", in: "", err: ErrEmpty, msg: "no data rows"},
		{name: "blank lines only", in: "\n\r\n\n", err: ErrEmpty, msg: "no data rows"},
		{name: "header only", in: "a,b,y\n", err: ErrEmpty, msg: "no data rows"},
		{name: "header only, HeaderYes", in: "1,2,3\n", opts: &CSVOptions{Header: HeaderYes}, err: ErrEmpty, msg: "no data rows"},
		{
			name: "unknown target name",
			in:   "a,b,y\n1,2,3\n",
			opts: &CSVOptions{Target: "species"},
			err:  ErrNoTarget, line: 1,
			msg: `line 1: target column not found: "species" not among "a", "b", "y"`,
		},
		{
			name: "target name without header",
			in:   "a,b,y\n1,2,3\n",
			opts: &CSVOptions{Target: "y", Header: HeaderNo},
			err:  ErrNoTarget, line: 1,
			msg: `line 1: target column not found: "y" given by name, but the input has no header`,
		},
		{
			name: "target index out of range",
			in:   "1,2,3\n",
			opts: &CSVOptions{Target: "3"},
			err:  ErrNoTarget, line: 1,
			msg: "line 1: target column not found: index 3 out of range: rows have 3 columns (0 to 2)",
		},
		{
			name: "negative target index",
			in:   "1,2,3\n",
			opts: &CSVOptions{Target: "-1"},
			err:  ErrNoTarget, line: 1,
			msg: "line 1: target column not found: index -1 out of range: rows have 3 columns (0 to 2)",
		},
		{
			name: "unknown class with fixed Classes",
			in:   "a,y\n1,x\n2,q\n",
			opts: &CSVOptions{Classify: true, Classes: []string{"x", "y"}},
			err:  ErrUnknownClass, line: 3, col: 2,
			msg: `line 3, column 2: unknown class "q" (column "y"): classes are ["x" "y"]`,
		},
		{
			// encoding/csv reports the byte column of the bare quote.
			name: "bare quote",
			in:   "a,b,y\n1,2\"x,3\n",
			err:  csv.ErrBareQuote, line: 2, col: 4,
			msg: `line 2, column 4: bare " in non-quoted-field`,
		},
		{
			name: "unterminated quote",
			in:   "a,b,y\n1,\"2,3\n",
			err:  csv.ErrQuote, line: 2, col: 8,
			msg: `line 2, column 8: extraneous or missing " in quoted-field`,
		},
	}
	// Every spelling of a non-finite value that strconv accepts.
	for j, s := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "inf", "Infinity", "-infinity"} {
		tests = append(tests, test{
			name: "non-finite " + s,
			in:   "a,b,y\n1,2,3\n4," + s + ",6\n",
			opts: &CSVOptions{Header: Header(j % 2)}, // HeaderAuto and HeaderYes agree here.
			err:  ErrNonFinite, line: 3, col: 2,
			msg: fmt.Sprintf(`line 3, column 2: non-finite value: %q (column "b")`, s),
		})
	}
	for i, test := range tests {
		d, err := ReadCSV(strings.NewReader(test.in), test.opts)
		if err == nil {
			t.Errorf("%d %s: got dataset %v, want error", i, test.name, d)
			continue
		}
		if !errors.Is(err, test.err) {
			t.Errorf("%d %s: got error %v, want %v", i, test.name, err, test.err)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%d %s: got error %T, want *ParseError", i, test.name, err)
			continue
		}
		if pe.Line != test.line || pe.Column != test.col {
			t.Errorf("%d %s: got line %d, column %d, want %d, %d", i, test.name, pe.Line, pe.Column, test.line, test.col)
		}
		if got := err.Error(); got != test.msg {
			t.Errorf("%d %s: got message %q, want %q", i, test.name, got, test.msg)
		}
	}
}

func TestReadCSVDuplicateClasses(t *testing.T) {
	_, err := ReadCSV(strings.NewReader("a,y\n1,x\n"), &CSVOptions{Classify: true, Classes: []string{"x", "x"}})
	if err == nil || !strings.Contains(err.Error(), `class "x" listed twice`) {
		t.Errorf("got error %v, want one about the duplicate class", err)
	}
}

func TestParseErrorMessage(t *testing.T) {
	for i, test := range []struct {
		err  ParseError
		want string
	}{
		{ParseError{File: "testdata/bad.csv", Line: 4, Column: 3, Err: ErrNotNumber}, "testdata/bad.csv:4:3: not a number"},
		{ParseError{File: "bad.csv", Line: 4, Err: ErrFieldCount}, "bad.csv:4: wrong number of fields"},
		{ParseError{File: "bad.csv", Err: ErrEmpty}, "bad.csv: no data rows"},
		{ParseError{Line: 4, Column: 3, Err: ErrNotNumber}, "line 4, column 3: not a number"},
		{ParseError{Line: 4, Err: ErrNotNumber}, "line 4: not a number"},
		{ParseError{Err: ErrEmpty}, "no data rows"},
	} {
		if got := test.err.Error(); got != test.want {
			t.Errorf("%d: got %q, want %q", i, got, test.want)
		}
	}
}

func TestLoadCSV(t *testing.T) {
	d, err := LoadCSV(filepath.Join("testdata", "iris.csv"), &CSVOptions{Target: "species", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	if r, c := d.X.Dims(); r != 150 || c != 4 {
		t.Errorf("X: got %d×%d, want 150×4", r, c)
	}
	if r, c := d.Y.Dims(); r != 150 || c != 3 {
		t.Errorf("Y: got %d×%d, want 150×3", r, c)
	}
	if want := []string{"setosa", "versicolor", "virginica"}; !slices.Equal(d.Classes, want) {
		t.Errorf("Classes: got %q, want %q", d.Classes, want)
	}
	if want := []string{"sepal_length", "sepal_width", "petal_length", "petal_width"}; !slices.Equal(d.Features, want) {
		t.Errorf("Features: got %q, want %q", d.Features, want)
	}
	// The first row of iris.csv is 5.1,3.5,1.4,0.2,setosa.
	if got, want := d.X.RawRowView(0), []float64{5.1, 3.5, 1.4, 0.2}; !slices.Equal(got, want) {
		t.Errorf("first row: got %v, want %v", got, want)
	}

	dir := t.TempDir()
	for i, test := range []struct {
		in   string
		err  error
		want string // message after the path
	}{
		{"a,b,y\n1,2,3\n4,abc,6\n", ErrNotNumber, `:3:2: not a number: "abc" (column "b")`},
		{"", ErrEmpty, ": no data rows"},
		{"a,b,y\n", ErrEmpty, ": no data rows"},
	} {
		path := filepath.Join(dir, fmt.Sprintf("bad%d.csv", i))
		if err := os.WriteFile(path, []byte(test.in), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCSV(path, nil)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, test.err) {
			t.Errorf("%d: got error %v, want *ParseError wrapping %v", i, err, test.err)
			continue
		}
		if pe.File != path {
			t.Errorf("%d: got File %q, want %q", i, pe.File, path)
		}
		if got, want := err.Error(), path+test.want; got != want {
			t.Errorf("%d: got %q, want %q", i, got, want)
		}
	}

	_, err = LoadCSV(filepath.Join(dir, "missing.csv"), nil)
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("got %v, want a not-exist error naming the file", err)
	}
}

func TestRowParser(t *testing.T) {
	features := []string{"b", "a"}
	header := []string{"y", "a", " b "}
	p, err := NewRowParser(features, header)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, 2)
	if err := p.Parse(dst, []string{"setosa", "1", "2"}, 2); err != nil {
		t.Fatal(err)
	}
	if want := []float64{2, 1}; !slices.Equal(dst, want) {
		t.Errorf("got %v, want %v", dst, want)
	}

	for i, test := range []struct {
		record    []string
		err       error
		line, col int
		msg       string
	}{
		{[]string{"x", "1"}, ErrFieldCount, 7, 0, "line 7: wrong number of fields: expected 3, got 2"},
		{[]string{"x", "1", "two"}, ErrNotNumber, 7, 3, `line 7, column 3: not a number: "two" (column "b")`},
		{[]string{"x", "Inf", "2"}, ErrNonFinite, 7, 2, `line 7, column 2: non-finite value: "Inf" (column "a")`},
	} {
		err := p.Parse(dst, test.record, 7)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, test.err) {
			t.Errorf("%d: got error %v, want *ParseError wrapping %v", i, err, test.err)
			continue
		}
		if pe.Line != test.line || pe.Column != test.col {
			t.Errorf("%d: got line %d, column %d, want %d, %d", i, pe.Line, pe.Column, test.line, test.col)
		}
		if got := err.Error(); got != test.msg {
			t.Errorf("%d: got %q, want %q", i, got, test.msg)
		}
	}

	// Without a header the record is the features in order.
	p, err = NewRowParser(features, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Parse(dst, []string{"3", "4"}, 1); err != nil || !slices.Equal(dst, []float64{3, 4}) {
		t.Errorf("got %v, %v, want [3 4], nil", dst, err)
	}
	if err := p.Parse(dst, []string{"3", "4", "5"}, 1); !errors.Is(err, ErrFieldCount) {
		t.Errorf("got %v, want ErrFieldCount", err)
	}

	record := []string{"3.25", "-4e2"}
	if allocs := testing.AllocsPerRun(100, func() { _ = p.Parse(dst, record, 1) }); allocs != 0 {
		t.Errorf("Parse: got %v allocations, want 0", allocs)
	}
	if !dataPanics(func() { _ = p.Parse(make([]float64, 3), record, 1) }) {
		t.Error("Parse with a short dst did not panic")
	}

	if _, err := NewRowParser([]string{"a", "c"}, header); err == nil || !strings.Contains(err.Error(), `feature "c"`) {
		t.Errorf("got error %v, want one naming feature c", err)
	}
	if _, err := NewRowParser(nil, header); err == nil {
		t.Error("NewRowParser with no features: got nil error")
	}
}

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

func TestScaleKind(t *testing.T) {
	for _, k := range []ScaleKind{NoScaling, Standardize, MinMax, MaxAbs} {
		got, err := ParseScaleKind(k.String())
		if err != nil || got != k {
			t.Errorf("ParseScaleKind(%q): got %v, %v, want %v", k.String(), got, err, k)
		}
	}
	if got, want := ScaleKind(9).String(), "ScaleKind(9)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := ParseScaleKind("zscore"); err == nil {
		t.Error("ParseScaleKind(zscore): got nil error")
	}
}

func TestScaler(t *testing.T) {
	x := mat.NewDense(4, 3, []float64{
		1, -2, 7,
		2, 4, 7,
		3, 0, 7,
		6, -8, 7, // the last column is constant
	})
	for _, kind := range []ScaleKind{NoScaling, Standardize, MinMax, MaxAbs} {
		s := FitScaler(kind, x)
		var xs mat.Dense // the zero value is sized by Transform
		s.Transform(&xs, x)
		for j := range 3 {
			col := mat.Col(nil, j, &xs)
			switch kind {
			case NoScaling:
				if !floats.Equal(col, mat.Col(nil, j, x)) {
					t.Errorf("%v column %d: got %v, want it unchanged", kind, j, col)
				}
			case Standardize:
				mean, std := stat.PopMeanStdDev(col, nil)
				wantStd := 1.0
				if j == 2 {
					wantStd = 0 // a constant column becomes 0
				}
				if math.Abs(mean) > 1e-14 || math.Abs(std-wantStd) > 1e-14 {
					t.Errorf("%v column %d: got mean %v, std %v, want 0, %v", kind, j, mean, std, wantStd)
				}
			case MinMax:
				lo, hi := floats.Min(col), floats.Max(col)
				wantHi := 1.0
				if j == 2 {
					wantHi = 0
				}
				if lo != 0 || hi != wantHi {
					t.Errorf("%v column %d: got range [%v, %v], want [0, %v]", kind, j, lo, hi, wantHi)
				}
			case MaxAbs:
				m := 0.0
				for _, v := range col {
					m = math.Max(m, math.Abs(v))
				}
				if m != 1 {
					t.Errorf("%v column %d: got max |x| %v, want 1", kind, j, m)
				}
			}
		}
		if s.Scale[2] != 1 && kind != MaxAbs {
			t.Errorf("%v: constant column: got scale %v, want 1", kind, s.Scale[2])
		}

		// Inverse undoes Transform, in place.
		s.Inverse(&xs, &xs)
		if !mat.EqualApprox(&xs, x, 1e-14) {
			t.Errorf("%v: Inverse: got %v, want %v", kind, mat.Formatted(&xs), mat.Formatted(x))
		}

		// TransformRow agrees with Transform, in place and without
		// allocating.
		var want mat.Dense
		s.Transform(&want, x)
		row := make([]float64, 3)
		for i := range 4 {
			copy(row, x.RawRowView(i))
			s.TransformRow(row, row)
			if !floats.Equal(row, want.RawRowView(i)) {
				t.Errorf("%v: TransformRow(row %d): got %v, want %v", kind, i, row, want.RawRowView(i))
			}
		}
		src := x.RawRowView(1)
		if allocs := testing.AllocsPerRun(100, func() { s.TransformRow(row, src) }); allocs != 0 {
			t.Errorf("%v: TransformRow: got %v allocations, want 0", kind, allocs)
		}
	}

	// Standardize uses the population standard deviation: for 1, 2, 3, 6
	// the mean is 3 and the variance (4+1+0+9)/4 = 3.5.
	s := FitScaler(Standardize, x)
	if s.Offset[0] != 3 || s.Scale[0] != math.Sqrt(3.5) {
		t.Errorf("got offset %v, scale %v, want 3, √3.5", s.Offset[0], s.Scale[0])
	}
	// MaxAbs of column 1 is |-8|.
	if s := FitScaler(MaxAbs, x); s.Offset[1] != 0 || s.Scale[1] != 8 {
		t.Errorf("MaxAbs: got offset %v, scale %v, want 0, 8", s.Offset[1], s.Scale[1])
	}

	// The zero value is the identity.
	var id Scaler
	var got mat.Dense
	id.Transform(&got, x)
	if !mat.Equal(&got, x) {
		t.Error("zero Scaler changed X")
	}

	for i, f := range []func(){
		func() { s.Transform(&mat.Dense{}, mat.NewDense(2, 2, nil)) },
		func() { s.Transform(mat.NewDense(3, 3, nil), x) },
		func() { s.Inverse(&mat.Dense{}, mat.NewDense(2, 4, nil)) },
		func() { s.TransformRow(make([]float64, 3), make([]float64, 2)) },
		func() { s.TransformRow(make([]float64, 2), make([]float64, 2)) },
		func() { FitScaler(ScaleKind(7), x) },
		func() { (&Scaler{Offset: []float64{0}}).TransformRow([]float64{1}, []float64{1}) },
	} {
		if !dataPanics(f) {
			t.Errorf("%d: did not panic", i)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("a,b,y\n1,2,3\n4,5,6\n"), false, "", uint8(0))
	f.Add([]byte("sepal_length,species\n5.1,setosa\n4.9,\"set\"\"osa\"\n"), true, "species", uint8(1))
	f.Add([]byte("1,2\n3\n\"4\n"), true, "0", uint8(2))
	f.Add([]byte("a,b\nNaN,1e400\n"), false, "-1", uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, classify bool, target string, header uint8) {
		opts := &CSVOptions{Target: target, Classify: classify, Header: Header(header % 3)}
		d, err := ReadCSV(bytes.NewReader(data), opts)
		if err != nil {
			if d != nil {
				t.Errorf("got dataset and error %v", err)
			}
			return
		}
		n, p := d.X.Dims()
		yr, k := d.Y.Dims()
		if n == 0 || yr != n || len(d.Features) != p {
			t.Errorf("got X %d×%d, Y %d×%d, %d features", n, p, yr, k, len(d.Features))
		}
		for _, v := range d.X.RawMatrix().Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("non-finite feature %v", v)
			}
		}
		if classify {
			if len(d.Classes) != k {
				t.Errorf("got %d classes for %d columns", len(d.Classes), k)
			}
			d.Labels()
		} else if k != 1 || d.Classes != nil {
			t.Errorf("regression: got Y width %d, classes %q", k, d.Classes)
		}
	})
}

func TestReadCSVDuplicateColumnsAndBOM(t *testing.T) {
	_, err := ReadCSV(strings.NewReader("a,a,t\n1,2,x\n3,4,y\n"), &CSVOptions{Classify: true})
	var pe *ParseError
	if !errors.Is(err, ErrDuplicateColumn) || !errors.As(err, &pe) || pe.Line != 1 || pe.Column != 2 {
		t.Errorf("duplicate header: got %v, want ErrDuplicateColumn at line 1, column 2", err)
	}
	if _, err := NewRowParser([]string{"a"}, []string{"a", "b", "a"}); !errors.Is(err, ErrDuplicateColumn) {
		t.Errorf("NewRowParser with a duplicate header: got %v, want ErrDuplicateColumn", err)
	}
	// A byte-order mark before the header is not part of the first name.
	d, err := ReadCSV(strings.NewReader("\ufeffa,b,t\n1,2,x\n3,4,y\n"), &CSVOptions{Target: "t", Classify: true})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := d.X.Dims(); r != 2 || d.Features[0] != "a" {
		t.Errorf("with a BOM: got %d rows and features %q, want 2 rows and [a b]", r, d.Features)
	}
	// Nor before a first data row.
	d, err = ReadCSV(strings.NewReader("\ufeff1,2,3\n4,5,6\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := d.X.Dims(); r != 2 || d.X.At(0, 0) != 1 {
		t.Errorf("with a BOM and no header: got %d rows starting %v, want 2 rows starting 1", r, d.X.At(0, 0))
	}
}
