package nn

import (
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// readAll reads every row of data with the options, returning the feature
// rows, the targets and the lines.
func readAll(t *testing.T, data string, opts *CSVOptions) (features []string, target string, rows [][]float64, targets []string, lines []int, err error) {
	t.Helper()
	r := NewCSVReader(strings.NewReader(data), opts)
	features, target, err = r.Columns()
	if err != nil {
		return nil, "", nil, nil, nil, err
	}
	for {
		x := make([]float64, len(features))
		line, err := r.Read(x)
		if err == io.EOF {
			return features, target, rows, targets, lines, nil
		}
		if err != nil {
			return features, target, rows, targets, lines, err
		}
		rows = append(rows, x)
		targets = append(targets, r.Target())
		lines = append(lines, line)
	}
}

func TestCSVReader(t *testing.T) {
	for i, test := range []struct {
		name     string
		in       string
		opts     *CSVOptions
		features []string
		target   string
		rows     [][]float64
		targets  []string
		lines    []int
	}{
		{
			name:     "every column but the last, as ReadCSV",
			in:       "a,b,y\n1,2,x\n3,4,z\n",
			features: []string{"a", "b"}, target: "y",
			rows:    [][]float64{{1, 2}, {3, 4}},
			targets: []string{"x", "z"}, lines: []int{2, 3},
		},
		{
			name:     "features by name in any order, other columns ignored",
			in:       "species, petal ,note,sepal\nsetosa,1.5,tall,5\nvirginica, 6 ,,7\n",
			opts:     &CSVOptions{Features: []string{"sepal", "petal"}, Target: "species"},
			features: []string{"sepal", "petal"}, target: "species",
			rows:    [][]float64{{5, 1.5}, {7, 6}},
			targets: []string{"setosa", "virginica"}, lines: []int{2, 3},
		},
		{
			name:     "features without a target column",
			in:       "sepal,petal\n5,1.5\n",
			opts:     &CSVOptions{Features: []string{"petal", "sepal"}, Target: "species"},
			features: []string{"petal", "sepal"},
			rows:     [][]float64{{1.5, 5}}, targets: []string{""}, lines: []int{2},
		},
		{
			name:     "headerless rows of exactly the features",
			in:       "5,1.5\n7,6\n",
			opts:     &CSVOptions{Features: []string{"sepal", "petal"}, Target: "species"},
			features: []string{"sepal", "petal"},
			rows:     [][]float64{{5, 1.5}, {7, 6}}, targets: []string{"", ""}, lines: []int{1, 2},
		},
		{
			name:     "headerless columns by generated name, the target's among them",
			in:       "a,5,1.5\nb,7,6\n",
			opts:     &CSVOptions{Features: []string{"col2", "col1"}, Target: "col0"},
			features: []string{"col2", "col1"}, target: "col0",
			rows:    [][]float64{{1.5, 5}, {6, 7}},
			targets: []string{"a", "b"}, lines: []int{1, 2},
		},
		{
			name:     "headerless rows of exactly features with generated names",
			in:       "5,1.5\n",
			opts:     &CSVOptions{Features: []string{"col1", "col2"}, Target: "col0"},
			features: []string{"col1", "col2"},
			rows:     [][]float64{{5, 1.5}}, targets: []string{""}, lines: []int{1},
		},
		{
			name:     "in headerless rows laid out by position, the target's name is data",
			in:       "col0,5,1.5\nb,7,6\n",
			opts:     &CSVOptions{Features: []string{"col2", "col1"}, Target: "col0"},
			features: []string{"col2", "col1"}, target: "col0",
			rows:    [][]float64{{1.5, 5}, {6, 7}},
			targets: []string{"col0", "b"}, lines: []int{1, 2},
		},
		{
			name:     "headerless, no target named: the last column unless a feature",
			in:       "5,1.5,a\n",
			opts:     &CSVOptions{Features: []string{"col1", "col0"}},
			features: []string{"col1", "col0"}, target: "col2",
			rows: [][]float64{{1.5, 5}}, targets: []string{"a"}, lines: []int{1},
		},
		{
			name:     "a header, no target named: the last column unless a feature",
			in:       "b,a,t\n1,2,x\n",
			opts:     &CSVOptions{Features: []string{"a", "b"}},
			features: []string{"a", "b"}, target: "t",
			rows: [][]float64{{2, 1}}, targets: []string{"x"}, lines: []int{2},
		},
		{
			name:     "a first row that names the target is a header, numbers or not",
			in:       "1,2,3\n4,5,6\n",
			opts:     &CSVOptions{Features: []string{"1"}, Target: "3"},
			features: []string{"1"}, target: "3",
			rows: [][]float64{{4}}, targets: []string{"6"}, lines: []int{2},
		},
		{
			name:     "a byte order mark and a quoted first field",
			in:       "\ufeff\"a\",b\n1,2\n",
			opts:     &CSVOptions{Features: []string{"a"}, Target: "b"},
			features: []string{"a"}, target: "b",
			rows: [][]float64{{1}}, targets: []string{"2"}, lines: []int{2},
		},
	} {
		features, target, rows, targets, lines, err := readAll(t, test.in, test.opts)
		if err != nil {
			t.Errorf("%d %s: %v", i, test.name, err)
			continue
		}
		if !slices.Equal(features, test.features) || target != test.target {
			t.Errorf("%d %s: columns %q, target %q; want %q, %q", i, test.name, features, target, test.features, test.target)
		}
		if len(rows) != len(test.rows) || !slices.Equal(targets, test.targets) || !slices.Equal(lines, test.lines) {
			t.Errorf("%d %s: got rows %v, targets %q, lines %v; want %v, %q, %v", i, test.name, rows, targets, lines, test.rows, test.targets, test.lines)
			continue
		}
		for k := range rows {
			if !slices.Equal(rows[k], test.rows[k]) {
				t.Errorf("%d %s: row %d is %v, want %v", i, test.name, k, rows[k], test.rows[k])
			}
		}
	}
}

func TestCSVReaderErrors(t *testing.T) {
	features := []string{"sepal", "petal"}
	for i, test := range []struct {
		name string
		in   string
		opts *CSVOptions
		err  error
		msg  string
	}{
		{
			name: "a feature missing from a detected header",
			in:   "sepal,width\n1,2\n",
			opts: &CSVOptions{Features: features},
			err:  ErrNoFeature,
			msg:  `line 1: the header names no column "petal" (features: sepal, petal; the data's columns: "sepal", "width"); the first row was taken for a header because field 1, "sepal", is not a number: feature column not found`,
		},
		{
			name: "a header named by its target",
			in:   "1,y\n",
			opts: &CSVOptions{Features: features, Target: "y"},
			err:  ErrNoFeature,
			msg:  `line 1: the header names no column "sepal" (features: sepal, petal; the data's columns: "1", "y"); the first row was taken for a header because it names the target "y": feature column not found`,
		},
		{
			name: "too many fields for the features",
			in:   "1,2\n3,4,5\n",
			opts: &CSVOptions{Features: features},
			err:  ErrFieldCount,
			msg:  "line 2: wrong number of fields: expected 2, got 3",
		},
		{
			name: "a bad value names the feature",
			in:   "petal,x,sepal\n1,a,2\n3,b,NaN\n",
			opts: &CSVOptions{Features: features},
			err:  ErrNotFinite,
			msg:  `line 3, column 3: non-finite value: "NaN" (column "sepal")`,
		},
		{
			name: "features named by numbers are not positions",
			in:   "7,1,2,3\n",
			opts: &CSVOptions{Features: []string{"0", "1", "2"}},
			err:  ErrFieldCount,
			msg:  "line 1: wrong number of fields: expected 3, got 4",
		},
		{
			name: "nor are names with leading zeros",
			in:   "7,1,2\n",
			opts: &CSVOptions{Features: []string{"col01", "col2"}},
			err:  ErrFieldCount,
			msg:  "line 1: wrong number of fields: expected 2, got 3",
		},
		{
			name: "a duplicate column",
			in:   "sepal,petal,sepal\n1,2,3\n",
			opts: &CSVOptions{Features: features},
			err:  ErrDuplicateColumn,
			msg:  `line 1, column 3: duplicate column name: column "sepal" also names column 1`,
		},
		{
			name: "a syntax error",
			in:   "sepal,petal\n1,\"2\n",
			opts: &CSVOptions{Features: features},
			err:  csv.ErrQuote,
			msg:  `line 2, column 6: extraneous or missing " in quoted-field`,
		},
	} {
		_, _, _, _, _, err := readAll(t, test.in, test.opts)
		var pe *ParseError
		if !errors.Is(err, test.err) || !errors.As(err, &pe) || err.Error() != test.msg {
			t.Errorf("%d %s: got error %v, want a *ParseError %q wrapping %v", i, test.name, err, test.msg, test.err)
		}
	}

	// An empty input has no columns: io.EOF, as for csv.Reader.
	if _, _, err := NewCSVReader(strings.NewReader(""), nil).Columns(); err != io.EOF {
		t.Errorf("empty input: Columns returned %v, want io.EOF", err)
	}
	if _, err := NewCSVReader(strings.NewReader("a,b\n"), nil).Read(make([]float64, 1)); err != io.EOF {
		t.Errorf("header only: Read returned %v, want io.EOF", err)
	}
	// Features listed twice are a mistake of the caller, not of the data.
	_, _, err := NewCSVReader(strings.NewReader("a,b\n1,2\n"), &CSVOptions{Features: []string{"a", "a"}}).Columns()
	var pe *ParseError
	if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), `"a" twice`) {
		t.Errorf("features listed twice: got %v, want an error that is not a *ParseError", err)
	}
	// Nor are an empty list of features, or a target among them.
	for _, opts := range []*CSVOptions{{Features: []string{}}, {Features: []string{"a", "b"}, Target: "b"}} {
		if _, _, err := NewCSVReader(strings.NewReader("a,b\n1,2\n"), opts).Columns(); err == nil || errors.As(err, &pe) {
			t.Errorf("options %+v: got %v, want an error that is not a *ParseError", opts, err)
		}
		if _, err := ReadCSV(strings.NewReader("a,b\n1,2\n"), opts); err == nil {
			t.Errorf("ReadCSV with options %+v: got no error", opts)
		}
	}
	// The first error of the first row stays.
	r := NewCSVReader(strings.NewReader("x,y\n1,2\n"), &CSVOptions{Features: features})
	for range 2 {
		if _, err := r.Read(make([]float64, 2)); !errors.Is(err, ErrNoFeature) {
			t.Errorf("got %v, want ErrNoFeature on every call", err)
		}
	}
	if !dataPanics(func() { NewCSVReader(strings.NewReader("1,2\n"), nil).Read(make([]float64, 3)) }) {
		t.Error("Read into a slice of the wrong length did not panic")
	}
}

// Read allocates nothing per row once the first row is read but the row's
// text, which encoding/csv allocates in one piece.
func TestCSVReaderAllocs(t *testing.T) {
	var b strings.Builder
	b.WriteString("y,b,a\n")
	for range 1000 {
		b.WriteString("x,1.5,-2e3\n")
	}
	r := NewCSVReader(strings.NewReader(b.String()), &CSVOptions{Features: []string{"a", "b"}, Target: "y"})
	x := make([]float64, 2)
	if _, err := r.Read(x); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(500, func() {
		if _, err := r.Read(x); err != nil {
			t.Fatal(err)
		}
	}); allocs > 1 {
		t.Errorf("Read: %v allocations per row, want at most 1", allocs)
	}
}
