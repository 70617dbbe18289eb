package nnbeam_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/textio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/neuralgo/nn"
	nnbeam "github.com/neuralgo/nn/beam"
)

func init() {
	// Every function of a pipeline is registered, for runners other
	// than the direct one.
	register.Function1x1(labelLine)
}

// labelLine formats a prediction as "file:line,label".
func labelLine(p nnbeam.Prediction) string { return p.Key + "," + p.Label }

// Score the rows of CSV files with a model file: the predictions and the
// rows that could not be scored are PCollections, written here with
// textio. (beam.Init has run, as a program's main must call it; the tests
// run on Prism.)
func ExampleScore() {
	dir, _ := os.MkdirTemp("", "nnbeam-example")
	defer os.RemoveAll(dir)
	d, _ := nn.LoadCSV("../testdata/iris.csv", &nn.CSVOptions{Target: "species", Classify: true})
	c := &nn.Classifier{Seed: 1}
	if err := c.Fit(context.Background(), d); err != nil {
		fmt.Println(err)
		return
	}
	model := filepath.Join(dir, "iris.json")
	c.Model.Save(model)

	p, s := beam.NewPipelineWithRoot()
	lines := nnbeam.ReadLines(s, "../testdata/iris.csv")
	header := []string{"sepal_length", "sepal_width", "petal_length", "petal_width", "species"}
	predictions, deadLetters := nnbeam.Score(s, model, lines, &nnbeam.ScoreOptions{Header: header})
	textio.Write(s, filepath.Join(dir, "predictions.csv"), beam.ParDo(s, labelLine, predictions))
	_ = deadLetters // none here; write them as the predictions to keep them
	if _, err := beam.Run(context.Background(), "prism", p); err != nil {
		fmt.Println(err)
		return
	}
	out, _ := os.ReadFile(filepath.Join(dir, "predictions.csv"))
	fmt.Println(strings.Count(string(out), "\n"), "predictions")
	fmt.Println(strings.Contains(string(out), "../testdata/iris.csv:2,setosa\n"))
	// Output:
	// 150 predictions
	// true
}

// Train a network on shards of CSV files, the driver keeping the weights:
// full-batch gradient descent reaches the weights of nn.Train on all the
// rows at once.
func ExampleTrain() {
	dir, _ := os.MkdirTemp("", "nnbeam-example")
	defer os.RemoveAll(dir)
	b, _ := os.ReadFile("../testdata/iris.csv")
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	header, rows := lines[0], lines[1:]
	for i := range 3 {
		shard := header + "\n" + strings.Join(rows[50*i:50*i+50], "\n") + "\n"
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%d.csv", i)), []byte(shard), 0o644)
	}

	opts := nn.CSVOptions{Target: "species", Classify: true, Classes: []string{"setosa", "versicolor", "virginica"}}
	data := &nnbeam.Data{Glob: filepath.Join(dir, "part-*.csv"), CSV: opts}
	settings := &nnbeam.TrainOptions{Settings: nn.Settings{Method: nn.GradientDescent, LearningRate: 0.1, Epochs: 20}}
	if data.Scaler, _ = nnbeam.FitScaler(context.Background(), data, settings); data.Scaler == nil {
		return
	}
	cfg := nn.Config{Sizes: []int{4, 8, 3}, Activations: []nn.Activation{nn.Tanh, nn.Softmax}, Loss: nn.CrossEntropy, Init: nn.Xavier, Seed: 1}
	net, _ := nn.New(cfg)
	report, err := nnbeam.Train(context.Background(), net, data, settings)
	if err != nil {
		fmt.Println(err)
		return
	}

	// The same on one machine.
	d, _ := nn.LoadCSV("../testdata/iris.csv", &opts)
	data.Scaler.Transform(d.X, d.X)
	single, _ := nn.New(cfg)
	nn.Train(context.Background(), single, d.X, d.Y, &settings.Settings)
	var diff float64
	for i, w := range net.Params() {
		diff = max(diff, abs(w-single.Params()[i]))
	}
	fmt.Println(len(report.History), "epochs; same weights as nn.Train to 1e-12:", diff < 1e-12)
	// Output:
	// 20 epochs; same weights as nn.Train to 1e-12: true
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
