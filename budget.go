package nn

import (
	"errors"
	"fmt"
	"sync/atomic"
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
