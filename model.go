package nn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gonum.org/v1/gonum/mat"
)

// Model is a trained network with what it needs to score raw rows: the
// scaler fitted on the training inputs, the names of the input columns and
// of the target, and the class labels. Encode and Save write it as a JSON
// document, DecodeModel and LoadModel read it back, and a model read back
// predicts bit for bit what the written one did.
//
// A model file holds one JSON object, version 1 of the format:
//
//	{
//	  "format": "github.com/neuralgo/nn model",
//	  "version": 1,
//	  "sizes": [4,8,3],
//	  "activations": ["relu","softmax"],
//	  "bias": true,
//	  "loss": "cross-entropy",
//	  "weights": [
//	    [0.51,-1.2,...],
//	    [0.03,0.77,...]
//	  ],
//	  "biases": [
//	    [0,0.12,...],
//	    [-0.4,0.1,0.3]
//	  ],
//	  "scaler": {"kind":"standard","offset":[5.84,...],"scale":[0.83,...]},
//	  "features": ["sepal_length","sepal_width","petal_length","petal_width"],
//	  "target": "species",
//	  "classes": ["setosa","versicolor","virginica"]
//	}
//
// Encode writes one field per line and each layer's weights on a line of
// their own, as above; a reader accepts any JSON layout.
//
// Its fields are:
//
//   - format (required): always "github.com/neuralgo/nn model".
//   - version (required): 1. An incompatible change of the format gets a
//     new version number; this package reads version 1 only.
//   - sizes (required): the layer sizes, input first, as in Config.Sizes:
//     at least two, all positive, and at most 1<<28 parameters in all.
//   - activations (required): one name per weight layer, as
//     ParseActivation accepts it; softmax only on the last layer.
//   - bias (required): whether the layers have biases (Config.NoBias
//     negated).
//   - loss (required): the loss name, as ParseLoss accepts it. It must fit
//     the output activation as Config requires.
//   - weights (required): one array per weight layer l holding the
//     sizes[l]×sizes[l+1] matrix W(l) in row-major order, as
//     Network.Weights returns it.
//   - biases: one array of sizes[l+1] values per weight layer if bias is
//     true; absent or null if it is false.
//   - scaler: the Scaler applied to the inputs before the network: kind
//     as ParseScaleKind accepts it, and offset and scale with one value per
//     input, every scale nonzero. Absent or null without a scaler.
//   - features: one name per input column; absent or null if unknown.
//   - target: the name of the target column; absent or "" if unknown.
//   - classes: the class labels, one per output column, or two for a
//     network with a single output (classes 0 and 1, as
//     Network.ClassesTo reads the output); absent or null for regression.
//
// Numbers are written in the shortest form that reads back as the same
// float64, so nothing is lost; JSON cannot hold NaN or infinities, and
// every weight, bias and scaler value must be finite. A reader rejects
// unknown fields, so a misspelt field name is an error rather than a
// silently missing value.
type Model struct {
	// Network is the trained network.
	Network *Network
	// Scaler was fitted on the training inputs and is applied to inputs
	// before the network; nil means inputs are used as they are.
	Scaler *Scaler
	// Features names the input columns, one per network input; it may be
	// nil.
	Features []string
	// Target names the target column; it may be "".
	Target string
	// Classes are the class labels, one per output column, or two for a
	// single sigmoid output (the labels of Network.Classify's 0 and 1).
	// They are nil for regression.
	Classes []string
}

// Predict returns the network's output for each row of x after scaling a
// copy of x with m.Scaler, if there is one. It returns an error, as
// Network.Predict does, if x is empty, has the wrong number of columns, or
// holds NaN or infinite values before or after scaling. Predict may be
// called from many goroutines at once. It panics if m.Network is nil or
// m.Scaler does not fit the network's input.
func (m *Model) Predict(x mat.Matrix) (*mat.Dense, error) {
	if m.Scaler == nil {
		return m.Network.Predict(x)
	}
	if err := m.Network.checkInput("X", x); err != nil {
		return nil, err
	}
	var scaled mat.Dense
	m.Scaler.Transform(&scaled, x)
	return m.Network.Predict(&scaled)
}

