package nn

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// The validation set of a training run, measured after every epoch a
// block of rows at a time, whether its rows are in memory or read from a
// file.

// valBlock is the number of rows of the validation set that go through the
// network at once.
const valBlock = 1024

// blockSource is a set of rows read a block at a time: rows in memory
// (rowSet), or in a cache file (cacheSet).
type blockSource interface {
	len() int
	inputs() int
	outputs() int
	// gatherRange stores the rows off, off+1, … in the rows of x and y,
	// as many as they have; the blocks of a pass come in order.
	gatherRange(x, y *mat.Dense, off int)
	// error returns the error of reading the rows, if any.
	error() error
}

// validation is a validation set and the buffers that measure a network's
// loss and accuracy on it, a block of rows at a time.
type validation struct {
	set    blockSource
	full   block // a block of valBlock rows, or of every row if fewer
	last   block // the last, shorter block; its bp nil if there is none
	labels []int // the classes of a block, for classifiers; nil otherwise
	pred   []int // the predicted classes of a block
}

// block is the buffers of a block of rows.
type block struct {
	bp   *backprop
	x, y *mat.Dense
}

func newBlock(n *Network, s blockSource, rows int) block {
	bp := newBackprop(n, rows)
	x, y := mat.NewDense(rows, s.inputs(), nil), mat.NewDense(rows, s.outputs(), nil)
	bp.setBatch(x, y)
	return block{bp: bp, x: x, y: y}
}

func newValidation(n *Network, s blockSource) *validation {
	rows := s.len()
	v := &validation{set: s, full: newBlock(n, s, min(rows, valBlock))}
	if rem := rows % valBlock; rows > valBlock && rem != 0 {
		v.last = newBlock(n, s, rem)
	}
	if n.loss != SquaredError {
		v.labels = make([]int, v.full.bp.rows)
	}
	return v
}

// block returns the block of rows that starts at row off.
func (v *validation) block(off int) block {
	if v.set.len()-off < v.full.bp.rows {
		return v.last
	}
	return v.full
}

// measure returns the mean loss of n on the validation set, and its
// accuracy for a classifier (NaN otherwise). The loss is summed in the
// order of the rows, as a pass over all of them at once would sum it.
func (v *validation) measure(n *Network) (loss, accuracy float64) {
	rows := v.set.len()
	var J float64
	hits := 0
	for off := 0; off < rows; off += valBlock {
		b := v.block(off)
		v.set.gatherRange(b.x, b.y, off)
		b.bp.forward()
		J = b.bp.addCost(J)
		if v.labels != nil {
			labels := n.ClassesTo(v.labels, b.y)
			v.pred = n.ClassesTo(v.pred, b.bp.a[len(b.bp.a)-1])
			for i, c := range v.pred {
				if c == labels[i] {
					hits++
				}
			}
		}
	}
	accuracy = math.NaN()
	if v.labels != nil {
		accuracy = float64(hits) / float64(rows)
	}
	return J / float64(rows), accuracy
}
