package nn_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/neuralgo/nn"
)

// The iris workflow: load a CSV file, split it, fit a classifier (scaling,
// early stopping and the class labels included), print its report on the
// test rows, save it, load it back and predict rows streamed in (os.Stdin
// in a program).
func ExampleClassifier() {
	check := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	d, err := nn.LoadCSV("testdata/iris.csv", &nn.CSVOptions{Target: "species", Classify: true})
	check(err)
	train, test, err := d.Split(0.2, 1)
	check(err)
	c := &nn.Classifier{Seed: 1}
	check(c.Fit(context.Background(), train))
	report, err := c.Evaluate(test)
	check(err)
	fmt.Print(report)
	path := filepath.Join(os.TempDir(), "iris-example.json")
	check(c.Model.Save(path))
	m, err := nn.LoadModel(path)
	check(err)
	stdin := strings.NewReader("petal_width,petal_length,sepal_width,sepal_length\n0.2,1.4,3.5,5.1\n2.3,5.2,3.0,6.7\n")
	_, _, err = m.PredictCSV(os.Stdout, stdin, nil)
	check(err)
	// Output:
	//                 precision  recall      F1  support
	//         setosa     1.0000  1.0000  1.0000       10
	//     versicolor     1.0000  0.9000  0.9474       10
	//      virginica     0.9091  1.0000  0.9524       10
	//
	//       accuracy                     0.9667       30
	//       log loss                     0.0783
	//      macro avg     0.9697  0.9667  0.9666       30
	//   weighted avg     0.9697  0.9667  0.9666       30
	//
	// confusion matrix (29 of 30 right; rows: true class, columns: predicted)
	//               setosa  versicolor  virginica
	//       setosa      10           0          0
	//   versicolor       0           9          1
	//    virginica       0           0         10
	// setosa
	// virginica
}
