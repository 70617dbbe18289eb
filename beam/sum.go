package nnbeam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

// The sums that the training pipeline combines: vectors of float64 summed
// in double-double arithmetic, so that the order in which a runner merges
// them does not change the result.

func init() {
	beam.RegisterCoder(reflect.TypeFor[Sum](), encodeSum, decodeSum)
	register.Combiner1[Sum](&sumFn{})
}

// Sum is a sum of vectors of float64 over rows of data, as the training
// pipeline combines them: the cost and the gradient of every block of
// rows, or the weights of every shard times its rows. Each element is held
// as an unevaluated sum Hi + Lo of two float64 (double-double), with Lo
// below half an ulp of Hi, which carries the sum to about 2⁻¹⁰⁶ relative
// to the sum of the magnitudes of its terms. Rounded to a float64 (Value),
// it is therefore the correctly rounded sum of the terms, whatever the
// order in which they were added and merged, except for sums within about
// 2⁻¹⁰⁰ of the halfway point between two float64 values. The zero value is
// an empty sum.
type Sum struct {
	// Rows is the number of rows summed over.
	Rows int64
	// Hi and Lo hold the elements, Hi[i] + Lo[i] the i-th; both are nil
	// for an empty sum.
	Hi, Lo []float64
}

// newSum returns an empty sum of vectors of n elements.
func newSum(n int) Sum {
	return Sum{Hi: make([]float64, n), Lo: make([]float64, n)}
}

// Len returns the number of elements of the summed vectors, 0 for an
// empty sum.
func (s *Sum) Len() int { return len(s.Hi) }

// Value returns element i of the sum rounded to a float64.
func (s *Sum) Value(i int) float64 { return s.Hi[i] + s.Lo[i] }

// twoSum returns a + b rounded, and its rounding error: s + e = a + b
// exactly (Knuth's TwoSum).
func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return s, e
}

// Add adds x to element i.
func (s *Sum) Add(i int, x float64) {
	hi, e := twoSum(s.Hi[i], x)
	lo := s.Lo[i] + e
	// Renormalise, so that Lo stays below half an ulp of Hi.
	s.Hi[i], s.Lo[i] = twoSum(hi, lo)
}

// AddVec adds x[i] to element off+i for every i.
func (s *Sum) AddVec(off int, x []float64) {
	hi, lo := s.Hi[off:off+len(x)], s.Lo[off:off+len(x)]
	for i, v := range x {
		h, e := twoSum(hi[i], v)
		hi[i], lo[i] = twoSum(h, lo[i]+e)
	}
}

// Merge adds the sum t to s, rows and elements. s must be empty or as long
// as t; an empty t changes nothing.
func (s *Sum) Merge(t Sum) error {
	if t.Len() == 0 {
		s.Rows += t.Rows
		return nil
	}
	if s.Len() == 0 {
		rows := s.Rows
		*s = newSum(t.Len())
		s.Rows = rows
	}
	if s.Len() != t.Len() {
		return fmt.Errorf("nnbeam: a sum of %d elements merged with one of %d: the shards do not all have the same columns (Data.CSV.Features finds the features by name in every shard)", s.Len(), t.Len())
	}
	s.Rows += t.Rows
	for i, h := range t.Hi {
		hi, e := twoSum(s.Hi[i], h)
		lo := s.Lo[i] + t.Lo[i] + e
		s.Hi[i], s.Lo[i] = twoSum(hi, lo)
	}
	return nil
}

// sumFn is the CombineFn of the training pipeline: it merges Sums.
type sumFn struct{}

// MergeAccumulators returns a + b. It panics, failing the bundle, if they
// are sums of vectors of different lengths, which the pipeline never
// makes.
func (sumFn) MergeAccumulators(a, b Sum) Sum {
	if err := a.Merge(b); err != nil {
		panic(err)
	}
	return a
}

// encodeSum encodes s for Beam: rows, length, then Hi and Lo, as 64-bit
// little-endian words.
func encodeSum(s Sum) ([]byte, error) {
	b := make([]byte, 16+16*len(s.Hi))
	binary.LittleEndian.PutUint64(b, uint64(s.Rows))
	binary.LittleEndian.PutUint64(b[8:], uint64(len(s.Hi)))
	o := 16
	for _, v := range s.Hi {
		binary.LittleEndian.PutUint64(b[o:], math.Float64bits(v))
		o += 8
	}
	for _, v := range s.Lo {
		binary.LittleEndian.PutUint64(b[o:], math.Float64bits(v))
		o += 8
	}
	return b, nil
}

// decodeSum decodes what encodeSum encoded.
func decodeSum(b []byte) (Sum, error) {
	if len(b) < 16 {
		return Sum{}, errors.New("nnbeam: a sum's encoding is truncated")
	}
	rows := int64(binary.LittleEndian.Uint64(b))
	n := binary.LittleEndian.Uint64(b[8:])
	if n > uint64(len(b)-16)/16 || uint64(len(b)) != 16+16*n {
		return Sum{}, fmt.Errorf("nnbeam: a sum's encoding of %d bytes does not hold %d elements", len(b), n)
	}
	s := Sum{Rows: rows}
	if n == 0 {
		return s, nil
	}
	s = newSum(int(n))
	s.Rows = rows
	o := 16
	for i := range s.Hi {
		s.Hi[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[o:]))
		o += 8
	}
	for i := range s.Lo {
		s.Lo[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[o:]))
		o += 8
	}
	return s, nil
}
