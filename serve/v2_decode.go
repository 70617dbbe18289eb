package serve

import (
	"fmt"
	"slices"
	"strings"

	"github.com/neuralgo/nn/internal/excerpt"
)

// v2Request is what a V2 $inference_request asks for besides its inputs,
// which decodeV2 reads into a table.
type v2Request struct {
	// ID is the request's "id", echoed in the response.
	ID string
	// Outputs are the outputs asked for, in order.
	Outputs []string
}

// v2Input is a V2 $request_input, read in place from the body: Data is
// the JSON text of its "data", nil if there is none.
type v2Input struct {
	Name     string
	Shape    []int64
	Datatype string
	Data     []byte
}

// numericTypes are the V2 datatypes of numbers that a model takes; BOOL
// and BYTES are not among them.
var numericTypes = []string{"FP64", "FP32", "FP16", "BF16", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}

// maxDims is the most dimensions of a V2 input's shape; the model takes
// two at most.
const maxDims = 8

// errBinary is the error of a request for the binary tensor data
// extension (Triton's), which the Server does not implement.
const errBinary = "the binary data extension is not supported: send the data as JSON"

// v2Keys are the keys of a $inference_request.
var v2Keys = []string{"id", "parameters", "inputs", "outputs"}

// decodeV2 reads a V2 inference request into t and returns what it asks
// for: its id and the outputs (all of them if it names none).
//
// It reads the body with the scanner rather than encoding/json, so that
// what a body can make the server hold is bounded by the model: at most
// one input tensor per feature column (t.e.cols), each output at most
// once, and parameters checked without being kept; the data of the
// inputs stays in the body until it is read into the table.
func decodeV2(t *table, body []byte) (v2Request, *httpError) {
	var req v2Request
	t.limitValues(len(body)/2 + 1)
	s := scanner{b: body}
	switch s.kind() {
	case kindObject:
	case kindEnd:
		return req, badRequest("the body is not valid JSON: it is empty; want a JSON object")
	default:
		return req, badRequest("the body: want a JSON object")
	}
	ins := t.ins[:0]
	defer func() { t.ins = ins }()
	var seen [4]bool // id, parameters, inputs, outputs
	outputs := t.e.outputs
	s.open('{')
	for k := 0; ; k++ {
		ok, err := s.more('}', k)
		if err != nil {
			return req, s.syntaxError(err)
		}
		if !ok {
			break
		}
		key, err := s.key()
		if err != nil {
			return req, s.syntaxError(err)
		}
		f := slices.Index(v2Keys, string(key))
		if f < 0 {
			if err := s.skip(); err != nil {
				return req, s.syntaxError(err)
			}
			continue
		}
		if seen[f] {
			return req, badRequest("the body: the key %s twice", excerpt.Quote(string(key)))
		}
		seen[f] = true
		var herr *httpError
		switch f {
		case 0:
			if s.kind() != kindString {
				return req, badRequest("id: want a string")
			}
			b, err := s.str()
			if err != nil {
				return req, s.syntaxError(err)
			}
			req.ID = string(b)
		case 1:
			herr = checkParameters(&s, "parameters", "binary_data_output")
		case 2:
			ins, herr = decodeInputs(t, &s, ins)
		case 3:
			outputs, herr = decodeOutputs(t, &s)
		}
		if herr != nil {
			return req, herr
		}
	}
	if s.kind() != kindEnd {
		return req, badRequest("the body is not valid JSON: more after the object, at byte %d", s.i)
	}
	req.Outputs = outputs
	if len(ins) == 0 {
		return req, badRequest(`inputs: no input tensors; want one of shape [N, %d] or one of shape [N] per feature: %s`, t.e.cols, excerpt.Quotes(t.e.schema.Features()))
	}
	for k := range ins {
		in := &ins[k]
		prefix := "inputs[" + itoa(k) + "]"
		if in.Datatype == "" {
			return req, badRequest("%s: no datatype", prefix)
		}
		if in.Datatype != "BYTES" && !slices.Contains(numericTypes, in.Datatype) {
			return req, badRequest("%s: the datatype %s is not one the model takes: want FP64, FP32 or another numeric type, or BYTES for categories", prefix, excerpt.Quote(in.Datatype))
		}
		if in.Shape == nil {
			return req, badRequest("%s: no shape", prefix)
		}
		for d, n := range in.Shape {
			if n < 0 {
				return req, badRequest("%s.shape[%d]: %d is negative", prefix, d, n)
			}
		}
		if in.Data == nil {
			return req, badRequest("%s: no data", prefix)
		}
	}
	one := &ins[0]
	named := t.e.schema.Column(one.Name) >= 0
	if len(ins) == 1 && len(one.Shape) == 2 && (!named || t.e.cols > 1) {
		return req, decodeMatrix(t, one)
	}
	return req, decodeFeatures(t, ins)
}