// Scale stores in dst the row x scaled with m.Scaler, or a copy of x if
// m.Scaler is nil, without allocating. dst may be x itself. Together with
// Network.PredictTo it scores a stream of rows: scale each row into a row
// of a batch matrix, then predict the batch. Scale panics if x or dst does
// not have one element per network input.
func (m *Model) Scale(dst, x []float64) {
	in := m.Network.sizes[0]
	if len(x) != in || len(dst) != in {
		panic(mat.ErrShape)
	}
	if m.Scaler == nil {
		copy(dst, x)
		return
	}
	m.Scaler.TransformRow(dst, x)
}

// Encode writes m to w as a JSON document in the format described on
// Model. It returns an error, and writes nothing, if m could not be read
// back: if m.Network is nil, a weight or scaler value is NaN or infinite
// (the error wraps ErrNotFinite), or the scaler, features or classes do
// not fit the network. A Scaler with nil Offset and Scale, the identity,
// is written as no scaler.
func (m *Model) Encode(w io.Writer) error {
	b, err := m.marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// DecodeModel reads a model written by Encode from r. It returns an error
// saying what is wrong if the input is not a complete JSON document (with
// the byte offset of a syntax error), is not a model file, has a version
// other than 1, has unknown fields, or describes an invalid model (see the
// format on Model); the parameter count is checked before anything is
// allocated for it.
func DecodeModel(r io.Reader) (*Model, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("nn: reading model: %w", err)
	}
	var d modelJSON
	if err := decodeVersioned(data, "model", modelFormat, &d); err != nil {
		return nil, err
	}
	s, err := d.check()
	if err != nil {
		return nil, err
	}
	return d.build(s), nil
}

// Save writes m to the file at path, replacing it atomically: the model is
// written to a temporary file in the same directory, synced and renamed
// over path, so that path holds either its old contents or the whole new
// model, never a part. The file's mode is 0644. Save returns the errors of
// Encode, and errors of the file system, with the path in the message; on
// error, an existing file at path is left untouched and no temporary file
// is left behind.
func (m *Model) Save(path string) error {
	b, err := m.marshal()
	if err == nil {
		err = writeFileAtomic(path, func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		})
	}
	if err != nil {
		return withPath(path, err)
	}
	return nil
}

// LoadModel reads the model file at path, written by Save. It returns the
// errors of DecodeModel with the path in the message, and the errors of
// os.Open as they are.
func LoadModel(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := DecodeModel(f)
	if err != nil {
		return nil, withPath(path, err)
	}
	return m, nil
}

const (
	modelFormat      = "github.com/neuralgo/nn model"
	checkpointFormat = "github.com/neuralgo/nn checkpoint"
	// formatVersion is the version of both formats that this package
	// writes and reads.
	formatVersion = 1
	// maxModelParams bounds the number of parameters a model file may
	// declare, so that a small corrupt file cannot make the reader
	// allocate gigabytes: 1<<28 float64s are 2 GiB.
	maxModelParams = 1 << 28
)

// modelJSON is the JSON document of a Model.
type modelJSON struct {
	Format      string      `json:"format"`
	Version     int         `json:"version"`
	Sizes       []int       `json:"sizes"`
	Activations []string    `json:"activations"`
	Bias        *bool       `json:"bias"`
	Loss        *string     `json:"loss"`
	Weights     [][]float64 `json:"weights"`
	Biases      [][]float64 `json:"biases"`
	Scaler      *scalerJSON `json:"scaler"`
	Features    []string    `json:"features"`
	Target      string      `json:"target"`
	Classes     []string    `json:"classes"`
}

