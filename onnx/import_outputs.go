package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// isTail reports whether n may compute a classifier's outputs from the
// network's output, as Write's graphs do: the operators of labels and of
// probabilities from one output, on the network's value, on other such
// values and on constants. checkTail then checks that they compute what
// Write's do.
func (im *importer) isTail(n *pb.NodeProto) bool {
	switch n.GetOpType() {
	case "ArgMax", "GreaterOrEqual", "Cast", "Reshape", "Concat", "Sub":
	default:
		return false
	}
	if len(im.layers) == 0 {
		return false
	}
	usesNet := false
	for _, x := range n.GetInput() {
		switch {
		case x == im.head || im.tail[x]:
			usesNet = true
		case im.consts[x] != nil:
		default:
			return false
		}
	}
	if !usesNet {
		return false
	}
	// Sub(z, c) on the network's value would be a layer's arithmetic,
	// which nn has not; Sub(c, z) is 1 − p.
	if n.GetOpType() == "Sub" && len(n.GetInput()) == 2 && n.GetInput()[0] == im.head {
		return false
	}
	return true
}

// checkTail checks that the nodes after the network, if any, are those
// Write makes of a classifier's output: ArgMax over each row of several
// outputs, or for a single output p (of threshold 0.5, or 0 after Tanh)
//
//	Cast(Reshape(GreaterOrEqual(p, threshold), [-1]), int64), Concat(1 − p, p)
//
// Anything else after the network would compute what nn does not.
func (im *importer) checkTail() error {
	tn := im.tailNodes
	if len(tn) == 0 {
		return nil
	}
	bad := fmt.Errorf("the outputs are not computed from the network as nn export computes a classifier's (%d nodes after the network)", len(tn))
	net := im.head
	outs := map[string]bool{}
	for _, o := range im.g.GetOutput() {
		outs[o.GetName()] = true
	}
	is := func(n *pb.NodeProto, op string, inputs ...string) bool {
		return n.GetOpType() == op && slices.Equal(n.GetInput(), inputs)
	}
	scalar := func(name string, want float64) bool {
		v, dims, err := im.constant(name)
		return err == nil && len(v) == 1 && len(dims) <= 1 && v[0] == want
	}
	intAttrs := func(n *pb.NodeProto, want map[string]int64) bool {
		a, err := attrs(n, map[string]pb.AttributeProto_AttributeType{"axis": attrINT, "keepdims": attrINT, "to": attrINT})
		if err != nil || len(a) != len(want) {
			return false
		}
		for k, v := range want {
			if a[k] == nil || a[k].GetI() != v {
				return false
			}
		}
		return true
	}
	_, width := im.layers[len(im.layers)-1].w.Dims()
	switch {
	case len(tn) == 1 && width > 1:
		n := tn[0]
		if !is(n, "ArgMax", net) || !intAttrs(n, map[string]int64{"axis": 1, "keepdims": 0}) || !outs[net] || !outs[n.GetOutput()[0]] || len(outs) != 2 {
			return bad
		}
		return nil
	case len(tn) == 5 && width == 1:
		threshold := 0.5
		if im.layers[len(im.layers)-1].act == nn.Tanh {
			threshold = 0
		}
		ge, rs, cast, sub, cat := tn[0], tn[1], tn[2], tn[3], tn[4]
		ok := len(ge.GetInput()) == 2 && is(ge, "GreaterOrEqual", net, ge.GetInput()[1]) && scalar(ge.GetInput()[1], threshold) && len(ge.GetAttribute()) == 0 &&
			len(rs.GetInput()) == 2 && is(rs, "Reshape", ge.GetOutput()[0], rs.GetInput()[1]) && im.int64s(rs.GetInput()[1], -1) && len(rs.GetAttribute()) == 0 &&
			is(cast, "Cast", rs.GetOutput()[0]) && intAttrs(cast, map[string]int64{"to": int64(pb.TensorProto_INT64)}) &&
			len(sub.GetInput()) == 2 && is(sub, "Sub", sub.GetInput()[0], net) && scalar(sub.GetInput()[0], 1) && len(sub.GetAttribute()) == 0 &&
			is(cat, "Concat", sub.GetOutput()[0], net) && intAttrs(cat, map[string]int64{"axis": 1}) &&
			len(outs) == 2 && outs[cast.GetOutput()[0]] && outs[cat.GetOutput()[0]]
		if !ok {
			return bad
		}
		return nil
	}
	return bad
}

// int64s reports whether the constant name is an int64 tensor of the
// values want.
func (im *importer) int64s(name string, want ...int64) bool {
	t := im.consts[name]
	if t == nil || pb.TensorProto_DataType(t.GetDataType()) != pb.TensorProto_INT64 || len(t.GetDims()) != 1 || t.GetDims()[0] != int64(len(want)) {
		return false
	}
	if raw := t.GetRawData(); raw != nil {
		if len(raw) != 8*len(want) {
			return false
		}
		for i, w := range want {
			if int64(binary.LittleEndian.Uint64(raw[8*i:])) != w {
				return false
			}
		}
		return true
	}
	return slices.Equal(t.GetInt64Data(), want)
}

// outputs checks that the graph's outputs are the network's value or
// computed from it.
func (im *importer) outputs() error {
	outs := im.g.GetOutput()
	if len(outs) == 0 {
		return errors.New("the graph has no output")
	}
	head := false
	for _, o := range outs {
		switch {
		case o.GetName() == im.head:
			head = true
		case im.tail[o.GetName()]:
		default:
			return fmt.Errorf("output %s is not computed from the network", strconv.Quote(o.GetName()))
		}
	}
	if !head && len(im.tail) == 0 {
		return fmt.Errorf("no output holds the network's value %s", strconv.Quote(im.head))
	}
	return nil
}
