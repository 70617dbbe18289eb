package nn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralgo/nn/internal/atomicfile"
	"gonum.org/v1/gonum/mat"
)

// modelTestFloat returns, now and then, one of the values that a float
// format is most likely to get wrong, and otherwise a normal deviate.
func modelTestFloat(rnd *rand.Rand) float64 {
	if rnd.IntN(8) != 0 {
		return rnd.NormFloat64()
	}
	switch rnd.IntN(8) {
	case 0:
		return math.SmallestNonzeroFloat64 // the smallest subnormal
	case 1:
		return -math.SmallestNonzeroFloat64 * float64(1+rnd.IntN(1<<20)) // a subnormal
	case 2:
		return 0x1p-1022 * rnd.Float64() // a random subnormal
	case 3:
		return math.MaxFloat64 * (rnd.Float64()*2 - 1) // huge
	case 4:
		return math.Copysign(0, -1)
	case 5:
		return 1.0 / 3
	case 6:
		return math.Nextafter(1, 2)
	default:
		return rnd.NormFloat64() * 1e-300
	}
}

// randomModel returns a model of the given shape with random weights, a
// random scaler if scaled, and names for its features, target and classes.
func randomModel(rnd *rand.Rand, sizes []int, acts []Activation, noBias bool, loss Loss, scaled bool) *Model {
	n, err := New(Config{Sizes: sizes, Activations: acts, NoBias: noBias, Loss: loss})
	if err != nil {
		panic(err)
	}
	for i := range n.params {
		n.params[i] = modelTestFloat(rnd)
	}
	in, out := sizes[0], sizes[len(sizes)-1]
	m := &Model{Network: n, Target: "target"}
	for j := range in {
		m.Features = append(m.Features, fmt.Sprintf("feature %d", j))
	}
	if scaled {
		x := randDense(rnd, 20, in, -5, 5)
		m.Scaler = FitScaler(Standardize, x)
		m.Scaler.Offset[0] = 5e-324 // a subnormal offset and a huge scale survive too
		m.Scaler.Scale[in-1] = -1e300
	}
	switch {
	case loss == SquaredError && acts[len(acts)-1] != Softmax:
		// regression
	case out == 1:
		m.Classes = []string{"no", "yes"}
	default:
		for k := range out {
			m.Classes = append(m.Classes, fmt.Sprintf("class \"%d\" <%c>", k, 'a'+k))
		}
	}
	return m
}

// sameModel returns an error describing the first difference between a
// and b, comparing every float bit for bit.
func sameModel(a, b *Model) error {
	na, nb := a.Network, b.Network
	switch {
	case !slices.Equal(na.sizes, nb.sizes):
		return fmt.Errorf("sizes: got %v, want %v", nb.sizes, na.sizes)
	case !slices.Equal(na.acts, nb.acts):
		return fmt.Errorf("activations: got %v, want %v", nb.acts, na.acts)
	case na.bias != nb.bias || na.loss != nb.loss:
		return fmt.Errorf("bias, loss: got %v %v, want %v %v", nb.bias, nb.loss, na.bias, na.loss)
	case !modelSameBits(na.params, nb.params):
		return fmt.Errorf("params differ")
	case (a.Scaler == nil) != (b.Scaler == nil):
		return fmt.Errorf("scaler: got %v, want %v", b.Scaler, a.Scaler)
	case a.Scaler != nil && (a.Scaler.Kind != b.Scaler.Kind || !modelSameBits(a.Scaler.Offset, b.Scaler.Offset) || !modelSameBits(a.Scaler.Scale, b.Scaler.Scale)):
		return fmt.Errorf("scaler: got %+v, want %+v", b.Scaler, a.Scaler)
	case !slices.Equal(a.Features, b.Features) || (a.Features == nil) != (b.Features == nil):
		return fmt.Errorf("features: got %q, want %q", b.Features, a.Features)
	case a.Target != b.Target:
		return fmt.Errorf("target: got %q, want %q", b.Target, a.Target)
	case !slices.Equal(a.Classes, b.Classes) || (a.Classes == nil) != (b.Classes == nil):
		return fmt.Errorf("classes: got %q, want %q", b.Classes, a.Classes)
	}
	return nil
}

