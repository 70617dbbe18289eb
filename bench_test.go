package nn_test

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// workloads are the training-step shapes of shared/bench/WORKLOADS.md, named
// as there so that figures compare with NumPy's and PyTorch's.
var workloads = []struct {
	name  string
	batch int
	sizes []int
	bias  bool
}{
	{"seed", 3, []int{2, 3, 1}, false},
	{"small", 32, []int{64, 128, 10}, true},
	{"mnist", 128, []int{784, 256, 128, 10}, true},
	{"wide", 512, []int{1024, 1024, 1024, 10}, true},
}

// stepFlops returns the floating-point operations of one training step as
// WORKLOADS.md counts them: per layer 2·B·in·out for the forward product and
// as much for the weight gradient, and again for the input gradient of
// every layer but the first.
func stepFlops(batch int, sizes []int) float64 {
	var f float64
	for l := 0; l+1 < len(sizes); l++ {
		m := 2 * float64(batch*sizes[l]*sizes[l+1])
		f += 2 * m
		if l > 0 {
			f += m
		}
	}
	return f
}

// uniform returns an r×c matrix of values drawn from U[0, 1).
func uniform(rnd *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	raw := m.RawMatrix().Data
	for i := range raw {
		raw[i] = rnd.Float64()
	}
	return m
}

// BenchmarkTrainStep times one training step: forward pass, the tutorial's
// squared-error loss, backpropagation of every gradient and one
// gradient-descent update, on a fixed batch.
func BenchmarkTrainStep(b *testing.B) { benchTrainStep(b, nn.Float64) }

// BenchmarkTrainStep32 is BenchmarkTrainStep in float32
// (Settings.Precision), to compare with PyTorch at its default precision.
func BenchmarkTrainStep32(b *testing.B) { benchTrainStep(b, nn.Float32) }

func benchTrainStep(b *testing.B, p nn.Precision) {
	for _, w := range workloads {
		b.Run(w.name, func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 0))
			var x, y *mat.Dense
			if w.name == "seed" {
				x = mat.NewDense(3, 2, []float64{3.0 / 10, 5.0 / 5, 5.0 / 10, 1.0 / 5, 10.0 / 10, 2.0 / 5})
				y = mat.NewDense(3, 1, []float64{0.75, 0.82, 0.93})
			} else {
				x = uniform(rnd, w.batch, w.sizes[0])
				y = uniform(rnd, w.batch, w.sizes[len(w.sizes)-1])
			}
			init := nn.Xavier
			if w.name == "seed" {
				init = nn.StandardNormal // the tutorial's randn
			}
			net, err := nn.New(nn.Config{Sizes: w.sizes, NoBias: !w.bias, Init: init, Seed: 2})
			if err != nil {
				b.Fatal(err)
			}
			tr, err := nn.NewTrainer(net, &nn.Settings{Method: nn.GradientDescent, LearningRate: 1e-3, Precision: p})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tr.Step(x, y); err != nil { // warm up the buffers
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				tr.Step(x, y)
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N)/s, "steps/s")
			b.ReportMetric(stepFlops(w.batch, w.sizes)*float64(b.N)/s/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkDropoutStep times the mnist training step (784-256-128-10,
// ReLU, softmax and cross-entropy, AdamW, batch 128) without dropout and
// with dropout 0.2 and 0.1 on the hidden layers, so that the masks' cost
// reads off the pair.
func BenchmarkDropoutStep(b *testing.B) {
	for _, bc := range []struct {
		name    string
		dropout []float64
	}{{"none", nil}, {"0.2,0.1", []float64{0.2, 0.1}}} {
		b.Run("dropout="+bc.name, func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 0))
			x := uniform(rnd, 128, 784)
			labels := make([]int, 128)
			for i := range labels {
				labels[i] = rnd.IntN(10)
			}
			y := nn.OneHot(labels, 10)
			net, err := nn.New(nn.Config{Sizes: []int{784, 256, 128, 10}, Activations: []nn.Activation{nn.ReLU, nn.ReLU, nn.Softmax}, Loss: nn.CrossEntropy, Init: nn.He, Seed: 2})
			if err != nil {
				b.Fatal(err)
			}
			tr, err := nn.NewTrainer(net, &nn.Settings{Method: nn.AdamW, Dropout: bc.dropout, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tr.Step(x, y); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				tr.Step(x, y)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}

// BenchmarkInference times the forward pass of the mnist shape
// (784-256-128-10, sigmoid) at batch 1 (latency) and 1024 (throughput).
func BenchmarkInference(b *testing.B) { benchInference(b, nn.Float64) }

// BenchmarkInference32 is BenchmarkInference with the network predicting
// in float32 (Network.SetPrecision).
func BenchmarkInference32(b *testing.B) { benchInference(b, nn.Float32) }

func benchInference(b *testing.B, p nn.Precision) {
	sizes := []int{784, 256, 128, 10}
	for _, batch := range []int{1, 1024} {
		b.Run(map[int]string{1: "mnist/batch1", 1024: "mnist/batch1024"}[batch], func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 0))
			net, err := nn.New(nn.Config{Sizes: sizes, Init: nn.Xavier, Seed: 2})
			if err != nil {
				b.Fatal(err)
			}
			net.SetPrecision(p)
			x := uniform(rnd, batch, sizes[0])
			dst := mat.NewDense(batch, sizes[len(sizes)-1], nil)
			var ws nn.Workspace
			if err := net.PredictTo(dst, x, &ws); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				net.PredictTo(dst, x, &ws)
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N*batch)/s, "samples/s")
			b.ReportMetric(s*1e9/float64(b.N*batch), "ns/sample")
		})
	}
}

