package nn

import (
	"errors"
	"fmt"
	"strings"
)

// Errors wrapped by the errors this package returns for bad data. Test for
// them with errors.Is.
var (
	// ErrShape reports input or target matrices whose shape does not fit
	// the network.
	ErrShape = errors.New("shape mismatch")
	// ErrNotFinite reports a NaN or infinite value in data or weights.
	ErrNotFinite = errors.New("value is NaN or infinite")
	// ErrConfig reports an invalid network configuration.
	ErrConfig = errors.New("invalid network configuration")
)

// Errors wrapped by ParseError.
var (
	// ErrEmpty: the input has no data rows (it is empty or holds a header
	// only).
	ErrEmpty = errors.New("no data rows")
	// ErrFieldCount: a row has a different number of fields from the
	// first row.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrNotNumber: a feature, or a regression target, is not a number.
	ErrNotNumber = errors.New("not a number")
	// ErrNonFinite: a value is NaN or ±Inf, or overflows float64.
	ErrNonFinite = errors.New("non-finite value")
	// ErrNoTarget: the target column does not exist.
	ErrNoTarget = errors.New("target column not found")
	// ErrUnknownClass: a label is not in the fixed class list.
	ErrUnknownClass = errors.New("unknown class")
	// ErrDuplicateColumn: two header columns have the same name.
	ErrDuplicateColumn = errors.New("duplicate column name")
)

// ErrDiverged is wrapped by the error Train returns when the loss becomes NaN
// or infinite.
var ErrDiverged = errors.New("training diverged")

// ParseError is a problem in CSV data at a place in the input, modeled on
// encoding/csv's ParseError. Err wraps one of the Err* values of this
// package, or an error of encoding/csv such as csv.ErrQuote.
type ParseError struct {
	// File is the name of the file, "" when reading an io.Reader.
	File string
	// Line is the 1-based line of the problem, or 0 if it concerns the
	// whole input (ErrEmpty).
	Line int
	// Column is the 1-based field number (column of the table) of the
	// problem, or 0 if it concerns the whole row. For syntax errors found
	// by encoding/csv (Err is csv.ErrQuote or csv.ErrBareQuote) it is the
	// 1-based byte column that encoding/csv reports instead.
	Column int
	// Err is the underlying error.
	Err error
}

// Error returns the problem prefixed by its place: "file:line:column: err"
// with the parts that are known, or "line L, column C: err" when File is
// empty.
func (e *ParseError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "":
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Column > 0 {
				fmt.Fprintf(&b, ":%d", e.Column)
			}
		}
		b.WriteString(": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }
