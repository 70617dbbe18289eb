package nn

// The rows a network trains and is validated on, described rather than
// copied: a set of rows of the data, encoded and scaled as each is used, so
// that the data is held once however it is split and prepared.

import (
	"encoding/binary"
	"fmt"
	"hash"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// rowSet is the rows idx of x (every row if idx is nil), encoded by enc
// and then scaled by scaler (either nil for none), with their targets: the
// same rows of y, scaled by yScaler (nil for none), followed by the row's
// weight from w when w is not nil.
//
// A batch gathers its rows from a rowSet into buffers of its own; only
// full-batch methods make a matrix of a whole set (dense). The prepared
// values are computed the same way whichever of the two is used, so that a
// row is the same, bit for bit, in a batch and in the whole.
type rowSet struct {
	x, y    *mat.Dense
	idx     []int
	enc     *Encoding
	scaler  *Scaler
	yScaler *Scaler
	w       []float64 // a weight per row of x; nil for none

	src  []float64  // a row of x, for enc
	rows []int      // the rows of x of a batch
	pos  []int      // the rows of s of a block
	raw  *mat.Dense // the rows of x of a batch, for enc
}

// denseSet returns the rowSet of the rows of x and y as they are.
func denseSet(x, y *mat.Dense) *rowSet { return &rowSet{x: x, y: y} }

// error returns nil: rows in memory are read without errors.
func (s *rowSet) error() error { return nil }

// len returns the number of rows of s.
func (s *rowSet) len() int {
	if s.idx != nil {
		return len(s.idx)
	}
	r, _ := s.x.Dims()
	return r
}

// inputs returns the number of columns of a prepared row of s.
func (s *rowSet) inputs() int {
	if s.enc != nil {
		return s.enc.Width()
	}
	_, c := s.x.Dims()
	return c
}

// outputs returns the number of columns of the targets of s, the weight
// included.
func (s *rowSet) outputs() int {
	_, c := s.y.Dims()
	if s.w != nil {
		c++
	}
	return c
}

// row returns the row of x and y that is row i of s.
func (s *rowSet) row(i int) int {
	if s.idx != nil {
		return s.idx[i]
	}
	return i
}

// plain reports whether s is x and y as they are.
func (s *rowSet) plain() bool {
	return s.idx == nil && s.enc == nil && s.scaler == nil && s.yScaler == nil && s.w == nil
}

// inputRow stores the prepared input of row i of s in dst.
func (s *rowSet) inputRow(dst []float64, i int) {
	k := s.row(i)
	if s.enc != nil {
		if s.src == nil {
			_, c := s.x.Dims()
			s.src = make([]float64, c)
		}
		copy(s.src, s.x.RawRowView(k))
		s.enc.EncodeRow(dst, s.src)
	} else {
		copy(dst, s.x.RawRowView(k))
	}
	if s.scaler != nil {
		s.scaler.TransformRow(dst, dst)
	}
}

// targetRow stores the prepared targets of row i of s in dst, the weight
// last.
func (s *rowSet) targetRow(dst []float64, i int) {
	k := s.row(i)
	_, c := s.y.Dims()
	copy(dst[:c], s.y.RawRowView(k))
	if s.yScaler != nil {
		s.yScaler.TransformRow(dst[:c], dst[:c])
	}
	if s.w != nil {
		dst[c] = s.w[k]
	}
}

// inputColumn stores column j of the inputs of s, encoded but not scaled,
// in dst, one value per row.
func (s *rowSet) inputColumn(dst []float64, j int) {
	src, k := j, -1 // the column of x, and the input of its encoding
	if s.enc != nil {
		for src = 0; j >= s.enc.Columns[src].width(); src++ {
			j -= s.enc.Columns[src].width()
		}
		k = j
	}
	raw := s.x.RawMatrix()
	for i := range dst {
		v := raw.Data[s.row(i)*raw.Stride+src]
		if k >= 0 {
			v = s.enc.Columns[src].input(v, k)
		}
		dst[i] = v
	}
}

// targetColumn stores column j of the targets of s, not scaled, in dst,
// one value per row.
func (s *rowSet) targetColumn(dst []float64, j int) {
	raw := s.y.RawMatrix()
	for i := range dst {
		dst[i] = raw.Data[s.row(i)*raw.Stride+j]
	}
}

// gather stores the rows pos of s, in that order, in the rows of x and y.
// The rows of x and y are far apart in memory: they are copied first, in
// loops whose loads overlap, and prepared in place after.
func (s *rowSet) gather(x, y *mat.Dense, pos []int) {
	rows := pos
	if s.idx != nil {
		s.rows = slices.Grow(s.rows[:0], len(pos))[:len(pos)]
		for i, p := range pos {
			s.rows[i] = s.idx[p]
		}
		rows = s.rows
	}
	if s.enc == nil {
		gatherRowsTo(x, s.x, rows)
	} else {
		_, c := s.x.Dims()
		if s.raw == nil || s.raw.RawMatrix().Rows < len(rows) {
			s.raw = mat.NewDense(len(rows), c, nil)
		}
		raw := s.raw.Slice(0, len(rows), 0, c).(*mat.Dense)
		gatherRowsTo(raw, s.x, rows)
		for i := range rows {
			s.enc.EncodeRow(x.RawRowView(i), raw.RawRowView(i))
		}
	}
	if s.scaler != nil {
		for i := range rows {
			row := x.RawRowView(i)
			s.scaler.TransformRow(row, row)
		}
	}
	if s.w == nil && s.yScaler == nil {
		gatherRowsTo(y, s.y, rows)
		return
	}
	_, c := s.y.Dims()
	src, dst := s.y.RawMatrix(), y.RawMatrix()
	for i, k := range rows {
		copy(dst.Data[i*dst.Stride:i*dst.Stride+c], src.Data[k*src.Stride:k*src.Stride+c])
	}
	for i, k := range rows {
		row := dst.Data[i*dst.Stride : i*dst.Stride+dst.Cols]
		if s.yScaler != nil {
			s.yScaler.TransformRow(row[:c], row[:c])
		}
		if s.w != nil {
			row[c] = s.w[k]
		}
	}
}

// gatherRange stores the rows off, off+1, … of s in the rows of x and y,
// as many as they have.
func (s *rowSet) gatherRange(x, y *mat.Dense, off int) {
	r, _ := x.Dims()
	s.pos = slices.Grow(s.pos[:0], r)[:r]
	for i := range s.pos {
		s.pos[i] = off + i
	}
	s.gather(x, y, s.pos)
}

// dense returns the inputs and targets of s as matrices: x and y
// themselves if s is plain, and otherwise new ones.
func (s *rowSet) dense() (x, y *mat.Dense) {
	if s.plain() {
		return s.x, s.y
	}
	n := s.len()
	x = mat.NewDense(n, s.inputs(), nil)
	y = mat.NewDense(n, s.outputs(), nil)
	// A block at a time, not to make another matrix as large.
	for off := 0; off < n; off += valBlock {
		k := min(valBlock, n-off)
		s.gatherRange(x.Slice(off, off+k, 0, s.inputs()).(*mat.Dense), y.Slice(off, off+k, 0, s.outputs()).(*mat.Dense), off)
	}
	return x, y
}

// checkFinite returns an error naming the first prepared value of s that is
// not finite, as checkFinite does for a matrix, with xName and yName for
// the inputs and targets.
func (s *rowSet) checkFinite(xName, yName string) error {
	if s.plain() {
		if err := checkFinite(xName, s.x); err != nil {
			return err
		}
		return checkFinite(yName, s.y)
	}
	xr := make([]float64, s.inputs())
	yr := make([]float64, s.outputs())
	for i := range s.len() {
		s.inputRow(xr, i)
		s.targetRow(yr, i)
		for k, row := range [2][]float64{xr, yr} {
			for j, v := range row {
				if !finite(v) {
					return fmt.Errorf("nn: %s[%d, %d] is %v: %w", [2]string{xName, yName}[k], i, j, v, ErrNotFinite)
				}
			}
		}
	}
	return nil
}

// digest writes the shapes and prepared values of the inputs of s to h
// (targets too if targets), as digest does for matrices: nil stands for
// no rows.
func (s *rowSet) digest(h hash.Hash, targets bool) {
	var buf []byte
	r, c := 0, 0
	if s != nil {
		r, c = s.len(), s.inputs()
		if targets {
			c = s.outputs()
		}
	}
	buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(r))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(c))
	h.Write(buf)
	row := make([]float64, c)
	for i := range r {
		if targets {
			s.targetRow(row, i)
		} else {
			s.inputRow(row, i)
		}
		buf = buf[:0]
		for _, v := range row {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
		}
		h.Write(buf)
	}
}

