package nn

import (
	"fmt"
	"strconv"
	"strings"
)

// enum is the name table of an enumerated type E whose values are 0, 1, …,
// len(names)−1: names[e] is how e is written in text — on command lines,
// in model and checkpoint files, in messages. Each enumerated type of the
// package implements fmt.Stringer, encoding.TextMarshaler and
// encoding.TextUnmarshaler with its table, so adding a value means adding
// its constant and its name, and nothing else.
type enum[E ~int] struct {
	typ   string   // the type's name, for values outside the table: "Activation(9)"
	what  string   // what a value is, for messages: "unknown activation"
	names []string // indexed by value
}

// valid reports whether e has a name.
func (t *enum[E]) valid(e E) bool { return e >= 0 && int(e) < len(t.names) }

// name returns the name of e, or "Type(e)" if it has none.
func (t *enum[E]) name(e E) string {
	if !t.valid(e) {
		return t.typ + "(" + strconv.Itoa(int(e)) + ")"
	}
	return t.names[e]
}

// marshal returns the name of e, or an error if it has none. Like parse's,
// its error has no prefix: MarshalText and UnmarshalText are called by
// encoders and decoders (encoding/json, flag), which name the type or the
// flag in their own messages.
func (t *enum[E]) marshal(e E) ([]byte, error) {
	if !t.valid(e) {
		return nil, fmt.Errorf("%s has no name", t.name(e))
	}
	return []byte(t.names[e]), nil
}

// parse returns the value named s, or an error, without the package's
// prefix, that lists the names.
func (t *enum[E]) parse(s string) (E, error) {
	for e, name := range t.names {
		if s == name {
			return E(e), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q (want %s)", t.what, s, orList(t.names))
}

// unmarshal sets *e to the value named text.
func (t *enum[E]) unmarshal(e *E, text []byte) error {
	v, err := t.parse(string(text))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// orList returns "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
