package onnx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/gonum/mat"
	"google.golang.org/protobuf/proto"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// Read reads an ONNX model of a feed-forward network from r and returns it
// as an nn model. It reads:
//
//   - networks exported by torch.onnx.export from an nn.Sequential of
//     Linear layers and activations: Gemm (with or without transB) or
//     MatMul followed by Add, then at most one activation: Relu, Sigmoid,
//     Tanh, Softmax (on the last layer), LeakyRelu, Elu (alpha 1),
//     Softplus, Gelu (operator set 20 and later), or GELU and SiLU of the
//     layer's output z as PyTorch writes them in operators ONNX has,
//     z·0.5·(1 + Erf(z/√2)), its tanh approximation
//     z·0.5·(1 + Tanh(√(2/π)·(z + 0.044715·z³))) and z·Sigmoid(z) (in any
//     order of the factors and terms, dividing by a constant or
//     multiplying by its inverse); with weights in float or double, as raw
//     data or typed fields, in initializers, Constant nodes or Identity
//     nodes of either;
//   - models written by Write, with their scaler, encoding, class labels
//     and names, which Read gives back so that they predict bit for bit as
//     the model that was written.
//
// An input scaler is Sub and then Div by constants before the first
// layer. A float model's weights become float64 exactly; its predictions
// in nn are then those of the network in double.
//
// Names come from the metadata that Write records ("features", "target",
// "classes", ...); a model from elsewhere has none, and is read as a
// regression whose loss is cross-entropy after a Softmax output and
// squared error otherwise: set Model.Classes (and Features) on the result
// to read it as a classifier.
//
// Anything else is an error that names the node and its operator: other
// operators (BatchNormalization, for one), other functions of a layer's
// output (named by their first node), shapes that do not chain, more than
// one input, tensors that are too large for nn or its memory budget (see
// nn.SetMemoryBudget), and input that is not an ONNX model at all. Since
// decoding a protocol buffer can take two hundred times the size of its
// input, Read refuses a file larger than 1/256 of the budget (16 MiB of
// the default 4 GiB, about 2 million parameters in double or 4 million in
// float). Read never panics on its input.
func Read(r io.Reader) (*nn.Model, error) {
	// Decoding a protocol buffer can take about two hundred times the
	// bytes of its input (an empty node or tensor is two bytes on the wire
	// and a struct in memory), so a file may take 1/256 of the budget.
	limit := nn.MemoryBudget() / decodeFactor
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("onnx: %w", nn.CheckMemoryBudget(float64(limit+1)*decodeFactor, fmt.Sprintf("decoding a model file of more than %d bytes", limit)))
	}
	var p pb.ModelProto
	if err := proto.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("onnx: not an ONNX model: %w", err)
	}
	m, err := fromProto(&p)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

// decodeFactor bounds the memory that decoding a model file takes, as a
// multiple of its size.
const decodeFactor = 256

// importer holds the state of reading a graph.
type importer struct {
	p       *pb.ModelProto
	g       *pb.GraphProto
	meta    map[string]string
	consts  map[string]*pb.TensorProto // initializers and Constant nodes
	values  map[string]constValue      // constants converted, each once
	defined map[string]bool            // every value of the graph
	funcs   map[string]*pb.FunctionProto
	checked map[string]bool // functions found to be nn's
	f32     bool            // the graph computes in float
	bytes   float64         // taken by constants converted and layers

	head      string // the value the network has computed so far
	tail      map[string]bool
	tailNodes []*pb.NodeProto
	layers    []*layer
	offset    []float64
	scale     []float64
	slope     float64 // of LeakyReLU layers, 0 if none
	opset     int64   // the default domain's operator set

	// The function of the last layer's output being read (see
	// import_function.go).
	z  string             // the last layer's output, before its activation
	fn map[string]*fnNode // the nodes that compute from z elementwise, by output
}

// constValue is a constant converted to float64.
type constValue struct {
	v    []float64
	dims []int
}

