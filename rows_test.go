package nn

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// digest returns the SHA-256 digest of the shapes and the values of the
// matrices, in hexadecimal; a nil matrix counts as 0×0.
func digest(ms ...*mat.Dense) string {
	h := sha256.New()
	var buf []byte
	for _, m := range ms {
		r, c := 0, 0
		if m != nil {
			r, c = m.Dims()
		}
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(r))
		buf = binary.LittleEndian.AppendUint64(buf, uint64(c))
		h.Write(buf)
		for i := range r {
			buf = buf[:0]
			for _, v := range m.RawRowView(i) {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			}
			h.Write(buf)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// tableDataset returns a Dataset of rows rows: a numeric column with
// missing values, a categorical one of three categories with missing
// values and unknown codes, a numeric one, and three classes.
func tableDataset(rows int, seed uint64) *Dataset {
	rnd := rand.New(rand.NewPCG(seed, 1))
	x := mat.NewDense(rows, 3, nil)
	labels := make([]int, rows)
	for i := range rows {
		a := rnd.NormFloat64()*3 + 10
		if rnd.IntN(10) == 0 {
			a = math.NaN()
		}
		c := float64(rnd.IntN(4) - 1) // −1 is unknown
		if rnd.IntN(10) == 0 {
			c = math.NaN()
		}
		x.SetRow(i, []float64{a, c, rnd.Float64() * 100})
		labels[i] = rnd.IntN(3)
	}
	return &Dataset{
		X: x, Y: OneHot(labels, 3), Features: []string{"a", "c", "b"}, Target: "t",
		Classes: []string{"p", "q", "r"}, Categories: [][]string{nil, {"u", "v", "w"}, nil},
	}
}

// TestRowSetMatchesMatrices checks that the rows a rowSet prepares as
// batches gather them are those of the matrices that encoding and scaling
// the rows make, bit for bit, and the columns that scalers are fitted on
// too.
func TestRowSetMatchesMatrices(t *testing.T) {
	d := tableDataset(500, 1)
	idx := rand.New(rand.NewPCG(2, 2)).Perm(500)[:300]
	enc, err := fitEncoding(d, idx, ImputeMean, true)
	if err != nil {
		t.Fatal(err)
	}
	sub := d.Subset(idx)
	wantEnc, err := FitEncoding(sub, ImputeMean, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(enc.Columns, wantEnc.Columns, func(a, b ColumnEncoding) bool {
		return slices.Equal(a.Categories, b.Categories) && a.Fill == b.Fill && a.Indicator == b.Indicator
	}) {
		t.Fatalf("encoding of the rows by index %+v, of their copy %+v", enc.Columns, wantEnc.Columns)
	}
	x := mat.NewDense(300, enc.Width(), nil)
	enc.Encode(x, sub.X)
	w := make([]float64, 500)
	for i := range w {
		w[i] = float64(i % 7)
	}
	s := &rowSet{x: d.X, y: d.Y, idx: idx, enc: enc, w: w}
	col := make([]float64, 300)
	for j := range enc.Width() {
		s.inputColumn(col, j)
		if want := mat.Col(nil, j, x); !slices.Equal(col, want) {
			t.Fatalf("input column %d is %v, want %v", j, col[:5], want[:5])
		}
	}
	for _, kind := range []ScaleKind{Standardize, MinMax, MaxAbs} {
		s.scaler = fitScaler(kind, s.len(), s.inputs(), s.inputColumn)
		want := FitScaler(kind, x)
		if !slices.Equal(s.scaler.Offset, want.Offset) || !slices.Equal(s.scaler.Scale, want.Scale) {
			t.Errorf("%v: scaler of the columns %+v, of the matrix %+v", kind, s.scaler, want)
		}
	}
	scaled := mat.NewDense(300, enc.Width(), nil)
	s.scaler.Transform(scaled, x)
	gx, gy := s.dense()
	if !mat.Equal(gx, scaled) {
		t.Error("prepared inputs differ from the encoded and scaled matrix")
	}
	for i := range 300 {
		if got, want := gy.RawRowView(i), append(slices.Clone(sub.Y.RawRowView(i)), w[idx[i]]); !slices.Equal(got, want) {
			t.Fatalf("targets of row %d are %v, want %v", i, got, want)
		}
	}
	// Targets scaled, as a regression's.
	s.yScaler = &Scaler{Kind: Standardize, Offset: []float64{0.5, -1, 2}, Scale: []float64{3, 0.25, 7}}
	_, gy = s.dense()
	for i := range 300 {
		want := make([]float64, 4)
		s.yScaler.TransformRow(want[:3], sub.Y.RawRowView(i))
		want[3] = w[idx[i]]
		if got := gy.RawRowView(i); !slices.Equal(got, want) {
			t.Fatalf("scaled targets of row %d are %v, want %v", i, got, want)
		}
	}
	pos := []int{299, 0, 17, 17, 150}
	bx, by := mat.NewDense(len(pos), s.inputs(), nil), mat.NewDense(len(pos), s.outputs(), nil)
	s.gather(bx, by, pos)
	for i, p := range pos {
		if !slices.Equal(bx.RawRowView(i), gx.RawRowView(p)) || !slices.Equal(by.RawRowView(i), gy.RawRowView(p)) {
			t.Errorf("gathered row %d (row %d of the set) differs from the whole set's", i, p)
		}
	}
}

// TestDigestSetsMatchesMatrices checks that the fingerprint of data held
// as rowSets is the digest of the matrices that Train made of them before
// it held rows by index: checkpoints written then resume now.
func TestDigestSetsMatchesMatrices(t *testing.T) {
	d := tableDataset(50, 3)
	x, y := d.X, d.Y
	if got, want := digestSets(denseSet(x, y), nil), digest(x, y, nil, nil); got != want {
		t.Errorf("plain rows: digest %s, want %s", got, want)
	}
	idx := []int{4, 9, 1, 30}
	w := make([]float64, 50)
	for i := range w {
		w[i] = float64(i)
	}
	train := &rowSet{x: x, y: y, idx: idx[:3], w: w}
	val := &rowSet{x: x, y: y, idx: idx[3:]}
	yw := mat.NewDense(3, 4, nil)
	for i, k := range idx[:3] {
		yw.SetRow(i, append(slices.Clone(y.RawRowView(k)), w[k]))
	}
	want := digest(gatherRows(x, idx[:3]), yw, gatherRows(x, idx[3:]), gatherRows(y, idx[3:]))
	if got := digestSets(train, val); got != want {
		t.Errorf("rows by index with weights: digest %s, want %s", got, want)
	}
}

// TestValidationInBlocks checks that the loss and accuracy measured on a
// validation set a block at a time, with a shorter last block, are those
// of the whole set at once, bit for bit.
func TestValidationInBlocks(t *testing.T) {
	rows := 2*valBlock + 123
	d := tableDataset(rows, 4)
	enc, err := FitEncoding(d, ImputeMean, false)
	if err != nil {
		t.Fatal(err)
	}
	x := mat.NewDense(rows, enc.Width(), nil)
	enc.Encode(x, d.X)
	n, err := New(Config{Sizes: []int{enc.Width(), 16, 3}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	v := newValidation(n, &rowSet{x: d.X, y: d.Y, enc: enc})
	loss, acc := v.measure(n)
	cost, err := n.Cost(x, d.Y)
	if err != nil {
		t.Fatal(err)
	}
	if want := cost / float64(rows); loss != want {
		t.Errorf("loss in blocks %v, of the whole set %v", loss, want)
	}
	pred, err := n.Classify(x)
	if err != nil {
		t.Fatal(err)
	}
	if want := Accuracy(d.Labels(), pred); acc != want {
		t.Errorf("accuracy in blocks %v, of the whole set %v", acc, want)
	}
}

// TestFitCopiesNoRows checks that Classifier.Fit holds the training and
// validation rows as indexes into the Dataset, prepared a batch at a
// time, rather than copies: all it allocates is well under the size of X.
func TestFitCopiesNoRows(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates tens of MB")
	}
	rows, cols := 40000, 50
	rnd := rand.New(rand.NewPCG(6, 6))
	x := mat.NewDense(rows, cols, nil)
	labels := make([]int, rows)
	for i := range rows {
		row := x.RawRowView(i)
		for j := range row {
			row[j] = rnd.NormFloat64()
		}
		if row[0]+row[1] > 0 {
			labels[i] = 1
		}
	}
	d := &Dataset{X: x, Y: OneHot(labels, 2), Classes: []string{"no", "yes"}}
	c := &Classifier{Hidden: []int{8}, Epochs: 2, Seed: 1}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := c.Fit(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	xBytes := uint64(rows * cols * 8)
	// The held-out rows are returned as a Dataset (HeldOut), a tenth of
	// X; the rest is the indexes of the rows and a column at a time to
	// fit the scaler. One copy of the rows would take all of xBytes.
	if got := after.TotalAlloc - before.TotalAlloc; got > xBytes/3 {
		t.Errorf("Fit allocated %d bytes for %d bytes of X, want at most a third of it", got, xBytes)
	}
	if acc := c.Report.History[len(c.Report.History)-1].ValAccuracy; acc < 0.9 {
		t.Errorf("validation accuracy %v, want ≥ 0.9", acc)
	}
}
