package nn

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/neuralgo/nn/internal/atomicfile"
	"github.com/neuralgo/nn/internal/excerpt"
)

const (
	modelFormat      = "github.com/neuralgo/nn model"
	checkpointFormat = "github.com/neuralgo/nn checkpoint"
	// modelVersion is the latest version of the model format, which this
	// package reads with every earlier one. Version 2 added the encoding,
	// the missing spellings and several targets; version 3 the activations
	// after Softmax (LeakyReLU, ELU, GELU, GELUTanh, SiLU, Softplus) and the
	// LeakyReLU slope. A model is written with the lowest version that
	// holds it, so that earlier readers read what they can run and refuse,
	// by its version, what they cannot.
	modelVersion = 3
	// checkpointVersion is the version of the checkpoint format that this
	// package writes; it reads it and every earlier version. Version 2
	// added the fingerprint, version 3 the state of a Plateau schedule and
	// of dropout.
	checkpointVersion = 3
	// maxModelParams bounds the number of parameters a model file may
	// declare, so that a small corrupt file cannot make the reader
	// allocate gigabytes: 1<<28 float64s are 2 GiB.
	maxModelParams = 1 << 28
)

// Encode writes m to w as a JSON document in the format described on
// Model. It returns an error, and writes nothing, if m could not be read
// back: if m.Network is nil, a weight or scaler value is NaN or infinite
// (the error wraps ErrNotFinite), or the scaler, features or classes do
// not fit the network, or if the document would be longer than
// DecodeModel reads under the current memory budget, 1/20 of it (the error
// wraps ErrMemoryBudget): what Encode writes, DecodeModel reads. A Scaler
// with nil Offset and Scale, the identity, is written as no scaler.
func (m *Model) Encode(w io.Writer) error {
	d, err := m.checkedLength()
	if err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return d.write(w)
}

// checkedLength returns the error of checked, or an error wrapping
// ErrMemoryBudget if the model's file would be longer than DecodeModel
// reads under the current memory budget.
func (m *Model) checkedLength() (*modelJSON, error) {
	d, err := m.checked()
	if err != nil {
		return nil, err
	}
	if err := checkLength("model", d.maxLength(), d.write); err != nil {
		return nil, err
	}
	return d, nil
}

// DecodeModel reads a model written by Encode from r. It returns an error
// saying what is wrong if the input is not a complete JSON document (with
// the byte offset of a syntax error), is not a model file, has a version
// other than 1, has unknown fields, or describes an invalid model (see the
// format on Model); the parameter count is checked before the network is
// allocated, and an input larger than 1/20 of the memory budget (see
// SetMemoryBudget) is an error wrapping ErrMemoryBudget, which bounds what
// decoding it takes.
func DecodeModel(r io.Reader) (*Model, error) {
	m, err := decodeModel(r)
	if err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	return m, nil
}

// Save writes m to the file at path, replacing it atomically: the model is
// written to a temporary file in the same directory, synced and renamed
// over path, so that path holds either its old contents or the whole new
// model, never a part. A new file's mode is 0644; a replaced one keeps its
// mode, and a file the process may not write is not replaced. The model is
// written as it is encoded, not built in memory first. Save returns the
// errors of Encode, and errors of the file system, with the path after the
// package's prefix ("nn: model.json: ..."); on error, an existing file at
// path is left untouched and no temporary file is left behind.
func (m *Model) Save(path string) error {
	d, err := m.checkedLength()
	if err == nil {
		err = atomicfile.Write(path, d.write)
	}
	if err != nil {
		return fileError(path, err)
	}
	return nil
}

// LoadModel reads the model file at path, written by Save. It returns the
// errors of DecodeModel with the path after the package's prefix
// ("nn: model.json: model is truncated ..."), and the errors of os.Open as
// they are.
func LoadModel(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := decodeModel(f)
	if err != nil {
		return nil, fileError(path, err)
	}
	return m, nil
}

