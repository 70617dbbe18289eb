package nn_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// Train a classifier on the iris flowers, save it with its scaler and
// labels, load it back and score raw measurements with it.
func ExampleLoadModel() {
	d, err := nn.LoadCSV(filepath.Join("testdata", "iris.csv"), &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		log.Fatal(err)
	}
	scaler := nn.FitScaler(nn.Standardize, d.X)
	var x mat.Dense
	scaler.Transform(&x, d.X)
	net, err := nn.New(nn.Config{
		Sizes:       []int{4, 8, 3},
		Activations: []nn.Activation{nn.ReLU, nn.Softmax},
		Loss:        nn.CrossEntropy,
		Init:        nn.He,
		Seed:        1,
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := nn.Train(context.Background(), net, &x, d.Y, &nn.Settings{Method: nn.Adam, LearningRate: 0.01, Epochs: 100, Seed: 1}); err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "nn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "iris.json")
	m := &nn.Model{Network: net, Scaler: scaler, Features: d.Features, Target: d.Target, Classes: d.Classes}
	if err := m.Save(path); err != nil {
		log.Fatal(err)
	}

	loaded, err := nn.LoadModel(path)
	if err != nil {
		log.Fatal(err)
	}
	// The loaded model takes raw measurements: it scales them itself.
	before, err := m.Predict(d.X)
	if err != nil {
		log.Fatal(err)
	}
	after, err := loaded.Predict(d.X)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("identical predictions:", mat.Equal(before, after))
	flower := mat.NewDense(1, 4, []float64{6.3, 3.3, 6.0, 2.5})
	p, err := loaded.Predict(flower)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v = %v: %s\n", loaded.Features, flower.RawRowView(0), loaded.Classes[nn.ArgMax(nil, p)[0]])

	// The file starts with the network's description.
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for i := 0; i < 7 && lines.Scan(); i++ {
		fmt.Println(lines.Text())
	}
	// Output:
	// identical predictions: true
	// [sepal_length sepal_width petal_length petal_width] = [6.3 3.3 6 2.5]: virginica
	// {
	//   "format": "github.com/neuralgo/nn model",
	//   "version": 1,
	//   "sizes": [4,8,3],
	//   "activations": ["relu","softmax"],
	//   "bias": true,
	//   "loss": "cross-entropy",
}
