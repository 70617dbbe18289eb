package serve

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/neuralgo/nn/internal/excerpt"
	pb "github.com/neuralgo/nn/serve/inferencepb"
)

// grpcInput is an input tensor of a gRPC inference request, with its
// values in typed contents or in raw bytes.
type grpcInput struct {
	k        int // its index among the inputs
	name     string
	datatype string
	shape    []int64
	c        *pb.InferTensorContents // typed contents, if not raw
	raw      []byte                  // raw contents, little-endian, if raw
	isRaw    bool
	width    int    // bytes of a raw value; 0 for BYTES
	field    string // where the values are, for messages
	count    int    // the values it holds
	off      int    // the next BYTES element of raw contents
}

// rawWidth is the bytes of a value of each numeric datatype in raw
// contents.
var rawWidth = map[string]int{
	"FP64": 8, "FP32": 4, "FP16": 2, "BF16": 2,
	"INT8": 1, "INT16": 2, "INT32": 4, "INT64": 8,
	"UINT8": 1, "UINT16": 2, "UINT32": 4, "UINT64": 8,
}

// typedField returns the field of InferTensorContents that holds the
// values of datatype, and how many it holds.
func typedField(c *pb.InferTensorContents, datatype string) (string, int) {
	switch datatype {
	case "FP64":
		return "fp64_contents", len(c.GetFp64Contents())
	case "FP32":
		return "fp32_contents", len(c.GetFp32Contents())
	case "INT8", "INT16", "INT32":
		return "int_contents", len(c.GetIntContents())
	case "INT64":
		return "int64_contents", len(c.GetInt64Contents())
	case "UINT8", "UINT16", "UINT32":
		return "uint_contents", len(c.GetUintContents())
	case "UINT64":
		return "uint64_contents", len(c.GetUint64Contents())
	case "BYTES":
		return "bytes_contents", len(c.GetBytesContents())
	}
	return "", 0 // FP16 and BF16 have no typed field
}

// otherFields returns the fields of c that hold values, but want.
func otherFields(c *pb.InferTensorContents, want string) []string {
	var f []string
	for _, x := range []struct {
		name string
		n    int
	}{
		{"bool_contents", len(c.GetBoolContents())}, {"int_contents", len(c.GetIntContents())},
		{"int64_contents", len(c.GetInt64Contents())}, {"uint_contents", len(c.GetUintContents())},
		{"uint64_contents", len(c.GetUint64Contents())}, {"fp32_contents", len(c.GetFp32Contents())},
		{"fp64_contents", len(c.GetFp64Contents())}, {"bytes_contents", len(c.GetBytesContents())},
	} {
		if x.n > 0 && x.name != want {
			f = append(f, x.name)
		}
	}
	return f
}

