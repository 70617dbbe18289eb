package nn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The loaders of data from outside the program never panic, whatever the
// bytes, and what they accept holds together.

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]uint32{2, 1, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(idxBytes([]uint32{3}, []byte{9, 3, 1}))
	f.Add(idxBytes([]uint32{30000, 200, 200}, nil))
	f.Add(gzipBytes(f, idxBytes([]uint32{2, 2}, []byte{1, 2, 3, 4})))
	f.Add([]byte{0, 0, 8, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		dims, values, err := ReadIDX(bytes.NewReader(data))
		if err != nil {
			return
		}
		size := 1
		for _, d := range dims {
			size *= d
		}
		if len(dims) == 0 || len(values) != size {
			t.Errorf("dimensions %v hold %d values, got %d", dims, size, len(values))
		}
	})
}

func FuzzLoadCheckpoint(f *testing.F) {
	var b bytes.Buffer
	if err := writeCheckpoint(&b, randomCheckpoint()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"format":"github.com/neuralgo/nn checkpoint","version":1,"epoch":0,"method":"gd","params":[1],"best":"NaN"}`))
	f.Add([]byte(`{"format":"github.com/neuralgo/nn checkpoint","version":2,"epoch":0,"method":"adam","params":[1,2],"moment1":[0,0],"moment2":[0,0],"best":"+Inf","fingerprint":{"sizes":[1,1],"activations":["sigmoid"],"loss":"squared-error","method":"adam"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeCheckpoint(data)
		if err != nil {
			return
		}
		// What was read writes back and reads again the same.
		var b bytes.Buffer
		if err := writeCheckpoint(&b, c); err != nil {
			t.Fatalf("writing a checkpoint that was read: %v", err)
		}
		c2, err := decodeCheckpoint(b.Bytes())
		if err != nil {
			t.Fatalf("reading a checkpoint that was written: %v", err)
		}
		if err := sameCheckpoint(c, c2); err != nil {
			t.Error(err)
		}
	})
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("a,b,y\n1,2,x\n3,4,z\n"), "b|a", "y", uint8(0))
	f.Add([]byte("x,5,1.5\ny,7,6\n"), "col2|col1", "col0", uint8(2))
	f.Add([]byte("\ufeff\"a\",b\n1,\"2\n3\"\n"), "a", "b", uint8(1))
	f.Add([]byte("1,2,3\n4,5\n"), "", "", uint8(0))
	f.Add([]byte("s,p\n5_1,0x1p-2\r7,8\r"), "p", "s", uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, features, target string, header uint8) {
		opts := &CSVOptions{Target: target, Header: Header(header % 3)}
		if features != "" {
			opts.Features = strings.Split(features, "|")
		}
		r := NewCSVReader(bytes.NewReader(data), opts)
		names, _, err := r.Columns()
		if err != nil {
			return
		}
		if opts.Features != nil && len(names) != len(opts.Features) {
			t.Fatalf("got %d features, want %d", len(names), len(opts.Features))
		}
		x := make([]float64, len(names))
		for range 100 {
			line, err := r.Read(x)
			if err == io.EOF {
				return
			}
			if err != nil {
				if pe, ok := err.(*ParseError); ok && pe.Line < 0 {
					t.Fatalf("error at line %d", pe.Line)
				}
				return
			}
			if line < 1 {
				t.Fatalf("row at line %d", line)
			}
			for _, v := range x {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("read %v", v)
				}
			}
		}
	})
}

