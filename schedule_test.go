package nn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestRateAt checks the warm-up and the schedules against their formulas,
// per step as the Fashion-MNIST recipe uses them (PyTorch's LambdaLR with
// the same formula) and per epoch.
func TestRateAt(t *testing.T) {
	s := &Settings{LearningRate: 1e-3, Epochs: 30, Warmup: 1, PerStep: true, Schedule: Cosine}
	const spe = 469
	T, W := 30*spe, spe
	for _, tc := range []struct {
		step int
		want float64
	}{
		{0, 1e-3 / 469},
		{100, 1e-3 * 101 / 469},
		{468, 1e-3},
		{469, 1e-3},
		{W + (T-W)/2, 1e-3 * 0.5 * (1 + math.Cos(math.Pi*float64((T-W)/2)/float64(T-W)))},
		{T - 1, 1e-3 * 0.5 * (1 + math.Cos(math.Pi*float64(T-1-W)/float64(T-W)))},
	} {
		if got := s.rateAt(tc.step/spe, tc.step, spe, 0); math.Abs(got-tc.want) > 1e-18 {
			t.Errorf("cosine, step %d: rate %v, want %v", tc.step, got, tc.want)
		}
	}
	s = &Settings{LearningRate: 0.1, Epochs: 10, Schedule: Cosine, MinRate: 0.01}
	lr, floor := s.LearningRate, s.MinRate // variables: constants would fold exactly
	if got, want := s.rateAt(5, 0, 1, 0), floor+(lr-floor)*0.5*(1+math.Cos(math.Pi*5/10)); got != want {
		t.Errorf("cosine per epoch with a floor: %v, want %v", got, want)
	}
	s = &Settings{LearningRate: 0.1, Epochs: 10, Schedule: Exponential, DecayRate: 0.5, Warmup: 2}
	for e, want := range []float64{0.05, 0.1, 0.1, 0.05, 0.025} {
		if got := s.rateAt(e, 0, 1, 0); math.Abs(got-want) > 1e-17 {
			t.Errorf("exponential after a warm-up, epoch %d: %v, want %v", e, got, want)
		}
	}
}

// TestPlateau feeds ReduceLROnPlateau's step and plateau.update the same
// values; PyTorch 1.13's rates, with factor 0.5, patience 2, cooldown 1,
// min_lr 0.1 and an absolute threshold of 0.05, were:
func TestPlateau(t *testing.T) {
	values := []float64{1, 0.9, 0.92, 0.91, 0.89, 0.88, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6}
	torch := []float64{1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.25, 0.125, 0.125, 0.125, 0.125, 0.1, 0.1, 0.1}
	s := &Settings{LearningRate: 1, Schedule: Plateau, DecayRate: 0.5, PlateauPatience: 2, Cooldown: 1, MinRate: 0.1, MinDelta: 0.05}
	p := plateau{rate: 1, best: math.Inf(1)}
	for i, v := range values {
		p.update(s, v)
		if p.rate != torch[i] {
			t.Errorf("after value %d (%v): rate %v, PyTorch %v", i, v, p.rate, torch[i])
		}
	}
}