// decodeGRPC reads the inputs of a gRPC inference request, of size
// bytes, into t and returns the outputs it asks for (all of them if it
// names none). The inputs are as a V2 REST request's: one tensor of
// shape [N, features], or one of shape [N] (or [N, 1]) per feature, named
// by it. Their values are in the typed contents of their datatype
// (fp64_contents for FP64, int_contents for INT8, INT16 and INT32, …,
// bytes_contents for BYTES) or, for every input at once, in
// raw_input_contents: little-endian values, and for BYTES each element
// as a 4-byte little-endian length and its bytes. A numeric value is
// read as a JSON number is (RowParser.Number), NaN as a missing value
// (a JSON null), and a BYTES element as the text of a CSV field. Every
// count is checked against the shape before room is made for the rows.
func decodeGRPC(t *table, req *pb.ModelInferRequest, size int64) ([]string, *httpError) {
	t.limitValues(int(min(size+1, math.MaxInt32)))
	cols := t.e.cols
	outputs, herr := grpcOutputs(t, req.Outputs)
	if herr != nil {
		return nil, herr
	}
	if len(req.Inputs) == 0 {
		return nil, badRequest(`inputs: no input tensors; want one of shape [N, %d] or one of shape [N] per feature: %s`, cols, excerpt.Quotes(t.e.schema.Features()))
	}
	if len(req.Inputs) > cols {
		return nil, badRequest("inputs: %d input tensors, more than the %d the model takes: one of shape [N, %d], or one of shape [N] per feature: %s", len(req.Inputs), cols, cols, excerpt.Quotes(t.e.schema.Features()))
	}
	raw := len(req.RawInputContents) > 0
	if raw && len(req.RawInputContents) != len(req.Inputs) {
		return nil, badRequest("raw_input_contents: %d, want one per input tensor, %d", len(req.RawInputContents), len(req.Inputs))
	}
	ins := make([]grpcInput, len(req.Inputs))
	for k, in := range req.Inputs {
		prefix := "inputs[" + itoa(k) + "]"
		g := &ins[k]
		*g = grpcInput{k: k, name: in.Name, datatype: in.Datatype, shape: in.Shape}
		if in.Datatype == "" {
			return nil, badRequest("%s: no datatype", prefix)
		}
		if in.Datatype != "BYTES" && !slices.Contains(numericTypes, in.Datatype) {
			return nil, badRequest("%s: the datatype %s is not one the model takes: want FP64, FP32 or another numeric type, or BYTES for categories", prefix, excerpt.Quote(in.Datatype))
		}
		if len(in.Shape) == 0 {
			return nil, badRequest("%s: no shape", prefix)
		}
		if len(in.Shape) > maxDims {
			return nil, badRequest("%s.shape: more than %d dimensions", prefix, maxDims)
		}
		for d, n := range in.Shape {
			if n < 0 {
				return nil, badRequest("%s.shape[%d]: %d is negative", prefix, d, n)
			}
		}
		if raw {
			if len(otherFields(in.Contents, "")) > 0 {
				return nil, badRequest("%s.contents: values in contents and in raw_input_contents; give them in one or the other", prefix)
			}
			g.isRaw, g.raw = true, req.RawInputContents[k]
			g.field = "raw_input_contents[" + itoa(k) + "]"
			if in.Datatype == "BYTES" {
				n, err := countBytes(g.raw)
				if err != nil {
					return nil, badRequest("%s: %v", g.field, err)
				}
				g.count = n
			} else {
				g.width = rawWidth[in.Datatype]
				if len(g.raw)%g.width != 0 {
					return nil, badRequest("%s: %d bytes, not a whole number of %s values of %d bytes", g.field, len(g.raw), in.Datatype, g.width)
				}
				g.count = len(g.raw) / g.width
			}
			continue
		}
		field, n := typedField(in.Contents, in.Datatype)
		if field == "" {
			return nil, badRequest("%s: %s values have no typed contents: send them in raw_input_contents", prefix, in.Datatype)
		}
		if other := otherFields(in.Contents, field); len(other) > 0 {
			return nil, badRequest("%s.contents: values in %s, but the datatype %s holds them in %s", prefix, strings.Join(other, " and "), in.Datatype, field)
		}
		g.c, g.count, g.field = in.Contents, n, prefix+".contents."+field
	}
	one := &ins[0]
	named := t.e.schema.Column(one.name) >= 0
	if len(ins) == 1 && len(one.shape) == 2 && (!named || cols > 1) {
		return outputs, grpcMatrix(t, one)
	}
	return outputs, grpcFeatures(t, ins)
}

// countBytes returns the elements of raw BYTES contents: each a 4-byte
// little-endian length and that many bytes.
func countBytes(raw []byte) (int, error) {
	n := 0
	for i := 0; i < len(raw); n++ {
		if len(raw)-i < 4 {
			return 0, fmt.Errorf("element %d at byte %d: %d bytes left, too few for its 4-byte length", n, i, len(raw)-i)
		}
		l := binary.LittleEndian.Uint32(raw[i:])
		i += 4
		if uint64(l) > uint64(len(raw)-i) {
			return 0, fmt.Errorf("element %d at byte %d: a length of %d, more than the %d bytes left", n, i-4, l, len(raw)-i)
		}
		i += int(l)
	}
	return n, nil
}

// grpcOutputs returns the names of the outputs asked for, each at most
// once, or all of them for none.
func grpcOutputs(t *table, req []*pb.ModelInferRequest_InferRequestedOutputTensor) ([]string, *httpError) {
	all := t.e.outputs
	if len(req) == 0 {
		return all, nil
	}
	outputs := t.outs[:0]
	defer func() { t.outs = outputs }()
	for k, o := range req {
		i := slices.Index(all, o.Name)
		if i < 0 {
			return nil, badRequest("outputs[%d]: unknown output %s; the model's outputs are %s", k, excerpt.Quote(o.Name), strings.Join(all, " and "))
		}
		if slices.Contains(outputs, all[i]) {
			return nil, badRequest("outputs[%d]: the output %s twice", k, excerpt.Quote(all[i]))
		}
		outputs = append(outputs, all[i])
	}
	return outputs, nil
}

// grpcMatrix reads one input tensor of shape [N, features].
func grpcMatrix(t *table, in *grpcInput) *httpError {
	const prefix = "inputs[0]"
	cols := t.e.cols
	if in.shape[1] != int64(cols) {
		return badRequest("%s: shape %v, want [N, %d]: one column per feature: %s", prefix, in.shape, cols, excerpt.Quotes(t.e.schema.Features()))
	}
	if err := checkCount(in, prefix, in.shape[0], int64(cols)); err != nil {
		return err
	}
	if in.shape[0] > int64(t.maxRows) {
		return tooLarge("%s: shape %v, more than the %d rows a request may hold", prefix, in.shape, t.maxRows)
	}
	if err := t.setRows(int(in.shape[0]), prefix); err != nil {
		return err
	}
	if t.n == 0 {
		return badRequest("%s: shape %v: no rows (an empty batch)", prefix, in.shape)
	}
	return readGRPC(t, in, -1)
}