type scalerJSON struct {
	Kind   string    `json:"kind"`
	Offset []float64 `json:"offset"`
	Scale  []float64 `json:"scale"`
}

// modelSpec is what check parses out of a modelJSON.
type modelSpec struct {
	acts []Activation
	loss Loss
	kind ScaleKind
}

// document returns the JSON document of m, sharing m's slices.
func (m *Model) document() (*modelJSON, error) {
	n := m.Network
	if n == nil {
		return nil, errors.New("nn: model has no network")
	}
	bias, loss := n.bias, n.loss.String()
	d := &modelJSON{
		Format:      modelFormat,
		Version:     formatVersion,
		Sizes:       n.sizes,
		Activations: make([]string, len(n.acts)),
		Bias:        &bias,
		Loss:        &loss,
		Weights:     make([][]float64, len(n.w)),
		Features:    m.Features,
		Target:      m.Target,
		Classes:     m.Classes,
	}
	for l, a := range n.acts {
		d.Activations[l] = a.String()
		d.Weights[l] = n.w[l].RawMatrix().Data
	}
	if bias {
		d.Biases = n.b
	}
	if s := m.Scaler; s != nil && (s.Offset != nil || s.Scale != nil) {
		d.Scaler = &scalerJSON{Kind: s.Kind.String(), Offset: s.Offset, Scale: s.Scale}
	}
	return d, nil
}

// marshal returns the JSON document of m, laid out with one field per line
// and one line per weight layer.
func (m *Model) marshal() ([]byte, error) {
	d, err := m.document()
	if err != nil {
		return nil, err
	}
	if _, err := d.check(); err != nil {
		return nil, err
	}
	var o jsonObject
	o.field("format", d.Format)
	o.field("version", d.Version)
	o.field("sizes", d.Sizes)
	o.field("activations", d.Activations)
	o.field("bias", *d.Bias)
	o.field("loss", *d.Loss)
	jsonRows(&o, "weights", d.Weights)
	if d.Biases != nil {
		jsonRows(&o, "biases", d.Biases)
	}
	if d.Scaler != nil {
		o.field("scaler", d.Scaler)
	}
	if d.Features != nil {
		o.field("features", d.Features)
	}
	if d.Target != "" {
		o.field("target", d.Target)
	}
	if d.Classes != nil {
		o.field("classes", d.Classes)
	}
	return o.bytes()
}

// jsonObject builds a JSON object with one field per line, compact values,
// and one line per row for lists of rows (see jsonRows), which keeps files
// of many numbers short and readable.
type jsonObject struct {
	b   bytes.Buffer
	err error
}

// key starts the field name.
func (o *jsonObject) key(name string) {
	if o.b.Len() == 0 {
		o.b.WriteString("{\n")
	} else {
		o.b.WriteString(",\n")
	}
	o.b.WriteString("  ")
	o.value(name)
	o.b.WriteString(": ")
}

// value appends the compact JSON encoding of v.
func (o *jsonObject) value(v any) {
	j, err := json.Marshal(v)
	if err != nil && o.err == nil {
		o.err = err
	}
	o.b.Write(j)
}

// field appends the field name with the value v.
func (o *jsonObject) field(name string, v any) {
	o.key(name)
	o.value(v)
}

// jsonRows appends the field name with the list rows, one row per line
// (null for a nil list).
func jsonRows[T any](o *jsonObject, name string, rows []T) {
	o.key(name)
	if rows == nil {
		o.b.WriteString("null")
		return
	}
	o.b.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			o.b.WriteString(",")
		}
		o.b.WriteString("\n    ")
		o.value(r)
	}
	if len(rows) > 0 {
		o.b.WriteString("\n  ")
	}
	o.b.WriteString("]")
}

// bytes returns the finished object, or the first error in encoding a value.
func (o *jsonObject) bytes() ([]byte, error) {
	if o.err != nil {
		return nil, fmt.Errorf("nn: encoding JSON: %w", o.err)
	}
	o.b.WriteString("\n}\n")
	return o.b.Bytes(), nil
}

