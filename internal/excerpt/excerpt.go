// Package excerpt shortens pieces of input for error messages, so that a
// 100 MB field or a header of a million names gives a one-line error.
package excerpt

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxQuoted is the length in bytes of the longest piece of input that Quote
// quotes whole.
const MaxQuoted = 64

// MaxListed is the number of elements that the lists of this package show
// before they say how many more there are.
const MaxListed = 8

// Quote returns s quoted as strconv.Quote does: whole if it is at most
// MaxQuoted bytes long, else its first MaxQuoted bytes, cut at a character,
// with an ellipsis and its length: "abc…" (100000 bytes).
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	cut := MaxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// Quotes returns the first MaxListed strings of s, each as Quote gives it,
// separated by commas, then how many more there are: "a", "b" and 3 more.
func Quotes(s []string) string {
	var b strings.Builder
	for j, v := range s[:min(len(s), MaxListed)] {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Quote(v))
	}
	if len(s) > MaxListed {
		fmt.Fprintf(&b, " and %d more", len(s)-MaxListed)
	}
	return b.String()
}

// Names returns the first MaxListed strings of s as they are, separated by
// commas, then how many more there are: a, b and 3 more.
func Names(s []string) string {
	if len(s) <= MaxListed {
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(s[:MaxListed], ", "), len(s)-MaxListed)
}

// List returns s as fmt prints it, [4 100 3], its first MaxListed elements
// only, then how many more there are, when it is longer:
// [1 2 3 4 5 6 7 8 and 2 more].
func List[T any](s []T) string {
	if len(s) <= MaxListed {
		return fmt.Sprint(s)
	}
	return strings.TrimSuffix(fmt.Sprint(s[:MaxListed]), "]") + fmt.Sprintf(" and %d more]", len(s)-MaxListed)
}