// checkCount returns an error unless in holds exactly rows×width
// values, before room is made for them.
func checkCount(in *grpcInput, prefix string, rows, width int64) *httpError {
	if rows > math.MaxInt32 || int64(in.count) != rows*width {
		return badRequest("%s: shape %v says %d values, but %s holds %d", prefix, in.shape, rows*width, in.field, in.count)
	}
	return nil
}

// grpcFeatures reads one input tensor of shape [N] or [N, 1] per feature,
// named by it.
func grpcFeatures(t *table, ins []grpcInput) *httpError {
	cols := t.e.cols
	if len(t.seen) < cols {
		t.seen = make([]int, cols)
	}
	clear(t.seen)
	for k := range ins {
		in := &ins[k]
		prefix := "inputs[" + itoa(k) + "]"
		j := t.e.schema.Column(in.name)
		if j < 0 {
			if len(ins) == 1 {
				return badRequest("%s: shape %v: want one tensor of shape [N, %d], or one tensor of shape [N] per feature, named by it: %s", prefix, in.shape, cols, excerpt.Quotes(t.e.schema.Features()))
			}
			return badRequest("%s: unknown input %s; the inputs are the features %s, one tensor of shape [N] each", prefix, excerpt.Quote(in.name), excerpt.Quotes(t.e.schema.Features()))
		}
		if t.seen[j] != 0 {
			return badRequest("%s: the feature %s twice", prefix, t.feature(j))
		}
		t.seen[j] = k + 1
		if len(in.shape) != 1 && !(len(in.shape) == 2 && in.shape[1] == 1) {
			return badRequest("%s (feature %s): shape %v, want [N] or [N, 1]", prefix, t.feature(j), in.shape)
		}
	}
	for j := range cols {
		if t.seen[j] == 0 {
			return badRequest("inputs: no tensor for the feature %s (the model takes %s)", t.feature(j), excerpt.Quotes(t.e.schema.Features()))
		}
	}
	rows := ins[0].shape[0]
	for k := range ins {
		in := &ins[k]
		prefix := "inputs[" + itoa(k) + "]"
		if in.shape[0] != rows {
			return badRequest("%s (feature %s): shape %v, but inputs[0] has %d rows", prefix, excerpt.Quote(in.name), in.shape, rows)
		}
		if err := checkCount(in, prefix, rows, 1); err != nil {
			return err
		}
	}
	if rows > int64(t.maxRows) {
		return tooLarge("inputs[0]: shape %v, more than the %d rows a request may hold", ins[0].shape, t.maxRows)
	}
	if err := t.setRows(int(rows), "inputs"); err != nil {
		return err
	}
	if t.n == 0 {
		return badRequest("inputs[0]: shape %v: no rows (an empty batch)", ins[0].shape)
	}
	for k := range ins {
		if err := readGRPC(t, &ins[k], t.e.schema.Column(ins[k].name)); err != nil {
			return err
		}
	}
	return nil
}

// readGRPC reads the values of a tensor of t.n rows in row-major order
// into the table: every column (col < 0) or column col alone.
func readGRPC(t *table, in *grpcInput, col int) *httpError {
	cols := t.e.cols
	width := cols
	if col >= 0 {
		width = 1
	}
	in.off = 0
	for k := range t.n * width {
		i, j := k/width, col
		if col < 0 {
			j = k % cols
		}
		dst := &t.x[i*cols+j]
		var err error
		if in.datatype == "BYTES" {
			var b []byte
			if in.isRaw {
				l := int(binary.LittleEndian.Uint32(in.raw[in.off:]))
				b = in.raw[in.off+4 : in.off+4+l]
				in.off += 4 + l
			} else {
				b = in.c.BytesContents[k]
			}
			*dst, err = t.p.Value(j, string(b))
		} else {
			v := in.value(k)
			if math.IsNaN(v) {
				*dst, err = t.p.Missing(j)
			} else {
				*dst, err = t.p.Number(j, v)
			}
		}
		if err != nil {
			return badRequest("%s[%d] (row %d): %v", in.field, k, i, err)
		}
	}
	return nil
}

