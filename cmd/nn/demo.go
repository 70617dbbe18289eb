package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// irisCSV is a copy of testdata/iris.csv (a test checks that they agree),
// embedded so that the demo runs from any directory, and from a binary
// installed with go install.
//
//go:embed iris.csv
var irisCSV []byte

const demoSynopsis = `Usage: nn demo

Demo reproduces the tutorial "Basics of Neural Networks" with the library:
the perceptron that learns a logic AND gate from three examples, the 2-3-1
network that learns test scores from hours of sleep and study by
backpropagation and gradient descent, and then a small network that
learns the species of iris flowers from their measurements. Everything is
seeded: the output is the same on every run.
`

func runDemo(e *env, args []string) error {
	fs := newFlagSet("demo")
	if err := parseFlags(e, fs, "demo", demoSynopsis, args); err != nil {
		return err
	}
	w := e.stdout
	for _, part := range []func(io.Writer) error{demoPerceptron, demoTestScores, demoIris} {
		if err := part(w); err != nil {
			return err
		}
	}
	return nil
}

func demoPerceptron(w io.Writer) error {
	fmt.Fprint(w, `== 1. The perceptron

Three examples with three inputs each, labelled 1 only when every input is 1;
step activation with threshold 2, learning rate 0.1, initial weights drawn
from seed 1, trained by the perceptron rule w ← w + η·(y−ŷ)·x.

`)
	x := mat.NewDense(3, 3, []float64{
		1, 1, 1,
		0, 0, 0,
		1, 0, 1,
	})
	y := []float64{1, 0, 0}
	p, history, err := nn.TrainPerceptron(x, y, &nn.PerceptronSettings{Epochs: 1000, LearningRate: 0.1, Threshold: 2, Seed: 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "accuracy per epoch: %.2f\n", history)
	fmt.Fprintf(w, "weights %.3f, bias %.3f\n\n", p.Weights, p.Bias)
	fmt.Fprintln(w, "| Input 0 | Input 1 | Input 2 | Threshold | Output |")
	for _, in := range [][]float64{{0, 0, 0}, {1, 0, 1}, {1, 1, 1}} {
		fmt.Fprintf(w, "| %v | %v | %v | %v | %v |\n", in[0], in[1], in[2], p.Threshold, p.Predict(in))
	}
	fmt.Fprintf(w, "\nIt fires for [1 1 1] only: a logic AND gate ([0 1 0] gives %v).\n\n", p.Predict([]float64{0, 1, 0}))
	return nil
}

func demoTestScores(w io.Writer) error {
	fmt.Fprint(w, `== 2. Test scores from hours of sleep and study

X = [[3,5],[5,1],[10,2]] divided by its column maxima, y = [75,82,93]/100.
A 2-3-1 network, sigmoid everywhere, no biases, weights from seed 1, trained
by backpropagation and gradient descent: learning rate 0.5, 5000 iterations.

`)
	hours := [][2]float64{{3, 5}, {5, 1}, {10, 2}}
	scores := []float64{75, 82, 93}
	x := mat.NewDense(3, 2, nil)
	y := mat.NewDense(3, 1, nil)
	for i, h := range hours {
		// X / np.amax(X, axis=0): the maxima are 10 hours of sleep and 5 of study.
		x.Set(i, 0, h[0]/10)
		x.Set(i, 1, h[1]/5)
		y.Set(i, 0, scores[i]/100)
	}
	net, err := nn.New(nn.Config{Sizes: []int{2, 3, 1}, NoBias: true, Seed: 1})
	if err != nil {
		return err
	}
	report, err := nn.Train(context.Background(), net, x, y, &nn.Settings{Method: nn.GradientDescent, LearningRate: 0.5, Epochs: 5000})
	if err != nil {
		return err
	}
	loss := report.Loss()
	table := [][]string{{"iteration", "cost"}}
	for _, it := range []int{1, 10, 100, 1000, 5000} {
		table = append(table, []string{strconv.Itoa(it), fmt.Sprintf("%.2e", loss[it-1])})
	}
	writeTable(w, table)

	yHat, err := net.Predict(x)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\n| Sleep | Study | y    | yHat  |")
	for i, h := range hours {
		fmt.Fprintf(w, "| %5v | %5v | %.2f | %.3f |\n", h[0], h[1], y.At(i, 0), yHat.At(i, 0))
	}
	g, err := net.Gradients(x, y)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nGradients of the cost after training, close to zero at a minimum:")
	fmt.Fprintf(w, "dJdW1 = %.1e\n", mat.Formatted(g.W[0], mat.Prefix("        ")))
	fmt.Fprintf(w, "dJdW2 = %.1e\n\n", mat.Formatted(g.W[1].T()))
	return nil
}

func demoIris(w io.Writer) error {
	fmt.Fprint(w, `== 3. Iris flowers

150 flowers, 4 measurements each, 3 species (testdata/iris.csv). 20% of the
rows are held out for testing (stratified, seed 1), the measurements
standardised with the training rows' mean and deviation, and a 4-8-3
network (relu, softmax output, cross-entropy) trained with Adam.

`)
	d, err := nn.ReadCSV(bytes.NewReader(irisCSV), &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		return inFile("embedded iris.csv", err)
	}
	train, test, err := d.Split(0.2, 1)
	if err != nil {
		return err
	}
	sc := nn.FitScaler(nn.Standardize, train.X)
	sc.Transform(train.X, train.X)
	sc.Transform(test.X, test.X)
	net, err := nn.New(nn.Config{
		Sizes:       []int{4, 8, 3},
		Activations: []nn.Activation{nn.ReLU, nn.Softmax},
		Loss:        nn.CrossEntropy,
		Init:        nn.He,
		Seed:        1,
	})
	if err != nil {
		return err
	}
	report, err := nn.Train(context.Background(), net, train.X, train.Y, &nn.Settings{
		Method:       nn.Adam,
		LearningRate: 0.01,
		Epochs:       100,
		BatchSize:    16,
		Seed:         1,
	})
	if err != nil {
		return err
	}
	loss := report.Loss()
	fmt.Fprintf(w, "training loss %.3f after epoch 1, %.3f after epoch %d\n", loss[0], loss[len(loss)-1], len(loss))
	p, err := net.Predict(test.X)
	if err != nil {
		return err
	}
	pred := net.ClassesTo(nil, p) // as Classify, nn predict and nn eval decide
	truth := test.Labels()
	conf := nn.NewConfusion(truth, pred, len(d.Classes))
	acc := nn.Accuracy(truth, pred)
	fmt.Fprintf(w, "test accuracy %.4f (%d of %d)\n\n", acc, int(math.Round(acc*float64(len(truth)))), len(truth))
	fmt.Fprintln(w, "confusion matrix (rows: true species, columns: predicted)")
	writeConfusion(w, d.Classes, func(i, j int) int { return int(conf.Counts.At(i, j)) })
	fmt.Fprint(w, `
Next, the command line, from the root of the repository (the README walks
through train, eval and predict; "go install ./cmd/nn" puts nn on your PATH):

	go run ./cmd/nn train -data testdata/iris.csv -target species -o iris.json
	go run ./cmd/nn predict -model iris.json -data testdata/iris.csv
	go run ./cmd/nn help
`)
	return nil
}

// writeConfusion writes a confusion matrix with the given class names and
// counts.
func writeConfusion(w io.Writer, classes []string, count func(i, j int) int) {
	table := [][]string{append([]string{""}, classes...)}
	for i, c := range classes {
		row := []string{c}
		for j := range classes {
			row = append(row, strconv.Itoa(count(i, j)))
		}
		table = append(table, row)
	}
	writeTable(w, table)
}
