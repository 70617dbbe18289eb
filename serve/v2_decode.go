package serve

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// v2Request is a V2 $inference_request.
type v2Request struct {
	ID         string                     `json:"id"`
	Parameters map[string]json.RawMessage `json:"parameters"`
	Inputs     []v2Input                  `json:"inputs"`
	Outputs    []v2Output                 `json:"outputs"`
}

// v2Input is a V2 $request_input.
type v2Input struct {
	Name       string                     `json:"name"`
	Shape      []int64                    `json:"shape"`
	Datatype   string                     `json:"datatype"`
	Parameters map[string]json.RawMessage `json:"parameters"`
	Data       json.RawMessage            `json:"data"`
}

// v2Output is a V2 $request_output.
type v2Output struct {
	Name       string                     `json:"name"`
	Parameters map[string]json.RawMessage `json:"parameters"`
}

// numericTypes are the V2 datatypes of numbers that a model takes; BOOL
// and BYTES are not among them.
var numericTypes = []string{"FP64", "FP32", "FP16", "BF16", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}

// checkParameters checks a V2 $parameters object: its values are strings,
// numbers or booleans.
func checkParameters(p map[string]json.RawMessage, prefix string) *httpError {
	for k, v := range p {
		if len(v) == 0 || v[0] == '{' || v[0] == '[' || v[0] == 'n' {
			return badRequest("%s[%s]: want a string, a number or a boolean", prefix, quote(k))
		}
	}
	return nil
}

// decodeV2 reads a V2 inference request into t and returns it, with the
// outputs it asks for (all of them if it names none).
func decodeV2(t *table, body []byte) (*v2Request, []string, *httpError) {
	var req v2Request
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, jsonError("the body", err)
	}
	if err := checkParameters(req.Parameters, "parameters"); err != nil {
		return nil, nil, err
	}
	outputs := t.e.outputs
	if req.Outputs != nil {
		outputs = make([]string, 0, len(req.Outputs))
		for k, o := range req.Outputs {
			if !slices.Contains(t.e.outputs, o.Name) {
				return nil, nil, badRequest("outputs[%d]: unknown output %s; the model's outputs are %s", k, quote(o.Name), strings.Join(t.e.outputs, " and "))
			}
			if slices.Contains(outputs, o.Name) {
				return nil, nil, badRequest("outputs[%d]: the output %s twice", k, quote(o.Name))
			}
			if err := checkParameters(o.Parameters, fmt.Sprintf("outputs[%d].parameters", k)); err != nil {
				return nil, nil, err
			}
			outputs = append(outputs, o.Name)
		}
	}
	if len(req.Inputs) == 0 {
		return nil, nil, badRequest(`inputs: no input tensors; want one of shape [N, %d] or one of shape [N] per feature: %s`, t.e.cols, t.featureList())
	}
	for k := range req.Inputs {
		in := &req.Inputs[k]
		prefix := fmt.Sprintf("inputs[%d]", k)
		if err := checkParameters(in.Parameters, prefix+".parameters"); err != nil {
			return nil, nil, err
		}
		if in.Datatype == "" {
			return nil, nil, badRequest("%s: no datatype", prefix)
		}
		if in.Datatype != "BYTES" && !slices.Contains(numericTypes, in.Datatype) {
			return nil, nil, badRequest("%s: the datatype %s is not one the model takes: want FP64, FP32 or another numeric type, or BYTES for categories", prefix, quote(in.Datatype))
		}
		if in.Shape == nil {
			return nil, nil, badRequest("%s: no shape", prefix)
		}
		for d, n := range in.Shape {
			if n < 0 {
				return nil, nil, badRequest("%s.shape[%d]: %d is negative", prefix, d, n)
			}
		}
		if in.Data == nil {
			return nil, nil, badRequest("%s: no data", prefix)
		}
	}
	one := &req.Inputs[0]
	_, named := t.e.colIndex[one.Name]
	if len(req.Inputs) == 1 && len(one.Shape) == 2 && (!named || t.e.cols > 1) {
		return &req, outputs, decodeMatrix(t, one)
	}
	return &req, outputs, decodeFeatures(t, req.Inputs)
}

