package serve

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// A ModelInferRequest is read from its wire bytes in place, as a JSON
// body is: what the message holds (tensors, values, strings) is counted
// and checked against the model before the server allocates for it, so
// that a message cannot make the server hold more than its rows need.
// These are the field numbers of grpc_predict_v2.proto that it reads.
const (
	reqModelName   = 1
	reqModelVer    = 2
	reqID          = 3
	reqParameters  = 4
	reqInputs      = 5
	reqOutputs     = 6
	reqRawContents = 7

	inName       = 1
	inDatatype   = 2
	inShape      = 3
	inParameters = 4
	inContents   = 5

	outName = 1

	contentsBool   = 1
	contentsInt    = 2
	contentsInt64  = 3
	contentsUint   = 4
	contentsUint64 = 5
	contentsFP32   = 6
	contentsFP64   = 7
	contentsBytes  = 8
)

// contentsFields are the names of the fields of InferTensorContents, by
// number.
var contentsFields = [...]string{"", "bool_contents", "int_contents", "int64_contents", "uint_contents", "uint64_contents", "fp32_contents", "fp64_contents", "bytes_contents"}

// contentsType is the wire type of an element of each field of
// InferTensorContents, unpacked.
var contentsType = [...]protowire.Type{0, protowire.VarintType, protowire.VarintType, protowire.VarintType, protowire.VarintType, protowire.VarintType, protowire.Fixed32Type, protowire.Fixed64Type, protowire.BytesType}

// errWire is the error of bytes that are not a valid protocol buffer.
var errWire = errors.New("not a valid protocol buffer")

// field is a field of a message on the wire: its number, its type, and
// its value (the bytes of a string, bytes or embedded message, the
// varint or the fixed number).
type field struct {
	num protowire.Number
	typ protowire.Type
	b   []byte // BytesType
	v   uint64 // VarintType, Fixed32Type, Fixed64Type
}

// nextField reads the field at the start of b and returns it and the
// bytes after it.
func nextField(b []byte) (field, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 || !num.IsValid() {
		// Field numbers beyond 2²⁹−1 are refused, as the protocol
		// buffer library refuses them.
		return field{}, nil, errWire
	}
	b = b[n:]
	f := field{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.v, n = protowire.ConsumeVarint(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		f.v = uint64(v)
	case protowire.Fixed64Type:
		f.v, n = protowire.ConsumeFixed64(b)
	case protowire.BytesType:
		f.b, n = protowire.ConsumeBytes(b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return field{}, nil, errWire
	}
	return f, b[n:], nil
}

// wireString returns the bytes of a field that must be a valid UTF-8
// string, as proto3 requires of its strings, without copying them.
func wireString(f field, where string) ([]byte, error) {
	if f.typ != protowire.BytesType {
		return nil, fmt.Errorf("%s: %w: a string field of wire type %d", where, errWire, f.typ)
	}
	if !utf8.Valid(f.b) {
		return nil, fmt.Errorf("%s: not valid UTF-8", where)
	}
	return f.b, nil
}

// checkEntry checks that b is a well-formed entry of a parameters map,
// which the server does not use, as the protocol buffer library would
// read it: a key, a valid UTF-8 string, and a value whose fields are well
// formed, its string_param (field 3) valid UTF-8.
func checkEntry(b []byte) error {
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return err
		}
		b = rest
		if f.typ != protowire.BytesType {
			continue
		}
		switch f.num {
		case 1:
			if !utf8.Valid(f.b) {
				return errors.New("a key that is not valid UTF-8")
			}
		case 2:
			for v := f.b; len(v) > 0; {
				g, rest, err := nextField(v)
				if err != nil {
					return err
				}
				v = rest
				if g.num == 3 && g.typ == protowire.BytesType && !utf8.Valid(g.b) {
					return errors.New("a string_param that is not valid UTF-8")
				}
			}
		}
	}
	return nil
}

// wireHeader is what a ModelInferRequest says besides its tensors.
type wireHeader struct {
	model, version, id string
	raw                int // the raw_input_contents
}

// readHeader reads the model name, version and id of a ModelInferRequest
// and checks the message's top level: every field well formed, and the
// strings valid UTF-8.
func readHeader(msg []byte) (wireHeader, error) {
	var h wireHeader
	var model, version, id []byte // the last of each, as proto3 reads them
	names := [...]string{reqParameters: "parameters", reqInputs: "inputs", reqOutputs: "outputs", reqRawContents: "raw_input_contents"}
	for b := msg; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil {
			return h, fmt.Errorf("the message: %w at byte %d", err, len(msg)-len(b))
		}
		b = rest
		switch f.num {
		case reqModelName:
			model, err = wireString(f, "model_name")
		case reqModelVer:
			version, err = wireString(f, "model_version")
		case reqID:
			id, err = wireString(f, "id")
		case reqParameters, reqInputs, reqOutputs, reqRawContents:
			if f.typ != protowire.BytesType {
				err = fmt.Errorf("%s: %w: wire type %d at byte %d", names[f.num], errWire, f.typ, len(msg)-len(b))
			}
			if f.num == reqRawContents {
				h.raw++
			}
		}
		if err != nil {
			return h, err
		}
	}
	h.model, h.version, h.id = string(model), string(version), string(id)
	return h, nil
}

