package nn

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// matrixRows is Rows over matrices, counting its passes.
type matrixRows struct {
	x, y   *mat.Dense
	i      int
	passes int
	short  bool // the second pass ends a row early
}

func (d *matrixRows) Rewind() error { d.i = 0; d.passes++; return nil }

func (d *matrixRows) Next(x, y []float64) error {
	r, _ := d.x.Dims()
	if d.i == r || (d.short && d.passes > 1 && d.i == r-1) {
		return io.EOF
	}
	copy(x, d.x.RawRowView(d.i))
	copy(y, d.y.RawRowView(d.i))
	d.i++
	return nil
}

// circles returns rows points of two classes: inside or outside a circle.
func circles(rows int, seed uint64) (x, y *mat.Dense) {
	rnd := rand.New(rand.NewPCG(seed, 9))
	x = mat.NewDense(rows, 2, nil)
	labels := make([]int, rows)
	for i := range rows {
		a, b := rnd.Float64()*2-1, rnd.Float64()*2-1
		x.SetRow(i, []float64{a, b})
		if a*a+b*b < 0.5 {
			labels[i] = 1
		}
	}
	return x, OneHot(labels, 2)
}

func circleNet(t *testing.T) *Network {
	t.Helper()
	n, err := New(Config{Sizes: []int{2, 16, 2}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTrainRows trains a network on rows it reads in passes, and checks
// that it learns, that a run is reproducible and resumes as it would have
// gone on, and that bad rows are errors before any training.
func TestTrainRows(t *testing.T) {
	x, y := circles(3000, 1)
	vx, vy := circles(500, 2)
	ctx := context.Background()
	settings := func(epochs int) *Settings {
		return &Settings{Method: Adam, LearningRate: 0.01, Epochs: epochs, BatchSize: 32, Seed: 3, Patience: -1}
	}
	train := func(n *Network, s *Settings) *Report {
		t.Helper()
		r, err := TrainRows(ctx, n, &matrixRows{x: x, y: y}, &matrixRows{x: vx, y: vy}, 256, s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := circleNet(t)
	ra := train(a, settings(30))
	if acc := ra.History[29].ValAccuracy; acc < 0.9 {
		t.Errorf("validation accuracy %.4f after 30 epochs, want ≥ 0.9", acc)
	}
	b := circleNet(t)
	train(b, settings(30))
	if !slices.Equal(a.Params(), b.Params()) {
		t.Error("two runs of the same rows and seed end with other weights")
	}
	var saved *Checkpoint
	c := circleNet(t)
	s := settings(12)
	s.CheckpointEvery, s.Checkpoint = 12, func(ck *Checkpoint) error { saved = ck; return nil }
	train(c, s)
	d := circleNet(t)
	s = settings(30)
	s.Resume = saved
	train(d, s)
	if !slices.Equal(a.Params(), d.Params()) {
		t.Error("a run resumed after epoch 12 ends with other weights than one run through")
	}

	bad := mat.DenseCopyOf(x)
	bad.Set(1234, 1, math.Inf(1))
	if _, err := TrainRows(ctx, circleNet(t), &matrixRows{x: bad, y: y}, nil, 0, settings(1)); !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "row 1234 of train: input 1") {
		t.Errorf("an infinite input: error %v", err)
	}
	if _, err := TrainRows(ctx, circleNet(t), &matrixRows{x: x, y: y, short: true}, nil, 0, settings(2)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("rows that end early in a later pass: error %v", err)
	}
	if _, err := TrainRows(ctx, circleNet(t), &matrixRows{x: x, y: y}, nil, 0, &Settings{Method: LBFGS}); err == nil {
		t.Error("lbfgs on rows: no error")
	}
	if _, err := TrainRows(ctx, circleNet(t), &matrixRows{x: x, y: y}, nil, 0, &Settings{ValidationFraction: 0.1}); err == nil {
		t.Error("a ValidationFraction with rows: no error")
	}
}

// TestIDXRows checks that IDXRows reads the rows that LoadIDXImages and
// LoadIDXLabels read, from plain and gzip files, and its errors.
func TestIDXRows(t *testing.T) {
	dir := t.TempDir()
	images := make([]byte, 5*2*3)
	for i := range images {
		images[i] = byte(i * 8)
	}
	labels := []byte{0, 2, 1, 2, 0}
	img, lab := filepath.Join(dir, "img.gz"), filepath.Join(dir, "lab")
	os.WriteFile(img, gzipBytes(t, idxBytes([]uint32{5, 2, 3}, images)), 0o644)
	os.WriteFile(lab, idxBytes([]uint32{5}, labels), 0o644)
	check := func(img, lab string, classes int) {
		t.Helper()
		wantX, err := LoadIDXImages(img)
		if err != nil {
			t.Fatal(err)
		}
		wantL, err := LoadIDXLabels(lab)
		if err != nil {
			t.Fatal(err)
		}
		r := &IDXRows{Images: img, Labels: lab, Classes: classes}
		defer r.Close()
		_, p := wantX.Dims()
		x, y := make([]float64, p), make([]float64, classes)
		for pass := range 2 {
			if err := r.Rewind(); err != nil {
				t.Fatal(err)
			}
			for i := range wantL {
				if err := r.Next(x, y); err != nil {
					t.Fatalf("pass %d, row %d: %v", pass, i, err)
				}
				if !slices.Equal(x, wantX.RawRowView(i)) || slices.Index(y, 1) != wantL[i] {
					t.Fatalf("pass %d, row %d: %v %v, want %v label %d", pass, i, x[:3], y, wantX.RawRowView(i)[:3], wantL[i])
				}
			}
			if err := r.Next(x, y); err != io.EOF {
				t.Fatalf("after the last row: %v, want io.EOF", err)
			}
		}
	}
	check(img, lab, 3)
	r := &IDXRows{Images: img, Labels: lab, Classes: 2}
	r.Rewind()
	x, y := make([]float64, 6), make([]float64, 2)
	r.Next(x, y)
	if err := r.Next(x, y); err == nil || !strings.Contains(err.Error(), "label 2 of row 1") {
		t.Errorf("a label beyond the classes: error %v", err)
	}
	r.Close()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, idxBytes([]uint32{4}, labels[:4]), 0o644)
	r = &IDXRows{Images: img, Labels: short, Classes: 3}
	var pe *ParseError
	if err := r.Rewind(); !errors.As(err, &pe) || pe.File != short {
		t.Errorf("4 labels for 5 images: error %v", err)
	}
	r.Close()

	// Fashion-MNIST's test files, if installed.
	dirF := fashionDirFor()
	if _, err := os.Stat(filepath.Join(dirF, "t10k-images-idx3-ubyte.gz")); err == nil {
		check(filepath.Join(dirF, "t10k-images-idx3-ubyte.gz"), filepath.Join(dirF, "t10k-labels-idx1-ubyte.gz"), 10)
	}
}

// fashionDirFor is fashionDir of the package's external tests.
func fashionDirFor() string {
	if d := os.Getenv("FMNIST_DIR"); d != "" {
		return d
	}
	return "/usr/share/datasets/fashion-mnist"
}

// TestTrainRowsNilSettings checks that nil Settings are the defaults, with
// a validation source too: full-batch gradient descent, which rows read in
// passes cannot take, an error rather than a panic.
func TestTrainRowsNilSettings(t *testing.T) {
	x, y := circles(200, 3)
	if _, err := TrainRows(context.Background(), circleNet(t), &matrixRows{x: x, y: y}, &matrixRows{x: x, y: y}, 0, nil); err == nil || !strings.Contains(err.Error(), "mini-batches") {
		t.Errorf("nil Settings: error %v, want one saying that rows train by mini-batches", err)
	}
}

// TestTrainRowsAllocatesNothingPerEpoch checks that the epochs of a
// stream, its shuffle buffer, batches and validation blocks, allocate
// nothing once the first has run: twelve epochs allocate as often as two.
// It runs on one processor: the counts are the whole program's, and on a
// loaded machine the runtime allocates now and then for goroutines that
// block and wake on other processors (gemm's workers), which is not the
// epochs' doing.
func TestTrainRowsAllocatesNothingPerEpoch(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	x, y := circles(3000, 1)
	vx, vy := circles(2500, 2) // three validation blocks, the last shorter
	mallocs := func(epochs int) uint64 {
		net := circleNet(t)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := TrainRows(context.Background(), net, &matrixRows{x: x, y: y}, &matrixRows{x: vx, y: vy}, 256, &Settings{Method: Adam, Epochs: epochs, BatchSize: 32, Seed: 1, Patience: -1})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		return after.Mallocs - before.Mallocs
	}
	two, twelve := mallocs(2), mallocs(12)
	// A report entry per epoch: the History grows by appending.
	if twelve > two+10 {
		t.Errorf("12 epochs allocate %d times, 2 epochs %d: want no allocation per epoch", twelve, two)
	}
}
