// Command beambench makes the data of the Beam measurements and runs the
// training one; bench/beam/README.md says how the figures were measured.
//
//	beambench data -dir D -rows N
//	beambench train -dir D -shards 4 -epochs 30 -hidden 128
//	beambench score -dir D -model M -input GLOB
//
// data writes D/iris.json, a classifier of the iris rows, and D/iris.csv,
// N rows drawn from them with a little noise; D/mnist.json, a
// 784-256-128-10 classifier with Xavier weights, and D/mnist.csv, N rows of
// Fashion-MNIST's training images cycled, as pixel values 0 to 255.
//
// train writes the 60,000 Fashion-MNIST training images and labels into
// shards of CSV, trains a 784-hidden-10 network by L-BFGS on one machine
// (nn.Train) and on Prism (nnbeam.Train) until it reaches the same loss,
// and reports the times; then it measures the time of a pipeline on the
// iris rows, which is nearly all overhead.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
	nnbeam "github.com/neuralgo/nn/beam"
)

const fashion = "/usr/share/datasets/fashion-mnist"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: beambench data|train [flags]")
		os.Exit(2)
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	dir := fs.String("dir", "", "the `directory` of the data")
	rows := fs.Int("rows", 1_000_000, "rows of the scoring data")
	shards := fs.Int("shards", 4, "shards of the training data")
	epochs := fs.Int("epochs", 30, "epochs of L-BFGS")
	hidden := fs.Int("hidden", 128, "units of the hidden layer")
	model := fs.String("model", "", "the model `file` to score with")
	input := fs.String("input", "", "the `glob` of the rows to score")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to `file`")
	fs.Parse(os.Args[2:])
	if *dir == "" && cmd != "score" {
		fmt.Fprintln(os.Stderr, "beambench: -dir is required")
		os.Exit(2)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "beambench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	log.LogLevel = "warn"
	beam.Init()
	var err error
	switch cmd {
	case "data":
		err = data(*dir, *rows)
	case "train":
		err = train(*dir, *shards, *epochs, *hidden)
	case "score":
		err = score(*model, *input)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "beambench:", err)
		os.Exit(1)
	}
}

// data writes the models and rows of the scoring measurements.
func data(dir string, rows int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d, err := nn.LoadCSV("../testdata/iris.csv", &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		return err
	}
	c := &nn.Classifier{Hidden: []int{16}, Seed: 1}
	if err := c.Fit(context.Background(), d); err != nil {
		return err
	}
	if err := c.Model.Save(filepath.Join(dir, "iris.json")); err != nil {
		return err
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	n, _ := d.X.Dims()
	err = writeCSV(filepath.Join(dir, "iris.csv"), strings.Join(d.Features, ","), rows, func(b []byte, i int) []byte {
		r := rnd.IntN(n)
		for j := range 4 {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, d.X.At(r, j)+float64(rnd.IntN(5)-2)/10, 'f', 1, 64)
		}
		return b
	})
	if err != nil {
		return err
	}

	net, err := nn.New(nn.Config{Sizes: []int{784, 256, 128, 10}, Activations: []nn.Activation{nn.ReLU, nn.ReLU, nn.Softmax}, Loss: nn.CrossEntropy, Init: nn.Xavier, Seed: 1})
	if err != nil {
		return err
	}
	m := &nn.Model{Network: net, Features: pixelNames(), Classes: strings.Split("0,1,2,3,4,5,6,7,8,9", ",")}
	m.Scaler = &nn.Scaler{Kind: nn.MinMax, Offset: make([]float64, 784), Scale: make([]float64, 784)}
	for j := range m.Scaler.Scale {
		m.Scaler.Scale[j] = 255
	}
	if err := m.Save(filepath.Join(dir, "mnist.json")); err != nil {
		return err
	}
	images, err := nn.LoadIDXImages(filepath.Join(fashion, "train-images-idx3-ubyte.gz"))
	if err != nil {
		return err
	}
	k, _ := images.Dims()
	return writeCSV(filepath.Join(dir, "mnist.csv"), strings.Join(pixelNames(), ","), rows, func(b []byte, i int) []byte {
		return appendPixels(b, images.RawRowView(i%k))
	})
}

