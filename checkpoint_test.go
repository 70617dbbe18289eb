package nn

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// randomCheckpoint returns a checkpoint with every field set, NaN and
// infinite values where they are allowed, and values that floats formats
// tend to get wrong.
func randomCheckpoint() *Checkpoint {
	otherNaN := math.Float64frombits(0x7ff8000000000000) // the NaN of 0/0 on amd64
	return &Checkpoint{
		Epoch:   4,
		Method:  Adam,
		Params:  []float64{1, -0.5, 5e-324, math.Copysign(0, -1), 1.7976931348623157e308, 1.0 / 3},
		Steps:   17,
		Moment1: []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0x1p-1074},
		Moment2: []float64{1e-300, 2, 3, 4, 5, 6},
		Random:  []byte{0, 1, 2, 250, 255, '"', '\\'},
		History: []Epoch{
			{Epoch: 1, Loss: 0.75, ValLoss: math.NaN(), ValAccuracy: math.NaN(), LearningRate: 0.001, Elapsed: 1500 * time.Microsecond},
			{Epoch: 2, Loss: 0.5, ValLoss: otherNaN, ValAccuracy: 0.8, LearningRate: 0.001, Elapsed: 3 * time.Millisecond},
			{Epoch: 3, Loss: math.Inf(1), ValLoss: math.Inf(-1), ValAccuracy: math.Copysign(0, -1), LearningRate: 5e-324, Elapsed: time.Duration(math.MaxInt64)},
			{Epoch: 4, Loss: 0.25, ValLoss: 0.3, ValAccuracy: 1, LearningRate: 0.1 + 0.2, Elapsed: -1},
		},
		Best:       math.Inf(1),
		BestEpoch:  2,
		BestParams: []float64{6, 5, 4, 3, 2, 1},
		Wait:       2,
	}
}