// checkParameters reads a V2 $parameters object, whose values are
// strings, numbers or booleans, without keeping it. A true value of the
// parameter binary, if not empty, asks for the binary data extension,
// which is refused.
func checkParameters(s *scanner, prefix, binary string) *httpError {
	switch s.kind() {
	case kindNull:
		if err := s.literal(); err != nil {
			return s.syntaxError(err)
		}
		return nil
	case kindObject:
	default:
		return badRequest("%s: want an object", prefix)
	}
	s.open('{')
	for k := 0; ; k++ {
		ok, err := s.more('}', k)
		if err != nil {
			return s.syntaxError(err)
		}
		if !ok {
			return nil
		}
		key, err := s.key()
		if err != nil {
			return s.syntaxError(err)
		}
		isBinary := binary != "" && string(key) == binary
		where := func() string { return prefix + "[" + excerpt.Quote(string(key)) + "]" }
		switch s.kind() {
		case kindString, kindNumber:
			if isBinary {
				return badRequest("%s: %s", where(), errBinary)
			}
			if err := s.skip(); err != nil {
				return s.syntaxError(err)
			}
		case kindBool:
			start := s.i
			if err := s.literal(); err != nil {
				return s.syntaxError(err)
			}
			if isBinary && s.b[start] == 't' {
				return badRequest("%s: %s", where(), errBinary)
			}
		default:
			return badRequest("%s: want a string, a number or a boolean", where())
		}
	}
}

// decodeInputs reads the array of $request_input objects, at most one per
// feature of the model, appending them to ins.
func decodeInputs(t *table, s *scanner, ins []v2Input) ([]v2Input, *httpError) {
	switch s.kind() {
	case kindNull:
		return ins, s.syntaxErrorOf(s.literal())
	case kindArray:
	default:
		return ins, badRequest("inputs: want an array")
	}
	s.open('[')
	for k := 0; ; k++ {
		ok, err := s.more(']', k)
		if err != nil {
			return ins, s.syntaxError(err)
		}
		if !ok {
			return ins, nil
		}
		if k == t.e.cols {
			return ins, badRequest("inputs: more than %d input tensors; the model takes one of shape [N, %d], or one of shape [N] per feature: %s", t.e.cols, t.e.cols, excerpt.Quotes(t.e.schema.Features()))
		}
		prefix := "inputs[" + itoa(k) + "]"
		if s.kind() != kindObject {
			return ins, badRequest("%s: want an object", prefix)
		}
		if len(ins) < cap(ins) {
			ins = ins[:len(ins)+1]
			shape := ins[len(ins)-1].Shape[:0]
			ins[len(ins)-1] = v2Input{Shape: shape}
		} else {
			ins = append(ins, v2Input{})
		}
		in := &ins[len(ins)-1]
		hasShape := false
		s.open('{')
		for f := 0; ; f++ {
			ok, err := s.more('}', f)
			if err != nil {
				return ins, s.syntaxError(err)
			}
			if !ok {
				break
			}
			key, err := s.key()
			if err != nil {
				return ins, s.syntaxError(err)
			}
			switch string(key) {
			case "name", "datatype":
				if s.kind() != kindString {
					return ins, badRequest("%s.%s: want a string", prefix, key)
				}
				isName := string(key) == "name"
				b, err := s.str()
				if err != nil {
					return ins, s.syntaxError(err)
				}
				if isName {
					in.Name = string(b)
				} else {
					in.Datatype = string(b)
				}
			case "shape":
				if hasShape {
					return ins, badRequest("%s: the key \"shape\" twice", prefix)
				}
				hasShape = true
				var herr *httpError
				if in.Shape, herr = decodeShape(s, in.Shape, prefix); herr != nil {
					return ins, herr
				}
			case "parameters":
				if herr := checkParameters(s, prefix+".parameters", "binary_data_size"); herr != nil {
					return ins, herr
				}
			case "data":
				if s.kind() == kindNull {
					if err := s.literal(); err != nil {
						return ins, s.syntaxError(err)
					}
					in.Data = nil
					continue
				}
				start := s.i
				if err := s.skip(); err != nil {
					return ins, s.syntaxError(err)
				}
				in.Data = s.b[start:s.i]
			default:
				if err := s.skip(); err != nil {
					return ins, s.syntaxError(err)
				}
			}
		}
		if !hasShape {
			in.Shape = nil
		}
	}
}

