package onnx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// The versions written: ONNX Runtime 1.30 runs them, and the checker of
// ONNX 1.12 (Debian 12's python3-onnx) accepts them.
const (
	irVersion = 8  // IR version 8, ONNX 1.10 and later
	opset     = 17 // the default domain's operator set 17, ONNX 1.12
)

// Output names, as skl2onnx names a classifier's outputs.
const (
	// OutputLabel is the output of a classifier holding the index of
	// each row's predicted class, an int64 per row; the class names are
	// in the metadata under "classes".
	OutputLabel = "label"
	// OutputProbabilities is the output of a classifier holding one
	// value per class and row: the network's outputs, or 1−p and p for
	// a network with a single output p.
	OutputProbabilities = "probabilities"
	// OutputPrediction is the output of a regression: one value per
	// target and row, in the targets' units.
	OutputPrediction = "prediction"
)

// Options holds the settings of Write. A nil *Options means the defaults.
type Options struct {
	// Float32 writes weights, inputs and outputs as float
	// (tensor(float)) rather than double. Predictions then differ from
	// the nn package's by float's rounding, a few times 1e-6 relative to
	// the largest output.
	Float32 bool
	// Input names the graph's input, one tensor of all features; the
	// zero value is "X".
	Input string
	// Name is the graph's name; the zero value is "nn".
	Name string
}

// metadata keys of a model file written by Write.
const (
	metaFeatures      = "features"
	metaTarget        = "target"
	metaTargets       = "targets"
	metaClasses       = "classes"
	metaLoss          = "loss"
	metaScaler        = "scaler"
	metaEncoding      = "encoding"
	metaMissing       = "missing"
	metaInputs        = "inputs"
	metaNNVersion     = "nn_version"
	metaFormatVersion = "nn_model_format_version"
)

// Write writes m to w as an ONNX model: the whole path from a row of raw
// features to a prediction, that is m's encoding (categories one-hot,
// missing values filled in), its scaler (Sub and Div), every layer as
// Gemm (MatMul without biases) followed by its activation, and for a
// classifier the predicted class. The graph has one input (Options.Input,
// "X" by default) of shape [N, m.Columns()] with a dynamic batch
// dimension N; a classifier has the outputs OutputLabel and
// OutputProbabilities, a regression OutputPrediction.
//
// A categorical column (one with categories in m.Encoding) takes the code
// of its category, an index into the categories listed in the metadata
// under "encoding", −1 for an unknown one; a missing value is NaN, in any
// column of a model with an Encoding. A model without an Encoding has no
// missing values: where m.Predict refuses NaN, the graph carries it through
// to NaN probabilities and a meaningless label.
//
// The model's metadata_props hold, where m has them, "target", "loss" and
// "scaler" (the scaler's kind, as nn names it), and as JSON arrays
// "features", "targets", "classes", "missing" and "inputs" (the names of
// the network's inputs), and "encoding" (one object per column:
// categories, fill and indicator, as in a model file); and always the
// version of the nn module as "nn_version" and the version of the model
// file format that m needs as "nn_model_format_version".
//
// The file is ONNX IR version 8 with operator set 17 of the default domain,
// which ONNX Runtime 1.30 runs and the checker of ONNX 1.12 accepts.
// Sigmoid, Tanh, ReLU and Softmax are ONNX operators. LeakyReLU, ELU, GELU,
// GELUTanh, SiLU and Softplus are model-local functions of the domain
// "ai.neuralgo.nn", made of standard operators that ONNX Runtime runs in
// double (see the functions in the file for their formulas): ONNX Runtime
// 1.30 has no double kernel for Elu, Softplus or Erf, takes LeakyRelu's
// slope as a float, and fuses x·Sigmoid(x) into a float-only kernel.
//
// In double, the default, ONNX Runtime's predictions agree with m.Predict
// to about 1e-15 relative to the largest output: the order of the sums in
// the matrix products differs, and so may the last bits of the
// exponentials. An output far smaller than the largest may differ more
// relative to itself (ONNX Runtime's Sigmoid gives 0 below about −37,
// where nn's gives e^z). Write returns an error if m is not a valid
// model, as Model.Encode would, if Options.Input names a value of the
// graph, an error wrapping nn.ErrMemoryBudget if the file would be larger
// than Read reads under the current memory budget (1/256 of it), writing
// nothing, or an error of w.
func Write(w io.Writer, m *nn.Model, o *Options) error {
	p, err := build(m, o)
	if err != nil {
		return err
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		return fmt.Errorf("onnx: %w", err)
	}
	// What Write writes, Read reads under the same budget.
	if limit := nn.MemoryBudget() / decodeFactor; int64(len(data)) > limit {
		return fmt.Errorf("onnx: the model would take %d bytes, more than the %d (1/%d of the memory budget) that Read reads: %w", len(data), limit, decodeFactor, nn.ErrMemoryBudget)
	}
	_, err = w.Write(data)
	return err
}