// batches is the order of the training rows in an epoch and the buffers
// its mini-batches are gathered into, allocated once.
type batches struct {
	set    *rowSet    // the training set
	size   int        // rows of a full batch
	perm   []int      // the order of the rows in this epoch
	bx, by *mat.Dense // a full batch
	rx, ry *mat.Dense // the last, shorter batch, viewing bx and by; nil if every batch is full
}

// newBatches returns the batches of size rows of set.
func newBatches(set *rowSet, size int) *batches {
	rows, cols, outs := set.len(), set.inputs(), set.outputs()
	b := &batches{
		set: set, size: size,
		perm: make([]int, rows),
		bx:   mat.NewDense(size, cols, nil),
		by:   mat.NewDense(size, outs, nil),
	}
	if rem := rows % size; rem != 0 {
		b.rx = mat.NewDense(rem, cols, b.bx.RawMatrix().Data[:rem*cols])
		b.ry = mat.NewDense(rem, outs, b.by.RawMatrix().Data[:rem*outs])
	}
	return b
}

// shuffle draws the order of the rows of an epoch. It shuffles the
// identity permutation afresh, so that an epoch depends only on the random
// state at its start.
func (b *batches) shuffle(rnd *rand.Rand) {
	for i := range b.perm {
		b.perm[i] = i
	}
	rnd.Shuffle(len(b.perm), func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
}

// gather copies the rows of the batch that starts at off in the epoch's
// order into the batch buffers and returns them.
func (b *batches) gather(off int) (x, y *mat.Dense) {
	idx := b.perm[off:min(off+b.size, len(b.perm))]
	x, y = b.bx, b.by
	if len(idx) < b.size {
		x, y = b.rx, b.ry
	}
	b.set.gather(x, y, idx)
	return x, y
}