// value returns the k-th value of a numeric tensor.
func (in *grpcInput) value(k int) float64 {
	if !in.isRaw {
		c := in.c
		switch in.datatype {
		case "FP64":
			return c.Fp64Contents[k]
		case "FP32":
			return float64(c.Fp32Contents[k])
		case "INT8", "INT16", "INT32":
			return float64(c.IntContents[k])
		case "INT64":
			return float64(c.Int64Contents[k])
		case "UINT8", "UINT16", "UINT32":
			return float64(c.UintContents[k])
		case "UINT64":
			return float64(c.Uint64Contents[k])
		}
		panic("serve: no typed contents for " + in.datatype) // checked by decodeGRPC
	}
	b := in.raw[k*in.width:]
	le := binary.LittleEndian
	switch in.datatype {
	case "FP64":
		return math.Float64frombits(le.Uint64(b))
	case "FP32":
		return float64(math.Float32frombits(le.Uint32(b)))
	case "FP16":
		return halfToFloat(le.Uint16(b))
	case "BF16":
		return float64(math.Float32frombits(uint32(le.Uint16(b)) << 16))
	case "INT8":
		return float64(int8(b[0]))
	case "INT16":
		return float64(int16(le.Uint16(b)))
	case "INT32":
		return float64(int32(le.Uint32(b)))
	case "INT64":
		return float64(int64(le.Uint64(b)))
	case "UINT8":
		return float64(b[0])
	case "UINT16":
		return float64(le.Uint16(b))
	case "UINT32":
		return float64(le.Uint32(b))
	case "UINT64":
		return float64(le.Uint64(b))
	}
	panic("serve: no raw width for " + in.datatype) // checked by decodeGRPC
}

// halfToFloat returns the IEEE 754 half-precision number of bits h.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24) // zero and subnormals
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// answer is a gRPC inference response with room for its outputs, made
// in one allocation: a model has two outputs at most.
type answer struct {
	res      pb.ModelInferResponse
	outs     [2]pb.ModelInferResponse_InferOutputTensor
	ptrs     [2]*pb.ModelInferResponse_InferOutputTensor
	contents [2]pb.InferTensorContents
	shapes   [4]int64
	raw      [2][]byte
}

// grpcAnswer returns the answer to req, whose rows b holds predicted
// by e, the version sl: the outputs asked for, in raw_output_contents
// if the inputs were raw, else in typed contents.
func grpcAnswer(sl *slot, e *entry, b *reqBuf, req *pb.ModelInferRequest, outputs []string) *pb.ModelInferResponse {
	n := b.t.n
	raw := len(req.RawInputContents) > 0
	a := new(answer)
	res := &a.res
	res.ModelName, res.ModelVersion, res.Id = sl.name, sl.version, req.Id
	res.Outputs = a.ptrs[:len(outputs)]
	if raw {
		res.RawOutputContents = a.raw[:len(outputs)]
	}
	for k, name := range outputs {
		o := &a.outs[k]
		a.ptrs[k] = o
		o.Name, o.Datatype = name, "FP64"
		shape := a.shapes[2*k : 2*k+2]
		var vals []float64
		switch name {
		case "label":
			o.Datatype, o.Shape = "BYTES", shape[:1]
			shape[0] = int64(n)
			if raw {
				size := 0
				for _, c := range b.cls[:n] {
					size += 4 + len(e.labelBytes[c])
				}
				r := make([]byte, 0, size)
				for _, c := range b.cls[:n] {
					r = binary.LittleEndian.AppendUint32(r, uint32(len(e.labelBytes[c])))
					r = append(r, e.labelBytes[c]...)
				}
				res.RawOutputContents[k] = r
				continue
			}
			l := make([][]byte, n)
			for i, c := range b.cls[:n] {
				l[i] = e.labelBytes[c]
			}
			o.Contents = &a.contents[k]
			o.Contents.BytesContents = l
			continue
		case "probabilities":
			k := len(e.schema.Classes())
			o.Shape = shape
			shape[0], shape[1] = int64(n), int64(k)
			vals = make([]float64, n*k)
			for i := range n {
				e.schema.ProbabilitiesTo(vals[i*k:(i+1)*k], b.out[i*e.out:(i+1)*e.out])
			}
		default: // scores, prediction
			o.Shape = shape
			shape[0], shape[1] = int64(n), int64(e.out)
			if name == "prediction" && e.out == 1 {
				o.Shape = shape[:1]
			}
			vals = slices.Clone(b.out[:n*e.out])
		}
		if raw {
			r := make([]byte, 0, 8*len(vals))
			for _, v := range vals {
				r = binary.LittleEndian.AppendUint64(r, math.Float64bits(v))
			}
			res.RawOutputContents[k] = r
			continue
		}
		o.Contents = &a.contents[k]
		o.Contents.Fp64Contents = vals
	}
	return res
}