// FuzzReadTable reads CSV tables with categorical and missing values,
// learning the categories (ReadCSV) and with fixed ones (a CSVReader), and
// checks that what is read can be encoded: codes in range, missing values
// NaN and nothing else non-finite.
func FuzzReadTable(f *testing.F) {
	f.Add([]byte(tableCSV), "colour", "NA|", "", true)
	f.Add([]byte("a,b,y\n1,red,x\n,blue,z\n2,,x\n"), "", "", "", true)
	f.Add([]byte("z,y\n1,a\n02,b\nx,a\n1.0,b\n"), "z", "?", "", false)
	f.Add([]byte("a,y\nNaN,1\nnan,2\n-nan,3\n"), "", "nan|NaN", "", true)
	f.Add([]byte("a,w,y\n1,2,x\n,0.5,z\n"), "", "", "w", true)
	f.Fuzz(func(t *testing.T, data []byte, categorical, missing, weight string, detect bool) {
		opts := &CSVOptions{Classify: true, DetectCategorical: detect, Weight: weight}
		if categorical != "" {
			opts.Categorical = strings.Split(categorical, "|")
		}
		if missing != "" {
			opts.Missing = strings.Split(missing, "|")
		}
		d, err := ReadCSV(bytes.NewReader(data), opts)
		if err != nil {
			return
		}
		rows, cols := d.X.Dims()
		if weight != "" && len(d.Weights) != rows || weight == "" && d.Weights != nil {
			t.Fatalf("%d weights for %d rows", len(d.Weights), rows)
		}
		for _, w := range d.Weights {
			if !(w >= 0) || math.IsInf(w, 0) {
				t.Fatalf("weight %v", w)
			}
		}
		if d.Categories != nil && len(d.Categories) != cols {
			t.Fatalf("%d categories lists for %d columns", len(d.Categories), cols)
		}
		if err := checkTable(d); err != nil {
			t.Fatal(err)
		}
		e, err := FitEncoding(d, ImputeMedian, true)
		if err != nil {
			return // a column with every value missing
		}
		if err := e.CheckRows(d.X); err != nil {
			t.Fatalf("rows read do not encode: %v", err)
		}
		var enc mat.Dense
		e.Encode(&enc, d.X)
		for _, v := range enc.RawMatrix().Data {
			if !finite(v) {
				t.Fatalf("encoded value %v", v)
			}
		}
		// The same rows read for a model with fixed categories give the
		// same codes, or −1 for none.
		fixed := make(map[string][]string)
		for j, c := range d.Categories {
			if c != nil {
				fixed[d.Features[j]] = c
			}
		}
		r := NewCSVReader(bytes.NewReader(data), &CSVOptions{Features: d.Features, Target: d.Target, Categories: fixed, Missing: opts.Missing, Header: HeaderYes})
		if _, _, err := r.Columns(); err != nil {
			return // a headerless file: the names are generated
		}
		x := make([]float64, cols)
		for i := 0; ; i++ {
			_, err := r.Read(x)
			if err != nil {
				break
			}
			if i >= d.X.RawMatrix().Rows {
				break
			}
			for j, v := range x {
				w := d.X.At(i, j)
				if v != w && !(math.IsNaN(v) && math.IsNaN(w)) {
					t.Fatalf("row %d column %d: read %v for a model, %v for training", i, j, v, w)
				}
			}
		}
		if r.Unknown() != 0 {
			t.Fatalf("%d unknown categories in the rows the categories were learned from", r.Unknown())
		}
	})
}

// checkTable returns an error if a value of d.X is infinite, or a code
// of a categorical column is not an index of its categories.
func checkTable(d *Dataset) error {
	r, c := d.X.Dims()
	for i := range r {
		for j := range c {
			v := d.X.At(i, j)
			if math.IsInf(v, 0) {
				return fmt.Errorf("X(%d,%d) is %v", i, j, v)
			}
			if d.Categories != nil && d.Categories[j] != nil && !math.IsNaN(v) {
				if k := int(v); float64(k) != v || k < 0 || k >= len(d.Categories[j]) {
					return fmt.Errorf("X(%d,%d) is %v, not a code of %d categories", i, j, v, len(d.Categories[j]))
				}
			}
		}
	}
	return nil
}