// check returns an error saying what is wrong if d does not describe a
// valid model. It allocates nothing in proportion to the sizes d declares.
func (d *modelJSON) check() (*modelSpec, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("nn: model "+format, args...)
	}
	if len(d.Sizes) < 2 {
		return nil, bad("has %d sizes, want at least 2 (input and output)", len(d.Sizes))
	}
	total := 0
	for i, s := range d.Sizes {
		if s <= 0 {
			return nil, bad("sizes[%d] is %d, want a positive size", i, s)
		}
		if s > maxModelParams {
			return nil, bad("sizes[%d] is %d, more than the limit of %d parameters", i, s, maxModelParams)
		}
		if i > 0 {
			// Both sizes are at most 1<<28, so no product overflows.
			total += d.Sizes[i-1]*s + s
			if total > maxModelParams {
				return nil, bad("sizes %v have more than the limit of %d parameters", d.Sizes, maxModelParams)
			}
		}
	}
	L := len(d.Sizes) - 1
	in, out := d.Sizes[0], d.Sizes[L]

	if len(d.Activations) != L {
		return nil, bad("has %d activations, want %d (one per weight layer)", len(d.Activations), L)
	}
	s := &modelSpec{acts: make([]Activation, L)}
	for l, name := range d.Activations {
		a, err := ParseActivation(name)
		if err != nil {
			return nil, bad("activations[%d]: %s", l, trimNN(err))
		}
		if a == Softmax && l != L-1 {
			return nil, bad("activations[%d] is softmax, allowed on the output layer only", l)
		}
		s.acts[l] = a
	}
	if d.Loss == nil {
		return nil, bad(`has no "loss" field`)
	}
	loss, err := ParseLoss(*d.Loss)
	if err != nil {
		return nil, bad("loss: %s", trimNN(err))
	}
	s.loss = loss
	if d.Bias == nil {
		return nil, bad(`has no "bias" field`)
	}
	bias := *d.Bias
	c := Config{Sizes: d.Sizes, Activations: s.acts, NoBias: !bias, Loss: loss}
	if err := c.validate(); err != nil {
		return nil, &prefixError{prefix: "nn: model: ", err: err}
	}

	if len(d.Weights) != L {
		return nil, bad("has %d weights arrays, want %d (one per weight layer)", len(d.Weights), L)
	}
	for l, w := range d.Weights {
		if r, c := d.Sizes[l], d.Sizes[l+1]; len(w) != r*c {
			return nil, bad("weights[%d] has %d values, want %d (%d×%d)", l, len(w), r*c, r, c)
		}
	}
	switch {
	case bias && len(d.Biases) != L:
		return nil, bad("has %d biases arrays, want %d (one per weight layer)", len(d.Biases), L)
	case !bias && d.Biases != nil:
		return nil, bad(`has biases, but "bias" is false`)
	}
	for l, b := range d.Biases {
		if len(b) != d.Sizes[l+1] {
			return nil, bad("biases[%d] has %d values, want %d", l, len(b), d.Sizes[l+1])
		}
	}
	for l := range L {
		if err := checkFiniteSlice("model weights["+strconv.Itoa(l)+"]", d.Weights[l]); err != nil {
			return nil, err
		}
		if bias {
			if err := checkFiniteSlice("model biases["+strconv.Itoa(l)+"]", d.Biases[l]); err != nil {
				return nil, err
			}
		}
	}

	if sc := d.Scaler; sc != nil {
		kind, err := ParseScaleKind(sc.Kind)
		if err != nil {
			return nil, bad("scaler kind: %s", trimNN(err))
		}
		s.kind = kind
		if len(sc.Offset) != in || len(sc.Scale) != in {
			return nil, bad("scaler has %d offsets and %d scales, want %d of each (the input size)", len(sc.Offset), len(sc.Scale), in)
		}
		if err := checkFiniteSlice("model scaler offset", sc.Offset); err != nil {
			return nil, err
		}
		if err := checkFiniteSlice("model scaler scale", sc.Scale); err != nil {
			return nil, err
		}
		if j := slices.Index(sc.Scale, 0); j >= 0 {
			return nil, bad("scaler scale[%d] is 0, want a nonzero number", j)
		}
	}
	if d.Features != nil && len(d.Features) != in {
		return nil, bad("has %d features, want %d (the input size)", len(d.Features), in)
	}
	// encoding/json would write invalid UTF-8 as U+FFFD, changing the name.
	for i, f := range d.Features {
		if !utf8.ValidString(f) {
			return nil, bad("features[%d] %q is not valid UTF-8", i, f)
		}
	}
	if !utf8.ValidString(d.Target) {
		return nil, bad("target %q is not valid UTF-8", d.Target)
	}
	if d.Classes != nil {
		switch {
		case out == 1 && len(d.Classes) != 2:
			return nil, bad("has %d classes for its single output, want 2 (classes 0 and 1, as Network.ClassesTo reads the output)", len(d.Classes))
		case out > 1 && len(d.Classes) != out:
			return nil, bad("has %d classes, want %d (one per output)", len(d.Classes), out)
		}
		for i, c := range d.Classes {
			if !utf8.ValidString(c) {
				return nil, bad("classes[%d] %q is not valid UTF-8", i, c)
			}
			if slices.Index(d.Classes[:i], c) >= 0 {
				return nil, bad("lists class %q twice", c)
			}
		}
	}
	return s, nil
}

