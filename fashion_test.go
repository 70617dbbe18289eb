package nn_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// fashionDir holds the Fashion-MNIST IDX files (Debian package
// dataset-fashion-mnist); FMNIST_DIR overrides it.
func fashionDir() string {
	if d := os.Getenv("FMNIST_DIR"); d != "" {
		return d
	}
	return "/usr/share/datasets/fashion-mnist"
}

type fashion struct {
	xTrain, yTrain, xTest, yTest *mat.Dense
	testLabels                   []int
}

// loadFashion loads Fashion-MNIST with pixels scaled to [0, 1] and one-hot
// targets, or skips tb, saying why, when the files are absent.
func loadFashion(tb testing.TB) *fashion {
	dir := fashionDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	if _, err := os.Stat(path("train-images-idx3-ubyte.gz")); err != nil {
		tb.Skipf("SKIPPED: Fashion-MNIST files not found in %s (apt-get install dataset-fashion-mnist, or set FMNIST_DIR)", dir)
	}
	var f fashion
	var err error
	images := func(name string) *mat.Dense {
		m, e := nn.LoadIDXImages(path(name))
		if e != nil && err == nil {
			err = e
		}
		return m
	}
	labels := func(name string) []int {
		l, e := nn.LoadIDXLabels(path(name))
		if e != nil && err == nil {
			err = e
		}
		return l
	}
	f.xTrain, f.xTest = images("train-images-idx3-ubyte.gz"), images("t10k-images-idx3-ubyte.gz")
	trainLabels, testLabels := labels("train-labels-idx1-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")
	if err != nil {
		tb.Fatal(err)
	}
	f.yTrain, f.yTest, f.testLabels = nn.OneHot(trainLabels, 10), nn.OneHot(testLabels, 10), testLabels
	return f.checked(tb)
}

func (f *fashion) checked(tb testing.TB) *fashion {
	if r, c := f.xTrain.Dims(); r != 60000 || c != 784 {
		tb.Fatalf("training images are %d×%d, want 60000×784", r, c)
	}
	if r, c := f.xTest.Dims(); r != 10000 || c != 784 {
		tb.Fatalf("test images are %d×%d, want 10000×784", r, c)
	}
	return f
}