// decodeModel is DecodeModel with errors that name no package or file.
func decodeModel(r io.Reader) (*Model, error) {
	data, err := readLimited(r, "model")
	if err != nil {
		return nil, err
	}
	var d modelJSON
	if err := checkVersion(data, "model", modelFormat, modelVersion); err != nil {
		return nil, err
	}
	if err := decodeStrict(data, "model", &d); err != nil {
		return nil, err
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	return d.build(), nil
}

// modelJSON is the JSON document of a Model.
type modelJSON struct {
	Format      string       `json:"format"`
	Version     int          `json:"version"`
	Sizes       []int        `json:"sizes"`
	Activations []string     `json:"activations"`
	Bias        *bool        `json:"bias"`
	Loss        *Loss        `json:"loss"`
	Weights     [][]float64  `json:"weights"`
	Biases      [][]float64  `json:"biases"`
	Scaler      *scalerJSON  `json:"scaler"`
	Features    []string     `json:"features"`
	Target      string       `json:"target"`
	Classes     []string     `json:"classes"`
	Encoding    []columnJSON `json:"encoding"`
	Targets     []string     `json:"targets"`
	Missing     []string     `json:"missing"`
	LeakySlope  *float64     `json:"leaky_slope"`

	// acts holds the activations that check reads from their names, so
	// that an unknown name is reported with its layer.
	acts []Activation
}

// columnJSON is a ColumnEncoding in a model file.
type columnJSON struct {
	Categories []string `json:"categories,omitempty"`
	Fill       *float64 `json:"fill"`
	Indicator  bool     `json:"indicator,omitempty"`
}

type scalerJSON struct {
	Kind   *ScaleKind `json:"kind"`
	Offset []float64  `json:"offset"`
	Scale  []float64  `json:"scale"`
}

// document returns the JSON document of m, sharing m's slices.
func (m *Model) document() (*modelJSON, error) {
	n := m.Network
	if n == nil {
		return nil, errors.New("model has no network")
	}
	bias, loss := n.bias, n.loss
	d := &modelJSON{
		Format:      modelFormat,
		Version:     1,
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
		if a.modern() {
			d.Version = 3
		}
	}
	if slices.Contains(n.acts, LeakyReLU) {
		s := n.slope
		d.LeakySlope = &s
	}
	if bias {
		d.Biases = n.b
	}
	if s := m.Scaler; s != nil && (s.Offset != nil || s.Scale != nil) {
		d.Scaler = &scalerJSON{Kind: &s.Kind, Offset: s.Offset, Scale: s.Scale}
	}
	if m.Targets != nil {
		d.Version = max(d.Version, 2)
		d.Targets = m.Targets
	}
	if e := m.Encoding; e != nil {
		d.Version = max(d.Version, 2)
		d.Encoding = make([]columnJSON, len(e.Columns))
		for j := range e.Columns {
			c := &e.Columns[j]
			cats := c.Categories
			if cats != nil && len(cats) == 0 {
				return nil, fmt.Errorf("encoding of column %d has no categories", j)
			}
			d.Encoding[j] = columnJSON{Categories: cats, Fill: &c.Fill, Indicator: c.Indicator}
		}
		d.Missing = e.Missing
	}
	return d, nil
}

// checked returns the JSON document of m, or an error if it does not
// describe a valid model.
func (m *Model) checked() (*modelJSON, error) {
	d, err := m.document()
	if err != nil {
		return nil, err
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	return d, nil
}

// maxLength returns an upper bound of the length of d's file: every
// number at its longest, every string escaped byte by byte.
func (d *modelJSON) maxLength() int64 {
	numbers := len(d.Sizes) + 2
	for _, r := range d.Weights {
		numbers += len(r) + 4 // the brackets and line break of a row
	}
	for _, r := range d.Biases {
		numbers += len(r) + 4
	}
	if d.Scaler != nil {
		numbers += len(d.Scaler.Offset) + len(d.Scaler.Scale) + 4
	}
	var text int64
	strs := func(s []string) {
		for _, v := range s {
			text += 6*int64(len(v)) + 3 // "\u00ff" for a byte, quotes and a comma
		}
	}
	strs(d.Activations)
	strs(d.Features)
	strs([]string{d.Target})
	strs(d.Classes)
	strs(d.Targets)
	strs(d.Missing)
	for _, c := range d.Encoding {
		numbers += 4 // a fill, and the row's field names at the length of numbers
		strs(c.Categories)
	}
	return int64(numbers)*maxNumberLength + text + 1024 // the field names
}

// write writes the checked document d to w, laid out with one field per
// line and one line per weight layer.
func (d *modelJSON) write(w io.Writer) error {
	o := newJSONObject(w)
	o.field("format", d.Format)
	o.field("version", d.Version)
	o.field("sizes", d.Sizes)
	o.field("activations", d.Activations)
	o.field("bias", *d.Bias)
	o.field("loss", *d.Loss)
	if d.LeakySlope != nil {
		o.field("leaky_slope", *d.LeakySlope)
	}
	jsonRows(o, "weights", d.Weights)
	if d.Biases != nil {
		jsonRows(o, "biases", d.Biases)
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
	if d.Targets != nil {
		o.field("targets", d.Targets)
	}
	if d.Encoding != nil {
		jsonRows(o, "encoding", d.Encoding)
	}
	if d.Missing != nil {
		o.field("missing", d.Missing)
	}
	return o.close()
}

// check returns an error saying what is wrong if d does not describe a
// valid model. It allocates nothing in proportion to the sizes d declares.
func (d *modelJSON) check() error {
	for _, check := range []func() error{d.checkSizes, d.checkLayers, d.checkParams, d.checkScaler, d.checkEncoding, d.checkNames} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// badModel returns an error about a model file: "model " and the message.
func badModel(format string, args ...any) error {
	return fmt.Errorf("model "+format, args...)
}

// checkSizes checks the layer sizes and the number of parameters they
// make, without multiplying sizes that could overflow.
func (d *modelJSON) checkSizes() error {
	if len(d.Sizes) < 2 {
		return badModel("has %d sizes, want at least 2 (input and output)", len(d.Sizes))
	}
	total := 0
	bias := d.Bias == nil || *d.Bias // checkLayers reports a missing flag
	for i, s := range d.Sizes {
		if s <= 0 {
			return badModel("sizes[%d] is %d, want a positive size", i, s)
		}
		if s > maxModelParams {
			return badModel("sizes[%d] is %d, more than the limit of %d parameters", i, s, maxModelParams)
		}
		if i > 0 {
			// Both sizes are at most 1<<28, so no product overflows.
			total += d.Sizes[i-1] * s
			if bias {
				total += s
			}
			if total > maxModelParams {
				return badModel("sizes %s have more than the limit of %d parameters", excerpt.List(d.Sizes), maxModelParams)
			}
		}
	}
	return nil
}

// checkLayers checks the activations, the loss and the bias flag, as New
// checks a Config.
func (d *modelJSON) checkLayers() error {
	L := len(d.Sizes) - 1
	if len(d.Activations) != L {
		return badModel("has %d activations, want %d (one per weight layer)", len(d.Activations), L)
	}
	d.acts = make([]Activation, L)
	for l, name := range d.Activations {
		if err := d.acts[l].UnmarshalText([]byte(name)); err != nil {
			return badModel("activations[%d]: %w", l, err)
		}
		if d.acts[l] == Softmax && l != L-1 {
			return badModel("activations[%d] is softmax, allowed on the output layer only", l)
		}
		if d.acts[l].modern() && d.Version < 3 {
			return badModel("activations[%d] is %s, which version 3 of the format added; the file says version %d", l, name, d.Version)
		}
	}
	if d.Loss == nil {
		return badModel(`has no "loss" field`)
	}
	if d.Bias == nil {
		return badModel(`has no "bias" field`)
	}
	switch hasLeaky := slices.Contains(d.acts, LeakyReLU); {
	case hasLeaky && d.LeakySlope == nil:
		return badModel(`has a leaky-relu layer and no "leaky_slope"`)
	case !hasLeaky && d.LeakySlope != nil:
		return badModel(`has a "leaky_slope" but no leaky-relu layer`)
	case hasLeaky && !(*d.LeakySlope > 0 && *d.LeakySlope < 1):
		return badModel("leaky_slope is %v, want a slope in (0, 1)", *d.LeakySlope)
	}
	c := Config{Sizes: d.Sizes, Activations: d.acts, NoBias: !*d.Bias, Loss: *d.Loss}
	if err := c.check(); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	return nil
}

// checkParams checks that the weights and biases have the sizes' shapes
// and are finite.
func (d *modelJSON) checkParams() error {
	L := len(d.Sizes) - 1
	bias := *d.Bias
	if len(d.Weights) != L {
		return badModel("has %d weights arrays, want %d (one per weight layer)", len(d.Weights), L)
	}
	for l, w := range d.Weights {
		if r, c := d.Sizes[l], d.Sizes[l+1]; len(w) != r*c {
			return badModel("weights[%d] has %d values, want %d (%d×%d)", l, len(w), r*c, r, c)
		}
	}
	switch {
	case bias && len(d.Biases) != L:
		return badModel("has %d biases arrays, want %d (one per weight layer)", len(d.Biases), L)
	case !bias && d.Biases != nil:
		return badModel(`has biases, but "bias" is false`)
	}
	for l, b := range d.Biases {
		if len(b) != d.Sizes[l+1] {
			return badModel("biases[%d] has %d values, want %d", l, len(b), d.Sizes[l+1])
		}
	}
	for l := range L {
		if err := checkFiniteSlice("model weights["+strconv.Itoa(l)+"]", d.Weights[l]); err != nil {
			return err
		}
		if bias {
			if err := checkFiniteSlice("model biases["+strconv.Itoa(l)+"]", d.Biases[l]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkScaler checks that the scaler, if any, has one finite offset and
// one finite, nonzero scale per input.
func (d *modelJSON) checkScaler() error {
	sc := d.Scaler
	if sc == nil {
		return nil
	}
	in := d.Sizes[0]
	switch {
	case sc.Kind == nil:
		return badModel(`scaler has no "kind" field`)
	case !scaleKinds.valid(*sc.Kind):
		return badModel("scaler kind %v is unknown", *sc.Kind)
	}
	if len(sc.Offset) != in || len(sc.Scale) != in {
		return badModel("scaler has %d offsets and %d scales, want %d of each (the input size)", len(sc.Offset), len(sc.Scale), in)
	}
	if err := checkFiniteSlice("model scaler offset", sc.Offset); err != nil {
		return err
	}
	if err := checkFiniteSlice("model scaler scale", sc.Scale); err != nil {
		return err
	}
	if j := slices.Index(sc.Scale, 0); j >= 0 {
		return badModel("scaler scale[%d] is 0, want a nonzero number", j)
	}
	return nil
}

// checkNames checks the feature and target names and the class labels:
// valid UTF-8, which encoding/json would otherwise write as U+FFFD,
// changing them; one feature per input; one class per output, or two for a
// single output; no class twice.
func (d *modelJSON) checkNames() error {
	in, out := d.Sizes[0], d.Sizes[len(d.Sizes)-1]
	if d.Encoding != nil {
		in = len(d.Encoding) // the features are the columns of the table
	}
	if d.Features != nil && len(d.Features) != in {
		return badModel("has %d features, want %d (the input size)", len(d.Features), in)
	}
	for i, f := range d.Features {
		if !utf8.ValidString(f) {
			return badModel("features[%d] %s is not valid UTF-8", i, excerpt.Quote(f))
		}
	}
	if k, j := duplicate(d.Features); j >= 0 {
		// Rows reach a model by the names of their columns.
		return badModel("names the feature %s twice (features[%d] and [%d]), so its columns cannot be told apart", excerpt.Quote(d.Features[j]), k, j)
	}
	if !utf8.ValidString(d.Target) {
		return badModel("target %s is not valid UTF-8", excerpt.Quote(d.Target))
	}
	if d.Targets != nil {
		switch {
		case d.Version < 2:
			return badModel(`version %d has a "targets" field, which version 2 added`, d.Version)
		case d.Classes != nil:
			return badModel("has classes and several targets; targets are for regression")
		case len(d.Targets) != out:
			return badModel("has %d targets, want %d (one per output)", len(d.Targets), out)
		}
		for i, t := range d.Targets {
			if !utf8.ValidString(t) {
				return badModel("targets[%d] %s is not valid UTF-8", i, excerpt.Quote(t))
			}
		}
	}
	if d.Classes == nil {
		return nil
	}
	switch {
	case out == 1 && len(d.Classes) != 2:
		return badModel("has %d classes for its single output, want 2 (classes 0 and 1, as Network.ClassesTo reads the output)", len(d.Classes))
	case out > 1 && len(d.Classes) != out:
		return badModel("has %d classes, want %d (one per output)", len(d.Classes), out)
	}
	if err := checkClasses(d.Classes); err != nil {
		return badModel("%v", err)
	}
	return nil
}

// checkEncoding checks the encoding, if any: only in version 2, with a
// finite fill for each column, a category code for a categorical one, its
// categories distinct and valid UTF-8, and as many inputs as the network
// takes.
func (d *modelJSON) checkEncoding() error {
	if d.Encoding == nil {
		if d.Missing != nil {
			return badModel(`has "missing" spellings but no "encoding" to fill missing values in`)
		}
		return nil
	}
	if d.Version < 2 {
		return badModel(`version %d has an "encoding" field, which version 2 added`, d.Version)
	}
	if d.Features == nil {
		return badModel(`has an "encoding" but no "features": rows to encode are found by their column names`)
	}
	for i, m := range d.Missing {
		if !utf8.ValidString(m) {
			return badModel("missing[%d] %s is not valid UTF-8", i, excerpt.Quote(m))
		}
	}
	width := 0
	for j, c := range d.Encoding {
		if c.Fill == nil {
			return badModel(`encoding[%d] has no "fill" field`, j)
		}
		fill := *c.Fill
		if !finite(fill) {
			return badModel("encoding[%d] fill is %v: %w", j, fill, ErrNotFinite)
		}
		if c.Categories != nil {
			if k := int(fill); float64(k) != fill || k < 0 || k >= len(c.Categories) {
				return badModel("encoding[%d] fill %v is not the code of one of its %d categories", j, fill, len(c.Categories))
			}
			for i, cat := range c.Categories {
				if !utf8.ValidString(cat) {
					return badModel("encoding[%d] category %d %s is not valid UTF-8", j, i, excerpt.Quote(cat))
				}
			}
			if _, i := duplicate(c.Categories); i >= 0 {
				return badModel("encoding[%d] lists category %s twice", j, excerpt.Quote(c.Categories[i]))
			}
			width += len(c.Categories)
		} else {
			width++
		}
		if c.Indicator {
			width++
		}
		if width > d.Sizes[0] {
			break
		}
	}
	if width != d.Sizes[0] {
		return badModel("encoding makes %d inputs of its %d columns, want %d (the input size)", width, len(d.Encoding), d.Sizes[0])
	}
	return nil
}

// build returns the model that the checked d describes.
func (d *modelJSON) build() *Model {
	n := newNetwork(d.Sizes, d.acts, *d.Bias, *d.Loss)
	n.slope = defaultLeakySlope
	if d.LeakySlope != nil {
		n.slope = *d.LeakySlope
	}
	for l, w := range d.Weights {
		copy(n.w[l].RawMatrix().Data, w)
		if n.bias {
			copy(n.b[l], d.Biases[l])
		}
	}
	m := &Model{Network: n, Features: d.Features, Target: d.Target, Targets: d.Targets, Classes: d.Classes}
	if sc := d.Scaler; sc != nil {
		m.Scaler = &Scaler{Kind: *sc.Kind, Offset: sc.Offset, Scale: sc.Scale}
	}
	if d.Encoding != nil {
		m.Encoding = &Encoding{Columns: make([]ColumnEncoding, len(d.Encoding))}
		for j, c := range d.Encoding {
			m.Encoding.Columns[j] = ColumnEncoding{Categories: c.Categories, Fill: *c.Fill, Indicator: c.Indicator}
		}
		m.Encoding.Missing = d.Missing
	}
	return m
}
