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
	// ErrNotFinite reports a NaN or infinite value: in a matrix given to a
	// network, in weights, or in a file, where it also reports a number
	// too large for a float64.
	ErrNotFinite = errors.New("non-finite value")
	// ErrEmpty reports input without data: a matrix with no rows, or a
	// CSV input that is empty or holds a header only.
	ErrEmpty = errors.New("no data rows")
	// ErrConfig reports an invalid network configuration.
	ErrConfig = errors.New("invalid network configuration")
	// ErrDiverged is wrapped by the error Train returns when the loss
	// becomes NaN or infinite.
	ErrDiverged = errors.New("training diverged")
	// ErrResumeChanged is wrapped by the error Train returns for a
	// Settings.Resume checkpoint written for other data, another network
	// or other settings (see Settings.ResumeChanged).
	ErrResumeChanged = errors.New("the run differs from the checkpoint's")
)

// Errors wrapped by a ParseError for problems in CSV data.
var (
	// ErrFieldCount: a row has a different number of fields from the
	// first row.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrNotNumber: a feature, or a regression target, is not a number.
	ErrNotNumber = errors.New("not a number")
	// ErrMissingTarget: a target is empty, or spelled as a missing value
	// (CSVOptions.Missing). A class label is never missing: an empty
	// label is this error even where features may be missing.
	ErrMissingTarget = errors.New("missing target")
	// ErrNoTarget: the target column does not exist.
	ErrNoTarget = errors.New("target column not found")
	// ErrNoFeature: a feature column to read does not exist.
	ErrNoFeature = errors.New("feature column not found")
	// ErrUnknownClass: a label is not in the fixed class list.
	ErrUnknownClass = errors.New("unknown class")
	// ErrDuplicateColumn: two header columns have the same name.
	ErrDuplicateColumn = errors.New("duplicate column name")
	// ErrUnknownCategory: a value of a categorical feature is not among
	// its fixed categories, and CSVOptions.StrictCategories is set.
	ErrUnknownCategory = errors.New("unknown category")
)

// ParseError is a problem at a place in data — CSV rows, an IDX file — read
// from a file or a reader, modeled on encoding/csv's ParseError. Its
// message starts with the place, as compilers write it ("iris.csv:4:3: not
// a number"), without the package's prefix. For CSV data, Err wraps one of
// the Err* values of this package, or an error of encoding/csv such as
// csv.ErrQuote; for an IDX file it says what is wrong with the file.
type ParseError struct {
	// File is the name of the file, "" when reading an io.Reader.
	File string
	// Line is the 1-based line of the problem, or 0 if it concerns the
	// whole input (ErrEmpty, or an IDX file).
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

// fileError returns err, an error about the file at path whose message has
// no prefix, as an error of this package: "nn: path: " and the message.
func fileError(path string, err error) error {
	return fmt.Errorf("nn: %s: %w", path, err)
}

// ErrStopped is the error of PartialFit once early stopping has ended the
// training: the validation loss has not improved for Patience calls, and
// the model holds the weights of the best call.
var ErrStopped = errors.New("nn: training stopped early: no improvement for the patience")