// layer is a weight layer read from the graph.
type layer struct {
	w       *mat.Dense // in×out
	b       []float64  // nil without a bias
	act     nn.Activation
	hasAct  bool
	matmul  bool // a MatMul that an Add may complete
	addSeen bool
}

// fromProto turns p into a model.
func fromProto(p *pb.ModelProto) (*nn.Model, error) {
	g := p.GetGraph()
	if g == nil {
		return nil, errors.New("model has no graph")
	}
	if v := p.GetIrVersion(); v < 3 || v > 11 {
		return nil, fmt.Errorf("IR version %d is not supported (3 to 11 are)", v)
	}
	im := &importer{
		p: p, g: g,
		meta:    map[string]string{},
		consts:  map[string]*pb.TensorProto{},
		values:  map[string]constValue{},
		defined: map[string]bool{},
		funcs:   map[string]*pb.FunctionProto{},
		checked: map[string]bool{},
		tail:    map[string]bool{},
		fn:      map[string]*fnNode{},
	}
	if err := im.opsets(); err != nil {
		return nil, err
	}
	for _, f := range p.GetFunctions() {
		if f.GetDomain() != nnDomain {
			continue // refused where a node calls it
		}
		if im.funcs[f.GetName()] != nil {
			return nil, fmt.Errorf("function %s is defined twice", strconv.Quote(f.GetName()))
		}
		im.funcs[f.GetName()] = f
	}
	for _, kv := range p.GetMetadataProps() {
		im.meta[kv.GetKey()] = kv.GetValue()
	}
	if len(g.GetSparseInitializer()) > 0 {
		return nil, errors.New("sparse initializers are not supported")
	}
	for _, t := range g.GetInitializer() {
		if im.consts[t.GetName()] != nil {
			return nil, fmt.Errorf("initializer %s is defined twice", strconv.Quote(t.GetName()))
		}
		im.consts[t.GetName()] = t
		im.defined[t.GetName()] = true
	}
	input, err := im.input()
	if err != nil {
		return nil, err
	}
	im.head = input.GetName()
	im.defined[im.head] = true
	nodes := g.GetNode()
	enc, skip, err := im.encoding(nodes)
	if err != nil {
		return nil, err
	}
	for i, n := range nodes[skip:] {
		if err := im.node(skip+i, n); err != nil {
			if _, ok := err.(*nodeError); !ok {
				err = &nodeError{skip + i, n, err}
			}
			return nil, err
		}
	}
	if len(im.layers) == 0 {
		return nil, errors.New("the graph has no layer (Gemm, or MatMul and Add)")
	}
	if err := im.closeFunction(); err != nil {
		return nil, err
	}
	if err := im.outputs(); err != nil {
		return nil, err
	}
	if err := im.checkTail(); err != nil {
		return nil, err
	}
	m, err := im.model(input, enc)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// nodeError is an error about the node n, the i-th of its graph, which
// the message names first.
type nodeError struct {
	i   int
	n   *pb.NodeProto
	err error
}

func (e *nodeError) Error() string { return nodeName(e.i, e.n) + ": " + e.err.Error() }
func (e *nodeError) Unwrap() error { return e.err }

// nodeName names the node n, the i-th of its graph, for messages: by its
// name and operator, or by its index if it has no name.
func nodeName(i int, n *pb.NodeProto) string {
	op := n.GetOpType()
	if q := strconv.Quote(op); q[1:len(q)-1] != op || op == "" {
		op = q
	}
	if n.GetName() == "" {
		return fmt.Sprintf("node %d (%s)", i, op)
	}
	return fmt.Sprintf("node %s (%s)", strconv.Quote(n.GetName()), op)
}

// opsets checks the operator sets the model imports.
func (im *importer) opsets() error {
	found := false
	for _, o := range im.p.GetOpsetImport() {
		switch o.GetDomain() {
		case "", "ai.onnx":
			if v := o.GetVersion(); v < 7 || v > 23 {
				return fmt.Errorf("operator set %d of the default domain is not supported (7 to 23 are)", v)
			}
			im.opset = max(im.opset, o.GetVersion())
			found = true
		case nnDomain:
		default:
			// Other domains are refused where a node uses one.
		}
	}
	if !found {
		return errors.New("the model imports no operator set of the default domain")
	}
	return nil
}

// input returns the graph's one input that is not an initializer, a
// matrix of float or double.
func (im *importer) input() (*pb.ValueInfoProto, error) {
	var in *pb.ValueInfoProto
	for _, v := range im.g.GetInput() {
		if _, ok := im.consts[v.GetName()]; ok {
			continue // IR versions before 4 list initializers as inputs
		}
		if in != nil {
			return nil, fmt.Errorf("the graph has more than one input (%s and %s); nn reads networks of one input", strconv.Quote(in.GetName()), strconv.Quote(v.GetName()))
		}
		in = v
	}
	if in == nil {
		return nil, errors.New("the graph has no input")
	}
	tt := in.GetType().GetTensorType()
	if tt == nil {
		return nil, fmt.Errorf("input %s is not a tensor", strconv.Quote(in.GetName()))
	}
	switch pb.TensorProto_DataType(tt.GetElemType()) {
	case pb.TensorProto_FLOAT:
		im.f32 = true
	case pb.TensorProto_DOUBLE:
	default:
		return nil, fmt.Errorf("input %s has element type %s; float and double are supported", strconv.Quote(in.GetName()), elemTypeName(tt.GetElemType()))
	}
	if s := tt.GetShape(); s != nil && len(s.GetDim()) != 2 {
		return nil, fmt.Errorf("input %s has %d dimensions; nn reads matrices, one row per example", strconv.Quote(in.GetName()), len(s.GetDim()))
	}
	return in, nil
}

// inputWidth returns the width the input's shape gives, or -1.
func inputWidth(in *pb.ValueInfoProto) int64 {
	dims := in.GetType().GetTensorType().GetShape().GetDim()
	if len(dims) == 2 {
		if d, ok := dims[1].GetValue().(*pb.TensorShapeProto_Dimension_DimValue); ok {
			return d.DimValue
		}
	}
	return -1
}

// onHead reports whether the node's first input is the network's value so
// far, and its others constants.
func (im *importer) onHead(n *pb.NodeProto) bool {
	in := n.GetInput()
	if len(in) == 0 || in[0] != im.head {
		return false
	}
	for _, x := range in[1:] {
		if _, ok := im.consts[x]; !ok && x != "" {
			return false
		}
	}
	return true
}

// node reads the node n, the i-th of the graph.
func (im *importer) node(i int, n *pb.NodeProto) error {
	if len(n.GetOutput()) != 1 {
		return fmt.Errorf("%d outputs, want 1", len(n.GetOutput()))
	}
	out := n.GetOutput()[0]
	if out == "" || im.defined[out] {
		return fmt.Errorf("output %s is defined twice", strconv.Quote(out))
	}
	im.defined[out] = true
	domain := n.GetDomain()
	if domain == nnDomain {
		return im.function(n, out)
	}
	if domain != "" && domain != "ai.onnx" {
		return fmt.Errorf("operator of domain %s is not supported", strconv.Quote(domain))
	}
	op := n.GetOpType()
	if op == "Constant" {
		return im.constantNode(n, out)
	}
	if op == "Identity" && len(n.GetInput()) == 1 && im.consts[n.GetInput()[0]] != nil {
		// Another name for a constant: torch.onnx.export writes one
		// initializer for equal parameters (a BatchNorm's fresh weight
		// and running variance) and the others as its Identity.
		if _, err := attrs(n, nil); err != nil {
			return err
		}
		im.consts[out] = im.consts[n.GetInput()[0]]
		return nil
	}
	if im.isTail(n) {
		im.tail[out] = true
		im.tailNodes = append(im.tailNodes, n)
		return nil
	}
	if len(im.tail) > 0 {
		return errors.New("not part of a feed-forward network: it follows the outputs")
	}
	if im.inFunction(n) {
		return im.functionNode(i, n, out)
	}
	if x := im.pendingInput(n); x != "" {
		if op == "Gemm" || op == "MatMul" {
			return im.unread()
		}
		return fmt.Errorf("operator not supported in an activation nn reads: its input %s is computed from the layer's output %s, and nn reads such functions when they are GELU or SiLU, of Mul, Div, Add, Pow, Erf, Tanh and Sigmoid", strconv.Quote(x), strconv.Quote(im.z))
	}
	if !im.onHead(n) {
		// Add(b, z) is Add(z, b).
		if op == "Add" && len(n.GetInput()) == 2 && n.GetInput()[1] == im.head {
			n = &pb.NodeProto{OpType: n.OpType, Name: n.Name, Input: []string{n.GetInput()[1], n.GetInput()[0]}, Output: n.Output}
		} else {
			return fmt.Errorf("not part of a feed-forward network: its first input is not %s, the network's value", strconv.Quote(im.head))
		}
	}
	in := n.GetInput()
	last := im.lastLayer()
	act := false // n is the layer's activation
	switch op {
	case "Identity":
		if _, err := attrs(n, nil); err != nil {
			return err
		}
	case "Sub", "Div":
		if _, err := attrs(n, nil); err != nil {
			return err
		}
		if last != nil || len(in) != 2 || (op == "Sub" && (im.offset != nil || im.scale != nil)) || (op == "Div" && im.scale != nil) {
			return errors.New("a scaler's Sub and Div must come before the first layer, once each")
		}
		v, err := im.vector(in[1])
		if err != nil {
			return err
		}
		if op == "Sub" {
			im.offset = v
		} else {
			for i, s := range v {
				if s == 0 {
					return fmt.Errorf("scale %d is zero", i)
				}
			}
			im.scale = v
		}
	case "Gemm":
		a, err := attrs(n, map[string]pb.AttributeProto_AttributeType{"alpha": attrFLOAT, "beta": attrFLOAT, "transA": attrINT, "transB": attrINT})
		if err != nil {
			return err
		}
		if floatAttr(a, "alpha", 1) != 1 || floatAttr(a, "beta", 1) != 1 || intAttr(a, "transA", 0) != 0 {
			return errors.New("alpha, beta and transA must be 1, 1 and 0")
		}
		if tb := intAttr(a, "transB", 0); tb != 0 && tb != 1 {
			return fmt.Errorf("transB is %d, want 0 or 1", tb)
		}
		if len(in) < 2 || len(in) > 3 {
			return fmt.Errorf("%d inputs", len(in))
		}
		l, err := im.weights(in[1], intAttr(a, "transB", 0) == 1)
		if err != nil {
			return err
		}
		if len(in) == 3 && in[2] != "" {
			_, cols := l.w.Dims()
			b, err := im.vector(in[2])
			if err != nil {
				return err
			}
			if len(b) != cols {
				return fmt.Errorf("bias %s has %d values for %d outputs", strconv.Quote(in[2]), len(b), cols)
			}
			l.b = b
		}
		im.layers = append(im.layers, l)
	case "MatMul":
		if _, err := attrs(n, nil); err != nil {
			return err
		}
		if len(in) != 2 {
			return fmt.Errorf("%d inputs", len(in))
		}
		l, err := im.weights(in[1], false)
		if err != nil {
			return err
		}
		l.matmul = true
		im.layers = append(im.layers, l)
	case "Add":
		if _, err := attrs(n, nil); err != nil {
			return err
		}
		if last == nil || !last.matmul || last.addSeen || last.hasAct || len(in) != 2 {
			return errors.New("an Add must follow a MatMul, as its bias")
		}
		b, err := im.vector(in[1])
		if err != nil {
			return err
		}
		if _, cols := last.w.Dims(); len(b) != cols {
			return fmt.Errorf("bias %s has %d values for %d outputs", strconv.Quote(in[1]), len(b), cols)
		}
		last.b, last.addSeen = b, true
	default:
		a, err := im.activation(n)
		if err != nil {
			return err
		}
		if last == nil || last.hasAct {
			return errors.New("an activation must follow a layer, one per layer")
		}
		last.act, last.hasAct = a, true
		act = true
	}
	im.head = out
	switch last := im.lastLayer(); {
	case last == nil:
	case act:
		// Sigmoid(z) may be the factor of SiLU's z·Sigmoid(z).
		im.fn[out] = &fnNode{n: n, i: i, used: true}
	case !last.hasAct:
		// A new output of the layer: a new function of it to read.
		if err := im.closeFunction(); err != nil {
			return err
		}
		im.z, im.fn = out, map[string]*fnNode{}
	}
	return nil
}

// lastLayer returns the last layer read, or nil.
func (im *importer) lastLayer() *layer {
	if len(im.layers) == 0 {
		return nil
	}
	return im.layers[len(im.layers)-1]
}

// weights returns a layer of the weight matrix name, transposed if trans.
func (im *importer) weights(name string, trans bool) (*layer, error) {
	v, dims, err := im.constant(name)
	if err != nil {
		return nil, err
	}
	if len(dims) != 2 || dims[0] == 0 || dims[1] == 0 {
		return nil, fmt.Errorf("weights %s have dims %v, want a matrix", strconv.Quote(name), dims)
	}
	if err := im.take(float64(len(v)), "the weights of the layers"); err != nil {
		return nil, err
	}
	w := mat.NewDense(dims[0], dims[1], v)
	if trans {
		var t mat.Dense
		t.CloneFrom(w.T())
		w = &t
	}
	if len(im.layers) > 0 {
		prev := im.layers[len(im.layers)-1]
		if _, out := prev.w.Dims(); out != dimRows(w) {
			return nil, fmt.Errorf("weights %s take %d inputs, but the layer before has %d outputs", strconv.Quote(name), dimRows(w), out)
		}
	}
	return &layer{w: w, act: nn.Identity}, nil
}

func dimRows(m *mat.Dense) int { r, _ := m.Dims(); return r }

// activation returns the activation of a node of the default domain.
func (im *importer) activation(n *pb.NodeProto) (nn.Activation, error) {
	switch op := n.GetOpType(); op {
	case "Relu", "Sigmoid", "Tanh", "Softplus":
		if _, err := attrs(n, nil); err != nil {
			return 0, err
		}
		return map[string]nn.Activation{"Relu": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh, "Softplus": nn.Softplus}[op], nil
	case "Softmax":
		a, err := attrs(n, map[string]pb.AttributeProto_AttributeType{"axis": attrINT})
		if err != nil {
			return 0, err
		}
		if ax := intAttr(a, "axis", -1); ax != 1 && ax != -1 {
			return 0, fmt.Errorf("softmax over axis %d; nn's is over each row (axis 1)", ax)
		}
		return nn.Softmax, nil
	case "LeakyRelu":
		a, err := attrs(n, map[string]pb.AttributeProto_AttributeType{"alpha": attrFLOAT})
		if err != nil {
			return 0, err
		}
		s := float64(floatAttr(a, "alpha", 0.01))
		if s == 0 {
			return nn.ReLU, nil
		}
		return nn.LeakyReLU, im.setSlope(s)
	case "Elu":
		a, err := attrs(n, map[string]pb.AttributeProto_AttributeType{"alpha": attrFLOAT})
		if err != nil {
			return 0, err
		}
		if floatAttr(a, "alpha", 1) != 1 {
			return 0, fmt.Errorf("alpha %v; nn's ELU has alpha 1", floatAttr(a, "alpha", 1))
		}
		return nn.ELU, nil
	case "Gelu":
		if im.opset < 20 {
			return 0, fmt.Errorf("Gelu is an operator of operator set 20 and later, and the model imports operator set %d", im.opset)
		}
		a, err := attrs(n, map[string]pb.AttributeProto_AttributeType{"approximate": attrSTRING})
		if err != nil {
			return 0, err
		}
		if a["approximate"] == nil {
			return nn.GELU, nil
		}
		switch s := string(a["approximate"].GetS()); s {
		case "none":
			return nn.GELU, nil
		case "tanh":
			return nn.GELUTanh, nil
		default:
			return 0, fmt.Errorf("approximate is %s, want \"none\" or \"tanh\"", strconv.Quote(s))
		}
	}
	return 0, errors.New("operator not supported in a feed-forward network nn reads (Gemm, MatMul, Add, Sub, Div, Identity, Constant, Relu, Sigmoid, Tanh, Softmax, LeakyRelu, Elu, Softplus, Gelu, and GELU and SiLU in Mul, Div, Add, Pow, Erf, Tanh and Sigmoid)")
}

// setSlope sets the slope of the LeakyReLU layers, the same for all.
func (im *importer) setSlope(s float64) error {
	if s < 0 || s >= 1 || math.IsNaN(s) {
		return fmt.Errorf("slope %v; nn's LeakyReLU takes a slope in [0, 1)", s)
	}
	if im.slope != 0 && im.slope != s {
		return fmt.Errorf("slope %v after %v; nn's LeakyReLU layers share one slope", s, im.slope)
	}
	im.slope = s
	return nil
}

// function reads a call of a function of nnDomain: an activation, whose
// definition in the model must be the one Write writes.
func (im *importer) function(n *pb.NodeProto, out string) error {
	var act nn.Activation
	found := false
	for a, name := range functionNames {
		if name == n.GetOpType() {
			act, found = a, true
		}
	}
	if !found {
		return fmt.Errorf("unknown function of domain %s", nnDomain)
	}
	def := im.funcs[n.GetOpType()]
	if def == nil {
		return errors.New("the model does not define the function")
	}
	slope := 0.0
	if act == nn.LeakyReLU {
		s, err := functionSlope(def)
		if err != nil {
			return err
		}
		if err := im.setSlope(s); err != nil {
			return err
		}
		slope = s
	}
	if !im.checked[n.GetOpType()] {
		if !proto.Equal(def, function(act, slope, im.f32)) {
			return fmt.Errorf("the model's definition of %s is not nn's", n.GetOpType())
		}
		im.checked[n.GetOpType()] = true
	}
	if len(n.GetInput()) != 1 || n.GetInput()[0] != im.head || len(n.GetAttribute()) > 0 {
		return fmt.Errorf("not part of a feed-forward network: its input is not %s, the network's value", strconv.Quote(im.head))
	}
	if len(im.tail) > 0 {
		return errors.New("not part of a feed-forward network: it follows the outputs")
	}
	if len(im.layers) == 0 || im.layers[len(im.layers)-1].hasAct {
		return errors.New("an activation must follow a layer, one per layer")
	}
	last := im.layers[len(im.layers)-1]
	last.act, last.hasAct = act, true
	im.head = out
	return nil
}

// functionSlope returns the slope of the LeakyReLU function f, the value
// of its one Constant node.
func functionSlope(f *pb.FunctionProto) (float64, error) {
	for _, n := range f.GetNode() {
		if n.GetOpType() == "Constant" && len(n.GetAttribute()) == 1 && n.GetAttribute()[0].GetT() != nil {
			v, _, err := floats(n.GetAttribute()[0].GetT())
			if err != nil || len(v) != 1 {
				return 0, errors.New("the function's slope is not one number")
			}
			return v[0], nil
		}
	}
	return 0, errors.New("the function has no slope")
}

// constantNode records the tensor of a Constant node.
func (im *importer) constantNode(n *pb.NodeProto, out string) error {
	a, err := attrs(n, map[string]pb.AttributeProto_AttributeType{"value": attrTENSOR})
	if err != nil {
		return err
	}
	if a["value"] == nil {
		return errors.New("a Constant without a tensor value")
	}
	t := a["value"].GetT()
	if t == nil {
		return errors.New("a Constant without a tensor value")
	}
	im.consts[out] = t
	return nil
}
