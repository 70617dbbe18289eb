package nn

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// jsonObject builds a JSON object with one field per line, compact values,
// and one line per row for lists of rows (see jsonRows), which keeps files
// of many numbers short and readable.
type jsonObject struct {
	b   bytes.Buffer
	err error
}

// key starts the field name.
func (o *jsonObject) key(name string) {
	if o.b.Len() == 0 {
		o.b.WriteString("{\n")
	} else {
		o.b.WriteString(",\n")
	}
	o.b.WriteString("  ")
	o.value(name)
	o.b.WriteString(": ")
}

// value appends the compact JSON encoding of v.
func (o *jsonObject) value(v any) {
	j, err := json.Marshal(v)
	if err != nil && o.err == nil {
		o.err = err
	}
	o.b.Write(j)
}

// field appends the field name with the value v.
func (o *jsonObject) field(name string, v any) {
	o.key(name)
	o.value(v)
}

// jsonRows appends the field name with the list rows, one row per line
// (null for a nil list).
func jsonRows[T any](o *jsonObject, name string, rows []T) {
	o.key(name)
	if rows == nil {
		o.b.WriteString("null")
		return
	}
	o.b.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			o.b.WriteString(",")
		}
		o.b.WriteString("\n    ")
		o.value(r)
	}
	if len(rows) > 0 {
		o.b.WriteString("\n  ")
	}
	o.b.WriteString("]")
}

// bytes returns the finished object, or the first error in encoding a value.
func (o *jsonObject) bytes() ([]byte, error) {
	if o.err != nil {
		return nil, fmt.Errorf("encoding JSON: %w", o.err)
	}
	o.b.WriteString("\n}\n")
	return o.b.Bytes(), nil
}

// decodeVersioned decodes the JSON document data, a what ("model" or
// "checkpoint") file, into v, which must have the fields format and version.
// It first reads the format and version alone, so that a file of another
// kind or version is reported as such rather than by its unknown fields,
// then decodes the whole document, rejecting unknown fields.
func decodeVersioned(data []byte, what, format string, v any) error {
	var head struct {
		Format  *string `json:"format"`
		Version *int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return jsonError(data, what, err)
	}
	switch {
	case head.Format == nil:
		return fmt.Errorf("not a %s file: it has no \"format\" field (want %q)", what, format)
	case *head.Format != format:
		return fmt.Errorf("not a %s file: format is %q, want %q", what, *head.Format, format)
	case head.Version == nil:
		return fmt.Errorf("%s has no \"version\" field", what)
	case *head.Version != formatVersion:
		return fmt.Errorf("%s version %d is not supported (this package reads version %d only)", what, *head.Version, formatVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, what, err)
	}
	return nil
}

// jsonError describes an error in decoding data, the JSON document of a
// what ("model" or "checkpoint"): a syntax or type error of encoding/json,
// or an error of an UnmarshalJSON or UnmarshalText method, such as an
// unknown activation name.
func jsonError(data []byte, what string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return fmt.Errorf("%s is empty", what)
	// encoding/json tells truncation from other syntax errors by its
	// message alone.
	case errors.As(err, &se) && se.Error() == "unexpected end of JSON input":
		return fmt.Errorf("%s is truncated: %v after %d bytes", what, se, len(data))
	case errors.As(err, &se):
		// Offset counts the bytes read up to and including the bad one.
		return fmt.Errorf("%s is not valid JSON: %v at byte %d", what, se, se.Offset)
	case errors.As(err, &te) && te.Field == "":
		return fmt.Errorf("%s is a JSON %s, want an object", what, te.Value)
	case errors.As(err, &te):
		return fmt.Errorf("%s field %q holds a JSON %s, want %s (byte offset %d)", what, te.Field, te.Value, jsonType(te.Type), te.Offset)
	// encoding/json reports an unknown field in its message only.
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("%s has an %s", what, strings.TrimPrefix(err.Error(), "json: "))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// jsonType names the JSON value that decodes into a value of type t: a
// string for the enumerated types, which read themselves from text.
func jsonType(t reflect.Type) string {
	text := reflect.TypeFor[encoding.TextUnmarshaler]()
	if t.Implements(text) || reflect.PointerTo(t).Implements(text) {
		return "string"
	}
	return t.String()
}

// jsonBytes is a []byte in base64, as encoding/json writes it, whose
// decoding errors name the field.
type jsonBytes []byte

func (p *jsonBytes) UnmarshalJSON(b []byte) error {
	var v []byte
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("random is not a base64 string or null: %v", err)
	}
	*p = v
	return nil
}

// jsonFloat is a float64 that JSON can hold even when it is not finite: NaN
// and infinities are the strings "NaN", "+Inf" and "-Inf", and a NaN whose
// bits differ from math.NaN()'s is "NaN(0x...)" with its bits in hex.
type jsonFloat float64

var canonicalNaN = math.Float64bits(math.NaN())

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v) && math.Float64bits(v) == canonicalNaN:
		return []byte(`"NaN"`), nil
	case math.IsNaN(v):
		return fmt.Appendf(nil, `"NaN(0x%016x)"`, math.Float64bits(v)), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(v)
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	bad := func() error {
		return fmt.Errorf(`value %s is not a number, "NaN", "+Inf" or "-Inf"`, b)
	}
	if len(b) == 0 || b[0] != '"' {
		v, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return bad()
		}
		*f = jsonFloat(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return bad()
	}
	switch s {
	case "NaN":
		*f = jsonFloat(math.NaN())
	case "+Inf":
		*f = jsonFloat(math.Inf(1))
	case "-Inf":
		*f = jsonFloat(math.Inf(-1))
	default:
		hex, ok := strings.CutPrefix(s, "NaN(0x")
		hex, ok2 := strings.CutSuffix(hex, ")")
		if !ok || !ok2 || len(hex) != 16 {
			return bad()
		}
		bits, err := strconv.ParseUint(hex, 16, 64)
		if err != nil || !math.IsNaN(math.Float64frombits(bits)) {
			return bad()
		}
		*f = jsonFloat(math.Float64frombits(bits))
	}
	return nil
}