// countContents returns the field of InferTensorContents b that holds
// values and how many, checking that one field at most does and that
// every element is well formed: packed or not, as proto3 allows.
func countContents(b []byte, prefix string) (int, int, error) {
	counts := [len(contentsFields)]int{}
	for all := b; len(b) > 0; {
		f, rest, err := nextField(b)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w at byte %d", prefix, err, len(all)-len(b))
		}
		b = rest
		num := int(f.num)
		if num < 1 || num >= len(contentsFields) {
			continue // an unknown field
		}
		want := contentsType[num]
		switch {
		case f.typ == want:
			counts[num]++
		case f.typ == protowire.BytesType:
			// Packed: a run of varints, or of fixed numbers.
			n, err := countPacked(f.b, want)
			if err != nil {
				return 0, 0, fmt.Errorf("%s.%s: %w", prefix, contentsFields[num], err)
			}
			counts[num] += n
		default:
			return 0, 0, fmt.Errorf("%s.%s: %w: wire type %d", prefix, contentsFields[num], errWire, f.typ)
		}
	}
	which, n := 0, 0
	for num, c := range counts {
		if c == 0 {
			continue
		}
		if which != 0 {
			return 0, 0, fmt.Errorf("%s: values in %s and in %s; give them in the one field of the tensor's datatype", prefix, contentsFields[which], contentsFields[num])
		}
		which, n = num, c
	}
	return which, n, nil
}

// countPacked returns the elements of a packed run b of elements of wire
// type typ.
func countPacked(b []byte, typ protowire.Type) (int, error) {
	switch typ {
	case protowire.Fixed32Type:
		if len(b)%4 != 0 {
			return 0, fmt.Errorf("%w: %d bytes of 4-byte values", errWire, len(b))
		}
		return len(b) / 4, nil
	case protowire.Fixed64Type:
		if len(b)%8 != 0 {
			return 0, fmt.Errorf("%w: %d bytes of 8-byte values", errWire, len(b))
		}
		return len(b) / 8, nil
	}
	// Varints, each read as valueReader reads it: one that is cut
	// short or overflows 64 bits is refused.
	n := 0
	for len(b) > 0 {
		_, k := protowire.ConsumeVarint(b)
		if k < 0 {
			return 0, fmt.Errorf("%w: a varint cut short or of more than 64 bits", errWire)
		}
		b = b[k:]
		n++
	}
	return n, nil
}

// valueReader reads the values of one field of InferTensorContents in
// order, across its packed runs and unpacked elements.
type valueReader struct {
	b   []byte // the rest of the message
	run []byte // the rest of the packed run being read
	num int
	typ protowire.Type
}

// newValueReader returns a reader of field num of the contents b, whose
// fields countContents checked.
func newValueReader(b []byte, num int) valueReader {
	return valueReader{b: b, num: num, typ: contentsType[num]}
}

// next returns the next element: its number bits (a varint or fixed
// number), or its bytes for bytes_contents.
func (r *valueReader) next() (uint64, []byte) {
	for {
		if len(r.run) > 0 {
			var v uint64
			var n int
			switch r.typ {
			case protowire.Fixed32Type:
				var x uint32
				x, n = protowire.ConsumeFixed32(r.run)
				v = uint64(x)
			case protowire.Fixed64Type:
				v, n = protowire.ConsumeFixed64(r.run)
			default:
				v, n = protowire.ConsumeVarint(r.run)
			}
			if n < 0 {
				panic("serve: a packed value that countContents passed does not read") // a bug
			}
			r.run = r.run[n:]
			return v, nil
		}
		if len(r.b) == 0 {
			panic("serve: more values read than countContents counted") // a bug
		}
		f, rest, err := nextField(r.b) // checked by countContents
		if err != nil {
			panic("serve: a field that countContents passed does not read") // a bug
		}
		r.b = rest
		if int(f.num) != r.num {
			continue
		}
		if f.typ == r.typ {
			return f.v, f.b
		}
		r.run = f.b // a packed run
	}
}

// numberOf returns the value of the element bits of a field of
// InferTensorContents, as a float64.
func numberOf(num int, v uint64) float64 {
	switch num {
	case contentsInt:
		return float64(int32(v))
	case contentsInt64:
		return float64(int64(v))
	case contentsUint:
		return float64(uint32(v))
	case contentsUint64:
		return float64(v)
	case contentsFP32:
		return float64(math.Float32frombits(uint32(v)))
	case contentsFP64:
		return math.Float64frombits(v)
	}
	panic("serve: no number in field " + itoa(num)) // checked by decodeGRPC
}