// WriteNetwork writes the network n to w as an ONNX model with the output
// OutputPrediction, as Write writes a regression model without a scaler.
func WriteNetwork(w io.Writer, n *nn.Network, o *Options) error {
	return Write(w, &nn.Model{Network: n}, o)
}

// build returns the ModelProto of m.
func build(m *nn.Model, o *Options) (*pb.ModelProto, error) {
	if o == nil {
		o = &Options{}
	}
	if m == nil || m.Network == nil {
		return nil, errors.New("onnx: model has no network")
	}
	// The model's own checks: what Encode refuses, Write refuses.
	head := &headWriter{}
	if err := m.Encode(head); err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	format, err := head.version()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	doc, err := document(m, format)
	if err != nil {
		return nil, err
	}
	input := o.Input
	if input == "" {
		input = "X"
	}
	name := o.Name
	if name == "" {
		name = "nn"
	}
	b := &builder{float32: o.Float32}
	net := m.Network
	sizes := net.Sizes()
	cfg := net.Config()

	x := input
	if m.Encoding != nil {
		x = b.encoding(x, m.Encoding)
	}
	if s := m.Scaler; s != nil && s.Offset != nil {
		// x' = (x − offset) / scale
		dims := []int64{int64(len(s.Offset))}
		x = b.opTo("scaler/centred", "Sub", []string{x, b.constant("scaler/offset", dims, s.Offset)})
		x = b.opTo("scaler/scaled", "Div", []string{x, b.constant("scaler/scale", dims, s.Scale)})
	}
	var funcs []*pb.FunctionProto
	used := map[nn.Activation]bool{}
	for l := range net.Layers() {
		in, out := int64(sizes[l]), int64(sizes[l+1])
		prefix := "layer" + strconv.Itoa(l+1)
		w := b.constant(prefix+"/W", []int64{in, out}, net.Weights(l).RawMatrix().Data)
		if cfg.NoBias {
			// z = a·W
			x = b.opTo(prefix+"/z", "MatMul", []string{x, w})
		} else {
			// z = a·W + b
			bias := b.constant(prefix+"/b", []int64{out}, net.Bias(l))
			x = b.opTo(prefix+"/z", "Gemm", []string{x, w, bias})
		}
		a := cfg.Activations[l]
		switch {
		case a == nn.Identity:
		case a == nn.Softmax:
			x = b.opTo(prefix+"/a", "Softmax", []string{x}, attrInt("axis", 1))
		case native[a] != "":
			x = b.opTo(prefix+"/a", native[a], []string{x})
		default:
			if !used[a] {
				used[a] = true
				funcs = append(funcs, function(a, cfg.LeakySlope, o.Float32))
			}
			b.nodes = append(b.nodes, &pb.NodeProto{
				OpType: sp(functionNames[a]),
				Domain: sp(nnDomain),
				Name:   sp(prefix + "/a"),
				Input:  []string{x},
				Output: []string{prefix + "/a"},
			})
			x = prefix + "/a"
		}
	}
	outWidth := int64(sizes[len(sizes)-1])
	var outputs []*pb.ValueInfoProto
	if m.Classes != nil {
		probs, label := b.classify(x, outWidth, cfg.Activations[len(cfg.Activations)-1])
		b.rename(probs, OutputProbabilities)
		b.rename(label, OutputLabel)
		k := outWidth
		if k == 1 {
			k = 2
		}
		outputs = []*pb.ValueInfoProto{
			valueInfo(OutputLabel, pb.TensorProto_INT64, -1),
			valueInfo(OutputProbabilities, b.elemType(), -1, k),
		}
	} else {
		b.rename(x, OutputPrediction)
		outputs = []*pb.ValueInfoProto{valueInfo(OutputPrediction, b.elemType(), -1, outWidth)}
	}
	imports := []*pb.OperatorSetIdProto{{Domain: sp(""), Version: i64p(opset)}}
	if len(funcs) > 0 {
		imports = append(imports, &pb.OperatorSetIdProto{Domain: sp(nnDomain), Version: i64p(1)})
	}
	for _, n := range b.nodes {
		if n.Output[0] == input {
			return nil, fmt.Errorf("onnx: the input's name %s is the name of a value of the graph", strconv.Quote(input))
		}
	}
	for _, t := range b.inits {
		if t.GetName() == input {
			return nil, fmt.Errorf("onnx: the input's name %s is the name of a constant of the graph", strconv.Quote(input))
		}
	}
	in := valueInfo(input, b.elemType(), -1, int64(m.Columns()))
	if m.Features != nil {
		in.DocString = sp("features: " + doc[metaFeatures])
	}
	p := &pb.ModelProto{
		IrVersion:       i64p(irVersion),
		OpsetImport:     imports,
		ProducerName:    sp("github.com/neuralgo/nn"),
		ProducerVersion: sp(version()),
		Domain:          sp(nnDomain),
		ModelVersion:    i64p(1),
		DocString:       sp(summary(m)),
		Graph: &pb.GraphProto{
			Name:        sp(name),
			Node:        b.nodes,
			Initializer: b.inits,
			Input:       []*pb.ValueInfoProto{in},
			Output:      outputs,
		},
		Functions: funcs,
	}
	for _, k := range []string{metaFeatures, metaTarget, metaTargets, metaClasses, metaLoss, metaScaler, metaEncoding, metaMissing, metaInputs, metaNNVersion, metaFormatVersion} {
		if v, ok := doc[k]; ok {
			p.MetadataProps = append(p.MetadataProps, &pb.StringStringEntryProto{Key: sp(k), Value: sp(v)})
		}
	}
	return p, nil
}

