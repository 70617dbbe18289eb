package onnx

import (
	"fmt"
	"strconv"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// constant returns the float values and dims of the constant name, or an
// error if name is not a constant.
func (im *importer) constant(name string) ([]float64, []int, error) {
	if c, ok := im.values[name]; ok {
		return c.v, c.dims, nil
	}
	t, ok := im.consts[name]
	if !ok {
		return nil, nil, fmt.Errorf("input %s is not a constant", strconv.Quote(name))
	}
	v, dims, err := floats(t)
	if err != nil {
		return nil, nil, fmt.Errorf("constant %s: %w", strconv.Quote(name), err)
	}
	if err := im.take(float64(len(v)), "the constants of the model"); err != nil {
		return nil, nil, err
	}
	im.values[name] = constValue{v, dims}
	return v, dims, nil
}

// take counts n more float64 values held, and returns an error if all
// those held pass the memory budget.
func (im *importer) take(n float64, what string) error {
	im.bytes += 8 * n
	return nn.CheckMemoryBudget(im.bytes, what)
}

// vector returns the constant name as a vector: of dims [n] or [1, n].
func (im *importer) vector(name string) ([]float64, error) {
	v, dims, err := im.constant(name)
	if err != nil {
		return nil, err
	}
	if len(dims) == 1 || (len(dims) == 2 && dims[0] == 1) {
		return v, nil
	}
	return nil, fmt.Errorf("constant %s has dims %v, want a vector", strconv.Quote(name), dims)
}

// attrs returns the attributes of n by name, and an error for one that is
// not among allowed, of another type than allowed gives it, or repeated.
func attrs(n *pb.NodeProto, allowed map[string]pb.AttributeProto_AttributeType) (map[string]*pb.AttributeProto, error) {
	a := map[string]*pb.AttributeProto{}
	for _, at := range n.GetAttribute() {
		typ, ok := allowed[at.GetName()]
		switch {
		case !ok:
			return nil, fmt.Errorf("attribute %s is not supported", strconv.Quote(at.GetName()))
		case a[at.GetName()] != nil:
			return nil, fmt.Errorf("attribute %s is repeated", strconv.Quote(at.GetName()))
		case at.GetType() != typ:
			return nil, fmt.Errorf("attribute %s is of type %s, want %s", strconv.Quote(at.GetName()), at.GetType(), typ)
		}
		a[at.GetName()] = at
	}
	return a, nil
}

// Attribute types.
const (
	attrINT    = pb.AttributeProto_INT
	attrFLOAT  = pb.AttributeProto_FLOAT
	attrTENSOR = pb.AttributeProto_TENSOR
	attrSTRING = pb.AttributeProto_STRING
)

// intAttr returns the integer attribute name of a, or def.
func intAttr(a map[string]*pb.AttributeProto, name string, def int64) int64 {
	if at, ok := a[name]; ok {
		return at.GetI()
	}
	return def
}

// floatAttr returns the float attribute name of a, or def.
func floatAttr(a map[string]*pb.AttributeProto, name string, def float32) float32 {
	if at, ok := a[name]; ok {
		return at.GetF()
	}
	return def
}
