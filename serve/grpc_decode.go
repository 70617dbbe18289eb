package serve

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/neuralgo/nn/internal/excerpt"
	"google.golang.org/protobuf/encoding/protowire"

	pb "github.com/neuralgo/nn/serve/inferencepb"
)

// grpcInput is an input tensor of a gRPC inference request, read in
// place from the message: its values in typed contents or in raw bytes.
type grpcInput struct {
	name     string
	datatype string
	shape    []int64
	c        []byte // its InferTensorContents, on the wire
	raw      []byte // its raw contents, little-endian, if raw
	isRaw    bool
	num      int    // the field of InferTensorContents that holds its values
	width    int    // bytes of a raw value; 0 for BYTES
	field    string // where the values are, for messages
	count    int    // the values it holds
}

// rawWidth is the bytes of a value of each numeric datatype in raw
// contents.
var rawWidth = map[string]int{
	"FP64": 8, "FP32": 4, "FP16": 2, "BF16": 2,
	"INT8": 1, "INT16": 2, "INT32": 4, "INT64": 8,
	"UINT8": 1, "UINT16": 2, "UINT32": 4, "UINT64": 8,
}

// typedField returns the field of InferTensorContents that holds the
// values of datatype, 0 for FP16 and BF16, which have none.
func typedField(datatype string) int {
	switch datatype {
	case "FP64":
		return contentsFP64
	case "FP32":
		return contentsFP32
	case "INT8", "INT16", "INT32":
		return contentsInt
	case "INT64":
		return contentsInt64
	case "UINT8", "UINT16", "UINT32":
		return contentsUint
	case "UINT64":
		return contentsUint64
	case "BYTES":
		return contentsBytes
	}
	return 0
}