// build returns the model that d, checked into s, describes.
func (d *modelJSON) build(s *modelSpec) *Model {
	n := newNetwork(d.Sizes, s.acts, *d.Bias, s.loss)
	for l, w := range d.Weights {
		copy(n.w[l].RawMatrix().Data, w)
		if n.bias {
			copy(n.b[l], d.Biases[l])
		}
	}
	m := &Model{Network: n, Features: d.Features, Target: d.Target, Classes: d.Classes}
	if d.Scaler != nil {
		m.Scaler = &Scaler{Kind: s.kind, Offset: d.Scaler.Offset, Scale: d.Scaler.Scale}
	}
	return m
}

// checkFiniteSlice returns an error wrapping ErrNotFinite if an element of x
// is NaN or infinite.
func checkFiniteSlice(name string, x []float64) error {
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("nn: %s[%d] is %v: %w", name, i, v, ErrNotFinite)
		}
	}
	return nil
}

// trimNN returns the message of err without the package's "nn: " prefix,
// for wrapping it in a message that has one.
func trimNN(err error) string { return strings.TrimPrefix(err.Error(), "nn: ") }

// prefixError is err with its "nn: " prefix replaced by prefix.
type prefixError struct {
	prefix string
	err    error
}

func (e *prefixError) Error() string { return e.prefix + trimNN(e.err) }
func (e *prefixError) Unwrap() error { return e.err }

// withPath returns err with the path in its message: "nn: path: ...".
func withPath(path string, err error) error {
	return &prefixError{prefix: "nn: " + path + ": ", err: err}
}

// decodeVersioned decodes the JSON document data, a what ("model" or
// "checkpoint") file, into v, which must have the fields format and version.
// It first reads the format and version alone, so that a file of another
// kind or version is reported as such rather than by its unknown fields,
// then decodes the whole document, rejecting unknown fields.
func decodeVersioned(data []byte, what, format string, v any) error {
	var head struct {
		Format  *string `json:"format"`
		Version *int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return jsonError(data, what, err)
	}
	switch {
	case head.Format == nil:
		return fmt.Errorf("nn: not a %s file: it has no \"format\" field (want %q)", what, format)
	case *head.Format != format:
		return fmt.Errorf("nn: not a %s file: format is %q, want %q", what, *head.Format, format)
	case head.Version == nil:
		return fmt.Errorf("nn: %s has no \"version\" field", what)
	case *head.Version != formatVersion:
		return fmt.Errorf("nn: %s version %d is not supported (this package reads version %d only)", what, *head.Version, formatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, what, err)
	}
	return nil
}

