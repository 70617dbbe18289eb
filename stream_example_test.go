package nn_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/neuralgo/nn"
)

// A table too large for memory trains from its files: a first pass checks
// every row and learns the scaling and classes, then each epoch reads a
// cache of the parsed rows through a shuffle buffer.
func ExampleClassifier_FitStream() {
	c := &nn.Classifier{Seed: 1, Epochs: 50}
	s := &nn.Stream{
		Files:         []string{"testdata/iris.csv"}, // several files, .gz ones too, read as one table
		CSV:           &nn.CSVOptions{Target: "species", Classify: true},
		ShuffleBuffer: 64, // rows; the default is 65536
		Scanned: func(s nn.StreamScan) error {
			fmt.Println("first pass:", s.Train+s.Validation, "rows,", s.Inputs, "inputs,", s.Outputs, "outputs")
			return nil
		},
	}
	if err := c.FitStream(context.Background(), s); err != nil {
		log.Fatal(err)
	}
	d, err := nn.LoadCSV("testdata/iris.csv", s.CSV)
	if err != nil {
		log.Fatal(err)
	}
	acc, err := c.Score(d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("classes:", c.Model.Classes)
	fmt.Println("accuracy above 0.9:", acc > 0.9)
	// Output:
	// first pass: 150 rows, 4 inputs, 3 outputs
	// classes: [setosa versicolor virginica]
	// accuracy above 0.9: true
}

// A program that brings its rows in batches trains one pass per batch. The
// batches are read with every class listed, so that the first, which fixes
// the model (its scaler, its classes, its held-out rows), holds them all.
func ExampleClassifier_PartialFit() {
	opts := &nn.CSVOptions{Target: "species", Classify: true, Classes: []string{"setosa", "versicolor", "virginica"}}
	d, err := nn.LoadCSV("testdata/iris.csv", opts)
	if err != nil {
		log.Fatal(err)
	}
	// Iris is sorted by class: shuffle it by a split, then bring the 120
	// training rows in batches of 40.
	train, test, err := d.Split(0.2, 1)
	if err != nil {
		log.Fatal(err)
	}
	c := &nn.Classifier{Seed: 1, BatchSize: 8}
	ctx := context.Background()
train:
	for range 30 {
		for lo := 0; lo < 120; lo += 40 {
			idx := make([]int, 40)
			for i := range idx {
				idx[i] = lo + i
			}
			err := c.PartialFit(ctx, train.Subset(idx))
			switch {
			case errors.Is(err, nn.ErrStopped): // early stopping: the best call's weights are kept
				break train
			case err != nil:
				log.Fatal(err)
			}
		}
	}
	acc, err := c.Score(test)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("classes:", c.Model.Classes)
	fmt.Println("accuracy above 0.9:", acc > 0.9)
	// Output:
	// classes: [setosa versicolor virginica]
	// accuracy above 0.9: true
}
