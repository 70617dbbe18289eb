package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// maxElements is the most elements of a tensor Read accepts, 1<<28 as the
// most parameters of an nn model.
const maxElements = 1 << 28

// shapeOf returns the dims of t and their product, or an error if a dim is
// negative or the product is more than maxElements.
func shapeOf(t *pb.TensorProto) ([]int, int, error) {
	dims := make([]int, len(t.GetDims()))
	n := 1.0
	for i, d := range t.GetDims() {
		if d < 0 {
			return nil, 0, fmt.Errorf("dimension %d is %d", i, d)
		}
		n *= float64(d)
		if n > maxElements {
			return nil, 0, fmt.Errorf("dims %v: more than %d elements", t.GetDims(), maxElements)
		}
		dims[i] = int(d)
	}
	return dims, int(n), nil
}

// floats returns the values of a float or double tensor as float64, with
// its dims. It returns an error for any other element type, for data
// stored outside the model or in segments, for data that does not hold
// one value per element, and for values that are not finite.
func floats(t *pb.TensorProto) ([]float64, []int, error) {
	if t == nil {
		return nil, nil, errors.New("no tensor")
	}
	dims, n, err := shapeOf(t)
	if err != nil {
		return nil, nil, err
	}
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, nil, errors.New("data stored outside the model file is not supported")
	}
	if t.GetSegment() != nil {
		return nil, nil, errors.New("segmented tensors are not supported")
	}
	if err := nn.CheckMemoryBudget(8*float64(n), fmt.Sprintf("a tensor of %d values", n)); err != nil {
		return nil, nil, err
	}
	raw := t.GetRawData()
	var v []float64
	switch typ := pb.TensorProto_DataType(t.GetDataType()); typ {
	case pb.TensorProto_FLOAT:
		switch {
		case raw != nil:
			if len(raw) != 4*n {
				return nil, nil, fmt.Errorf("%d bytes of raw data for %d floats", len(raw), n)
			}
			v = make([]float64, n)
			for i := range v {
				v[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		default:
			if len(t.GetFloatData()) != n {
				return nil, nil, fmt.Errorf("%d floats for %d elements", len(t.GetFloatData()), n)
			}
			v = make([]float64, n)
			for i, x := range t.GetFloatData() {
				v[i] = float64(x)
			}
		}
	case pb.TensorProto_DOUBLE:
		switch {
		case raw != nil:
			if len(raw) != 8*n {
				return nil, nil, fmt.Errorf("%d bytes of raw data for %d doubles", len(raw), n)
			}
			v = make([]float64, n)
			for i := range v {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		default:
			if len(t.GetDoubleData()) != n {
				return nil, nil, fmt.Errorf("%d doubles for %d elements", len(t.GetDoubleData()), n)
			}
			v = append([]float64(nil), t.GetDoubleData()...)
		}
	default:
		return nil, nil, fmt.Errorf("element type %s is not supported (float and double are)", typ)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, nil, fmt.Errorf("value %d is %v", i, x)
		}
	}
	return v, dims, nil
}

// elemTypeName names an ONNX element type for messages.
func elemTypeName(t int32) string {
	return pb.TensorProto_DataType(t).String()
}
