package nn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// withBudget runs f with the memory budget set to bytes.
func withBudget(t *testing.T, bytes int64, f func()) {
	t.Helper()
	old := SetMemoryBudget(bytes)
	defer SetMemoryBudget(old)
	f()
}

// allocated returns the bytes that f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func TestMemoryBudget(t *testing.T) {
	if got := MemoryBudget(); got != DefaultMemoryBudget {
		t.Fatalf("budget %d at the start, want %d", got, DefaultMemoryBudget)
	}
	old := SetMemoryBudget(1 << 20)
	if old != DefaultMemoryBudget || MemoryBudget() != 1<<20 {
		t.Errorf("SetMemoryBudget returned %d and set %d", old, MemoryBudget())
	}
	SetMemoryBudget(0)
	if MemoryBudget() != DefaultMemoryBudget {
		t.Errorf("SetMemoryBudget(0) left %d, want the default", MemoryBudget())
	}
}

// An IDX file whose dimensions claim more than the budget is refused
// before its data is read: 16 bytes, a gzip bomb's header, ask for 11 GiB.
func TestIDXBudget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bomb-images-idx3-ubyte.gz")
	if err := os.WriteFile(path, gzipBytes(t, idxBytes([]uint32{30000, 200, 200}, nil)), 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	if n := allocated(func() { _, err = LoadIDXImages(path) }); n > 1<<20 {
		t.Errorf("allocated %d bytes, want less than 1 MiB", n)
	}
	var pe *ParseError
	if !errors.Is(err, ErrMemoryBudget) || !errors.As(err, &pe) || !strings.Contains(err.Error(), "11.2 GiB needed") {
		t.Errorf("got %v, want a *ParseError wrapping ErrMemoryBudget saying 11.2 GiB", err)
	}
}

// ReadCSV stops when the rows, or their one-hot targets, would pass the
// budget, and when a row is longer than its share.
func TestReadCSVBudget(t *testing.T) {
	var rows strings.Builder
	rows.WriteString("a,b,y\n")
	for i := range 1000 {
		fmt.Fprintf(&rows, "%d,%d,c%d\n", i, i+1, i)
	}
	withBudget(t, 16<<10, func() {
		_, err := ReadCSV(strings.NewReader(rows.String()), &CSVOptions{Classify: true})
		var pe *ParseError
		if !errors.Is(err, ErrMemoryBudget) || !errors.As(err, &pe) || pe.Line == 0 {
			t.Errorf("rows: got %v, want a *ParseError wrapping ErrMemoryBudget at a line", err)
		}
	})
	withBudget(t, 1<<20, func() {
		// 1,000 rows fit, their 1,000 classes as one-hot targets (8 MB) do not.
		_, err := ReadCSV(strings.NewReader(rows.String()), &CSVOptions{Classify: true})
		if !errors.Is(err, ErrMemoryBudget) || !strings.Contains(err.Error(), "one-hot targets over 1000 classes") {
			t.Errorf("one-hot targets: got %v, want ErrMemoryBudget", err)
		}
		long := "a,b\n" + strings.Repeat("1", 100000) + ",2\n" // a row may take 64 KiB at the least
		_, err = ReadCSV(strings.NewReader(long), nil)
		var pe *ParseError
		if !errors.Is(err, ErrMemoryBudget) || !errors.As(err, &pe) || pe.Line != 2 {
			t.Errorf("a long row: got %v, want ErrMemoryBudget at line 2", err)
		}
		if !strings.Contains(err.Error(), "longer than 64.0 KiB, the most that one row may take under the memory budget of 1.0 MiB") {
			t.Errorf("a long row: got %q, want the limit and the budget", err)
		}
		// After a quoted field of three lines, the long row is on line 5.
		long = "a,b\n1,\"x\ny\nz\"\n" + strings.Repeat("1", 100000) + ",2\n"
		_, err = ReadCSV(strings.NewReader(long), &CSVOptions{Classify: true})
		if !errors.As(err, &pe) || pe.Line != 5 {
			t.Errorf("a long row after a field of three lines: got %v, want line 5", err)
		}
	})
}

