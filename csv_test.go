package nn

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

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
			msg: `line 3, column 2: not a number: "abc" (column "b"); to read text as categories, set CSVOptions.DetectCategorical`,
		},
		{
			name: "text in a regression target",
			in:   "a,b,y\n1,2,zz\n",
			err:  ErrNotNumber, line: 2, col: 3,
			msg: `line 2, column 3: not a number: "zz" (column "y"); for a target of class labels, set CSVOptions.Classify`,
		},
		{
			name: "missing value",
			in:   "a,b,y\n1,,3\n",
			err:  ErrNotNumber, line: 2, col: 2,
			msg: `line 2, column 2: not a number: "" (column "b"); to read it as a missing value, set CSVOptions.Missing`,
		},
		{
			name: "error in a field after a multi-line quoted field is on its own line",
			in:   "a,b,y\n1,\"2\",3\n\"4\n\",x,6\n",
			err:  ErrNotNumber, line: 4, col: 2,
			msg: `line 4, column 2: not a number: "x" (column "b"); to read text as categories, set CSVOptions.DetectCategorical`,
		},
		{
			name: "NaN in target",
			in:   "a,b,y\n1,2,NaN\n",
			err:  ErrNotFinite, line: 2, col: 3,
			msg: `line 2, column 3: non-finite value: "NaN" (column "y")`,
		},
		{
			name: "overflow",
			in:   "a,b,y\n1,1e400,3\n",
			err:  ErrNotFinite, line: 2, col: 2,
			msg: `line 2, column 2: non-finite value: "1e400" overflows float64 (column "b")`,
		},
		{
			name: "NaN in the first row is data, not a header",
			in:   "NaN,1,2\n",
			err:  ErrNotFinite, line: 1, col: 1,
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
			msg: `line 3, column 2: unknown class "q" (column "y"): classes are "x", "y"`,
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
			err:  ErrNotFinite, line: 3, col: 2,
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
		{"a,b,y\n1,2,3\n4,abc,6\n", ErrNotNumber, `:3:2: not a number: "abc" (column "b"); to read text as categories, set CSVOptions.DetectCategorical`},
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
		{[]string{"x", "Inf", "2"}, ErrNotFinite, 7, 2, `line 7, column 2: non-finite value: "Inf" (column "a")`},
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

// TestModelRowParser checks that a model's RowParser reads records as a
// CSVReader made with the model's options does: categories coded, missing
// values NaN, unknown categories −1 and counted, or errors when strict.
func TestModelRowParser(t *testing.T) {
	d, err := ReadCSV(strings.NewReader(tableCSV), &CSVOptions{Target: "label", Classify: true, DetectCategorical: true, Missing: DefaultMissing})
	if err != nil {
		t.Fatal(err)
	}
	c := &Classifier{Hidden: []int{3}, Epochs: 2, Seed: 1}
	if err := c.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	m := c.Model
	data := "label,size,colour,extra,age\nyes,1.5,red,x,31\nno,, blue ,y,NA\nno,2,purple,z,4\n"
	cr := NewCSVReader(strings.NewReader(data), m.CSVOptions())
	records, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.RowParser(records[0], false)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, m.Columns())
	got := make([]float64, m.Columns())
	for i, rec := range records[1:] {
		line, err := cr.Read(want)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Parse(got, rec, line); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		if !floats.Same(got, want) {
			t.Errorf("row %d: got %v, want %v", i, got, want)
		}
	}
	if p.Unknown() != 1 || cr.Unknown() != 1 {
		t.Errorf("unknown categories: parser %d, reader %d, want 1", p.Unknown(), cr.Unknown())
	}
	strict, err := m.RowParser(records[0], true)
	if err != nil {
		t.Fatal(err)
	}
	err = strict.Parse(got, records[3], 4)
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrUnknownCategory) || pe.Line != 4 || pe.Column != 3 {
		t.Errorf("strict: got %v, want a *ParseError at line 4, column 3 wrapping ErrUnknownCategory", err)
	}
	if _, err := m.RowParser([]string{"age", "size"}, false); err == nil || !strings.Contains(err.Error(), `feature "colour" not in header`) {
		t.Errorf("a header without a feature: got %v", err)
	}
}

