package nn

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Dataset is a table of examples: features X and targets Y, one row per
// example.
//
// A Dataset with Classes == nil is a regression problem and Y holds the
// numeric targets (n×1 when read by ReadCSV). Otherwise it is a
// classification problem and row i of Y is the one-hot encoding of the class
// of example i over Classes.
type Dataset struct {
	// X holds the features, n×p.
	X *mat.Dense
	// Y holds the targets, n×k: one-hot over Classes for classification,
	// numeric (n×1 from ReadCSV) for regression.
	Y *mat.Dense

	// Features names the p columns of X: the header names, or "col0",
	// "col1", ... by the column's 0-based index in the file when the file
	// has no header.
	Features []string
	// Target names the target column, in the same way as Features.
	Target string
	// Targets names the columns of Y of a regression on several targets
	// (CSVOptions.Targets); Target is then the first. Nil for one target.
	Targets []string
	// Weights, if not nil, holds a weight ≥ 0 per row (CSVOptions.Weight),
	// by which Classifier and Regressor weigh the rows' costs.
	Weights []float64
	// Classes lists the class labels in the order of Y's columns;
	// it is nil for regression.
	Classes []string
	// Categories holds, for each column of X, its categories if it is
	// categorical, or nil if it is numeric; Categories itself is nil when
	// every column is numeric. The values of a categorical column are
	// codes: the index of the category, or −1 for a category not among
	// them (see CSVOptions.Categories). A missing value is NaN in any
	// column (see CSVOptions.Missing). An Encoding (FitEncoding) turns such columns
	// into the numbers a Network takes; Classifier and Regressor do so
	// themselves.
	Categories [][]string
	// Missing holds the spellings of a missing value that the data was
	// read with (CSVOptions.Missing), which FitEncoding keeps so that rows
	// to predict are read the same way.
	Missing []string
}

// Labels returns the class index of each example, the index of the largest
// value in each row of d.Y. Labels panics if d.Classes is nil.
func (d *Dataset) Labels() []int {
	if d.Classes == nil {
		panic("nn: Labels of a regression dataset (Classes is nil)")
	}
	return ArgMax(nil, d.Y)
}

// Subset returns a new Dataset holding copies of the rows idx of d, in the
// order of idx. Features and Classes are copied too.
//
// Subset panics if idx is empty (a mat.Dense cannot have zero rows) or if an
// index is out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	if len(idx) == 0 {
		panic("nn: Subset with no rows")
	}
	s := &Dataset{
		X:        gatherRows(d.X, idx),
		Features: slices.Clone(d.Features),
		Target:   d.Target,
		Classes:  slices.Clone(d.Classes),
		Targets:  slices.Clone(d.Targets),
		Missing:  slices.Clone(d.Missing),
	}
	if d.Weights != nil {
		s.Weights = make([]float64, len(idx))
		for i, k := range idx {
			s.Weights[i] = d.Weights[k]
		}
	}
	if d.Categories != nil {
		s.Categories = make([][]string, len(d.Categories))
		for j, c := range d.Categories {
			s.Categories[j] = slices.Clone(c)
		}
	}
	if d.Y != nil {
		s.Y = gatherRows(d.Y, idx)
	}
	return s
}

// Split returns a seeded random split of d into a training and a test set
// with round(testFraction*n) test rows, copying the rows.
//
// When d.Classes is not nil the split is stratified: each class is divided
// in the same proportion, with the rows left over by rounding going to the
// classes with the largest fractional share (lowest class index first on a
// tie). The rows of each returned set are in random order.
//
// The split depends only on d, testFraction and seed. Split returns an
// error if testFraction is not in (0, 1) or if either set would be empty.
func (d *Dataset) Split(testFraction float64, seed uint64) (train, test *Dataset, err error) {
	trainIdx, testIdx, err := d.splitIndex(testFraction, seed)
	if err != nil {
		return nil, nil, err
	}
	return d.Subset(trainIdx), d.Subset(testIdx), nil
}

// splitIndex returns the rows of d that Split puts in the training and in
// the test set, in their order there.
func (d *Dataset) splitIndex(testFraction float64, seed uint64) (trainIdx, testIdx []int, err error) {
	if !(testFraction > 0 && testFraction < 1) {
		return nil, nil, fmt.Errorf("nn: test fraction %v not in (0, 1)", testFraction)
	}
	n, _ := d.X.Dims()
	nTest := int(math.Round(testFraction * float64(n)))
	if nTest == 0 || nTest == n {
		side := "test"
		if nTest == n {
			side = "training"
		}
		return nil, nil, fmt.Errorf("nn: test fraction %v of %d rows leaves the %s set empty", testFraction, n, side)
	}
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	if d.Classes == nil {
		perm := rnd.Perm(n)
		testIdx, trainIdx = perm[:nTest:nTest], perm[nTest:]
	} else {
		// The rows of each class in order, in one array, the classes
		// one after another; the rows for training are then moved to
		// its front, so that the split takes little more memory than
		// its result.
		labels := d.Labels()
		start := make([]int, len(d.Classes)+1)
		for _, c := range labels {
			start[c+1]++
		}
		for c := range d.Classes {
			start[c+1] += start[c]
		}
		order := make([]int, n)
		next := slices.Clone(start[:len(d.Classes)])
		for i, c := range labels {
			order[next[c]] = i
			next[c]++
		}
		byClass := make([][]int, len(d.Classes))
		for c := range byClass {
			byClass[c] = order[start[c]:start[c+1]]
		}
		counts := stratumCounts(byClass, testFraction, nTest)
		testIdx = make([]int, 0, nTest)
		w := 0
		for c, rows := range byClass {
			rnd.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
			testIdx = append(testIdx, rows[:counts[c]]...)
			w += copy(order[w:], rows[counts[c]:])
		}
		trainIdx = order[:w]
		rnd.Shuffle(len(testIdx), func(i, j int) { testIdx[i], testIdx[j] = testIdx[j], testIdx[i] })
		rnd.Shuffle(len(trainIdx), func(i, j int) { trainIdx[i], trainIdx[j] = trainIdx[j], trainIdx[i] })
	}
	return trainIdx, testIdx, nil
}

// stratumCounts returns how many rows of each stratum go to the test set so
// that the total is nTest, using the largest remainder method.
func stratumCounts(strata [][]int, frac float64, nTest int) []int {
	counts := make([]int, len(strata))
	rem := make([]float64, len(strata))
	order := make([]int, len(strata))
	left := nTest
	for c, rows := range strata {
		// q_c = f·n_c; take floor(q_c) now, the remainder later.
		q := frac * float64(len(rows))
		counts[c] = min(int(q), len(rows))
		rem[c] = q - float64(counts[c])
		left -= counts[c]
		order[c] = c
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for _, c := range order {
		if left == 0 {
			break
		}
		if counts[c] < len(strata[c]) {
			counts[c]++
			left--
		}
	}
	return counts
}
