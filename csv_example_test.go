package nn_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/neuralgo/nn"
)

func ExampleLoadCSV() {
	d, err := nn.LoadCSV("testdata/iris.csv", &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		log.Fatal(err)
	}
	n, p := d.X.Dims()
	_, k := d.Y.Dims()
	fmt.Printf("X %d×%d %v\n", n, p, d.Features)
	fmt.Printf("Y %d×%d one-hot over %q classes %q\n", n, k, d.Target, d.Classes)

	// Keep a fifth of each class for testing.
	train, test, err := d.Split(0.2, 1)
	if err != nil {
		log.Fatal(err)
	}
	nTrain, _ := train.X.Dims()
	nTest, _ := test.X.Dims()
	counts := make([]int, len(test.Classes))
	for _, c := range test.Labels() {
		counts[c]++
	}
	fmt.Printf("train %d, test %d with %v of each class\n", nTrain, nTest, counts)

	// Scale the features with statistics of the training set only.
	s := nn.FitScaler(nn.Standardize, train.X)
	s.Transform(train.X, train.X)
	s.Transform(test.X, test.X)
	fmt.Printf("%s scaling of petal_length: offset %.2f, scale %.2f\n", s.Kind, s.Offset[2], s.Scale[2])

	// Output:
	// X 150×4 [sepal_length sepal_width petal_length petal_width]
	// Y 150×3 one-hot over "species" classes ["setosa" "versicolor" "virginica"]
	// train 120, test 30 with [10 10 10] of each class
	// standard scaling of petal_length: offset 3.77, scale 1.77
}

func ExampleParseError() {
	_, err := nn.LoadCSV("testdata/bad.csv", &nn.CSVOptions{Target: "species", Classify: true})
	fmt.Println(err)

	var pe *nn.ParseError
	if errors.As(err, &pe) && errors.Is(err, nn.ErrNotNumber) {
		fmt.Printf("file %s, line %d, column %d\n", pe.File, pe.Line, pe.Column)
	}
	// Output:
	// testdata/bad.csv:4:3: not a number: "abc" (column "petal_length"); to read text as categories, set CSVOptions.DetectCategorical
	// file testdata/bad.csv, line 4, column 3
}

// A CSVReader streams rows, finding the features a model was trained on by
// name, in any order, among other columns.
func ExampleCSVReader() {
	f, err := os.Open("testdata/iris.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	r := nn.NewCSVReader(f, &nn.CSVOptions{Features: []string{"petal_width", "sepal_length"}, Target: "species"})
	x := make([]float64, 2)
	for range 3 {
		line, err := r.Read(x)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("line %d: %v %s\n", line, x, r.Target())
	}
	// Output:
	// line 2: [0.2 5.1] setosa
	// line 3: [0.2 4.9] setosa
	// line 4: [0.2 4.7] setosa
}
