package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// builder collects the nodes of a graph, or of a function's body, whose
// values are tensors of one element type.
type builder struct {
	float32 bool // float rather than double
	nodes   []*pb.NodeProto
	inits   []*pb.TensorProto // nil in a function body: constants are Constant nodes
	fn      bool              // building a function body
	count   int
}

// elemType returns the ONNX element type of b's values.
func (b *builder) elemType() pb.TensorProto_DataType {
	if b.float32 {
		return pb.TensorProto_FLOAT
	}
	return pb.TensorProto_DOUBLE
}

// name returns a fresh value name that says what the value is.
func (b *builder) name(what string) string {
	b.count++
	return fmt.Sprintf("%s_%d", what, b.count)
}

// op adds a node of type op on inputs and returns the name of its output.
func (b *builder) op(op string, inputs []string, attrs ...*pb.AttributeProto) string {
	out := b.name(op)
	b.nodes = append(b.nodes, &pb.NodeProto{
		OpType:    sp(op),
		Name:      sp(out),
		Input:     inputs,
		Output:    []string{out},
		Attribute: attrs,
	})
	return out
}

// opTo is op with the output named out.
func (b *builder) opTo(out, op string, inputs []string, attrs ...*pb.AttributeProto) string {
	b.nodes = append(b.nodes, &pb.NodeProto{
		OpType:    sp(op),
		Name:      sp(out),
		Input:     inputs,
		Output:    []string{out},
		Attribute: attrs,
	})
	return out
}

// constant adds the values v, of shape dims (nil for a scalar), in b's
// element type, as an initializer of the graph or a Constant node of a
// function body, and returns its name.
func (b *builder) constant(what string, dims []int64, v []float64) string {
	name := b.name(what)
	t := tensor(name, dims, v, b.float32)
	if b.fn {
		b.nodes = append(b.nodes, &pb.NodeProto{
			OpType:    sp("Constant"),
			Name:      sp(name),
			Output:    []string{name},
			Attribute: []*pb.AttributeProto{{Name: sp("value"), Type: pb.AttributeProto_TENSOR.Enum(), T: t}},
		})
		return name
	}
	b.inits = append(b.inits, t)
	return name
}

// scalar is constant for one value.
func (b *builder) scalar(what string, v float64) string {
	return b.constant(what, nil, []float64{v})
}

// int64s adds int64 values of shape dims as an initializer.
func (b *builder) int64s(what string, dims []int64, v []int64) string {
	name := b.name(what)
	b.inits = append(b.inits, &pb.TensorProto{
		Name:      sp(name),
		Dims:      dims,
		DataType:  i32p(int32(pb.TensorProto_INT64)),
		Int64Data: v,
	})
	return name
}

// tensor returns the tensor name of shape dims holding v, as float or
// double, in raw little-endian data.
func tensor(name string, dims []int64, v []float64, f32 bool) *pb.TensorProto {
	t := &pb.TensorProto{Name: sp(name), Dims: dims}
	if f32 {
		t.DataType = i32p(int32(pb.TensorProto_FLOAT))
		raw := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(x)))
		}
		t.RawData = raw
		return t
	}
	t.DataType = i32p(int32(pb.TensorProto_DOUBLE))
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
	}
	t.RawData = raw
	return t
}

// Helpers for the pointer fields of proto2 messages.

func sp(s string) *string { return &s }
func i32p(v int32) *int32 { return &v }
func i64p(v int64) *int64 { return &v }

// attrInt returns an integer attribute.
func attrInt(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: sp(name), Type: pb.AttributeProto_INT.Enum(), I: i64p(v)}
}

// polynomial adds the nodes of c[0] + x·(c[1] + x·(c[2] + …)), by Horner's
// rule as Go's math package evaluates its approximations, and returns
// the name of its value.
func (b *builder) polynomial(x string, c []float64) string {
	n := len(c) - 1
	acc := b.scalar("c", c[n])
	for k := n - 1; k >= 0; k-- {
		acc = b.op("Add", []string{b.scalar("c", c[k]), b.op("Mul", []string{x, acc})})
	}
	return acc
}