// sameCheckpoint returns an error describing the first difference between
// a and b, comparing every float bit for bit and nil slices apart from
// empty ones.
func sameCheckpoint(a, b *Checkpoint) error {
	floats := []struct {
		name string
		x, y []float64
	}{
		{"Params", a.Params, b.Params}, {"Moment1", a.Moment1, b.Moment1},
		{"Moment2", a.Moment2, b.Moment2}, {"BestParams", a.BestParams, b.BestParams},
	}
	for _, f := range floats {
		if !modelSameBits(f.x, f.y) || (f.x == nil) != (f.y == nil) {
			return fmt.Errorf("%s: got %v, want %v", f.name, f.y, f.x)
		}
	}
	switch {
	case a.Epoch != b.Epoch || a.Method != b.Method || a.Steps != b.Steps || a.BestEpoch != b.BestEpoch || a.Wait != b.Wait:
		return fmt.Errorf("counts: got %d %v %d %d %d, want %d %v %d %d %d",
			b.Epoch, b.Method, b.Steps, b.BestEpoch, b.Wait, a.Epoch, a.Method, a.Steps, a.BestEpoch, a.Wait)
	case !bytes.Equal(a.Random, b.Random) || (a.Random == nil) != (b.Random == nil):
		return fmt.Errorf("Random: got %v, want %v", b.Random, a.Random)
	case math.Float64bits(a.Best) != math.Float64bits(b.Best):
		return fmt.Errorf("Best: got %v, want %v", b.Best, a.Best)
	case len(a.History) != len(b.History) || (a.History == nil) != (b.History == nil):
		return fmt.Errorf("History: got %d epochs, want %d", len(b.History), len(a.History))
	case !reflect.DeepEqual(a.Fingerprint, b.Fingerprint):
		return fmt.Errorf("Fingerprint: got %+v, want %+v", b.Fingerprint, a.Fingerprint)
	}
	for i, e := range a.History {
		f := b.History[i]
		if e.Epoch != f.Epoch || e.Elapsed != f.Elapsed ||
			!modelSameBits([]float64{e.Loss, e.ValLoss, e.ValAccuracy, e.LearningRate}, []float64{f.Loss, f.ValLoss, f.ValAccuracy, f.LearningRate}) {
			return fmt.Errorf("History[%d]: got %+v, want %+v", i, f, e)
		}
	}
	return nil
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for i, c := range []*Checkpoint{
		randomCheckpoint(),
		{Method: GradientDescent, Params: []float64{1}, Best: math.Inf(1)},
		{Method: Momentum, Params: []float64{1, 2}, Moment1: []float64{0, 0}, Random: []byte{}, History: []Epoch{}, Best: math.NaN()},
		func() *Checkpoint { c := randomCheckpoint(); c.Fingerprint = testFingerprint(); return c }(),
	} {
		path := filepath.Join(dir, fmt.Sprintf("checkpoint%d.json", i))
		if err := SaveCheckpoint(path, c); err != nil {
			t.Fatalf("%d: SaveCheckpoint: %v", i, err)
		}
		got, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatalf("%d: LoadCheckpoint: %v", i, err)
		}
		if err := sameCheckpoint(c, got); err != nil {
			t.Errorf("%d: %v", i, err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%d: mode of saved file: got %v (%v), want 0644", i, fi.Mode().Perm(), err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "checkpoint0.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"val_loss":"NaN"`, `"val_loss":"NaN(0x7ff8000000000000)"`, `"loss":"+Inf"`, `"val_loss":"-Inf"`, `"best": "+Inf"`, `"method": "adam"`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("checkpoint file does not hold %s:\n%s", want, b)
		}
	}
}

// TestCheckpointResumeFromFile trains in two runs through a checkpoint
// file and compares with one uninterrupted run.
func TestCheckpointResumeFromFile(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	x := randDense(rnd, 40, 3, -1, 1)
	y := oneHotRows(rnd, 40, 2)
	cfg := Config{Sizes: []int{3, 5, 2}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Seed: 3}
	settings := func(epochs int) *Settings {
		return &Settings{Method: Adam, LearningRate: 0.01, Epochs: epochs, BatchSize: 8, Seed: 4, ValidationFraction: 0.25, Patience: 50}
	}
	whole, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), whole, x, y, settings(20)); err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(t.TempDir(), "checkpoint.json")
	first, _ := New(cfg)
	s := settings(20)
	s.CheckpointEvery = 10
	s.Checkpoint = func(c *Checkpoint) error {
		if c.Epoch == 10 {
			return SaveCheckpoint(path, c)
		}
		return nil
	}
	s.Epochs = 10
	if _, err := Train(context.Background(), first, x, y, s); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := New(cfg)
	s = settings(20)
	s.Resume = c
	if _, err := Train(context.Background(), second, x, y, s); err != nil {
		t.Fatal(err)
	}
	if !modelSameBits(second.Params(), whole.Params()) {
		t.Errorf("resumed from file: got params %v, want %v", second.Params(), whole.Params())
	}
}

func TestCheckpointErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint.json")
	if err := SaveCheckpoint(path, randomCheckpoint()); err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set := func(key string, val any) func(map[string]any) {
		return func(v map[string]any) { v[key] = val }
	}
	history := func(i int, key string, val any) func(map[string]any) {
		return func(v map[string]any) { v["history"].([]any)[i].(map[string]any)[key] = val }
	}
	for _, test := range []struct {
		name string
		in   []byte
		edit func(map[string]any)
		want []string
	}{
		{name: "truncated", in: valid[:len(valid)/3], want: []string{"truncated"}},
		{name: "a model", in: validModelJSON(t), want: []string{"not a checkpoint file", "model"}},
		{name: "version 4", edit: set("version", 4), want: []string{"version 4", "version 1 to 3"}},
		{name: "plateau in version 2", edit: func(m map[string]any) {
			m["version"] = 2
			m["plateau"] = map[string]any{"rate": 0.1, "best": 1, "bad": 0, "cooldown": 0}
		}, want: []string{"version 2", "plateau", "version 3 added"}},
		{name: "plateau without rate", edit: set("plateau", map[string]any{"best": 1}), want: []string{"plateau", "no \"rate\""}},
		{name: "unknown field", edit: set("epochs", 3), want: []string{"unknown field", "epochs"}},
		{name: "unknown method", edit: set("method", "rmsprop"), want: []string{"method", "rmsprop"}},
		{name: "no params", edit: set("params", nil), want: []string{"no params"}},
		{name: "short moment", edit: set("moment1", []int{1}), want: []string{"1 moment1 values", "want 6"}},
		{name: "short best params", edit: set("best_params", []int{}), want: []string{"0 best params", "want 6"}},
		{name: "epoch and history", edit: set("epoch", 5), want: []string{"epoch is 5", "4 epochs"}},
		{name: "negative steps", edit: set("steps", -1), want: []string{"steps is -1"}},
		{name: "best epoch", edit: set("best_epoch", 5), want: []string{"best epoch is 5"}},
		{name: "no best", edit: set("best", nil), want: []string{`"best"`}},
		{name: "best is text", edit: set("best", "infinity"), want: []string{"infinity", `"NaN"`}},
		{name: "null loss", edit: history(0, "loss", nil), want: []string{"null", "not a number"}},
		{name: "lower-case nan", edit: history(1, "val_loss", "nan"), want: []string{"nan", "not a number"}},
		{name: "NaN payload not NaN", edit: history(1, "val_loss", "NaN(0x3ff0000000000000)"), want: []string{"NaN(0x3ff0000000000000)"}},
		{name: "bad random", edit: set("random", "!!"), want: []string{"random"}},
	} {
		in := test.in
		if test.edit != nil {
			in = editModelJSON(t, valid, test.edit)
		}
		bad := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(bad, in, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadCheckpoint(bad)
		if err == nil {
			t.Errorf("%s: got checkpoint %+v, want an error", test.name, c)
			continue
		}
		for _, w := range append(test.want, bad) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: got error %q, want it to mention %q", test.name, err, w)
			}
		}
		if strings.Count(err.Error(), "nn: ") != 1 {
			t.Errorf("%s: got error %q, want one prefix \"nn: \"", test.name, err)
		}
	}

	// Saving refuses an inconsistent or non-finite checkpoint and leaves
	// the file as it was.
	for _, test := range []struct {
		change func(c *Checkpoint)
		want   string
	}{
		{func(c *Checkpoint) { c.Params[2] = math.NaN() }, "params[2] is NaN"},
		{func(c *Checkpoint) { c.Moment2[0] = math.Inf(1) }, "moment2[0] is +Inf"},
		{func(c *Checkpoint) { c.BestParams = c.BestParams[:3] }, "3 best params"},
		{func(c *Checkpoint) { c.History = c.History[:2] }, "history holds 2"},
		{func(c *Checkpoint) { c.Method = Method(42) }, "Method(42)"},
		{func(c *Checkpoint) { c.Fingerprint.Data = "x" }, `fingerprint data is "x"`},
		{func(c *Checkpoint) { c.Fingerprint.Sizes = []int{2, 3} }, "network of 9 parameters, want 6"},
		{func(c *Checkpoint) { c.Fingerprint.Sizes = []int{2, 0} }, "sizes [2 0]"},
		{func(c *Checkpoint) { c.Fingerprint.Activations = nil }, "2 sizes and 0 activations"},
	} {
		c := randomCheckpoint()
		c.Fingerprint = testFingerprint()
		test.change(c)
		err := SaveCheckpoint(path, c)
		if err == nil || !strings.Contains(err.Error(), test.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("got error %v, want one naming %s and %q", err, path, test.want)
		}
		if b, _ := os.ReadFile(path); !bytes.Equal(b, valid) {
			t.Errorf("%q: the old file changed", test.want)
		}
	}
	if names := modelDirNames(t, dir); !slices.Equal(names, []string{"bad.json", "checkpoint.json"}) {
		t.Errorf("directory holds %q, want bad.json and checkpoint.json", names)
	}
}

// testFingerprint returns a fingerprint that fits randomCheckpoint's six
// params.
func testFingerprint() *Fingerprint {
	return &Fingerprint{Sizes: []int{2, 2}, Activations: []Activation{Sigmoid}, Bias: true, Data: digest(nil), Method: Adam, BatchSize: 32}
}