// jsonError describes an error of encoding/json in decoding data.
func jsonError(data []byte, what string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return fmt.Errorf("nn: %s is empty", what)
	case errors.As(err, &se) && se.Error() == "unexpected end of JSON input":
		return fmt.Errorf("nn: %s is truncated: %v after %d bytes", what, se, len(data))
	case errors.As(err, &se):
		// Offset counts the bytes read up to and including the bad one.
		return fmt.Errorf("nn: %s is not valid JSON: %v at byte %d", what, se, se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("nn: %s is a JSON %s, want an object", what, te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("nn: %s field %q holds a JSON %s, want %v (byte offset %d)", what, te.Field, te.Value, te.Type, te.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("nn: %s has an %s", what, strings.TrimPrefix(err.Error(), "json: "))
	case strings.HasPrefix(err.Error(), "nn: "):
		return err // from an UnmarshalJSON method of this file
	}
	return fmt.Errorf("nn: %s: %w", what, err)
}

// writeFileAtomic replaces the file at path by what write writes, through a
// temporary file in the same directory that is synced, made mode 0644 and
// renamed over path. On error the temporary file is removed and path is
// left as it was.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close returns an error, which is of no interest
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable where the system allows it.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// SaveCheckpoint writes c to the file at path as JSON, replacing the file
// atomically as Model.Save does. The document is one object:
//
//	{
//	  "format": "github.com/neuralgo/nn checkpoint",
//	  "version": 1,
//	  "epoch": 2,
//	  "method": "adam",
//	  "params": [0.52,-1.3,...],
//	  "steps": 10,
//	  "moment1": [0.01,-0.2,...],
//	  "moment2": [0.003,0.07,...],
//	  "random": "cGNnOhhF...",
//	  "history": [
//	    {"epoch":1,"loss":0.9,"val_loss":"NaN","val_accuracy":"NaN","learning_rate":0.001,"elapsed_ns":41000},
//	    {"epoch":2,"loss":0.8,"val_loss":"NaN","val_accuracy":"NaN","learning_rate":0.001,"elapsed_ns":79000}
//	  ],
//	  "best": 0.8,
//	  "best_epoch": 2,
//	  "best_params": null,
//	  "wait": 0
//	}
//
// with one field per field of Checkpoint; "method" is a name as
// ParseMethod accepts it, "elapsed_ns" is Epoch.Elapsed in nanoseconds, and
// a nil slice is written as null and an empty one as [] so that both read
// back as they were. JSON has no NaN or infinities, so the floats of
// history and best that are not finite are written as the strings "NaN",
// "+Inf" and "-Inf" (a NaN with other bits than math.NaN()'s as
// "NaN(0x7ff8000000000000)", its bits in hexadecimal), and every float
// reads back with the same bits. Params, Moment1, Moment2 and BestParams
// must be finite.
//
// SaveCheckpoint returns an error naming the path, and writes nothing, if c
// is not valid as LoadCheckpoint checks it. It panics if c is nil.
func SaveCheckpoint(path string, c *Checkpoint) error {
	b, err := marshalCheckpoint(c)
	if err == nil {
		err = writeFileAtomic(path, func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		})
	}
	if err != nil {
		return withPath(path, err)
	}
	return nil
}

// LoadCheckpoint reads a checkpoint file written by SaveCheckpoint. It
// returns an error naming the path if the file is not a complete JSON
// document of the format described on SaveCheckpoint, version 1, or if the
// checkpoint is inconsistent: no params; moments or best params neither
// null nor as long as params; an epoch that differs from the length of the
// history; negative counts; a best epoch after the epoch; or params,
// moments or best params that are not finite. Errors of os.Open are
// returned as they are.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d checkpointJSON
	if err := decodeVersioned(data, "checkpoint", checkpointFormat, &d); err != nil {
		return nil, withPath(path, err)
	}
	if d.Best == nil {
		return nil, withPath(path, errors.New(`nn: checkpoint has no "best" field`))
	}
	method, err := ParseMethod(d.Method)
	if err != nil {
		return nil, withPath(path, fmt.Errorf("nn: checkpoint method: %s", trimNN(err)))
	}
	c := &Checkpoint{
		Epoch:      d.Epoch,
		Method:     method,
		Params:     d.Params,
		Steps:      d.Steps,
		Moment1:    d.Moment1,
		Moment2:    d.Moment2,
		Random:     d.Random,
		Best:       float64(*d.Best),
		BestEpoch:  d.BestEpoch,
		BestParams: d.BestParams,
		Wait:       d.Wait,
	}
	if d.History != nil {
		c.History = make([]Epoch, len(d.History))
		for i, e := range d.History {
			c.History[i] = Epoch{
				Epoch:        e.Epoch,
				Loss:         float64(e.Loss),
				ValLoss:      float64(e.ValLoss),
				ValAccuracy:  float64(e.ValAccuracy),
				LearningRate: float64(e.LearningRate),
				Elapsed:      time.Duration(e.Elapsed),
			}
		}
	}
	if err := checkCheckpoint(c); err != nil {
		return nil, withPath(path, err)
	}
	return c, nil
}

