// Package ctxread gives a reader that stops once a context is done, so
// that a long read of a file (a first pass over a large table, a CSV being
// predicted) ends on cancellation at its next Read.
package ctxread

import (
	"context"
	"io"
)

// Reader reads R until Ctx is done, then returns Ctx's error.
type Reader struct {
	Ctx context.Context
	R   io.Reader
}

// Read reads from R, or returns the error of Ctx once it is done.
func (c Reader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, err
	}
	return c.R.Read(p)
}
