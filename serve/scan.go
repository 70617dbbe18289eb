package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// scanner reads JSON values from b without building them: the arrays of
// numbers and strings of a request, a value at a time, so that decoding
// a row allocates nothing. It checks what it reads against the grammar of
// JSON (RFC 8259) itself, since its input has not been checked by
// encoding/json: numbers such as 01, +1, .5 or 5. are errors, as are
// control characters, bad escapes and invalid UTF-8 in strings. Bad input
// is an error, never a panic.
type scanner struct {
	b   []byte
	i   int
	buf []byte // unescaped strings
}

// kinds of value, by their first byte.
const (
	kindNumber = 'n'
	kindString = 's'
	kindNull   = 'z'
	kindBool   = 'b'
	kindArray  = '['
	kindObject = '{'
	kindEnd    = 0
)

var errSyntax = errors.New("malformed JSON")

// why returns err, an error of s, with the place of a syntax error.
func (s *scanner) why(err error) error {
	if err == errSyntax {
		return fmt.Errorf("not valid JSON: malformed at byte %d", s.i)
	}
	return err
}

// syntaxError returns the 400 of err, an error of s in reading the body.
func (s *scanner) syntaxError(err error) *httpError {
	if err == errSyntax {
		return badRequest("the body is not valid JSON: malformed at byte %d", s.i)
	}
	return badRequest("the body: %v", err)
}

// syntaxErrorOf returns the 400 of err, or nil if err is nil.
func (s *scanner) syntaxErrorOf(err error) *httpError {
	if err == nil {
		return nil
	}
	return s.syntaxError(err)
}

// ws skips white space.
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// kind returns the kind of the next value.
func (s *scanner) kind() byte {
	s.ws()
	if s.i >= len(s.b) {
		return kindEnd
	}
	switch c := s.b[s.i]; c {
	case '[', '{':
		return c
	case '"':
		return kindString
	case 'n':
		return kindNull
	case 't', 'f':
		return kindBool
	default:
		return kindNumber
	}
}

// open consumes c ('[' or '{') and reports whether it was next.
func (s *scanner) open(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// more reports whether the array or object being read, which closes with
// end, has another element, the k-th (from 0): it consumes the comma
// before it, or the closing byte after the last.
func (s *scanner) more(end byte, k int) (bool, error) {
	s.ws()
	if s.i >= len(s.b) {
		return false, errSyntax
	}
	if s.b[s.i] == end {
		s.i++
		return false, nil
	}
	if k > 0 {
		if s.b[s.i] != ',' {
			return false, errSyntax
		}
		s.i++
	}
	return true, nil
}

// numberText reads a number and returns its text.
func (s *scanner) numberText() ([]byte, error) {
	s.ws()
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			s.i++
			continue
		}
		break
	}
	text := s.b[start:s.i]
	if !validNumber(text) {
		s.i = start // the error is at the number
		return nil, errSyntax
	}
	return text, nil
}

// number reads a number, returning its text and value; a number too
// large for float64 is an error.
func (s *scanner) number() ([]byte, float64, error) {
	text, err := s.numberText()
	if err != nil {
		return nil, 0, err
	}
	if v, ok := fastFloat(text); ok {
		return text, v, nil
	}
	// The string does not outlive the call unless ParseFloat fails,
	// and then only in its error, which is replaced.
	v, err := strconv.ParseFloat(unsafe.String(&text[0], len(text)), 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return text, v, numberError(text)
		}
		return text, 0, errSyntax
	}
	return text, v, nil
}

// validNumber reports whether text is a number of the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(text []byte) bool {
	i := 0
	if i < len(text) && text[i] == '-' {
		i++
	}
	switch {
	case i < len(text) && text[i] == '0':
		i++
	case i < len(text) && text[i] >= '1' && text[i] <= '9':
		for i < len(text) && text[i] >= '0' && text[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(text) && text[i] == '.' {
		i++
		d := i
		for i < len(text) && text[i] >= '0' && text[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		i++
		if i < len(text) && (text[i] == '+' || text[i] == '-') {
			i++
		}
		d := i
		for i < len(text) && text[i] >= '0' && text[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(text)
}

// str reads a string and returns its bytes, unescaped; they are valid
// until the next call. Control characters, escapes that JSON does not
// define and invalid UTF-8 are errors.
func (s *scanner) str() ([]byte, error) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, errSyntax
	}
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !escaped {
				return s.b[start+1 : s.i-1], nil
			}
			// The escapes were checked: encoding/json unescapes them.
			var v string
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				return nil, errSyntax
			}
			s.buf = append(s.buf[:0], v...)
			return s.buf, nil
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, errSyntax
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) || !isHex4(s.b[s.i+2:s.i+6]) {
					return nil, errSyntax
				}
				s.i += 6
			default:
				return nil, errSyntax
			}
		case c < 0x20:
			return nil, errSyntax
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return nil, errSyntax
			}
			s.i += size
		}
	}
	return nil, errSyntax
}

// isHex4 reports whether b is four hexadecimal digits.
func isHex4(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// literal reads true, false or null.
func (s *scanner) literal() error {
	s.ws()
	for _, w := range [...]string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
			s.i += len(w)
			return nil
		}
	}
	return errSyntax
}

// skip reads any value.
func (s *scanner) skip() error {
	return s.skipDepth(0)
}

func (s *scanner) skipDepth(depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	switch s.kind() {
	case kindNumber:
		_, err := s.numberText()
		return err
	case kindString:
		_, err := s.str()
		return err
	case kindNull, kindBool:
		return s.literal()
	case kindArray:
		s.open('[')
		for k := 0; ; k++ {
			ok, err := s.more(']', k)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if err := s.skipDepth(depth + 1); err != nil {
				return err
			}
		}
	case kindObject:
		s.open('{')
		for k := 0; ; k++ {
			ok, err := s.more('}', k)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			if _, err := s.key(); err != nil {
				return err
			}
			if err := s.skipDepth(depth + 1); err != nil {
				return err
			}
		}
	}
	return errSyntax
}

// key reads an object key and the colon after it.
func (s *scanner) key() ([]byte, error) {
	k, err := s.str()
	if err != nil {
		return nil, err
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return nil, errSyntax
	}
	s.i++
	return k, nil
}

// maxDepth is the deepest nesting of arrays read.
const maxDepth = 32

var errDepth = errors.New("arrays nested too deep")

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat parses a plain decimal of at most 15 digits, such as -12.375,
// as strconv.ParseFloat does but faster: the digits make an integer that
// float64 holds exactly, and dividing it by an exact power of ten rounds
// once, correctly (Clinger's fast path, which strconv takes too). It
// reports false for any other text, which ParseFloat then reads.
func fastFloat(text []byte) (float64, bool) {
	i, neg := 0, false
	if text[0] == '-' {
		neg, i = true, 1
	}
	var mant uint64
	digits, frac := 0, -1
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 || frac == 0 {
		return 0, false
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}