// decodeGRPC reads the tensors of a gRPC inference request, msg on the
// wire, for the model of t, checking them without allocating for their
// values, and returns the outputs it asks for (all of them if it names
// none) and its rows, which fillGRPC then reads into t. The inputs are as
// a V2 REST request's: one tensor of shape [N, features], or one of shape
// [N] (or [N, 1]) per feature, named by it. Their values are in the
// typed contents of their datatype (fp64_contents for FP64, int_contents
// for INT8, INT16 and INT32, …, bytes_contents for BYTES) or, for every
// input at once, in raw_input_contents: little-endian values, and for
// BYTES each element as a 4-byte little-endian length and its bytes.
// What decodeGRPC keeps is bounded by the model: a tensor per feature at
// most, each output once, parameters checked and not kept.
func decodeGRPC(t *table, msg []byte) ([]string, int, *httpError) {
	cols := t.e.cols
	all := t.e.outputs
	outputs := t.outs[:0]
	defer func() { t.outs = outputs }()
	ins := t.gins[:0]
	defer func() { t.gins = ins }()
	nraw := 0
	raws := t.graw[:0]
	defer func() { clear(raws); t.graw = raws }()
	for b := msg; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, 0, badRequest("the message: %v at byte %d", err, len(msg)-len(b))
		}
		b = rest
		switch f.num {
		case reqParameters:
			if err := checkEntry(f.b); err != nil {
				return nil, 0, badRequest("parameters: %v", err)
			}
		case reqInputs:
			if len(ins) == cols {
				return nil, 0, badRequest("inputs: more than %d input tensors; the model takes one of shape [N, %d], or one of shape [N] per feature: %s", cols, cols, excerpt.Quotes(t.e.schema.Features()))
			}
			ins = addInput(ins)
			if err := readInput(&ins[len(ins)-1], f.b, "inputs["+itoa(len(ins)-1)+"]"); err != nil {
				return nil, 0, err
			}
		case reqOutputs:
			k := len(outputs)
			prefix := "outputs[" + itoa(k) + "]"
			if k == len(all) {
				return nil, 0, badRequest("outputs: more than the model's %d outputs, %s", len(all), strings.Join(all, " and "))
			}
			var name []byte
			for o := f.b; len(o) > 0; {
				g, rest, err := nextField(o)
				if err != nil {
					return nil, 0, badRequest("%s: %v at byte %d of it", prefix, err, len(f.b)-len(o))
				}
				o = rest
				if g.num == outName {
					if name, err = wireString(g, "name"); err != nil {
						return nil, 0, badRequest("%s.%v", prefix, err)
					}
				} else if g.num == 2 && g.typ == protowire.BytesType {
					if err := checkEntry(g.b); err != nil {
						return nil, 0, badRequest("%s.parameters: %v", prefix, err)
					}
				}
			}
			if name == nil {
				return nil, 0, badRequest("%s: no name", prefix)
			}
			i := slices.IndexFunc(all, func(o string) bool { return o == string(name) })
			if i < 0 {
				return nil, 0, badRequest("%s: unknown output %s; the model's outputs are %s", prefix, excerpt.Quote(string(name)), strings.Join(all, " and "))
			}
			if slices.Contains(outputs, all[i]) {
				return nil, 0, badRequest("%s: the output %s twice", prefix, excerpt.Quote(all[i]))
			}
			outputs = append(outputs, all[i])
		case reqRawContents:
			if nraw == cols {
				return nil, 0, badRequest("raw_input_contents: more than %d, one per input tensor", cols)
			}
			// Matched with the inputs, in order, once they are read.
			raws = append(raws, f.b)
			nraw++
		}
	}
	if len(outputs) == 0 {
		outputs = append(outputs, all...)
	}
	if len(ins) == 0 {
		return nil, 0, badRequest(`inputs: no input tensors; want one of shape [N, %d] or one of shape [N] per feature: %s`, cols, excerpt.Quotes(t.e.schema.Features()))
	}
	if nraw > 0 && nraw != len(ins) {
		return nil, 0, badRequest("raw_input_contents: %d, want one per input tensor, %d", nraw, len(ins))
	}
	for k, r := range raws {
		ins[k].raw, ins[k].isRaw = r, true
	}
	for k := range ins {
		if err := checkInput(&ins[k], k, nraw > 0); err != nil {
			return nil, 0, err
		}
	}
	one := &ins[0]
	named := t.e.schema.Column(one.name) >= 0
	var rows int
	var herr *httpError
	t.gmatrix = len(ins) == 1 && len(one.shape) == 2 && (!named || cols > 1)
	if t.gmatrix {
		rows, herr = grpcMatrix(t, one)
	} else {
		rows, herr = grpcFeatures(t, ins)
	}
	return outputs, rows, herr
}

// addInput returns ins with one more input, empty, reusing the room of
// the shape of a former one.
func addInput(ins []grpcInput) []grpcInput {
	if len(ins) < cap(ins) {
		ins = ins[:len(ins)+1]
		shape := ins[len(ins)-1].shape[:0]
		ins[len(ins)-1] = grpcInput{shape: shape}
		return ins
	}
	return append(ins, grpcInput{})
}

// readInput reads an InferInputTensor, b on the wire, into in: its name,
// datatype, shape and where its typed contents are.
func readInput(in *grpcInput, b []byte, prefix string) *httpError {
	var name, datatype []byte // the last of each, as proto3 reads them
	defer func() { in.name, in.datatype = string(name), canonicalType(datatype) }()
	for all := b; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil {
			return badRequest("%s: %v at byte %d of it", prefix, err, len(all)-len(b))
		}
		b = rest
		switch f.num {
		case inName:
			name, err = wireString(f, "name")
		case inDatatype:
			datatype, err = wireString(f, "datatype")
		case inShape:
			// Packed, or one varint at a time.
			dims := f.b
			if f.typ == protowire.VarintType {
				dims = protowire.AppendVarint(nil, f.v)
			} else if f.typ != protowire.BytesType {
				return badRequest("%s.shape: %v: wire type %d at byte %d of it", prefix, errWire, f.typ, len(all)-len(b))
			}
			for len(dims) > 0 {
				v, n := protowire.ConsumeVarint(dims)
				if n < 0 {
					return badRequest("%s.shape: %v at byte %d of it", prefix, errWire, len(all)-len(b))
				}
				dims = dims[n:]
				if len(in.shape) == maxDims {
					return badRequest("%s.shape: more than %d dimensions", prefix, maxDims)
				}
				in.shape = append(in.shape, int64(v))
			}
		case inParameters:
			if f.typ == protowire.BytesType {
				if err = checkEntry(f.b); err != nil {
					err = fmt.Errorf("parameters: %w", err)
				}
			}
		case inContents:
			if f.typ != protowire.BytesType {
				return badRequest("%s.contents: %v: wire type %d at byte %d of it", prefix, errWire, f.typ, len(all)-len(b))
			}
			if in.c != nil {
				// The protocol buffer library would merge them.
				return badRequest("%s.contents: given twice", prefix)
			}
			in.c = f.b
		}
		if err != nil {
			return badRequest("%s.%v", prefix, err)
		}
	}
	return nil
}

