package nn

import (
	"bufio"
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/neuralgo/nn/internal/excerpt"
)

// jsonObject writes a JSON object with one field per line, compact
// values, and one line per row for lists of rows (see jsonRows), which
// keeps files of many numbers short and readable. It writes as it goes,
// through a buffer, so that a model or checkpoint of any size takes no
// more memory to write than the buffer; lists of float64 are written
// number by number, exactly as encoding/json writes them.
type jsonObject struct {
	w      *bufio.Writer
	fields int
	err    error  // the first error in encoding a value
	num    []byte // reused for each number
}

func newJSONObject(w io.Writer) *jsonObject {
	return &jsonObject{w: bufio.NewWriterSize(w, 64<<10)}
}

// key starts the field name.
func (o *jsonObject) key(name string) {
	if o.fields == 0 {
		o.w.WriteString("{\n")
	} else {
		o.w.WriteString(",\n")
	}
	o.fields++
	o.w.WriteString("  ")
	o.value(name)
	o.w.WriteString(": ")
}

// value writes the compact JSON encoding of v.
func (o *jsonObject) value(v any) {
	if x, ok := v.([]float64); ok {
		o.floats(x)
		return
	}
	j, err := json.Marshal(v)
	if err != nil && o.err == nil {
		o.err = err
	}
	o.w.Write(j)
}

// floats writes x as encoding/json would, without building it in memory:
// null for nil, [] for an empty slice. Every element must be finite.
func (o *jsonObject) floats(x []float64) {
	if x == nil {
		o.w.WriteString("null")
		return
	}
	o.w.WriteByte('[')
	for i, v := range x {
		if i > 0 {
			o.w.WriteByte(',')
		}
		o.num = appendJSONFloat(o.num[:0], v)
		o.w.Write(o.num)
	}
	o.w.WriteByte(']')
}

// appendJSONFloat appends the finite v as encoding/json writes a float64:
// the shortest decimal that reads back as v, in exponent form below 1e-6
// and from 1e21 on, with a one-digit negative exponent written as "e-7".
func appendJSONFloat(b []byte, v float64) []byte {
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// field writes the field name with the value v.
func (o *jsonObject) field(name string, v any) {
	o.key(name)
	o.value(v)
}

// jsonRows writes the field name with the list rows, one row per line
// (null for a nil list).
func jsonRows[T any](o *jsonObject, name string, rows []T) {
	o.key(name)
	if rows == nil {
		o.w.WriteString("null")
		return
	}
	o.w.WriteString("[")
	for i, r := range rows {
		if i > 0 {
			o.w.WriteString(",")
		}
		o.w.WriteString("\n    ")
		o.value(r)
	}
	if len(rows) > 0 {
		o.w.WriteString("\n  ")
	}
	o.w.WriteString("]")
}

// close ends the object and flushes it. It returns the first error in
// encoding a value, or else of the writer.
func (o *jsonObject) close() error {
	if o.err != nil {
		return fmt.Errorf("encoding JSON: %w", o.err)
	}
	o.w.WriteString("\n}\n")
	return o.w.Flush()
}

// readLimited reads r, a file of a what ("model" or "checkpoint"), whole,
// as decoding needs it, or returns an error wrapping ErrMemoryBudget if it
// is larger than 1/fileShare of the memory budget.
func readLimited(r io.Reader, what string) ([]byte, error) {
	limit := fileLimit()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is %w", what, tooLarge())
	}
	if !utf8.Valid(data) {
		// encoding/json would read the bytes as U+FFFD, and a class label
		// or feature name would then be another than the one written.
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return nil, fmt.Errorf("%s is not UTF-8 text: byte 0x%02x at offset %d", what, data[i], i)
	}
	return data, nil
}

// fileLimit returns the length in bytes of the largest model or
// checkpoint file that this package reads under the current memory budget.
func fileLimit() int64 { return MemoryBudget() / fileShare }

// tooLarge returns the error of a file longer than fileLimit, to follow
// "<what> is" or "<what> would be".
func tooLarge() error {
	budget := MemoryBudget()
	return fmt.Errorf("larger than %s, the 1/%d of the memory budget of %s that reading it may take: %w",
		bytesText(float64(budget/fileShare)), fileShare, bytesText(float64(budget)), ErrMemoryBudget)
}

// maxNumberLength is the length in bytes of the longest number that
// appendJSONFloat writes, with the comma after it:
// -0.0000012345678901234567, in fixed notation down to 1e-6.
const maxNumberLength = 26

// checkLength returns an error if the document that write writes, of
// which upper is an upper bound of the length, is longer than fileLimit:
// what a writer of this package writes, its reader reads. A document whose
// upper bound is within the limit is passed at once; another is written to
// a counter, which stops at the limit, to find its length.
func checkLength(what string, upper int64, write func(io.Writer) error) error {
	limit := fileLimit()
	if upper <= limit {
		return nil
	}
	err := write(&limitCounter{limit: limit})
	if errors.Is(err, errLimit) {
		return fmt.Errorf("%s file would be %w", what, tooLarge())
	}
	return err
}

// errLimit stops a limitCounter.
var errLimit = errors.New("over the limit")

// limitCounter counts the bytes written to it, and fails with errLimit
// once they are more than limit.
type limitCounter struct{ n, limit int64 }

func (c *limitCounter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if c.n > c.limit {
		return 0, errLimit
	}
	return len(p), nil
}

// fileShare is the share of the memory budget that a model or checkpoint
// file may take in bytes. Decoding takes up to about 19 times the length of
// the text, as measured on a model file of 104 million parameters written
// as "0," (cmd/nn/hostile_test.go has a smaller one): the text, read whole
// and copied by the decoder's growing buffer, and its numbers as float64,
// 8 bytes for a number that takes 2 with its comma, in slices that grow as
// they are decoded, and again in the network. A checkpoint's history,
// whose epochs take 144 bytes for as few as 3 of text, is checked against
// the budget by its length before it is decoded.
const fileShare = 20

// checkVersion checks the format and version of the JSON document data, a
// what ("model" or "checkpoint") file, reading them alone, so that a file
// of another kind or version is reported as such rather than by its
// unknown fields.
func checkVersion(data []byte, what, format string, version int) error {
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
		return fmt.Errorf("not a %s file: format is %s, want %q", what, excerpt.Quote(*head.Format), format)
	case head.Version == nil:
		return fmt.Errorf("%s has no \"version\" field", what)
	case (*head.Version < 1 || *head.Version > version) && version == 1:
		return fmt.Errorf("%s version %d is not supported (this package reads version 1 only)", what, *head.Version)
	case *head.Version < 1 || *head.Version > version:
		return fmt.Errorf("%s version %d is not supported (this package reads version 1 to %d)", what, *head.Version, version)
	}
	return nil
}

// decodeStrict decodes the JSON document data, a what file, into v,
// rejecting unknown fields.
func decodeStrict(data []byte, what string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(data, what, err)
	}
	return nil
}

// jsonArrayLen returns the number of elements of raw, a valid JSON value,
// if it is an array, and 0 otherwise. It counts without decoding them.
func jsonArrayLen(raw []byte) int {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '[' {
		return 0
	}
	if len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0 {
		return 0
	}
	n, depth := 1, 0
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',' && depth == 1:
			n++
		}
	}
	return n
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
		v := string(b)
		if len(v) > excerpt.MaxQuoted {
			v = excerpt.Quote(v)
		}
		return fmt.Errorf(`value %s is not a number, "NaN", "+Inf" or "-Inf"`, v)
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