// decodeShape reads a shape, an array of whole numbers, into shape[:0].
func decodeShape(s *scanner, shape []int64, prefix string) ([]int64, *httpError) {
	shape = shape[:0]
	if s.kind() == kindNull {
		return nil, s.syntaxErrorOf(s.literal())
	}
	if !s.open('[') {
		return nil, badRequest("%s.shape: want an array of whole numbers", prefix)
	}
	if shape == nil {
		shape = make([]int64, 0, 2)
	}
	for d := 0; ; d++ {
		ok, err := s.more(']', d)
		if err != nil {
			return nil, s.syntaxError(err)
		}
		if !ok {
			return shape, nil
		}
		if d == maxDims {
			return nil, badRequest("%s.shape: more than %d dimensions", prefix, maxDims)
		}
		if s.kind() != kindNumber {
			return nil, badRequest("%s.shape[%d]: want a whole number", prefix, d)
		}
		text, v, err := s.number()
		if err == errSyntax {
			return nil, s.syntaxError(err)
		}
		if err != nil || strings.ContainsAny(string(text), ".eE") || v != float64(int64(v)) || v >= 1<<62 || v <= -(1<<62) {
			return nil, badRequest("%s.shape[%d]: want a whole number, got %s", prefix, d, excerpt.Quote(string(text)))
		}
		shape = append(shape, int64(v))
	}
}

// decodeOutputs reads the array of $request_output objects and returns
// the names of the outputs it asks for, each at most once; an empty
// array asks for all of them, as no array does.
func decodeOutputs(t *table, s *scanner) ([]string, *httpError) {
	all := t.e.outputs
	switch s.kind() {
	case kindNull:
		return all, s.syntaxErrorOf(s.literal())
	case kindArray:
	default:
		return all, badRequest("outputs: want an array")
	}
	outputs := t.outs[:0]
	defer func() { t.outs = outputs }()
	s.open('[')
	for k := 0; ; k++ {
		ok, err := s.more(']', k)
		if err != nil {
			return all, s.syntaxError(err)
		}
		if !ok {
			break
		}
		prefix := "outputs[" + itoa(k) + "]"
		if s.kind() != kindObject {
			return all, badRequest("%s: want an object", prefix)
		}
		s.open('{')
		name := -1
		for f := 0; ; f++ {
			ok, err := s.more('}', f)
			if err != nil {
				return all, s.syntaxError(err)
			}
			if !ok {
				break
			}
			key, err := s.key()
			if err != nil {
				return all, s.syntaxError(err)
			}
			switch string(key) {
			case "name":
				if s.kind() != kindString {
					return all, badRequest("%s.name: want a string", prefix)
				}
				b, err := s.str()
				if err != nil {
					return all, s.syntaxError(err)
				}
				name = slices.Index(all, string(b))
				if name < 0 {
					return all, badRequest("%s: unknown output %s; the model's outputs are %s", prefix, excerpt.Quote(string(b)), strings.Join(all, " and "))
				}
				if slices.Contains(outputs, all[name]) {
					return all, badRequest("%s: the output %s twice", prefix, excerpt.Quote(all[name]))
				}
			case "parameters":
				if herr := checkParameters(s, prefix+".parameters", "binary_data"); herr != nil {
					return all, herr
				}
			default:
				if err := s.skip(); err != nil {
					return all, s.syntaxError(err)
				}
			}
		}
		if name < 0 {
			return all, badRequest("%s: no name", prefix)
		}
		outputs = append(outputs, all[name])
	}
	if len(outputs) == 0 {
		return all, nil
	}
	return outputs, nil
}

// decodeMatrix reads one input tensor of shape [N, features].
func decodeMatrix(t *table, in *v2Input) *httpError {
	const prefix = "inputs[0]"
	cols := t.e.cols
	if in.Shape[1] != int64(cols) {
		return badRequest("%s: shape %v, want [N, %d]: one column per feature: %s", prefix, in.Shape, cols, excerpt.Quotes(t.e.schema.Features()))
	}
	if in.Shape[0] > int64(t.maxRows) {
		return tooLarge("%s: shape %v, more than the %d rows a request may hold", prefix, in.Shape, t.maxRows)
	}
	if err := checkSize(in, prefix, in.Shape[0]*int64(cols)); err != nil {
		return err
	}
	if err := t.setRows(int(in.Shape[0]), prefix); err != nil {
		return err
	}
	if t.n == 0 {
		return badRequest("%s: shape %v: no rows (an empty batch)", prefix, in.Shape)
	}
	return readTensor(t, in, prefix, -1)
}

