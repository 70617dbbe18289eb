package excerpt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuote(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"a\rb", `"a\rb"`},
		{strings.Repeat("x", 64), `"` + strings.Repeat("x", 64) + `"`},
		{strings.Repeat("x", 100000), `"` + strings.Repeat("x", 64) + `"… (100000 bytes)`},
		// A character across byte 64 is left out whole.
		{strings.Repeat("x", 63) + "é" + "y", `"` + strings.Repeat("x", 63) + `"… (66 bytes)`},
	} {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%.20q…) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := Quote(strings.Repeat("é", 1000)); !utf8.ValidString(got) {
		t.Errorf("Quote cut a character: %q", got)
	}
}

func TestLists(t *testing.T) {
	ten := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	if got, want := Quotes(ten), `"a", "b", "c", "d", "e", "f", "g", "h" and 2 more`; got != want {
		t.Errorf("Quotes = %s, want %s", got, want)
	}
	if got, want := Quotes(ten[:2]), `"a", "b"`; got != want {
		t.Errorf("Quotes = %s, want %s", got, want)
	}
	if got, want := Names(ten), "a, b, c, d, e, f, g, h and 2 more"; got != want {
		t.Errorf("Names = %s, want %s", got, want)
	}
	if got, want := List([]int{4, 100, 3}), "[4 100 3]"; got != want {
		t.Errorf("List = %s, want %s", got, want)
	}
	if got, want := List([]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), "[1 2 3 4 5 6 7 8 and 2 more]"; got != want {
		t.Errorf("List = %s, want %s", got, want)
	}
}
