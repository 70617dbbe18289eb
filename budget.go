package nn

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/neuralgo/nn/internal/excerpt"
)

// DefaultMemoryBudget is the memory budget of a program that does not set
// one: 4 GiB.
const DefaultMemoryBudget = 4 << 30

// ErrMemoryBudget is wrapped by the errors of operations that would
// allocate more than the memory budget.
var ErrMemoryBudget = errors.New("over the memory budget")

var memoryBudget atomic.Int64

func init() { memoryBudget.Store(DefaultMemoryBudget) }

// SetMemoryBudget sets the memory budget to bytes and returns the previous
// budget; zero or less restores DefaultMemoryBudget. It is safe to call
// from many goroutines.
//
// The budget bounds what one operation of the package may allocate for
// sizes that it takes from its input rather than from the program: the
// matrices of a data set, its one-hot targets, the lines of a CSV file,
// the pixels of an IDX file, the parameters of a network built or read
// from a model file, the buffers of training and prediction. An operation
// that would need more returns an error wrapping ErrMemoryBudget, that
// names the input and the sizes, before it allocates them, so that a small
// hostile file cannot exhaust the memory of the program. Prediction splits
// large batches into blocks of rows instead. The memory a program holds is
// the sum of what its operations keep, which the budget does not bound.
func SetMemoryBudget(bytes int64) int64 {
	if bytes <= 0 {
		bytes = DefaultMemoryBudget
	}
	return memoryBudget.Swap(bytes)
}

// MemoryBudget returns the memory budget; see SetMemoryBudget.
func MemoryBudget() int64 { return memoryBudget.Load() }

// CheckMemoryBudget returns an error wrapping ErrMemoryBudget if bytes,
// what a program would allocate for sizes it takes from its input, exceed
// the memory budget, so that a program can refuse its input as the package
// does; what names what would need them, for the message ("confusion
// matrix of 40000 classes: 11.9 GiB needed, over the memory budget of 4.0
// GiB"). bytes is a float64 so that products of sizes cannot overflow.
func CheckMemoryBudget(bytes float64, what string) error { return overBudget(bytes, what) }

// overBudget returns an error wrapping ErrMemoryBudget, without the
// package's prefix, if need bytes exceed the budget; what says what would
// need them, for the message. need is a float64 so that products of sizes
// from input cannot overflow.
func overBudget(need float64, what string) error {
	budget := MemoryBudget()
	if need <= float64(budget) {
		return nil
	}
	return fmt.Errorf("%s: %s needed, %w of %s", what, bytesText(need), ErrMemoryBudget, bytesText(float64(budget)))
}

// float64Bytes is the size of a float64.
const float64Bytes = 8

// bytesText writes n bytes in binary units: "512 B", "64.0 MiB", "12.5 GiB".
func bytesText(n float64) string {
	const k = 1024
	switch {
	case n < k:
		return fmt.Sprintf("%.0f B", n)
	case n < k*k:
		return fmt.Sprintf("%.1f KiB", n/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1f MiB", n/(k*k))
	case n < k*k*k*k:
		return fmt.Sprintf("%.1f GiB", n/(k*k*k))
	}
	return fmt.Sprintf("%.1f TiB", n/(k*k*k*k))
}

// CheckFiles returns an error wrapping ErrMemoryBudget if a network of
// configuration c could make a model file longer than LoadModel reads
// under the current memory budget (1/20 of it), or, when s is not nil and
// sets CheckpointEvery, if training it with s could make a checkpoint
// longer than LoadCheckpoint reads. Model.Save, Model.Encode and
// SaveCheckpoint refuse to write such a file, so that what this package
// writes it reads; CheckFiles says so before training, rather than after.
// It counts every number at its longest spelling, 26 bytes with its comma,
// and so may refuse a network whose file would have fitted by a few bytes
// a number; the names and categories of a model are left to Save, which
// checks the exact length. A network of more parameters than a model file
// holds at all is an error wrapping ErrConfig, and one whose parameters do
// not fit in the budget is the error of New.
func CheckFiles(c Config, s *Settings) error {
	p := paramCount(c.Sizes, !c.NoBias)
	// The network first, as New checks it: its file is of no use if it
	// does not fit.
	err := c.tooManyParams(p)
	if err == nil {
		err = c.paramsOverBudget(p)
	}
	if err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	limit := float64(fileLimit())
	// Besides the parameters: a row's brackets for each layer, and for
	// each input its scaler's offset and scale and its encoding's fill
	// and field names, at the length of six numbers.
	in := 0
	if len(c.Sizes) > 0 {
		in = c.Sizes[0]
	}
	size := func(numbers float64) float64 {
		return (numbers+float64(4*len(c.Sizes)+6*in))*maxNumberLength + 4096
	}
	if size(p) > limit {
		return fmt.Errorf("nn: the model file of a network of sizes %s, %.0f parameters, could be %w", excerpt.List(c.Sizes), p, tooLarge())
	}
	if s == nil || s.CheckpointEvery == 0 {
		return nil
	}
	w := s.WithDefaults()
	copies := 2.0 // the weights, and the best weights of early stopping
	switch w.Method {
	case Momentum, Nesterov:
		copies++
	case Adam, AdamW:
		copies += 2
	}
	if n := size(copies*p + 10*float64(w.Epochs)); n > limit {
		return fmt.Errorf("nn: a checkpoint of training a network of %.0f parameters with %v could be %w", p, w.Method, tooLarge())
	}
	return nil
}
