package serve

import (
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// loadModel loads the model file path.
func loadModel(t testing.TB, path string) *nn.Model {
	t.Helper()
	m, err := nn.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// predictRows returns the outputs of m for the table rows, through
// Model.Predict.
func predictRows(t testing.TB, m *nn.Model, rows [][]float64) [][]float64 {
	t.Helper()
	x := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		x.SetRow(i, r)
	}
	p, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]float64, len(rows))
	for i := range out {
		out[i] = mat.Row(nil, i, p)
	}
	return out
}
