package nn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// L-BFGS records one epoch per iteration after the starting point, and the
// network ends with the weights of the last one recorded.
func TestLBFGSHistory(t *testing.T) {
	x := mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 0, 1, 1})
	y := mat.NewDense(4, 1, []float64{0, 1, 1, 0})
	for _, epochs := range []int{1, 2, 5, 500} {
		net, err := New(Config{Sizes: []int{2, 4, 1}, Activations: []Activation{Tanh, Sigmoid}, Loss: BinaryCrossEntropy, Init: Xavier, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		J0, err := net.Cost(x, y)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Train(context.Background(), net, x, y, &Settings{Method: LBFGS, Epochs: epochs})
		if err != nil {
			t.Fatal(err)
		}
		h := rep.History
		switch {
		case len(h) == 0 || len(h) > epochs:
			t.Fatalf("Epochs %d: %d epochs recorded", epochs, len(h))
		case len(h) < epochs && rep.Stop != Converged:
			t.Errorf("Epochs %d: %d epochs recorded and stop %v, want all or converged", epochs, len(h), rep.Stop)
		case len(h) == epochs && rep.Stop != MaxEpochs && rep.Stop != Converged:
			t.Errorf("Epochs %d: stop %v", epochs, rep.Stop)
		}
		J, err := net.Cost(x, y)
		if err != nil {
			t.Fatal(err)
		}
		if last := h[len(h)-1].Loss; math.Abs(last-J/4) > 1e-15 {
			t.Errorf("Epochs %d: last recorded loss %v, the network's %v", epochs, last, J/4)
		}
		if !(h[0].Loss < J0/4) {
			t.Errorf("Epochs %d: first epoch's loss %v, want below the untrained %v", epochs, h[0].Loss, J0/4)
		}
	}
}

// L-BFGS reports a loss that is not finite at the start as divergence.
func TestLBFGSNonFiniteStart(t *testing.T) {
	net, err := New(Config{Sizes: []int{1, 1}, Activations: []Activation{Identity}})
	if err != nil {
		t.Fatal(err)
	}
	net.params[0] = 1e300
	x := mat.NewDense(2, 1, []float64{1e10, 1e10})
	y := mat.NewDense(2, 1, []float64{0, 0})
	rep, err := Train(context.Background(), net, x, y, &Settings{Method: LBFGS, Epochs: 5})
	if !errors.Is(err, ErrDiverged) || rep.Stop != Diverged {
		t.Errorf("got error %v and stop %v, want ErrDiverged", err, rep.Stop)
	}
	if net.params[0] != 1e300 {
		t.Errorf("weight %v, want the starting 1e300", net.params[0])
	}
}

// Cancelling the context stops L-BFGS through Problem.Status: after the
// epoch whose progress callback cancels, with that epoch's weights, and at
// once for a context cancelled before training.
func TestLBFGSCancel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 21))
	x := randDense(rnd, 50, 3, -1, 1)
	y := randDense(rnd, 50, 1, 0, 1)
	net, err := New(Config{Sizes: []int{3, 6, 1}, Activations: []Activation{Tanh, Sigmoid}, Init: Xavier, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var atEpoch3 []float64
	rep, err := Train(ctx, net, x, y, &Settings{Method: LBFGS, Epochs: 100, Progress: func(e Epoch) {
		if e.Epoch == 3 {
			atEpoch3 = slices.Clone(net.params)
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || rep.Stop != Cancelled || len(rep.History) != 3 {
		t.Fatalf("got error %v, stop %v after %d epochs; want context.Canceled after 3", err, rep.Stop, len(rep.History))
	}
	if !floats.Same(net.params, atEpoch3) {
		t.Error("weights after cancelling differ from those at the end of epoch 3")
	}

	before := slices.Clone(net.params)
	rep, err = Train(ctx, net, x, y, &Settings{Method: LBFGS, Epochs: 100})
	if !errors.Is(err, context.Canceled) || rep.Stop != Cancelled || len(rep.History) != 0 {
		t.Errorf("cancelled before training: got error %v, stop %v after %d epochs; want context.Canceled after 0", err, rep.Stop, len(rep.History))
	}
	if !floats.Same(net.params, before) {
		t.Error("cancelled before training: the weights changed")
	}
}
