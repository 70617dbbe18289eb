package nn_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// TestFashionMNISTRecipe trains Fashion-MNIST with the modern recipe of
// bench/FASHION_RECIPE.md — 784-256-128-10, ReLU, dropout 0.2 and 0.1,
// AdamW (η = 0.001, λ = 0.01), one epoch of linear warm-up then cosine
// annealing to 0, both per step, batch 128, 30 epochs — for each seed of
// NN_RECIPE_SEEDS (default 1,2,3), logs the test accuracy and the median
// training time per epoch, and requires a median final test accuracy of
// at least 0.90. It runs when NN_LONG_TESTS=1 and the data set is
// installed, without the race detector; bench/fashion_recipe.sh runs it
// beside PyTorch's bench/fashion_recipe_torch.py.
func TestFashionMNISTRecipe(t *testing.T) {
	if raceEnabled {
		t.Skip("SKIPPED: Fashion-MNIST training is too slow under -race")
	}
	if os.Getenv(longTests) != "1" {
		t.Skip("SKIPPED: three 30-epoch Fashion-MNIST trainings take minutes; run them with " + longTests + "=1 go test -run '^TestFashionMNISTRecipe$' -v .")
	}
	f := loadFashion(t)
	seeds := []uint64{1, 2, 3}
	if s := os.Getenv("NN_RECIPE_SEEDS"); s != "" {
		seeds = seeds[:0]
		for _, part := range strings.Split(s, ",") {
			v, err := strconv.ParseUint(strings.TrimSpace(part), 10, 64)
			if err != nil {
				t.Fatalf("NN_RECIPE_SEEDS=%s: %v", s, err)
			}
			seeds = append(seeds, v)
		}
	}
	t.Logf("backend: %s", nn.Backend())
	var finals []float64
	p := mat.NewDense(10000, 10, nil)
	var ws nn.Workspace
	var pred []int
	for _, seed := range seeds {
		net := fashionNet(t, seed)
		var times []float64
		var last time.Duration
		report, err := nn.Train(context.Background(), net, f.xTrain, f.yTrain, &nn.Settings{
			Method:       nn.AdamW,
			LearningRate: 1e-3,
			WeightDecay:  1e-2,
			Schedule:     nn.Cosine,
			Warmup:       1,
			PerStep:      true,
			Dropout:      []float64{0.2, 0.1},
			Epochs:       30,
			BatchSize:    128,
			Seed:         seed,
			Progress: func(e nn.Epoch) {
				times = append(times, (e.Elapsed - last).Seconds())
				last = e.Elapsed
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := net.PredictTo(p, f.xTest, &ws); err != nil {
			t.Fatal(err)
		}
		pred = nn.ArgMax(pred, p)
		acc := nn.Accuracy(f.testLabels, pred)
		finals = append(finals, acc)
		slices.Sort(times)
		t.Logf("seed %d: test accuracy %.4f after 30 epochs; median %.2f s per training epoch; loss %.4f at the end", seed, acc, times[len(times)/2], report.History[len(report.History)-1].Loss)
	}
	slices.Sort(finals)
	median := finals[len(finals)/2]
	t.Logf("median test accuracy over seeds %s: %.4f", fmt.Sprint(seeds), median)
	if median < 0.90 {
		t.Errorf("median test accuracy %.4f, want at least 0.90", median)
	}
}