// fashionNet is the network of the time-to-accuracy workload:
// 784-256-128-10, ReLU hidden layers, softmax output with cross-entropy.
func fashionNet(tb testing.TB, seed uint64) *nn.Network {
	net, err := nn.New(nn.Config{
		Sizes:       []int{784, 256, 128, 10},
		Activations: []nn.Activation{nn.ReLU, nn.ReLU, nn.Softmax},
		Loss:        nn.CrossEntropy,
		Init:        nn.He,
		Seed:        seed,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return net
}

// longTests is the environment variable that asks for the tests that take
// a minute or more, such as TestFashionMNIST: they run when it is "1", so
// that go test ./... stays well under a minute.
const longTests = "NN_LONG_TESTS"

// TestFashionMNIST trains the time-to-accuracy workload of WORKLOADS.md for
// up to 20 epochs (Adam, η = 0.001, batch 128), in float64 and in float32,
// and requires a test accuracy of at least 0.88 from each, and the float32
// run's within 0.005 of the float64 run's. It runs when NN_LONG_TESTS=1, the
// data set is installed and the race detector is off, and logs the
// accuracy and wall time of every epoch.
func TestFashionMNIST(t *testing.T) {
	if raceEnabled {
		t.Skip("SKIPPED: Fashion-MNIST training is too slow under -race; run " + longTests + "=1 go test -run '^TestFashionMNIST$' -v . without -race")
	}
	if testing.Short() {
		t.Skip("SKIPPED: Fashion-MNIST training in -short mode")
	}
	if os.Getenv(longTests) != "1" {
		t.Skip("SKIPPED: Fashion-MNIST training for 20 epochs takes a minute or so; run it with " + longTests + "=1 go test -run '^TestFashionMNIST$' -v .")
	}
	f := loadFashion(t)
	acc := make(map[nn.Precision]float64)
	for _, p := range []nn.Precision{nn.Float64, nn.Float32} {
		t.Run(p.String(), func(t *testing.T) { acc[p] = fashion20(t, f, p) })
	}
	if d := acc[nn.Float32] - acc[nn.Float64]; d < -0.005 || d > 0.005 {
		t.Errorf("test accuracy %.4f in float32, %.4f in float64: a difference of %.4f, want at most 0.005", acc[nn.Float32], acc[nn.Float64], d)
	}
}

// fashion20 trains the time-to-accuracy workload for 20 epochs in
// precision p, checks a test accuracy of at least 0.88 and returns it.
func fashion20(t *testing.T, f *fashion, precision nn.Precision) float64 {
	net := fashionNet(t, 1)
	var (
		reached, last time.Duration
		best          float64
		acc           float64
		evalErr       error
		pred          []int
		ws            nn.Workspace
		p             = mat.NewDense(10000, 10, nil)
	)
	t.Logf("backend: %s", nn.Backend())
	t.Logf("%5s %10s %9s %9s %9s", "epoch", "loss", "test acc", "epoch s", "total s")
	start := time.Now()
	_, err := nn.Train(context.Background(), net, f.xTrain, f.yTrain, &nn.Settings{
		Method:       nn.Adam,
		LearningRate: 0.001, // the workload's, as PyTorch's default
		Epochs:       20,
		BatchSize:    128,
		Seed:         1,
		Precision:    precision,
		// The test set is scored after every epoch, as the workload
		// measures it, but not used for early stopping or for choosing
		// weights. Scoring reuses its buffers: with 440 MB of data alive,
		// garbage would only be collected once it reached as much again.
		Progress: func(e nn.Epoch) {
			if err := net.PredictTo(p, f.xTest, &ws); err != nil {
				evalErr = err
				return
			}
			pred = nn.ArgMax(pred, p)
			acc = nn.Accuracy(f.testLabels, pred)
			now := time.Since(start)
			t.Logf("%5d %10.4f %9.4f %9.2f %9.1f", e.Epoch, e.Loss, acc, (now - last).Seconds(), now.Seconds())
			last = now
			best = max(best, acc)
			if reached == 0 && acc >= 0.88 {
				reached = now
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if evalErr != nil {
		t.Fatal(evalErr)
	}
	t.Logf("test accuracy %.4f after 20 epochs, best %.4f; 0.88 reached after %.1f s (wall time, test scoring included)", acc, best, reached.Seconds())
	if acc < 0.88 {
		t.Errorf("test accuracy %.4f after 20 epochs, want at least 0.88", acc)
	}
	return acc
}

// TestFashionMNISTShort runs the workload of TestFashionMNIST for one
// epoch on the first 10,000 training images, in about a second, so that
// go test keeps it working without NN_LONG_TESTS. It requires a test
// accuracy of at least 0.75 (0.7835 measured with the gemm kernels, the
// portable ones and OpenBLAS).
// It runs when the data set is installed and the race detector is off.
func TestFashionMNISTShort(t *testing.T) {
	if raceEnabled {
		t.Skip("SKIPPED: Fashion-MNIST training is too slow under -race")
	}
	if testing.Short() {
		t.Skip("SKIPPED: Fashion-MNIST training in -short mode")
	}
	f := loadFashion(t)
	net := fashionNet(t, 1)
	x, y := f.xTrain.Slice(0, 10000, 0, 784), f.yTrain.Slice(0, 10000, 0, 10)
	report, err := nn.Train(context.Background(), net, x, y, &nn.Settings{Method: nn.Adam, LearningRate: 0.001, Epochs: 1, BatchSize: 128, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := net.Predict(f.xTest)
	if err != nil {
		t.Fatal(err)
	}
	acc := nn.Accuracy(f.testLabels, nn.ArgMax(nil, p))
	t.Logf("loss %.4f, test accuracy %.4f after one epoch on 10,000 images", report.History[0].Loss, acc)
	if acc < 0.75 {
		t.Errorf("test accuracy %.4f after one epoch on 10,000 images, want at least 0.75", acc)
	}
}

// BenchmarkFashionEpoch times one epoch of the time-to-accuracy workload
// (469 Adam steps of 128 images) when the data set is installed.
func BenchmarkFashionEpoch(b *testing.B) { benchFashionEpoch(b, nn.Float64) }

// BenchmarkFashionEpoch32 is BenchmarkFashionEpoch in float32
// (Settings.Precision).
func BenchmarkFashionEpoch32(b *testing.B) { benchFashionEpoch(b, nn.Float32) }

func benchFashionEpoch(b *testing.B, p nn.Precision) {
	f := loadFashion(b)
	net := fashionNet(b, 1)
	s := &nn.Settings{Method: nn.Adam, LearningRate: 0.001, Epochs: 1, BatchSize: 128, Seed: 1, Precision: p}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nn.Train(context.Background(), net, f.xTrain, f.yTrain, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/epoch")
}

// TestFashionMNISTRows trains the time-to-accuracy network for one epoch
// on the 60,000 training images read a row at a time from their IDX files
// (IDXRows, TrainRows), with the test images as the validation rows, as a
// program would whose images do not fit in memory. It requires a
// validation accuracy of at least 0.8 (0.84 measured).
func TestFashionMNISTRows(t *testing.T) {
	if raceEnabled {
		t.Skip("SKIPPED: Fashion-MNIST training is too slow under -race")
	}
	if testing.Short() {
		t.Skip("SKIPPED: Fashion-MNIST training in -short mode")
	}
	dir := fashionDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	if _, err := os.Stat(path("train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("SKIPPED: Fashion-MNIST files not found in %s", dir)
	}
	train := &nn.IDXRows{Images: path("train-images-idx3-ubyte.gz"), Labels: path("train-labels-idx1-ubyte.gz"), Classes: 10}
	test := &nn.IDXRows{Images: path("t10k-images-idx3-ubyte.gz"), Labels: path("t10k-labels-idx1-ubyte.gz"), Classes: 10}
	defer train.Close()
	defer test.Close()
	net := fashionNet(t, 1)
	report, err := nn.TrainRows(context.Background(), net, train, test, 10000, &nn.Settings{Method: nn.Adam, LearningRate: 0.001, Epochs: 1, BatchSize: 128, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ep := report.History[0]
	t.Logf("loss %.4f, test accuracy %.4f after one epoch read from the IDX files (%v)", ep.Loss, ep.ValAccuracy, ep.Elapsed)
	if ep.ValAccuracy < 0.8 {
		t.Errorf("test accuracy %.4f after one epoch, want at least 0.8", ep.ValAccuracy)
	}
}