// New, Train, NewTrainer, Step and Predict refuse what would pass the
// budget before allocating it.
func TestNetworkBudget(t *testing.T) {
	withBudget(t, 1<<20, func() {
		if _, err := New(Config{Sizes: []int{300, 1000, 10}}); !errors.Is(err, ErrMemoryBudget) {
			t.Errorf("New: got %v, want ErrMemoryBudget", err)
		}
		net, err := New(Config{Sizes: []int{10, 1000, 10}, Seed: 1}) // 86 KB of parameters
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(1, 1))
		x, y := randDense(rnd, 400, 10, -1, 1), randDense(rnd, 400, 10, 0, 1)
		if _, err := Train(context.Background(), net, x, y, &Settings{Method: GradientDescent, Epochs: 1}); !errors.Is(err, ErrMemoryBudget) {
			t.Errorf("Train on 400 rows at once: got %v, want ErrMemoryBudget", err)
		}
		tr, err := NewTrainer(net, &Settings{Method: SGD})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Step(x, y); !errors.Is(err, ErrMemoryBudget) {
			t.Errorf("Step on a batch of 400 rows: got %v, want ErrMemoryBudget", err)
		}
		big := mat.NewDense(20000, 10, nil) // 1.6 MB of outputs
		if _, err := net.Predict(big); !errors.Is(err, ErrMemoryBudget) {
			t.Errorf("Predict of 20,000 rows: got %v, want ErrMemoryBudget", err)
		}
	})
	if _, err := New(Config{Sizes: []int{4, 20000, 14000, 3}}); !errors.Is(err, ErrConfig) {
		t.Errorf("New of 280 million parameters: got %v, want ErrConfig (a model file holds 1<<28)", err)
	}
}