// headWriter keeps the first bytes written to it, where a model file
// gives its version, and discards the rest.
type headWriter struct{ b []byte }

func (h *headWriter) Write(p []byte) (int, error) {
	if n := 512 - len(h.b); n > 0 {
		h.b = append(h.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// versionField matches the version of a model file.
var versionField = regexp.MustCompile(`"version":\s*([0-9]+)`)

// version returns the version of the model file whose head h holds.
func (h *headWriter) version() (int, error) {
	v := versionField.FindSubmatch(h.b)
	if v == nil {
		return 0, errors.New("no version in the model file")
	}
	return strconv.Atoi(string(v[1]))
}

// rename renames the value old, the output of the last node that wrote
// it, to name.
func (b *builder) rename(old, name string) {
	for i := len(b.nodes) - 1; i >= 0; i-- {
		n := b.nodes[i]
		if n.Output[0] == old {
			n.Output[0] = name
			n.Name = sp(name)
			break
		}
	}
	for _, n := range b.nodes {
		for j, in := range n.Input {
			if in == old {
				n.Input[j] = name
			}
		}
	}
}

// classify adds the nodes of a classifier's outputs from the network
// output x of width k, whose activation is last, and returns the names of
// the probabilities and the labels: the class of the largest output, or
// for a single output p the class 1 where p is at least 0.5 (0 for Tanh),
// as nn.Network.ClassesTo decides.
func (b *builder) classify(x string, k int64, last nn.Activation) (probs, label string) {
	if k > 1 {
		return x, b.op("ArgMax", []string{x}, attrInt("axis", 1), attrInt("keepdims", 0))
	}
	threshold := 0.5
	if last == nn.Tanh {
		threshold = 0
	}
	ge := b.op("GreaterOrEqual", []string{x, b.scalar("threshold", threshold)})
	flat := b.op("Reshape", []string{ge, b.int64s("shape", []int64{1}, []int64{-1})})
	label = b.op("Cast", []string{flat}, attrInt("to", int64(pb.TensorProto_INT64)))
	q := b.op("Sub", []string{b.scalar("one", 1), x})
	probs = b.op("Concat", []string{q, x}, attrInt("axis", 1))
	return probs, label
}

// encoding adds the nodes of the Encoding e of the table x and returns
// the name of the network's inputs: each column is taken out with
// Gather; a missing value (NaN) becomes the column's fill; a categorical
// column's code becomes one input per category, 1 where the code equals
// the category's index (so the code −1 of an unknown category gives all
// zeros); an indicator input is 1 where the value was missing.
func (b *builder) encoding(x string, e *nn.Encoding) string {
	var parts []string
	for j := range e.Columns {
		c := &e.Columns[j]
		prefix := "encoding/column" + strconv.Itoa(j)
		col := b.opTo(prefix, "Gather", []string{x, b.int64s("index", []int64{1}, []int64{int64(j)})}, attrInt("axis", 1))
		missing := b.op("IsNaN", []string{col})
		v := b.op("Where", []string{missing, b.scalar("fill", c.Fill), col})
		if c.Categories == nil {
			parts = append(parts, v)
		} else {
			codes := make([]float64, len(c.Categories))
			for i := range codes {
				codes[i] = float64(i)
			}
			eq := b.op("Equal", []string{v, b.constant("codes", []int64{int64(len(codes))}, codes)})
			parts = append(parts, b.op("Cast", []string{eq}, attrInt("to", int64(b.elemType()))))
		}
		if c.Indicator {
			parts = append(parts, b.op("Cast", []string{missing}, attrInt("to", int64(b.elemType()))))
		}
	}
	return b.opTo("encoding/inputs", "Concat", parts, attrInt("axis", 1))
}

// valueInfo returns the description of a tensor of element type t and the
// given dims, -1 standing for the batch dimension N.
func valueInfo(name string, t pb.TensorProto_DataType, dims ...int64) *pb.ValueInfoProto {
	shape := &pb.TensorShapeProto{}
	for _, d := range dims {
		dim := &pb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &pb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &pb.ValueInfoProto{
		Name: sp(name),
		Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{
			ElemType: i32p(int32(t)),
			Shape:    shape,
		}}},
	}
}

// document returns the metadata of m: names, kinds and versions as they
// are, lists and the encoding as JSON.
func document(m *nn.Model, format int) (map[string]string, error) {
	d := map[string]string{}
	put := func(k string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("onnx: metadata %s: %w", k, err)
		}
		d[k] = string(data)
		return nil
	}
	var errs []error
	if m.Features != nil {
		errs = append(errs, put(metaFeatures, m.Features))
	}
	if m.Target != "" {
		d[metaTarget] = m.Target
	}
	if m.Targets != nil {
		errs = append(errs, put(metaTargets, m.Targets))
	}
	if m.Classes != nil {
		errs = append(errs, put(metaClasses, m.Classes))
	}
	cfg := m.Network.Config()
	d[metaLoss] = cfg.Loss.String()
	if m.Scaler != nil && m.Scaler.Offset != nil {
		d[metaScaler] = m.Scaler.Kind.String()
	}
	if e := m.Encoding; e != nil {
		cols := make([]encodedColumn, len(e.Columns))
		for j, c := range e.Columns {
			cols[j] = encodedColumn{Categories: c.Categories, Fill: c.Fill, Indicator: c.Indicator}
		}
		errs = append(errs, put(metaEncoding, cols))
		if e.Missing != nil {
			errs = append(errs, put(metaMissing, e.Missing))
		}
		if m.Features != nil {
			errs = append(errs, put(metaInputs, e.Inputs(m.Features)))
		}
	}
	d[metaNNVersion] = version()
	d[metaFormatVersion] = strconv.Itoa(format)
	return d, errors.Join(errs...)
}

// encodedColumn is a column of the metadata "encoding".
type encodedColumn struct {
	Categories []string `json:"categories,omitempty"`
	Fill       float64  `json:"fill"`
	Indicator  bool     `json:"indicator,omitempty"`
}

// version returns the version of the nn module in the running program:
// its module version where it is a dependency, or "(devel)".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == "github.com/neuralgo/nn" {
			return bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/neuralgo/nn" {
				return d.Version
			}
		}
	}
	return "(devel)"
}

// summary describes m in a line, for the model's doc_string.
func summary(m *nn.Model) string {
	s := fmt.Sprintf("nn network of sizes %v", m.Network.Sizes())
	if m.Classes != nil {
		s += fmt.Sprintf(", a classifier of %d classes", len(m.Classes))
	} else {
		s += ", a regression"
	}
	if m.Target != "" {
		s += " of " + strconv.Quote(m.Target)
	}
	return s
}