// canonicalType returns the datatype b as a string, the package's own
// for those it knows, so that reading one allocates nothing.
func canonicalType(b []byte) string {
	if string(b) == "BYTES" {
		return "BYTES"
	}
	for _, t := range numericTypes {
		if string(b) == t {
			return t
		}
	}
	return string(b)
}

// checkInput checks the datatype and shape of input k and counts its
// values, in its typed contents or, if raw, in its raw contents.
func checkInput(in *grpcInput, k int, raw bool) *httpError {
	prefix := "inputs[" + itoa(k) + "]"
	if in.datatype == "" {
		return badRequest("%s: no datatype", prefix)
	}
	if in.datatype != "BYTES" && !slices.Contains(numericTypes, in.datatype) {
		return badRequest("%s: the datatype %s is not one the model takes: want FP64, FP32 or another numeric type, or BYTES for categories", prefix, excerpt.Quote(in.datatype))
	}
	if len(in.shape) == 0 {
		return badRequest("%s: no shape", prefix)
	}
	for d, n := range in.shape {
		if n < 0 {
			return badRequest("%s.shape[%d]: %d is negative", prefix, d, n)
		}
	}
	num, n, err := countContents(in.c, prefix+".contents")
	if err != nil {
		return badRequest("%v", err)
	}
	if raw {
		if n > 0 {
			return badRequest("%s.contents: values in contents and in raw_input_contents; give them in one or the other", prefix)
		}
		in.field = "raw_input_contents[" + itoa(k) + "]"
		if in.datatype == "BYTES" {
			c, err := countBytes(in.raw)
			if err != nil {
				return badRequest("%s: %v", in.field, err)
			}
			in.count = c
			return nil
		}
		in.width = rawWidth[in.datatype]
		if len(in.raw)%in.width != 0 {
			return badRequest("%s: %d bytes, not a whole number of %s values of %d bytes", in.field, len(in.raw), in.datatype, in.width)
		}
		in.count = len(in.raw) / in.width
		return nil
	}
	want := typedField(in.datatype)
	if want == 0 {
		return badRequest("%s: %s values have no typed contents: send them in raw_input_contents", prefix, in.datatype)
	}
	if n > 0 && num != want {
		return badRequest("%s.contents: values in %s, but the datatype %s holds them in %s", prefix, contentsFields[num], in.datatype, contentsFields[want])
	}
	in.num, in.count, in.field = want, n, prefix+".contents."+contentsFields[want]
	return nil
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

// grpcMatrix checks one input tensor of shape [N, features] and returns
// its rows.
func grpcMatrix(t *table, in *grpcInput) (int, *httpError) {
	const prefix = "inputs[0]"
	cols := t.e.cols
	if in.shape[1] != int64(cols) {
		return 0, badRequest("%s: shape %v, want [N, %d]: one column per feature: %s", prefix, in.shape, cols, excerpt.Quotes(t.e.schema.Features()))
	}
	if err := checkCount(in, prefix, in.shape[0], int64(cols)); err != nil {
		return 0, err
	}
	if in.shape[0] > int64(t.maxRows) {
		return 0, tooLarge("%s: shape %v, more than the %d rows a request may hold", prefix, in.shape, t.maxRows)
	}
	if in.shape[0] == 0 {
		return 0, badRequest("%s: shape %v: no rows (an empty batch)", prefix, in.shape)
	}
	return int(in.shape[0]), nil
}

// checkCount returns an error unless in holds exactly rows×width
// values. A tensor whose shape declares more values than its contents
// hold is refused here, whatever the size it declares.
func checkCount(in *grpcInput, prefix string, rows, width int64) *httpError {
	if rows > math.MaxInt32 {
		return badRequest("%s: shape %v says more values than a message can hold, and %s holds %d", prefix, in.shape, in.field, in.count)
	}
	if int64(in.count) != rows*width {
		return badRequest("%s: shape %v says %d values, but %s holds %d", prefix, in.shape, rows*width, in.field, in.count)
	}
	return nil
}

// grpcFeatures checks one input tensor of shape [N] or [N, 1] per
// feature, named by it, and returns their rows.
func grpcFeatures(t *table, ins []grpcInput) (int, *httpError) {
	if err := t.featureTensors(len(ins), func(k int) (string, []int64) { return ins[k].name, ins[k].shape }); err != nil {
		return 0, err
	}
	rows := ins[0].shape[0]
	for k := range ins {
		in := &ins[k]
		prefix := "inputs[" + itoa(k) + "]"
		if in.shape[0] != rows {
			return 0, badRequest("%s (feature %s): shape %v, but inputs[0] has %d rows", prefix, excerpt.Quote(in.name), in.shape, rows)
		}
		if err := checkCount(in, prefix, rows, 1); err != nil {
			return 0, err
		}
	}
	if rows > int64(t.maxRows) {
		return 0, tooLarge("inputs[0]: shape %v, more than the %d rows a request may hold", ins[0].shape, t.maxRows)
	}
	if rows == 0 {
		return 0, badRequest("inputs[0]: shape %v: no rows (an empty batch)", ins[0].shape)
	}
	return int(rows), nil
}

// fillGRPC reads the values of the inputs that decodeGRPC checked, of
// rows rows, into t.
func fillGRPC(t *table, rows int) *httpError {
	if err := t.setRows(rows, "inputs"); err != nil {
		return err
	}
	ins := t.gins
	if t.gmatrix {
		return readGRPC(t, &ins[0], -1)
	}
	for k := range ins {
		if err := readGRPC(t, &ins[k], t.e.schema.Column(ins[k].name)); err != nil {
			return err
		}
	}
	return nil
}

// readGRPC reads the values of a tensor of t.n rows in row-major order
// into the table: every column (col < 0) or column col alone. A numeric
// value is read as a JSON number is (RowParser.Number), NaN as a missing
// value (a JSON null), and a BYTES element as the text of a CSV field.
func readGRPC(t *table, in *grpcInput, col int) *httpError {
	cols := t.e.cols
	width := cols
	if col >= 0 {
		width = 1
	}
	vr := newValueReader(in.c, in.num)
	off := 0
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
				l := int(binary.LittleEndian.Uint32(in.raw[off:]))
				b = in.raw[off+4 : off+4+l]
				off += 4 + l
			} else {
				_, b = vr.next()
			}
			*dst, err = t.p.Value(j, string(b))
		} else {
			var v float64
			if in.isRaw {
				v = rawValue(in.raw[k*in.width:], in.datatype)
			} else {
				bits, _ := vr.next()
				v = numberOf(in.num, bits)
			}
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

// rawValue returns the little-endian value of datatype at the start of b.
func rawValue(b []byte, datatype string) float64 {
	le := binary.LittleEndian
	switch datatype {
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
	panic("serve: no raw width for " + datatype) // checked by decodeGRPC
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

// grpcAnswer returns the answer to the request id, whose rows b holds
// predicted by e, the version sl: the outputs asked for, in
// raw_output_contents if the inputs were raw, else in typed contents.
func grpcAnswer(sl *slot, e *entry, b *reqBuf, id string, raw bool, outputs []string) *pb.ModelInferResponse {
	n := b.t.n
	a := new(answer)
	res := &a.res
	res.ModelName, res.ModelVersion, res.Id = sl.name, sl.version, id
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
