package onnx_test

import (
	"bytes"
	"fmt"
	"log"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/onnx"
)

// A model written as ONNX and read back predicts bit for bit as before.
func Example() {
	net, err := nn.New(nn.Config{
		Sizes:       []int{2, 3, 2},
		Activations: []nn.Activation{nn.GELU, nn.Softmax},
		Loss:        nn.CrossEntropy,
		Seed:        1,
	})
	if err != nil {
		log.Fatal(err)
	}
	m := &nn.Model{
		Network:  net,
		Scaler:   &nn.Scaler{Kind: nn.Standardize, Offset: []float64{10, 20}, Scale: []float64{2, 4}},
		Features: []string{"height", "weight"},
		Target:   "kind",
		Classes:  []string{"cat", "dog"},
	}

	var file bytes.Buffer
	if err := onnx.Write(&file, m, nil); err != nil {
		log.Fatal(err)
	}
	back, err := onnx.Read(&file)
	if err != nil {
		log.Fatal(err)
	}

	x := mat.NewDense(2, 2, []float64{9, 18, 12, 25})
	p, _ := m.Predict(x)
	q, _ := back.Predict(x)
	fmt.Println("features:", back.Features, "classes:", back.Classes)
	fmt.Println("activations:", back.Network.Config().Activations)
	fmt.Println("same predictions:", mat.Equal(p, q))
	fmt.Printf("%.4f\n", mat.Formatted(q))
	// Output:
	// features: [height weight] classes: [cat dog]
	// activations: [gelu softmax]
	// same predictions: true
	// ⎡0.4206  0.5794⎤
	// ⎣1.0000  0.0000⎦
}