// checkpointJSON is the JSON document of a Checkpoint.
type checkpointJSON struct {
	Format     string      `json:"format"`
	Version    int         `json:"version"`
	Epoch      int         `json:"epoch"`
	Method     string      `json:"method"`
	Params     []float64   `json:"params"`
	Steps      int         `json:"steps"`
	Moment1    []float64   `json:"moment1"`
	Moment2    []float64   `json:"moment2"`
	Random     jsonBytes   `json:"random"`
	History    []epochJSON `json:"history"`
	Best       *jsonFloat  `json:"best"`
	BestEpoch  int         `json:"best_epoch"`
	BestParams []float64   `json:"best_params"`
	Wait       int         `json:"wait"`
}

type epochJSON struct {
	Epoch        int       `json:"epoch"`
	Loss         jsonFloat `json:"loss"`
	ValLoss      jsonFloat `json:"val_loss"`
	ValAccuracy  jsonFloat `json:"val_accuracy"`
	LearningRate jsonFloat `json:"learning_rate"`
	Elapsed      int64     `json:"elapsed_ns"`
}

// marshalCheckpoint returns the JSON document of c, or an error if c is
// not valid.
func marshalCheckpoint(c *Checkpoint) ([]byte, error) {
	if err := checkCheckpoint(c); err != nil {
		return nil, err
	}
	var o jsonObject
	o.field("format", checkpointFormat)
	o.field("version", formatVersion)
	o.field("epoch", c.Epoch)
	o.field("method", c.Method.String())
	o.field("params", c.Params)
	o.field("steps", c.Steps)
	o.field("moment1", c.Moment1)
	o.field("moment2", c.Moment2)
	o.field("random", c.Random)
	var history []epochJSON
	if c.History != nil {
		history = make([]epochJSON, len(c.History))
		for i, e := range c.History {
			history[i] = epochJSON{
				Epoch:        e.Epoch,
				Loss:         jsonFloat(e.Loss),
				ValLoss:      jsonFloat(e.ValLoss),
				ValAccuracy:  jsonFloat(e.ValAccuracy),
				LearningRate: jsonFloat(e.LearningRate),
				Elapsed:      int64(e.Elapsed),
			}
		}
	}
	jsonRows(&o, "history", history)
	o.field("best", jsonFloat(c.Best))
	o.field("best_epoch", c.BestEpoch)
	o.field("best_params", c.BestParams)
	o.field("wait", c.Wait)
	return o.bytes()
}