// decodeMatrix reads one input tensor of shape [N, features].
func decodeMatrix(t *table, in *v2Input) *httpError {
	const prefix = "inputs[0]"
	cols := t.e.cols
	if in.Shape[1] != int64(cols) {
		return badRequest("%s: shape %v, want [N, %d]: one column per feature: %s", prefix, in.Shape, cols, t.featureList())
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
// feature, named by it.
func decodeFeatures(t *table, ins []v2Input) *httpError {
	cols := t.e.cols
	if len(t.seen) < cols {
		t.seen = make([]int, cols)
	}
	clear(t.seen)
	for k := range ins {
		in := &ins[k]
		prefix := fmt.Sprintf("inputs[%d]", k)
		j, ok := t.e.colIndex[in.Name]
		if !ok {
			if len(ins) == 1 {
				return badRequest("%s: shape %v: want one tensor of shape [N, %d], or one tensor of shape [N] per feature, named by it: %s", prefix, in.Shape, cols, t.featureList())
			}
			return badRequest("%s: unknown input %s; the inputs are the features %s, one tensor of shape [N] each", prefix, quote(in.Name), t.featureList())
		}
		if t.seen[j] != 0 {
			return badRequest("%s: the feature %s twice", prefix, t.feature(j))
		}
		t.seen[j] = 1
		if len(in.Shape) != 1 && !(len(in.Shape) == 2 && in.Shape[1] == 1) {
			return badRequest("%s (feature %s): shape %v, want [N] or [N, 1]", prefix, t.feature(j), in.Shape)
		}
		if k == 0 {
			if in.Shape[0] > int64(t.maxRows) {
				return tooLarge("%s: shape %v, more than the %d rows a request may hold", prefix, in.Shape, t.maxRows)
			}
			if err := checkSize(in, prefix, in.Shape[0]); err != nil {
				return err
			}
			if err := t.setRows(int(in.Shape[0]), prefix); err != nil {
				return err
			}
			if t.n == 0 {
				return badRequest("%s: shape %v: no rows (an empty batch)", prefix, in.Shape)
			}
		} else if in.Shape[0] != int64(t.n) {
			return badRequest("%s (feature %s): shape %v, but inputs[0] has %d rows", prefix, t.feature(j), in.Shape, t.n)
		}
		if err := readTensor(t, in, prefix, j); err != nil {
			return err
		}
	}
	for j := range cols {
		if t.seen[j] == 0 {
			return badRequest("inputs: no tensor for the feature %s (the model takes %s)", t.feature(j), t.featureList())
		}
	}
	return nil
}

// readTensor reads the data of a tensor of t.n rows, flat or nested, in
// row-major order: every column (col < 0) or column col alone.
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
	var walk func(depth int) *httpError
	walk = func(depth int) *httpError {
		if depth > maxDepth {
			return badRequest("%s.data: %v", prefix, errDepth)
		}
		s.open('[')
		for e := 0; ; e++ {
			ok, err := s.more(']', e)
			if err != nil {
				return badRequest("%s.data: %v", prefix, s.why(err))
			}
			if !ok {
				return nil
			}
			if s.kind() == kindArray {
				if err := walk(depth + 1); err != nil {
					return err
				}
				continue
			}
			if k == total {
				return badRequest("%s.data: more than the %d values of shape %v", prefix, total, in.Shape)
			}
			i, j := k/width, col
			if col < 0 {
				j = k % cols
			}
			if err := t.cell(&s, j, numeric, &t.x[i*cols+j]); err != nil {
				return badRequest("%s.data[%d] (row %d, feature %s): %v", prefix, k, i, t.feature(j), s.why(err))
			}
			k++
		}
	}
	if err := walk(0); err != nil {
		return err
	}
	if k != total {
		return badRequest("%s.data: %d values, want %d for shape %v", prefix, k, total, in.Shape)
	}
	return nil
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