// A class label that is empty, or spelled as missing, is an error at its
// line and column, as a missing regression target is: it is never learned
// as a class.
func TestMissingClassLabel(t *testing.T) {
	for _, tc := range []struct {
		data string
		opts *CSVOptions
		want string
	}{
		{"a,y\n1,x\n2,\n3,z\n", &CSVOptions{Classify: true}, `line 3, column 2: missing target: the class label "" (column "y")`},
		{"a,y\n1,x\n2,  \n3,z\n", &CSVOptions{Classify: true}, `line 3, column 2: missing target: the class label "" (column "y")`},
		{"a,y\n1,x\n2,NA\n3,z\n", &CSVOptions{Classify: true, Missing: DefaultMissing}, `line 3, column 2: missing target: the class label "NA" (column "y")`},
		{"a,y\n1,x\n2,z\n3,\n", &CSVOptions{Classify: true, Classes: []string{"x", "z"}}, `line 4, column 2: missing target`},
		{"a,y\n1,2\n2,NA\n", &CSVOptions{Missing: DefaultMissing}, `line 3, column 2: missing target: the target "NA" (column "y")`},
		{"a,y\n1,2\n2,\n", nil, `line 3, column 2: missing target: the target "" (column "y")`},
	} {
		_, err := ReadCSV(strings.NewReader(tc.data), tc.opts)
		if !errors.Is(err, ErrMissingTarget) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadCSV(%q): got %v, want an ErrMissingTarget with %q", tc.data, err, tc.want)
		}
	}
	// A class of a model's, such as "None", stays a class where it is
	// also a missing spelling.
	d, err := ReadCSV(strings.NewReader("a,y\n1,x\n2,None\n"), &CSVOptions{Classify: true, Classes: []string{"None", "x"}, Missing: DefaultMissing})
	if err != nil || !slices.Equal(d.Labels(), []int{1, 0}) {
		t.Errorf("None among the fixed classes: %v", err)
	}
	// Without missing spellings, NA is a label like any other.
	d, err = ReadCSV(strings.NewReader("a,y\n1,x\n2,NA\n"), &CSVOptions{Classify: true})
	if err != nil || !slices.Equal(d.Classes, []string{"NA", "x"}) {
		t.Errorf("NA without CSVOptions.Missing: classes %v, error %v; want [NA x]", d.Classes, err)
	}
}

// TestReadCSVSizeHint checks that a size hint, right or wrong, reads the
// same Dataset, and that a right one reads it into one allocation of about
// the size of the data, where growing the matrix row by row allocates
// twice that and more.
func TestReadCSVSizeHint(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b,c,label\n")
	rows := 30000
	for i := range rows {
		fmt.Fprintf(&b, "%d.25,%d,-%d.5,%c\n", i%97, i%13, i%7, 'x'+i%3)
	}
	text := b.String()
	read := func(hint int64) (*Dataset, uint64) {
		t.Helper()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		d, err := ReadCSV(strings.NewReader(text), &CSVOptions{Classify: true, SizeHint: hint})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		return d, after.TotalAlloc - before.TotalAlloc
	}
	want, grown := read(0)
	size := int64(len(text))
	for _, hint := range []int64{size, size / 3, 3 * size, 1} {
		d, _ := read(hint)
		if !mat.Equal(d.X, want.X) || !mat.Equal(d.Y, want.Y) || !slices.Equal(d.Classes, want.Classes) {
			t.Errorf("SizeHint %d: the Dataset differs from the one read without a hint", hint)
		}
	}
	_, hinted := read(size)
	data := uint64(rows * 3 * 8)
	if grown-hinted < data {
		t.Errorf("reading %d bytes of features allocates %d bytes with the size hint and %d without, want at least the data's size less", data, hinted, grown)
	}
}

// TestIsMissing checks the quick test of a missing spelling against the
// plain lookup of the trimmed field, on spellings, numbers, spaces and
// text that shares a spelling's first byte or length.
func TestIsMissing(t *testing.T) {
	spellings := append(slices.Clone(DefaultMissing), " padded ", "ñ/a", strings.Repeat("z", 70))
	tab, err := newTable([]string{"a"}, &CSVOptions{Missing: spellings}, false)
	if err != nil {
		t.Fatal(err)
	}
	fields := []string{"", " ", "NA", " NA", "NA ", "\tnan", "-nan", "-1.5", "-na", "Nb", "NAN", "#N/A", "1", "12345", "N/A", "n/a", "<NA>", "<NA", "padded", " padded", "ñ/a", " ñ/a", "ña", strings.Repeat("z", 70), strings.Repeat("z", 69), "null", "NULL ", "None", "none"}
	for _, f := range append(fields, spellings...) {
		if got, want := tab.isMissing(f), tab.missing[strings.TrimSpace(f)]; got != want {
			t.Errorf("isMissing(%q) = %v, want %v", f, got, want)
		}
	}
}
