package onnx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// model builds the nn model of the layers read.
func (im *importer) model(input *pb.ValueInfoProto, enc *nn.Encoding) (*nn.Model, error) {
	in, _ := im.layers[0].w.Dims()
	if enc == nil {
		if w := inputWidth(input); w >= 0 && w != int64(in) {
			return nil, fmt.Errorf("input %s has %d columns, but the first layer takes %d", strconv.Quote(input.GetName()), w, in)
		}
	}
	sizes := []int{in}
	acts := make([]nn.Activation, len(im.layers))
	bias := false
	for l, ly := range im.layers {
		_, out := ly.w.Dims()
		sizes = append(sizes, out)
		acts[l] = ly.act
		if ly.b != nil {
			bias = true
		}
		if ly.act == nn.Softmax && l != len(im.layers)-1 {
			return nil, fmt.Errorf("softmax on layer %d of %d; nn allows it on the output layer only", l+1, len(im.layers))
		}
	}
	loss := nn.SquaredError
	if acts[len(acts)-1] == nn.Softmax {
		loss = nn.CrossEntropy
	}
	if v, ok := im.meta[metaLoss]; ok {
		if err := loss.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("metadata %s: %w", metaLoss, err)
		}
	}
	cfg := nn.Config{Sizes: sizes, Activations: acts, NoBias: !bias, Loss: loss, LeakySlope: im.slope}
	net, err := nn.New(cfg)
	if err != nil {
		return nil, err
	}
	for l, ly := range im.layers {
		net.Weights(l).Copy(ly.w)
		if bias {
			b := net.Bias(l)
			clear(b)
			copy(b, ly.b)
		}
	}
	m := &nn.Model{Network: net, Encoding: enc}
	if im.offset != nil || im.scale != nil {
		s := &nn.Scaler{Kind: nn.Standardize, Offset: im.offset, Scale: im.scale}
		if s.Offset == nil {
			s.Offset = make([]float64, len(s.Scale))
		}
		if s.Scale == nil {
			s.Scale = make([]float64, len(s.Offset))
			for i := range s.Scale {
				s.Scale[i] = 1
			}
		}
		if len(s.Offset) != in || len(s.Scale) != in {
			return nil, fmt.Errorf("the scaler has %d offsets and %d scales for %d inputs", len(s.Offset), len(s.Scale), in)
		}
		if v, ok := im.meta[metaScaler]; ok {
			if err := s.Kind.UnmarshalText([]byte(v)); err != nil {
				return nil, fmt.Errorf("metadata %s: %w", metaScaler, err)
			}
		}
		m.Scaler = s
	}
	m.Target = im.meta[metaTarget]
	for _, f := range []struct {
		key string
		dst any
	}{
		{metaFeatures, &m.Features},
		{metaTargets, &m.Targets},
		{metaClasses, &m.Classes},
	} {
		if v, ok := im.meta[f.key]; ok {
			if err := json.Unmarshal([]byte(v), f.dst); err != nil {
				return nil, fmt.Errorf("metadata %s: %w", f.key, err)
			}
		}
	}
	// The model file's own checks: what it cannot save, Read refuses.
	if err := m.Encode(io.Discard); err != nil {
		return nil, err
	}
	return m, nil
}

// encoding reads the encoding of a model written by Write: the metadata
// "encoding" describes it, and the graph's first nodes must be the ones
// Write makes of it. It returns the encoding and the number of nodes it
// takes, or nil and 0 without the metadata.
func (im *importer) encoding(nodes []*pb.NodeProto) (*nn.Encoding, int, error) {
	v, ok := im.meta[metaEncoding]
	if !ok {
		return nil, 0, nil
	}
	var cols []encodedColumn
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cols); err != nil {
		return nil, 0, fmt.Errorf("metadata %s: %w", metaEncoding, err)
	}
	if len(cols) == 0 {
		return nil, 0, fmt.Errorf("metadata %s: no columns", metaEncoding)
	}
	e := &nn.Encoding{Columns: make([]nn.ColumnEncoding, len(cols))}
	width := 0.0
	for j, c := range cols {
		if c.Categories != nil && len(c.Categories) == 0 {
			return nil, 0, fmt.Errorf("metadata %s: column %d has no categories", metaEncoding, j)
		}
		e.Columns[j] = nn.ColumnEncoding{Categories: c.Categories, Fill: c.Fill, Indicator: c.Indicator}
		width += float64(max(1, len(c.Categories)) + 1)
	}
	if width > maxElements {
		return nil, 0, fmt.Errorf("metadata %s: too many inputs", metaEncoding)
	}
	if v, ok := im.meta[metaMissing]; ok {
		if err := json.Unmarshal([]byte(v), &e.Missing); err != nil {
			return nil, 0, fmt.Errorf("metadata %s: %w", metaMissing, err)
		}
	}
	if 3*len(cols) > len(nodes) {
		// Every column takes Gather, IsNaN and Where at the least.
		return nil, 0, fmt.Errorf("the graph does not encode the columns as the metadata %s says", metaEncoding)
	}
	b := &builder{float32: im.f32}
	out := b.encoding(im.head, e)
	if len(nodes) < len(b.nodes) {
		return nil, 0, fmt.Errorf("the graph does not encode the columns as the metadata %s says", metaEncoding)
	}
	for i, n := range b.nodes {
		if !proto.Equal(n, nodes[i]) {
			return nil, 0, fmt.Errorf("%s: the graph does not encode the columns as the metadata %s says", nodeName(i, nodes[i]), metaEncoding)
		}
	}
	for _, t := range b.inits {
		if !proto.Equal(t, im.consts[t.GetName()]) {
			return nil, 0, fmt.Errorf("initializer %s: the graph does not encode the columns as the metadata %s says", strconv.Quote(t.GetName()), metaEncoding)
		}
	}
	for _, n := range b.nodes {
		im.defined[n.Output[0]] = true
	}
	im.head = out
	return e, len(b.nodes), nil
}