// pixelNames returns p0, …, p783.
func pixelNames() []string {
	names := make([]string, 784)
	for j := range names {
		names[j] = "p" + strconv.Itoa(j)
	}
	return names
}

// appendPixels appends the pixels of an image scaled to [0, 1] as the
// integers 0 to 255 of the file.
func appendPixels(b []byte, img []float64) []byte {
	for j, v := range img {
		if j > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v*255+0.5), 10)
	}
	return b
}

// writeCSV writes a header and rows lines made by row.
func writeCSV(path, header string, rows int, row func(b []byte, i int) []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(header + "\n")
	var b []byte
	for i := range rows {
		b = append(row(b[:0], i), '\n')
		w.Write(b)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// train measures training on Fashion-MNIST, on one machine and on Prism.
func train(dir string, shards, epochs, hidden int) error {
	images, err := nn.LoadIDXImages(filepath.Join(fashion, "train-images-idx3-ubyte.gz"))
	if err != nil {
		return err
	}
	labels, err := nn.LoadIDXLabels(filepath.Join(fashion, "train-labels-idx1-ubyte.gz"))
	if err != nil {
		return err
	}
	// Write the shards, label first; pixels as integers, scaled back by
	// the Scaler of the Data.
	shardDir := filepath.Join(dir, "fashion-shards")
	if err := os.MkdirAll(shardDir, 0o755); err != nil {
		return err
	}
	rows, _ := images.Dims()
	header := "label," + strings.Join(pixelNames(), ",")
	per := (rows + shards - 1) / shards
	for s := range shards {
		lo, hi := s*per, min((s+1)*per, rows)
		err := writeCSV(filepath.Join(shardDir, fmt.Sprintf("part-%d.csv", s)), header, hi-lo, func(b []byte, i int) []byte {
			b = strconv.AppendInt(b, int64(labels[lo+i]), 10)
			b = append(b, ',')
			return appendPixels(b, images.RawRowView(lo+i))
		})
		if err != nil {
			return err
		}
	}
	// The rows as the shards hold them, for nn.Train: integers / 255.
	x := mat.NewDense(rows, 784, nil)
	for i := range rows {
		for j, v := range images.RawRowView(i) {
			x.Set(i, j, float64(int64(v*255+0.5))/255)
		}
	}
	y := nn.OneHot(labels, 10)
	cfg := nn.Config{Sizes: []int{784, hidden, 10}, Activations: []nn.Activation{nn.ReLU, nn.Softmax}, Loss: nn.CrossEntropy, Init: nn.Xavier, Seed: 1}
	settings := nn.Settings{Method: nn.LBFGS, Epochs: epochs}

	single, err := nn.New(cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := nn.Train(context.Background(), single, x, y, &settings)
	if err != nil {
		return err
	}
	singleTime := time.Since(start)
	loss := rep.Loss()[len(rep.History)-1]
	fmt.Printf("one machine (nn.Train): %d epochs of L-BFGS, loss %.6f, %.1f s, %.2f s per epoch\n", len(rep.History), loss, singleTime.Seconds(), singleTime.Seconds()/float64(len(rep.History)))

	net, err := nn.New(cfg)
	if err != nil {
		return err
	}
	classes := strings.Split("0,1,2,3,4,5,6,7,8,9", ",")
	sc := &nn.Scaler{Kind: nn.MinMax, Offset: make([]float64, 784), Scale: make([]float64, 784)}
	for j := range sc.Scale {
		sc.Scale[j] = 255
	}
	data := &nnbeam.Data{Glob: filepath.Join(shardDir, "part-*.csv"), CSV: nn.CSVOptions{Target: "label", Classify: true, Classes: classes, Header: nn.HeaderYes}, Scaler: sc}
	target := settings
	target.TargetLoss = loss * (1 + 1e-9)
	var first time.Duration
	start = time.Now()
	brep, err := nnbeam.Train(context.Background(), net, data, &nnbeam.TrainOptions{Settings: target, Progress: func(e nn.Epoch) {
		if e.Epoch == 1 {
			first = time.Since(start)
		}
	}})
	if err != nil {
		return err
	}
	beamTime := time.Since(start)
	bl := brep.Loss()[len(brep.History)-1]
	var d, m float64
	for i, w := range net.Params() {
		d = max(d, abs(w-single.Params()[i]))
		m = max(m, abs(single.Params()[i]))
	}
	fmt.Printf("Prism (nnbeam.Train, %d shards): %d epochs to loss %.6f, %.1f s (%.1f s to the end of epoch 1, with the shards read), %.2f s per epoch after; weights differ from nn.Train's by %.3g (max abs), %.3g relative to the largest\n",
		shards, len(brep.History), bl, beamTime.Seconds(), first.Seconds(), (beamTime-first).Seconds()/float64(max(1, len(brep.History)-1)), d, d/m)

	// The overhead of a pipeline: gradient descent on the 150 iris rows
	// in 4 shards, where the arithmetic takes microseconds.
	d2, err := nn.LoadCSV("../testdata/iris.csv", &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		return err
	}
	irisDir := filepath.Join(dir, "iris-shards")
	if err := os.MkdirAll(irisDir, 0o755); err != nil {
		return err
	}
	for s := range 4 {
		err := writeCSV(filepath.Join(irisDir, fmt.Sprintf("part-%d.csv", s)), strings.Join(append(d2.Features, "species"), ","), 150/4+1, func(b []byte, i int) []byte {
			r := min(s*38+i, 149)
			for j := range 4 {
				b = strconv.AppendFloat(b, d2.X.At(r, j), 'g', -1, 64)
				b = append(b, ',')
			}
			return append(b, d2.Classes[nn.ArgMax(nil, d2.Y.Slice(r, r+1, 0, 3))[0]]...)
		})
		if err != nil {
			return err
		}
	}
	inet, err := nn.New(nn.Config{Sizes: []int{4, 8, 3}, Activations: []nn.Activation{nn.Tanh, nn.Softmax}, Loss: nn.CrossEntropy, Seed: 1})
	if err != nil {
		return err
	}
	const iters = 50
	start = time.Now()
	if _, err := nnbeam.Train(context.Background(), inet, &nnbeam.Data{Glob: filepath.Join(irisDir, "part-*.csv"), CSV: nn.CSVOptions{Target: "species", Classify: true, Classes: d2.Classes}}, &nnbeam.TrainOptions{Settings: nn.Settings{Epochs: iters}}); err != nil {
		return err
	}
	it := time.Since(start)
	fmt.Printf("Prism, iris in 4 shards: %d epochs of gradient descent (%d pipelines) in %.2f s: %.1f ms per iteration\n", iters, iters+1, it.Seconds(), it.Seconds()*1000/float64(iters+1))
	return nil
}

// score scores the rows of input with model on Prism, writing nothing,
// and reports the rows per second of the pipeline alone.
func score(model, input string) error {
	p, s := beam.NewPipelineWithRoot()
	header, err := firstLine(input)
	if err != nil {
		return err
	}
	preds, dead := nnbeam.Score(s, model, nnbeam.ReadLines(s, input), &nnbeam.ScoreOptions{Header: strings.Split(header, ",")})
	_, _ = preds, dead
	start := time.Now()
	pr, err := beam.Run(context.Background(), "prism", p)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	var rows int64
	for _, c := range pr.Metrics().AllMetrics().Counters() {
		if c.Name() == "rows_scored" {
			rows += c.Result()
		}
	}
	fmt.Printf("Prism: %d rows scored in %.2f s: %.0f rows/s\n", rows, elapsed.Seconds(), float64(rows)/elapsed.Seconds())
	return nil
}

// firstLine returns the first line of the file path.
func firstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	return strings.TrimSpace(line), err
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