// decodeFeatures reads one input tensor of shape [N] or [N, 1] per
// feature, named by it. It checks that there is one tensor for every
// feature, of the same rows, each with data long enough for them, before
// it makes room for the rows.
func decodeFeatures(t *table, ins []v2Input) *httpError {
	if err := t.featureTensors(len(ins), func(k int) (string, []int64) { return ins[k].Name, ins[k].Shape }); err != nil {
		return err
	}
	rows := ins[0].Shape[0]
	if rows > int64(t.maxRows) {
		return tooLarge("inputs[0]: shape %v, more than the %d rows a request may hold", ins[0].Shape, t.maxRows)
	}
	for k := range ins {
		in := &ins[k]
		prefix := "inputs[" + itoa(k) + "]"
		if in.Shape[0] != rows {
			return badRequest("%s (feature %s): shape %v, but inputs[0] has %d rows", prefix, excerpt.Quote(in.Name), in.Shape, rows)
		}
		if err := checkSize(in, prefix, rows); err != nil {
			return err
		}
	}
	if err := t.setRows(int(rows), "inputs"); err != nil {
		return err
	}
	if t.n == 0 {
		return badRequest("inputs[0]: shape %v: no rows (an empty batch)", ins[0].Shape)
	}
	for k := range ins {
		if err := readTensor(t, &ins[k], "inputs["+itoa(k)+"]", t.e.schema.Column(ins[k].Name)); err != nil {
			return err
		}
	}
	return nil
}

// readTensor reads the data of a tensor of t.n rows in row-major order:
// every column (col < 0) or column col alone. The data is flat, an array
// of the values, or nested as the shape says at every level: an array of
// shape[0] arrays of shape[1] values.
func readTensor(t *table, in *v2Input, prefix string, col int) *httpError {
	cols := t.e.cols
	width := cols
	if col >= 0 {
		width = 1
	}
	total := t.n * width
	numeric := in.Datatype != "BYTES"
	s := scanner{b: in.Data}
	if s.kind() != kindArray {
		return badRequest("%s.data: want an array", prefix)
	}
	k := 0
	// value reads the k-th value of the tensor; where names it.
	value := func(where func() string) *httpError {
		i, j := k/width, col
		if col < 0 {
			j = k % cols
		}
		if err := t.cell(&s, j, numeric, &t.x[i*cols+j]); err != nil {
			return badRequest("%s (row %d): %v", where(), i, err)
		}
		k++
		return nil
	}
	// The data is flat unless its first element is an array.
	probe := s
	probe.open('[')
	if probe.kind() != kindArray {
		s.open('[')
		for e := 0; ; e++ {
			ok, err := s.more(']', e)
			if err != nil {
				return badRequest("%s.data: %v", prefix, s.why(err))
			}
			if !ok {
				break
			}
			if s.kind() == kindArray {
				return badRequest("%s.data[%d]: an array among values: give the data flat, or nested as the shape %v at every level", prefix, e, in.Shape)
			}
			if k == total {
				return badRequest("%s.data: more than the %d values of shape %v", prefix, total, in.Shape)
			}
			if err := value(func() string { return fmt.Sprintf("%s.data[%d]", prefix, e) }); err != nil {
				return err
			}
		}
		if k != total {
			return badRequest("%s.data: %d values, want %d for shape %v", prefix, k, total, in.Shape)
		}
		return nil
	}
	// Nested: level d is an array of shape[d] elements, arrays above the
	// last level and values at it.
	shape := in.Shape
	var path [maxDims]int
	where := func(d int) string {
		var b strings.Builder
		b.WriteString(prefix + ".data")
		for _, i := range path[:d] {
			fmt.Fprintf(&b, "[%d]", i)
		}
		return b.String()
	}
	var walk func(d int) *httpError
	walk = func(d int) *httpError {
		last := d == len(shape)-1
		if !s.open('[') {
			if last {
				return badRequest("%s: want an array of %d values (shape %v)", where(d), shape[d], shape)
			}
			return badRequest("%s: want an array of %d arrays (shape %v)", where(d), shape[d], shape)
		}
		e := 0
		for ; ; e++ {
			ok, err := s.more(']', e)
			if err != nil {
				return badRequest("%s: %v", where(d), s.why(err))
			}
			if !ok {
				break
			}
			if int64(e) == shape[d] {
				return badRequest("%s: more than %d elements (shape %v)", where(d), shape[d], shape)
			}
			path[d] = e
			if !last {
				if err := walk(d + 1); err != nil {
					return err
				}
				continue
			}
			if s.kind() == kindArray {
				return badRequest("%s: an array, deeper than the shape %v", where(d+1), shape)
			}
			if err := value(func() string { return where(d + 1) }); err != nil {
				return err
			}
		}
		if int64(e) != shape[d] {
			return badRequest("%s: %d elements, want %d (shape %v)", where(d), e, shape[d], shape)
		}
		return nil
	}
	return walk(0)
}

// checkSize returns an error if the data of in is too short to hold the
// values its shape says, before room is made for them: every value takes
// at least two bytes of JSON, a digit and a comma.
func checkSize(in *v2Input, prefix string, values int64) *httpError {
	if values > int64(len(in.Data)+1)/2 {
		return badRequest("%s.data: shape %v says %d values, more than its %d bytes can hold", prefix, in.Shape, values, len(in.Data))
	}
	return nil
}