// tableRows is nn.Rows over matrices in memory.
type tableRows struct {
	x, y *mat.Dense
	i    int
}

func (t *tableRows) Rewind() error { t.i = 0; return nil }

func (t *tableRows) Next(x, y []float64) error {
	if r, _ := t.x.Dims(); t.i == r {
		return io.EOF
	}
	copy(x, t.x.RawRowView(t.i))
	copy(y, t.y.RawRowView(t.i))
	t.i++
	return nil
}

// BenchmarkEpoch times epochs of Adam on batches of 32 over 100,000 rows
// of 10 inputs and 3 classes (a 10-32-3 network, as nn train's default
// on the memory workload of bench/memory.sh), validated on 10,000 rows, 4
// epochs a run: "memory" shuffles the rows in memory (Train), "rows"
// reads them in order through a shuffle buffer of 65,536 rows, as a
// stream's epochs do (TrainRows, whose first pass counts and checks the
// rows once a run).
func BenchmarkEpoch(b *testing.B) {
	rnd := rand.New(rand.NewPCG(3, 0))
	x, vx := uniform(rnd, 100000, 10), uniform(rnd, 10000, 10)
	onehot := func(rows int) *mat.Dense {
		labels := make([]int, rows)
		for i := range labels {
			labels[i] = rnd.IntN(3)
		}
		return nn.OneHot(labels, 3)
	}
	y, vy := onehot(100000), onehot(10000)
	cfg := nn.Config{Sizes: []int{10, 32, 3}, Activations: []nn.Activation{nn.ReLU, nn.Softmax}, Loss: nn.CrossEntropy, Init: nn.He, Seed: 1}
	for _, mode := range []string{"memory", "rows"} {
		b.Run(mode, func(b *testing.B) {
			net, err := nn.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			const epochs = 4
			s := &nn.Settings{Method: nn.Adam, LearningRate: 0.001, Epochs: epochs, BatchSize: 32, Seed: 1, Patience: -1}
			for b.Loop() {
				if mode == "memory" {
					s.ValidationX, s.ValidationY = vx, vy
					_, err = nn.Train(context.Background(), net, x, y, s)
				} else {
					_, err = nn.TrainRows(context.Background(), net, &tableRows{x: x, y: y}, &tableRows{x: vx, y: vy}, 0, s)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N*epochs), "s/epoch")
		})
	}
}