// FuzzReadTargets reads regressions on several targets, with a weight
// column, and checks the shapes of what it accepts.
func FuzzReadTargets(f *testing.F) {
	f.Add([]byte("a,y1,w,b,y2\n1,10,1,2,-1\n2,20,0.5,3,-2\n"), "y2|y1", "w")
	f.Add([]byte("1,2,3,4\n5,6,7,8\n"), "3|1", "2")
	f.Add([]byte("a,y\n1,2\n"), "y", "")
	f.Fuzz(func(t *testing.T, data []byte, targets, weight string) {
		opts := &CSVOptions{Targets: strings.Split(targets, "|"), Weight: weight}
		d, err := ReadCSV(bytes.NewReader(data), opts)
		if err != nil {
			return
		}
		rows, _ := d.X.Dims()
		yr, k := d.Y.Dims()
		if yr != rows || k != len(opts.Targets) || len(d.Targets) != k {
			t.Fatalf("%d rows, Y %d×%d, targets %q for %q", rows, yr, k, d.Targets, opts.Targets)
		}
		if weight != "" && len(d.Weights) != rows {
			t.Fatalf("%d weights for %d rows", len(d.Weights), rows)
		}
		for _, v := range d.Y.RawMatrix().Data {
			if !finite(v) {
				t.Fatalf("target %v", v)
			}
		}
	})
}

// FuzzStream feeds FitStream a file of any bytes, as the only part of a
// stream, or as the second part after a good one: it trains or returns an
// error, never panics, and leaves no cache file.
func FuzzStream(f *testing.F) {
	f.Add([]byte("x,c,label\n1,red,a\n2,blue,b\n3,red,a\n4,NA,b\n5,blue,a\n"), false)
	f.Add([]byte("a,b,label\n1,2,x\n3,four,y\n"), true)
	f.Add([]byte("x,label\n1,a\n"), false)
	f.Add(gzipBytes(f, []byte("x,label\n1,a\n2,b\n3,a\n")), true)
	f.Add([]byte{}, false)
	good := "x,c,label\n" + strings.Repeat("1,red,a\n2,blue,b\n", 20)
	f.Fuzz(func(t *testing.T, data []byte, second bool) {
		dir := t.TempDir()
		name := filepath.Join(dir, "part.csv")
		if len(data) > 1 && data[0] == 0x1f && data[1] == 0x8b {
			name += ".gz"
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files := []string{name}
		if second {
			first := filepath.Join(dir, "first.csv")
			if err := os.WriteFile(first, []byte(good), 0o644); err != nil {
				t.Fatal(err)
			}
			files = []string{first, name}
		}
		c := &Classifier{Hidden: []int{2}, Epochs: 1, Seed: 1}
		opts := &CSVOptions{Classify: true, DetectCategorical: true, Missing: DefaultMissing}
		err := c.FitStream(context.Background(), &Stream{Files: files, CSV: opts, ShuffleBuffer: 8, CacheDir: dir})
		if err == nil && c.Model == nil {
			t.Error("no error and no model")
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "nn-stream-") {
				t.Errorf("the cache file %s is left behind", e.Name())
			}
		}
	})
}

// FuzzIDXRows reads a pair of IDX files of any bytes a row at a time: an
// error or rows, never a panic.
func FuzzIDXRows(f *testing.F) {
	f.Add(idxBytes([]uint32{2, 1, 3}, []byte{1, 2, 3, 4, 5, 6}), idxBytes([]uint32{2}, []byte{0, 1}))
	f.Add(gzipBytes(f, idxBytes([]uint32{1, 2, 2}, []byte{1, 2, 3, 4})), idxBytes([]uint32{1}, []byte{9}))
	f.Add(idxBytes([]uint32{1, 46340, 46340}, nil), idxBytes([]uint32{1}, []byte{0}))
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		dir := t.TempDir()
		img, lab := filepath.Join(dir, "img"), filepath.Join(dir, "lab")
		os.WriteFile(img, images, 0o644)
		os.WriteFile(lab, labels, 0o644)
		r := &IDXRows{Images: img, Labels: lab, Classes: 10}
		defer r.Close()
		if err := r.Rewind(); err != nil {
			return
		}
		x, y := make([]float64, len(r.pixels)), make([]float64, 10)
		for range 100 {
			if err := r.Next(x, y); err != nil {
				return
			}
		}
	})
}