// modelSameBits reports whether a and b hold the same float64s bit for bit.
func modelSameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// modelSameDense reports whether a and b hold the same values bit for bit,
// which for numbers is == and for NaN the same NaN.
func modelSameDense(a, b *mat.Dense) bool {
	ar, ac := a.Dims()
	br, bc := b.Dims()
	if ar != br || ac != bc {
		return false
	}
	for i := range ar {
		for j := range ac {
			x, y := a.At(i, j), b.At(i, j)
			if !(x == y && math.Signbit(x) == math.Signbit(y)) && math.Float64bits(x) != math.Float64bits(y) {
				return false
			}
		}
	}
	return true
}

var modelShapes = []struct {
	sizes []int
	acts  []Activation
	loss  Loss
}{
	{[]int{4, 8, 3}, []Activation{ReLU, Softmax}, CrossEntropy},
	{[]int{2, 3, 1}, []Activation{Sigmoid, Sigmoid}, SquaredError},
	{[]int{5, 4, 1}, []Activation{Tanh, Sigmoid}, BinaryCrossEntropy},
	{[]int{3, 1}, []Activation{Identity}, SquaredError},
	{[]int{6, 7, 5, 4}, []Activation{ReLU, Tanh, Softmax}, SquaredError},
	{[]int{1, 2, 2, 2, 1}, []Activation{Identity, ReLU, Sigmoid, Identity}, SquaredError},
}

