package nn

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/neuralgo/nn/internal/excerpt"

	"gonum.org/v1/gonum/mat"
)

// OneHot returns the len(labels)×k matrix whose row i is 1 in column
// labels[i] and 0 elsewhere. OneHot panics if labels is empty or a label is
// outside [0, k).
func OneHot(labels []int, k int) *mat.Dense {
	if len(labels) == 0 {
		panic("nn: OneHot of no labels")
	}
	m := mat.NewDense(len(labels), k, nil)
	for i, l := range labels {
		if l < 0 || l >= k {
			panic(fmt.Sprintf("nn: label %d at index %d outside [0, %d)", l, i, k))
		}
		m.Set(i, l, 1)
	}
	return m
}

// ArgMax stores in dst the column index of the largest value in each row of
// P and returns dst. The first index wins a tie, and NaN values are ignored
// unless a row holds nothing else. If dst is nil a new slice is allocated;
// otherwise ArgMax panics unless len(dst) is the number of rows of P.
func ArgMax(dst []int, P mat.Matrix) []int {
	r, c := P.Dims()
	if dst == nil {
		dst = make([]int, r)
	}
	if len(dst) != r {
		panic(mat.ErrShape)
	}
	for i := range dst {
		best := math.NaN()
		dst[i] = 0
		for j := range c {
			v := P.At(i, j)
			if v > best || (math.IsNaN(best) && !math.IsNaN(v)) {
				best, dst[i] = v, j
			}
		}
	}
	return dst
}

// checkClasses returns an error saying which class label is wrong if one
// of classes is empty, not valid UTF-8 (which JSON could not hold), or
// listed twice: the rules that reading a CSV target holds labels to, and
// that a Dataset given to Fit and a model file are held to as well.
func checkClasses(classes []string) error {
	for i, c := range classes {
		switch {
		case c == "":
			return fmt.Errorf("class %d is empty", i)
		case !utf8.ValidString(c):
			return fmt.Errorf("class %d %s is not valid UTF-8", i, excerpt.Quote(c))
		}
	}
	if _, j := duplicate(classes); j >= 0 {
		return fmt.Errorf("class %s is listed twice", excerpt.Quote(classes[j]))
	}
	return nil
}