// checkCheckpoint returns an error saying what is wrong if c is not a
// consistent checkpoint.
func checkCheckpoint(c *Checkpoint) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("nn: checkpoint "+format, args...)
	}
	n := len(c.Params)
	switch {
	case c.Method < GradientDescent || c.Method > LBFGS:
		return bad("method %v is unknown", c.Method)
	case n == 0:
		return bad("has no params")
	case c.Moment1 != nil && len(c.Moment1) != n:
		return bad("has %d moment1 values, want %d (one per param) or none", len(c.Moment1), n)
	case c.Moment2 != nil && len(c.Moment2) != n:
		return bad("has %d moment2 values, want %d (one per param) or none", len(c.Moment2), n)
	case c.BestParams != nil && len(c.BestParams) != n:
		return bad("has %d best params, want %d (one per param) or none", len(c.BestParams), n)
	case c.Epoch < 0:
		return bad("epoch is %d, want zero or more", c.Epoch)
	case c.Epoch != len(c.History):
		return bad("epoch is %d but its history holds %d epochs", c.Epoch, len(c.History))
	case c.Steps < 0:
		return bad("steps is %d, want zero or more", c.Steps)
	case c.Wait < 0:
		return bad("wait is %d, want zero or more", c.Wait)
	case c.BestEpoch < 0 || c.BestEpoch > c.Epoch:
		return bad("best epoch is %d, want one in [0, %d]", c.BestEpoch, c.Epoch)
	}
	for _, s := range []struct {
		name string
		x    []float64
	}{{"checkpoint params", c.Params}, {"checkpoint moment1", c.Moment1}, {"checkpoint moment2", c.Moment2}, {"checkpoint best params", c.BestParams}} {
		if err := checkFiniteSlice(s.name, s.x); err != nil {
			return err
		}
	}
	return nil
}

// jsonBytes is a []byte in base64, as encoding/json writes it, whose
// decoding errors name the field.
type jsonBytes []byte

func (p *jsonBytes) UnmarshalJSON(b []byte) error {
	var v []byte
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("nn: checkpoint random is not a base64 string or null: %v", err)
	}
	*p = v
	return nil
}

// jsonFloat is a float64 that JSON can hold even when it is not finite: NaN
// and infinities are the strings "NaN", "+Inf" and "-Inf", and a NaN whose
// bits differ from math.NaN()'s is "NaN(0x...)" with its bits in hex.
type jsonFloat float64

var canonicalNaN = math.Float64bits(math.NaN())

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v) && math.Float64bits(v) == canonicalNaN:
		return []byte(`"NaN"`), nil
	case math.IsNaN(v):
		return fmt.Appendf(nil, `"NaN(0x%016x)"`, math.Float64bits(v)), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(v)
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	bad := func() error {
		return fmt.Errorf(`nn: checkpoint value %s is not a number, "NaN", "+Inf" or "-Inf"`, b)
	}
	if len(b) == 0 || b[0] != '"' {
		v, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return bad()
		}
		*f = jsonFloat(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return bad()
	}
	switch s {
	case "NaN":
		*f = jsonFloat(math.NaN())
	case "+Inf":
		*f = jsonFloat(math.Inf(1))
	case "-Inf":
		*f = jsonFloat(math.Inf(-1))
	default:
		hex, ok := strings.CutPrefix(s, "NaN(0x")
		hex, ok2 := strings.CutSuffix(hex, ")")
		if !ok || !ok2 || len(hex) != 16 {
			return bad()
		}
		bits, err := strconv.ParseUint(hex, 16, 64)
		if err != nil || !math.IsNaN(math.Float64frombits(bits)) {
			return bad()
		}
		*f = jsonFloat(math.Float64frombits(bits))
	}
	return nil
}