func TestModelRoundTrip(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for i, sh := range modelShapes {
		for _, noBias := range []bool{false, true} {
			for _, scaled := range []bool{false, true} {
				name := fmt.Sprintf("%d/%v/nobias=%t/scaled=%t", i, sh.sizes, noBias, scaled)
				m := randomModel(rnd, sh.sizes, sh.acts, noBias, sh.loss, scaled)
				path := filepath.Join(dir, fmt.Sprintf("model%d.json", i))
				if err := m.Save(path); err != nil {
					t.Fatalf("%s: Save: %v", name, err)
				}
				got, err := LoadModel(path)
				if err != nil {
					t.Fatalf("%s: LoadModel: %v", name, err)
				}
				if err := sameModel(m, got); err != nil {
					t.Errorf("%s: loaded model differs: %v", name, err)
				}
				// Inputs in [-3, 3) and a few rows with tiny and large values.
				x := randDense(rnd, 9, sh.sizes[0], -3, 3)
				x.Set(0, 0, 5e-324)
				x.Set(1, 0, -1e300)
				// The networks' raw outputs, NaN from overflow included, are
				// the same bits; Model.Predict refuses outputs that are not
				// finite, for both alike.
				raw := func(m *Model) *mat.Dense {
					xs := mat.DenseCopyOf(x)
					if m.Scaler != nil {
						m.Scaler.Transform(xs, xs)
					}
					p, err := m.Network.Predict(xs)
					if err != nil {
						t.Fatalf("%s: Network.Predict: %v", name, err)
					}
					return p
				}
				if want, yHat := raw(m), raw(got); !modelSameDense(yHat, want) {
					t.Errorf("%s: loaded model predicts\n%v\nwant\n%v", name, mat.Formatted(yHat), mat.Formatted(want))
				}
				want, werr := m.Predict(x)
				yHat, gerr := got.Predict(x)
				switch {
				case (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error():
					t.Errorf("%s: Predict: errors %v and %v", name, werr, gerr)
				case werr != nil && !errors.Is(werr, ErrNotFinite):
					t.Errorf("%s: Predict: %v", name, werr)
				case werr == nil && !modelSameDense(yHat, want):
					t.Errorf("%s: Model.Predict differs after the round trip", name)
				}
			}
		}
	}
}

func TestModelEncodeLayout(t *testing.T) {
	// A 2-2-1 network without biases, weights 1..6: the file a reader sees.
	n, err := New(Config{Sizes: []int{2, 2, 1}, Activations: []Activation{Tanh, Identity}, NoBias: true})
	if err != nil {
		t.Fatal(err)
	}
	copy(n.Params(), []float64{1, 2, 3, 4, 0.5, -0.25})
	var b bytes.Buffer
	if err := (&Model{Network: n, Features: []string{"a", "b"}, Target: "y"}).Encode(&b); err != nil {
		t.Fatal(err)
	}
	want := `{
  "format": "github.com/neuralgo/nn model",
  "version": 1,
  "sizes": [2,2,1],
  "activations": ["tanh","identity"],
  "bias": false,
  "loss": "squared-error",
  "weights": [
    [1,2,3,4],
    [0.5,-0.25]
  ],
  "features": ["a","b"],
  "target": "y"
}
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !json.Valid(b.Bytes()) {
		t.Error("output is not valid JSON")
	}
}

func TestModelPredictAndScale(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	m := randomModel(rnd, []int{4, 8, 3}, []Activation{ReLU, Softmax}, false, CrossEntropy, false)
	for i := range m.Network.params {
		m.Network.params[i] = rnd.NormFloat64()
	}
	m.Scaler = &Scaler{Kind: Standardize, Offset: []float64{1, -2, 0.5, 0}, Scale: []float64{2, 0.5, 3, 0.25}}
	x := randDense(rnd, 5, 4, -3, 3)
	yHat, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	// Predict = Network.Predict of the scaled inputs.
	var xs mat.Dense
	m.Scaler.Transform(&xs, x)
	want, err := m.Network.Predict(&xs)
	if err != nil {
		t.Fatal(err)
	}
	if !modelSameDense(yHat, want) {
		t.Errorf("Predict: got\n%v\nwant\n%v", mat.Formatted(yHat), mat.Formatted(want))
	}
	// Streaming: Prepare each row into a batch, then Network.PredictTo.
	s, err := m.Schema()
	if err != nil {
		t.Fatal(err)
	}
	batch := mat.NewDense(5, 4, nil)
	for i := range 5 {
		if err := s.Prepare(batch.RawRowView(i), x.RawRowView(i)); err != nil {
			t.Fatal(err)
		}
	}
	dst := mat.NewDense(5, 3, nil)
	var ws Workspace
	if err := m.Network.PredictTo(dst, batch, &ws); err != nil {
		t.Fatal(err)
	}
	if !modelSameDense(dst, want) {
		t.Errorf("Prepare + PredictTo: got\n%v\nwant\n%v", mat.Formatted(dst), mat.Formatted(want))
	}
	// Without a scaler, Prepare copies.
	row := make([]float64, 4)
	plain, err := (&Model{Network: m.Network}).Schema()
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Prepare(row, x.RawRowView(0)); err != nil {
		t.Fatal(err)
	}
	if !modelSameBits(row, x.RawRowView(0)) {
		t.Errorf("Prepare without scaler: got %v, want %v", row, x.RawRowView(0))
	}

	for _, test := range []struct {
		x    mat.Matrix
		want error
	}{
		{mat.NewDense(2, 3, nil), ErrShape},
		{mat.NewDense(1, 4, []float64{1, math.NaN(), 0, 0}), ErrNotFinite},
		{mat.NewDense(1, 4, []float64{1, 0, 0, math.MaxFloat64}), ErrNotFinite}, // overflows when scaled
	} {
		if _, err := m.Predict(test.x); !errors.Is(err, test.want) {
			t.Errorf("Predict(%v): got error %v, want %v", mat.Formatted(test.x), err, test.want)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Prepare of a short row did not panic")
			}
		}()
		s.Prepare(make([]float64, 3), make([]float64, 3))
	}()
}

// modelDirNames returns the names of the files in dir.
func modelDirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestModelSaveAtomic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	good := randomModel(rnd, []int{3, 4, 2}, []Activation{Tanh, Softmax}, false, CrossEntropy, true)
	dir := t.TempDir()
	path := filepath.Join(dir, "model.json")
	if err := good.Save(path); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode of saved file: got %v (%v), want 0644", fi.Mode().Perm(), err)
	}
	unchanged := func(name string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(b, old) {
			t.Errorf("%s: the old file changed", name)
		}
		if names := modelDirNames(t, dir); !slices.Equal(names, []string{"model.json"}) {
			t.Errorf("%s: directory holds %q, want only model.json", name, names)
		}
	}

	// NaN and infinite values are refused before anything is written.
	for _, test := range []struct {
		name   string
		change func(m *Model)
	}{
		{"NaN weight", func(m *Model) { m.Network.Weights(1).Set(0, 1, math.NaN()) }},
		{"Inf bias", func(m *Model) { m.Network.Bias(0)[2] = math.Inf(-1) }},
		{"Inf scale", func(m *Model) { m.Scaler.Scale[1] = math.Inf(1) }},
	} {
		bad := randomModel(rnd, []int{3, 4, 2}, []Activation{Tanh, Softmax}, false, CrossEntropy, true)
		test.change(bad)
		err := bad.Save(path)
		if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got error %v, want one wrapping ErrNotFinite naming %s", test.name, err, path)
		}
		unchanged(test.name)
		var b bytes.Buffer
		if err := bad.Encode(&b); !errors.Is(err, ErrNotFinite) || b.Len() != 0 {
			t.Errorf("%s: Encode wrote %d bytes, error %v; want nothing and ErrNotFinite", test.name, b.Len(), err)
		}
	}

	// A write that fails half-way leaves the old file and no temporary file.
	errDisk := errors.New("disk full")
	err = atomicfile.Write(path, func(w io.Writer) error {
		w.Write([]byte(`{"format": "github.com/neuralgo/nn model", "vers`))
		return errDisk
	})
	if !errors.Is(err, errDisk) {
		t.Errorf("failing write: got error %v, want %v", err, errDisk)
	}
	unchanged("failing write")

	// A rename that fails (the target is a directory that is not empty).
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(sub, "model.json", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := good.Save(filepath.Join(sub, "model.json")); err == nil || !strings.Contains(err.Error(), sub) {
		t.Errorf("save over a directory: got error %v, want one naming %s", err, sub)
	}
	if names := modelDirNames(t, sub); !slices.Equal(names, []string{"model.json"}) {
		t.Errorf("save over a directory: directory holds %q, want only model.json", names)
	}
	os.RemoveAll(sub)

	// A directory where no file can be created (not for root, who may).
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		err := randomModel(rnd, []int{3, 4, 2}, []Activation{Tanh, Softmax}, false, CrossEntropy, false).Save(path)
		os.Chmod(dir, 0o755)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("read-only directory: got error %v, want one naming %s", err, path)
		}
		unchanged("read-only directory")
	}

	// A missing directory.
	if err := good.Save(filepath.Join(dir, "missing", "model.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: got error %v, want os.ErrNotExist", err)
	}

	// Saving a different model over the file replaces it completely.
	other := randomModel(rnd, []int{2, 1}, []Activation{Sigmoid}, true, BinaryCrossEntropy, false)
	if err := other.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameModel(other, got); err != nil {
		t.Errorf("after replacing: %v", err)
	}
	if names := modelDirNames(t, dir); !slices.Equal(names, []string{"model.json"}) {
		t.Errorf("after replacing: directory holds %q, want only model.json", names)
	}
}