// TestScheduleResume checks that a run stopped at a checkpoint and resumed
// ends with the same bits as one run, for the schedules with state or
// counted in steps, with accuracy monitored.
func TestScheduleResume(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	x := randDense(rnd, 48, 3, -1, 1)
	y := oneHotRows(rnd, 48, 2)
	cfg := Config{Sizes: []int{3, 6, 2}, Activations: []Activation{GELU, Softmax}, Loss: CrossEntropy, Seed: 5, Init: He}
	errStop := errors.New("stop")
	for _, base := range []Settings{
		{Method: AdamW, Schedule: Cosine, PerStep: true, Warmup: 2, MinRate: 1e-4, ClipNorm: 0.5, Dropout: []float64{0.3}},
		{Method: Adam, Schedule: Plateau, PlateauPatience: 1, Monitor: MonitorAccuracy, Patience: 100},
		{Method: Momentum, Schedule: Exponential, DecayRate: 0.9, Warmup: 1},
		{Method: GradientDescent, Dropout: []float64{0.3}, Schedule: StepDecay, DecayRate: 0.5, DecaySteps: 3, Warmup: 2},
	} {
		settings := func() *Settings {
			s := base
			s.LearningRate, s.Epochs, s.BatchSize, s.Seed, s.ValidationFraction = 0.02, 16, 8, 4, 0.25
			return &s
		}
		whole, _ := New(cfg)
		rw, err := Train(context.Background(), whole, x, y, settings())
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "ck.json")
		first, _ := New(cfg)
		s := settings()
		s.CheckpointEvery = 7
		s.Checkpoint = func(c *Checkpoint) error {
			if err := SaveCheckpoint(path, c); err != nil {
				return err
			}
			return errStop
		}
		if _, err := Train(context.Background(), first, x, y, s); !errors.Is(err, errStop) {
			t.Fatalf("%v: first part: %v", base.Schedule, err)
		}
		c, err := LoadCheckpoint(path)
		if err != nil {
			t.Fatal(err)
		}
		if (c.Plateau != nil) != (base.Schedule == Plateau) {
			t.Errorf("%v: checkpoint plateau state %+v", base.Schedule, c.Plateau)
		}
		second, _ := New(cfg)
		s = settings()
		s.Resume = c
		rs, err := Train(context.Background(), second, x, y, s)
		if err != nil {
			t.Fatal(err)
		}
		if !modelSameBits(second.Params(), whole.Params()) {
			t.Errorf("%v: resumed run ends with other weights", base.Schedule)
		}
		for i := range rw.History {
			if rw.History[i].LearningRate != rs.History[i].LearningRate {
				t.Errorf("%v: epoch %d: rate %v, resumed %v", base.Schedule, i+1, rw.History[i].LearningRate, rs.History[i].LearningRate)
			}
		}
		if base.Schedule == Plateau && rw.History[len(rw.History)-1].LearningRate == rw.History[0].LearningRate {
			t.Errorf("plateau: the rate never fell: %v", rw.Loss())
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	n, _ := New(Config{Sizes: []int{2, 2, 1}})
	x, y := xorData()
	for _, tc := range []struct {
		s    Settings
		want string
	}{
		{Settings{Epochs: 5, Warmup: 5}, "Settings.Warmup is 5 epochs, want fewer than the 5"},
		{Settings{Epochs: 5, Schedule: Exponential, DecayRate: 2}, "for Exponential"},
		{Settings{Epochs: 5, Schedule: Plateau, DecayRate: 1}, "for Plateau"},
		{Settings{Epochs: 5, Schedule: Cosine, MinRate: 1}, "Settings.MinRate is 1"},
		{Settings{Epochs: 5, Monitor: MonitorAccuracy}, "Monitor is accuracy, which needs a validation set"},
		{Settings{Epochs: 5, Method: LBFGS, Schedule: Cosine}, "LBFGS takes no learning-rate schedule"},
	} {
		s := tc.s
		if _, err := Train(context.Background(), n, x, y, &s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.s, err, tc.want)
		}
	}
}

// TestResumeChangedSchedule checks that the fingerprint names a changed
// warm-up or monitor, which change the run.
func TestResumeChangedSchedule(t *testing.T) {
	rnd := rand.New(rand.NewPCG(15, 16))
	x := randDense(rnd, 24, 3, -1, 1)
	y := oneHotRows(rnd, 24, 2)
	cfg := Config{Sizes: []int{3, 4, 2}, Activations: []Activation{Tanh, Softmax}, Loss: CrossEntropy, Seed: 5}
	var c *Checkpoint
	n, _ := New(cfg)
	s := &Settings{Method: Adam, Epochs: 6, BatchSize: 8, ValidationFraction: 0.25, Warmup: 2, CheckpointEvery: 3,
		Checkpoint: func(ck *Checkpoint) error { c = ck; return errors.New("stop") }}
	Train(context.Background(), n, x, y, s)
	for _, change := range []func(*Settings){
		func(s *Settings) { s.Warmup = 1 },
		func(s *Settings) { s.Monitor = MonitorAccuracy },
		func(s *Settings) { s.Dropout = []float64{0.5} },
	} {
		m, _ := New(cfg)
		s2 := &Settings{Method: Adam, Epochs: 6, BatchSize: 8, ValidationFraction: 0.25, Warmup: 2, Resume: c}
		change(s2)
		if _, err := Train(context.Background(), m, x, y, s2); !errors.Is(err, ErrResumeChanged) {
			t.Errorf("a changed setting: got %v, want ErrResumeChanged", err)
		}
	}
	// With ResumeChanged, turning dropout on goes on from the checkpoint.
	m, _ := New(cfg)
	s2 := &Settings{Method: Adam, Epochs: 6, BatchSize: 8, ValidationFraction: 0.25, Warmup: 2, Resume: c, ResumeChanged: true, Dropout: []float64{0.5}}
	if _, err := Train(context.Background(), m, x, y, s2); err != nil {
		t.Errorf("dropout turned on with ResumeChanged: %v", err)
	}
}