// Prediction goes through a wide network in blocks of rows when a batch's
// intermediate results would pass the budget's share, with the results it
// gives on the whole batch.
func TestPredictBlocks(t *testing.T) {
	net, err := New(Config{Sizes: []int{5, 3000, 4}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Init: Xavier, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(3, 3))
	x := randDense(rnd, 300, 5, -1, 1)
	whole, err := net.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	withBudget(t, 4<<20, func() { // blocks of 4 MiB/16/(2·3000·8) = 5 rows
		if b := net.blockRows(1); b != 5 {
			t.Fatalf("blocks of %d rows, want 5", b)
		}
		var ws Workspace
		p := mat.NewDense(300, 4, nil)
		if err := net.PredictTo(p, x, &ws); err != nil {
			t.Fatal(err)
		}
		// Equal in pure Go; OpenBLAS may sum in another order for
		// another number of rows, as it does for any two batch sizes.
		if !mat.EqualApprox(p, whole, 1e-12) || (useOpenBLAS == nil && !mat.Equal(p, whole)) {
			t.Error("predictions in blocks differ from the whole batch's")
		}
		if len(ws.buf[0]) > 5*3000 {
			t.Errorf("the workspace holds %d values, want at most one block's %d", len(ws.buf[0]), 5*3000)
		}
		// Goroutines predicting at once share the budget.
		if b := net.blockRows(2); b != 2 {
			t.Errorf("blocks of %d rows for each of 2 goroutines, want 2", b)
		}
		x2 := randDense(rnd, 1200, 5, -1, 1)
		seq, err := net.Predict(x2)
		if err != nil {
			t.Fatal(err)
		}
		par, err := net.PredictParallel(x2)
		if err != nil {
			t.Fatal(err)
		}
		if !mat.EqualApprox(par, seq, 1e-12) {
			t.Error("PredictParallel differs from Predict")
		}
	})
}

// A checkpoint callback's error keeps its message, with the epoch added.
func TestCheckpointErrorMessage(t *testing.T) {
	net, err := New(Config{Sizes: []int{2, 2, 1}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	x, y := tutorialData()
	errDisk := errors.New("nn: ck.json: disk full")
	_, err = Train(context.Background(), net, x.Slice(0, 3, 0, 2), y, &Settings{Method: SGD, Epochs: 3, CheckpointEvery: 1,
		Checkpoint: func(*Checkpoint) error { return errDisk }})
	if !errors.Is(err, errDisk) || err.Error() != "nn: ck.json: disk full (checkpoint after epoch 1)" {
		t.Errorf("got %q, want the callback's error with the epoch", err)
	}
}

// A checkpoint whose history is long for its size ("{}," decodes to 144
// bytes) is refused by its length before it is decoded.
func TestCheckpointHistoryBudget(t *testing.T) {
	const epochs = 200000
	var b strings.Builder
	fmt.Fprintf(&b, `{"format":%q,"version":2,"epoch":%d,"method":"sgd","params":[1],"best":1,"history":[`, checkpointFormat, epochs)
	b.WriteString(strings.Repeat("{},", epochs-1) + "{}]}")
	path := filepath.Join(t.TempDir(), "ck.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(path); err != nil {
		t.Fatalf("under the default budget: %v", err)
	}
	withBudget(t, 16<<20, func() {
		var err error
		if n := allocated(func() { _, err = LoadCheckpoint(path) }); n > 8<<20 {
			t.Errorf("allocated %d bytes, want less than 8 MiB", n)
		}
		if !errors.Is(err, ErrMemoryBudget) || !strings.Contains(err.Error(), "checkpoint history of 200000 epochs: 27.5 MiB needed") {
			t.Errorf("got %v, want the history refused by its length", err)
		}
	})
}

// What Save, Encode and SaveCheckpoint write, LoadModel, DecodeModel and
// LoadCheckpoint read under the same memory budget: a file over the limit
// is refused before anything is written, and CheckFiles refuses the
// network before training.
func TestFilesWithinBudget(t *testing.T) {
	net, err := New(Config{Sizes: []int{10, 40, 3}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := &Model{Network: net, Classes: []string{"a", "b", "c"}}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	length := int64(buf.Len())
	dir := t.TempDir()
	path := filepath.Join(dir, "m.json")
	if err := os.WriteFile(path, []byte("the old file"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Within the limit, which is under the upper bound that CheckFiles
	// and Save count first: Save counts the exact length.
	withBudget(t, fileShare*length, func() {
		if err := CheckFiles(Config{Sizes: []int{10, 40, 3}}, nil); !errors.Is(err, ErrMemoryBudget) {
			t.Errorf("CheckFiles at a limit under the upper bound: got %v, want ErrMemoryBudget", err)
		}
		if err := m.Save(path); err != nil {
			t.Fatalf("Save at a limit of the file's exact length: %v", err)
		}
		if _, err := LoadModel(path); err != nil {
			t.Errorf("LoadModel of what Save wrote under the same budget: %v", err)
		}
	})
	// A byte over the limit: refused, and the file kept.
	if err := os.WriteFile(path, []byte("the old file"), 0o644); err != nil {
		t.Fatal(err)
	}
	withBudget(t, fileShare*(length-1), func() {
		var w bytes.Buffer
		if err := m.Encode(&w); !errors.Is(err, ErrMemoryBudget) || w.Len() != 0 {
			t.Errorf("Encode over the limit: got %v and %d bytes, want ErrMemoryBudget and none", err, w.Len())
		}
		err := m.Save(path)
		if !errors.Is(err, ErrMemoryBudget) || !strings.Contains(err.Error(), "model file would be larger than") {
			t.Errorf("Save over the limit: got %v, want ErrMemoryBudget", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "the old file" {
			t.Errorf("Save over the limit replaced the file with %d bytes", len(b))
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("Save over the limit left %d files in the directory, want 1", len(entries))
		}
	})
	// A budget that takes the upper bound passes CheckFiles without
	// counting, and checkpoints count their optimizer's state.
	upper := int64(paramCount([]int{10, 40, 3}, true)+4*3+6*10)*maxNumberLength + 4096
	withBudget(t, fileShare*upper, func() {
		if err := CheckFiles(Config{Sizes: []int{10, 40, 3}}, nil); err != nil {
			t.Errorf("CheckFiles within the upper bound: %v", err)
		}
		if err := CheckFiles(Config{Sizes: []int{10, 40, 3}}, &Settings{Method: Adam, CheckpointEvery: 1}); !errors.Is(err, ErrMemoryBudget) || !strings.Contains(err.Error(), "checkpoint") {
			t.Errorf("CheckFiles of Adam's checkpoints: got %v, want ErrMemoryBudget naming the checkpoint", err)
		}
	})

	c := randomCheckpoint()
	buf.Reset()
	if err := writeCheckpoint(&buf, c); err != nil {
		t.Fatal(err)
	}
	withBudget(t, fileShare*int64(buf.Len()-1), func() {
		cpath := filepath.Join(dir, "c.json")
		if err := SaveCheckpoint(cpath, c); !errors.Is(err, ErrMemoryBudget) {
			t.Errorf("SaveCheckpoint over the limit: got %v, want ErrMemoryBudget", err)
		}
		if _, err := os.Stat(cpath); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("SaveCheckpoint over the limit wrote a file: %v", err)
		}
	})
}

// The upper bounds of a file's length hold for the longest numbers the
// files hold.
func TestMaxLength(t *testing.T) {
	const longest = -0.0000012345678901234567 // 25 bytes in fixed notation
	if n := len(appendJSONFloat(nil, longest)); n+1 != maxNumberLength {
		t.Errorf("the longest number takes %d bytes, want %d with its comma", n, maxNumberLength-1)
	}
	net, err := New(Config{Sizes: []int{3, 5, 2}, Activations: []Activation{Tanh, Identity}})
	if err != nil {
		t.Fatal(err)
	}
	params := net.Params()
	for i := range params {
		params[i] = longest
	}
	m := &Model{Network: net, Features: []string{"\x01", "é", "\"\\"}, Targets: []string{"<>", "&"},
		Scaler: &Scaler{Kind: Standardize, Offset: []float64{longest, longest, longest}, Scale: []float64{-longest, -longest, -longest}}}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if max := m.mustDocument(t).maxLength(); int64(buf.Len()) > max {
		t.Errorf("a model file of %d bytes, over its upper bound %d", buf.Len(), max)
	}

	c := randomCheckpoint()
	for i := range c.History {
		c.History[i] = Epoch{Epoch: math.MaxInt, Loss: longest, ValLoss: math.Float64frombits(0x7ff8000000000001), ValAccuracy: longest, LearningRate: longest, Elapsed: math.MinInt64}
	}
	buf.Reset()
	if err := writeCheckpoint(&buf, c); err != nil {
		t.Fatal(err)
	}
	if max := checkpointMaxLength(c); int64(buf.Len()) > max {
		t.Errorf("a checkpoint file of %d bytes, over its upper bound %d", buf.Len(), max)
	}
}

func (m *Model) mustDocument(t *testing.T) *modelJSON {
	t.Helper()
	d, err := m.checked()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A network that CheckFiles passes saves, scaler and all, with every
// number at its longest: training it cannot end in a file Save refuses.
func TestCheckFilesHoldsForSave(t *testing.T) {
	const in = 2000
	sizes := []int{in, 1}
	// The smallest file limit that CheckFiles passes, found by bisection.
	lo, hi := int64(1), int64(1<<30)
	for lo < hi {
		mid := (lo + hi) / 2
		var err error
		withBudget(t, fileShare*mid, func() { err = CheckFiles(Config{Sizes: sizes}, nil) })
		if err == nil {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	withBudget(t, fileShare*lo, func() {
		net, err := New(Config{Sizes: sizes, Activations: []Activation{Identity}})
		if err != nil {
			t.Fatal(err)
		}
		const longest = -0.0000012345678901234567
		for i := range net.Params() {
			net.Params()[i] = longest
		}
		sc := &Scaler{Kind: Standardize, Offset: make([]float64, in), Scale: make([]float64, in)}
		for j := range in {
			sc.Offset[j], sc.Scale[j] = longest, -longest
		}
		if err := (&Model{Network: net, Scaler: sc}).Save(filepath.Join(t.TempDir(), "m.json")); err != nil {
			t.Errorf("Save of a network that CheckFiles passed: %v", err)
		}
	})
}