// validModelJSON returns the encoding of a small valid model: 2-3-2 with
// ReLU and softmax, biases, a scaler, features and classes.
func validModelJSON(t testing.TB) []byte {
	n, err := New(Config{Sizes: []int{2, 3, 2}, Activations: []Activation{ReLU, Softmax}, Loss: CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{
		Network:  n,
		Scaler:   &Scaler{Kind: MinMax, Offset: []float64{1, 2}, Scale: []float64{3, 4}},
		Features: []string{"x", "y"},
		Target:   "label",
		Classes:  []string{"a", "b"},
	}
	var b bytes.Buffer
	if err := m.Encode(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// editModelJSON decodes doc, applies edit to the decoded object and returns it
// encoded again.
func editModelJSON(t *testing.T, doc []byte, edit func(map[string]any)) []byte {
	t.Helper()
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber() // keep int64s exact
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	edit(v)
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeModelErrors(t *testing.T) {
	valid := validModelJSON(t)
	if _, err := DecodeModel(bytes.NewReader(valid)); err != nil {
		t.Fatalf("valid model: %v", err)
	}
	set := func(key string, val any) func(map[string]any) {
		return func(v map[string]any) { v[key] = val }
	}
	del := func(key string) func(map[string]any) {
		return func(v map[string]any) { delete(v, key) }
	}
	for _, test := range []struct {
		name string
		in   []byte               // raw input, or
		edit func(map[string]any) // a change to the valid model
		want []string             // substrings of the error
	}{
		{name: "empty", in: []byte(""), want: []string{"empty"}},
		{name: "spaces", in: []byte(" \n"), want: []string{"empty"}},
		{name: "not JSON", in: []byte("sizes: [2, 1]"), want: []string{"not valid JSON", "at byte 1"}},
		{name: "truncated", in: valid[:len(valid)/2], want: []string{"truncated", fmt.Sprint(len(valid) / 2)}},
		{name: "bad byte", in: bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 1x`), 1), want: []string{"not valid JSON", "'x'", fmt.Sprintf("at byte %d", bytes.Index(valid, []byte(`"version": 1`))+len(`"version": 1x`))}},
		{name: "trailing data", in: append(slices.Clone(valid), "{}"...), want: []string{"not valid JSON", fmt.Sprintf("at byte %d", len(valid)+1)}},
		{name: "array", in: []byte("[1, 2]"), want: []string{"array", "object"}},
		{name: "null", in: []byte("null"), want: []string{"format"}},
		{name: "no format", edit: del("format"), want: []string{"not a model file", `"format"`}},
		{name: "wrong format", edit: set("format", "github.com/neuralgo/nn checkpoint"), want: []string{"not a model file", "checkpoint"}},
		{name: "format not a string", edit: set("format", 1), want: []string{"format", "number"}},
		{name: "no version", edit: del("version"), want: []string{"version"}},
		{name: "version 4", edit: set("version", 4), want: []string{"version 4", "not supported", "version 1 to 3"}},
		{name: "gelu in version 2", edit: func(m map[string]any) { m["version"] = 2; m["activations"] = []any{"gelu", "softmax"} }, want: []string{"activations[0] is gelu", "version 3"}},
		{name: "leaky-relu without slope", edit: func(m map[string]any) { m["version"] = 3; m["activations"] = []any{"leaky-relu", "softmax"} }, want: []string{"no \"leaky_slope\""}},
		{name: "encoding in version 1", edit: set("encoding", []any{map[string]any{"fill": 0}}), want: []string{"version 1", "encoding", "version 2 added"}},
		{name: "version 0", edit: set("version", 0), want: []string{"version 0", "version 1"}},
		{name: "version string", edit: set("version", "1"), want: []string{"version", "string"}},
		{name: "unknown field", edit: set("weigths", []any{}), want: []string{"unknown field", "weigths"}},
		{name: "unknown scaler field", edit: set("scaler", map[string]any{"kind": "minmax", "offset": []int{1, 2}, "scale": []int{3, 4}, "mean": 1}), want: []string{"unknown field", "mean"}},
		{name: "no sizes", edit: del("sizes"), want: []string{"0 sizes", "at least 2"}},
		{name: "one size", edit: set("sizes", []int{2}), want: []string{"1 sizes", "at least 2"}},
		{name: "zero size", edit: set("sizes", []int{2, 0, 2}), want: []string{"sizes[1] is 0", "positive"}},
		{name: "negative size", edit: set("sizes", []int{-2, 3, 2}), want: []string{"sizes[0] is -2"}},
		{name: "fractional size", edit: set("sizes", []float64{2, 3.5, 2}), want: []string{"sizes", "3.5"}},
		{name: "too many parameters", edit: set("sizes", []int{100000, 100000, 2}), want: []string{"limit", "parameters"}},
		{name: "huge size", edit: set("sizes", []int{2, 1 << 40, 2}), want: []string{"sizes[1]", "limit"}},
		{name: "overflowing size", edit: set("sizes", []any{2, json.Number("1e30"), 2}), want: []string{"sizes", "1e30"}},
		{name: "too few activations", edit: set("activations", []string{"softmax"}), want: []string{"1 activations", "want 2"}},
		{name: "unknown activation", edit: set("activations", []string{"relu6", "softmax"}), want: []string{"activations[0]", "unknown activation", "relu6"}},
		{name: "hidden softmax", edit: set("activations", []string{"softmax", "softmax"}), want: []string{"softmax", "output layer"}},
		{name: "loss does not fit", edit: set("activations", []string{"relu", "sigmoid"}), want: []string{"cross-entropy", "softmax", "sigmoid"}},
		{name: "unknown loss", edit: set("loss", "hinge"), want: []string{"loss", "hinge"}},
		{name: "no loss", edit: del("loss"), want: []string{`"loss"`}},
		{name: "no bias", edit: del("bias"), want: []string{`"bias"`}},
		{name: "no weights", edit: del("weights"), want: []string{"0 weights", "want 2"}},
		{name: "weights too short", edit: func(v map[string]any) { w := v["weights"].([]any); w[1] = w[1].([]any)[1:] }, want: []string{"weights[1] has 5 values, want 6", "3×2"}},
		{name: "weight too large", edit: set("weights", []any{[]any{1, 2, 3, 4, 5, 6}, []any{1, 2, 3, 4, 5, json.Number("1e400")}}), want: []string{"weights", "1e400"}},
		{name: "weight a string", edit: set("weights", []any{[]any{1, 2, 3, 4, 5, 6}, []any{1, 2, 3, 4, 5, "NaN"}}), want: []string{"weights", "string"}},
		{name: "no biases", edit: del("biases"), want: []string{"0 biases", "want 2"}},
		{name: "biases without bias", edit: set("bias", false), want: []string{"biases", `"bias" is false`}},
		{name: "bias too long", edit: func(v map[string]any) { b := v["biases"].([]any); b[0] = append(b[0].([]any), 1) }, want: []string{"biases[0] has 4 values, want 3"}},
		{name: "scaler kind", edit: set("scaler", map[string]any{"kind": "robust", "offset": []int{1, 2}, "scale": []int{3, 4}}), want: []string{"scaler kind", "robust"}},
		{name: "scaler length", edit: set("scaler", map[string]any{"kind": "minmax", "offset": []int{1, 2, 3}, "scale": []int{3, 4, 5}}), want: []string{"scaler", "3 offsets", "want 2"}},
		{name: "scaler without scale", edit: set("scaler", map[string]any{"kind": "minmax", "offset": []int{1, 2}}), want: []string{"scaler", "0 scales", "want 2"}},
		{name: "zero scale", edit: set("scaler", map[string]any{"kind": "minmax", "offset": []int{1, 2}, "scale": []int{3, 0}}), want: []string{"scaler scale[1] is 0"}},
		{name: "features length", edit: set("features", []string{"x"}), want: []string{"1 features", "want 2"}},
		{name: "empty features", edit: set("features", []string{}), want: []string{"0 features", "want 2"}},
		{name: "classes count", edit: set("classes", []string{"a", "b", "c"}), want: []string{"3 classes", "want 2"}},
		{name: "duplicate class", edit: set("classes", []string{"a", "a"}), want: []string{`class "a" is listed twice`}},
		{name: "duplicate feature", edit: set("features", []string{"x", "x"}), want: []string{`feature "x" twice`}},
		{name: "target not a string", edit: set("target", 3), want: []string{"target", "number"}},
	} {
		in := test.in
		if test.edit != nil {
			in = editModelJSON(t, valid, test.edit)
		}
		m, err := DecodeModel(bytes.NewReader(in))
		if err == nil {
			t.Errorf("%s: got model %+v, want an error", test.name, m)
			continue
		}
		for _, w := range test.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: got error %q, want it to mention %q", test.name, err, w)
			}
		}
		if strings.Count(err.Error(), "nn: ") != 1 {
			t.Errorf("%s: got error %q, want one prefix \"nn: \"", test.name, err)
		}
	}
}

func TestDecodeModelAccepts(t *testing.T) {
	valid := validModelJSON(t)
	for _, test := range []struct {
		name string
		in   []byte
	}{
		{"nulls for optional fields", editModelJSON(t, valid, func(v map[string]any) {
			v["scaler"], v["features"], v["classes"], v["target"] = nil, nil, nil, nil
		})},
		{"no optional fields", editModelJSON(t, valid, func(v map[string]any) {
			for _, k := range []string{"scaler", "features", "classes", "target"} {
				delete(v, k)
			}
		})},
		{"null biases without bias", editModelJSON(t, valid, func(v map[string]any) { v["bias"], v["biases"] = false, nil })},
		{"two classes for one sigmoid output", []byte(`{"format": "github.com/neuralgo/nn model", "version": 1,
			"sizes": [1, 1], "activations": ["sigmoid"], "bias": false, "loss": "binary-cross-entropy",
			"weights": [[2.5]], "classes": ["no", "yes"]}`)},
		{"two classes for one identity output", []byte(`{"format": "github.com/neuralgo/nn model", "version": 1,
			"sizes": [1, 1], "activations": ["identity"], "bias": true, "loss": "squared-error",
			"weights": [[2.5]], "biases": [[1e-320]], "classes": ["low", "high"]}`)},
	} {
		m, err := DecodeModel(bytes.NewReader(test.in))
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		// What was read is written and read back the same.
		var b bytes.Buffer
		if err := m.Encode(&b); err != nil {
			t.Errorf("%s: Encode: %v", test.name, err)
			continue
		}
		again, err := DecodeModel(&b)
		if err != nil {
			t.Errorf("%s: decoding again: %v", test.name, err)
			continue
		}
		if err := sameModel(m, again); err != nil {
			t.Errorf("%s: %v", test.name, err)
		}
	}
	// One class for one output is refused: ClassesTo reads a single
	// output as two classes.
	_, err := DecodeModel(strings.NewReader(`{"format": "github.com/neuralgo/nn model", "version": 1,
		"sizes": [1, 1], "activations": ["identity"], "bias": false, "loss": "squared-error",
		"weights": [[2.5]], "classes": ["only"]}`))
	if err == nil || !strings.Contains(err.Error(), "1 classes for its single output, want 2") {
		t.Errorf("one class for one output: got error %v, want one about the classes", err)
	}
}

func TestModelCheckNotFinite(t *testing.T) {
	// JSON cannot carry NaN or infinities, but the decoded numbers are
	// checked anyway: check is what both Encode and DecodeModel run.
	bias := true
	loss, kind := SquaredError, Standardize
	base := func() *modelJSON {
		return &modelJSON{
			Sizes: []int{2, 1}, Activations: []string{"identity"}, Bias: &bias, Loss: &loss,
			Weights: [][]float64{{1, 2}}, Biases: [][]float64{{0}},
			Scaler: &scalerJSON{Kind: &kind, Offset: []float64{0, 0}, Scale: []float64{1, 1}},
		}
	}
	for _, test := range []struct {
		change func(d *modelJSON)
		want   string
	}{
		{func(d *modelJSON) { d.Weights[0][1] = math.NaN() }, "model weights[0][1] is NaN"},
		{func(d *modelJSON) { d.Biases[0][0] = math.Inf(1) }, "model biases[0][0] is +Inf"},
		{func(d *modelJSON) { d.Scaler.Offset[1] = math.Inf(-1) }, "model scaler offset[1] is -Inf"},
		{func(d *modelJSON) { d.Scaler.Scale[0] = math.NaN() }, "model scaler scale[0] is NaN"},
	} {
		d := base()
		test.change(d)
		err := d.check()
		if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("got error %v, want %q wrapping ErrNotFinite", err, test.want)
		}
	}
	if err := base().check(); err != nil {
		t.Errorf("valid document: %v", err)
	}
	if err := (&Model{}).Encode(io.Discard); err == nil || !strings.Contains(err.Error(), "no network") {
		t.Errorf("Encode of a model without network: got error %v, want one saying so", err)
	}
}

func TestLoadModelErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	valid := validModelJSON(t)
	for _, test := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated.json", valid[:len(valid)-3], "truncated"},
		{"v4.json", bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 4`), 1), "version 4"},
		{"relu6.json", bytes.Replace(valid, []byte(`"relu"`), []byte(`"relu6"`), 1), "activation"},
	} {
		path := filepath.Join(dir, test.name)
		if err := os.WriteFile(path, test.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadModel(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got error %v, want one naming the path and %q", test.name, err, test.want)
		}
	}
	missing := filepath.Join(dir, "missing.json")
	if _, err := LoadModel(missing); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: got error %v, want os.ErrNotExist naming the path", err)
	}
}

// FuzzReadModel checks that DecodeModel never panics and that what it
// accepts is written and read back unchanged.
func FuzzReadModel(f *testing.F) {
	valid := validModelJSON(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(bytes.Replace(valid, []byte(`"version": 1`), []byte(`"version": 2`), 1))
	f.Add(bytes.Replace(valid, []byte(`"relu"`), []byte(`"softmax"`), 1))
	f.Add(bytes.Replace(valid, []byte(`[2,3,2]`), []byte(`[2,300000000,2]`), 1))
	f.Add([]byte(`{"format":"github.com/neuralgo/nn model","version":2,"sizes":[4,1],"activations":["identity"],"bias":true,"loss":"squared-error","weights":[[1,2,3,4]],"biases":[[0]],"features":["a","c"],"encoding":[{"fill":1.5,"indicator":true},{"categories":["x","y"],"fill":1}]}`))
	rnd := rand.New(rand.NewPCG(9, 10))
	for _, sh := range modelShapes[1:4] {
		var b bytes.Buffer
		if err := randomModel(rnd, sh.sizes, sh.acts, false, sh.loss, true).Encode(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte(`{"format": "github.com/neuralgo/nn model", "version": 1, "sizes": [1, 1], "activations": ["sigmoid"],
		"bias": false, "loss": "binary-cross-entropy", "weights": [[-0]], "classes": ["no", "yes"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeModel(bytes.NewReader(data))
		if err != nil {
			if m != nil {
				t.Fatalf("got a model and error %v", err)
			}
			return
		}
		var b bytes.Buffer
		if err := m.Encode(&b); err != nil {
			t.Fatalf("a decoded model does not encode: %v", err)
		}
		again, err := DecodeModel(&b)
		if err != nil {
			t.Fatalf("an encoded model does not decode: %v\n%s", err, b.Bytes())
		}
		if err := sameModel(m, again); err != nil {
			t.Fatalf("model changed in a round trip: %v", err)
		}
		// Every accepted model scores a row and names its classes without
		// panicking.
		in := m.Network.Sizes()[0]
		if in > 1<<16 {
			return
		}
		x := mat.NewDense(1, in, nil)
		p, err := m.Predict(x)
		if err != nil {
			return // the scaled input may overflow: an error, not a panic
		}
		if m.Classes != nil {
			if c := m.Network.ClassesTo(nil, p)[0]; c < 0 || c >= len(m.Classes) {
				t.Fatalf("class %d of %d classes", c, len(m.Classes))
			}
		}
	})
}

// A syntax error in the last byte is not a truncation.
func TestDecodeModelLastByteError(t *testing.T) {
	for _, test := range []struct {
		in, want string
	}{
		{`{"format": "github.com/neuralgo/nn model", "version": 1`, "truncated"},
		{`{"format": "github.com/neuralgo/nn model", "version": 1]`, "not valid JSON"},
	} {
		_, err := DecodeModel(strings.NewReader(test.in))
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("DecodeModel(%q): got %v, want an error saying %q", test.in, err, test.want)
		}
	}
}

// Class labels in a model file are held to the rules that reading them
// from a CSV target holds: a label that is empty, or a file that is not
// UTF-8 (which encoding/json would read as U+FFFD), is refused.
func TestModelFileLabels(t *testing.T) {
	net, err := New(Config{Sizes: []int{2, 2}, Activations: []Activation{Softmax}, Loss: CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := (&Model{Network: net, Classes: []string{"cat", "dog"}}).Encode(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	for _, tc := range []struct {
		name, text, want string
	}{
		{"empty label", strings.Replace(good, `"dog"`, `""`, 1), "class 1 is empty"},
		{"not UTF-8", strings.Replace(good, `"dog"`, "\"d\xffg\"", 1), "not UTF-8 text: byte 0xff at offset"},
		{"duplicate", strings.Replace(good, `"dog"`, `"cat"`, 1), `class "cat" is listed twice`},
	} {
		_, err := DecodeModel(strings.NewReader(tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if err := (&Model{Network: net, Classes: []string{"cat", ""}}).Encode(io.Discard); err == nil || !strings.Contains(err.Error(), "class 1 is empty") {
		t.Errorf("Encode of an empty label: got %v", err)
	}
}
