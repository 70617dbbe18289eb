package nn_test

import (
	"context"
	"fmt"
	"log"

	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// The tutorial's perceptron: trained on three examples with a threshold of
// 2, it behaves as a logic AND gate.
func ExampleTrainPerceptron() {
	x := mat.NewDense(3, 3, []float64{
		1, 1, 1,
		0, 0, 0,
		1, 0, 1,
	})
	y := []float64{1, 0, 0}
	p, history, err := nn.TrainPerceptron(x, y, &nn.PerceptronSettings{
		Epochs:       1000,
		LearningRate: 0.1,
		Threshold:    2,
		Seed:         1,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("accuracy per epoch: %.2f\n", history)
	fmt.Println("predict [0 1 0]:", p.Predict([]float64{0, 1, 0}))
	fmt.Println("predict [1 1 1]:", p.Predict([]float64{1, 1, 1}))
	fmt.Println("| Input 0 | Input 1 | Input 2 | Threshold | Output |")
	for _, in := range [][]float64{{0, 0, 0}, {1, 0, 1}, {1, 1, 1}} {
		fmt.Printf("| %v | %v | %v | %v | %v |\n", in[0], in[1], in[2], p.Threshold, p.Predict(in))
	}
	// Output:
	// accuracy per epoch: [0.67 0.67 0.67 1.00]
	// predict [0 1 0]: 0
	// predict [1 1 1]: 1
	// | Input 0 | Input 1 | Input 2 | Threshold | Output |
	// | 0 | 0 | 0 | 2 | 0 |
	// | 1 | 0 | 1 | 2 | 0 |
	// | 1 | 1 | 1 | 2 | 1 |
}

// The tutorial's network: test scores from hours of sleep and study,
// learned by a 2-3-1 sigmoid network without biases trained by gradient
// descent.
func ExampleTrain() {
	// X = [[3,5],[5,1],[10,2]] divided by its column maxima, y = scores/100.
	x := mat.NewDense(3, 2, []float64{
		3.0 / 10, 5.0 / 5,
		5.0 / 10, 1.0 / 5,
		10.0 / 10, 2.0 / 5,
	})
	y := mat.NewDense(3, 1, []float64{0.75, 0.82, 0.93})

	net, err := nn.New(nn.Config{Sizes: []int{2, 3, 1}, NoBias: true, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	report, err := nn.Train(context.Background(), net, x, y, &nn.Settings{
		Method:       nn.GradientDescent,
		LearningRate: 0.5,
		Epochs:       5000,
	})
	if err != nil {
		log.Fatal(err)
	}
	loss := report.Loss()
	fmt.Printf("cost after 1, 10, 100, 1000 and %d iterations: %.2e %.2e %.2e %.2e %.2e\n",
		len(loss), loss[0], loss[9], loss[99], loss[999], loss[len(loss)-1])
	yHat, err := net.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("yHat = %.3f\n", mat.Formatted(yHat.T()))
	g, err := net.Gradients(x, y)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("dJdW1 = %.1e\n", mat.Formatted(g.W[0], mat.Prefix("        ")))
	fmt.Printf("dJdW2 = %.1e\n", mat.Formatted(g.W[1].T()))
	// Output:
	// cost after 1, 10, 100, 1000 and 5000 iterations: 1.37e-02 8.97e-03 2.61e-03 8.08e-04 5.75e-05
	// yHat = [0.750  0.830  0.914]
	// dJdW1 = ⎡ 7.5e-05   2.0e-04  -8.5e-05⎤
	//         ⎣ 3.9e-05   5.5e-05  -2.5e-05⎦
	// dJdW2 = [-5.0e-05   2.2e-04  -8.3e-06]
}

// A Trainer takes steps on batches that arrive one at a time, as in a data
// pipeline; once its buffers are warm a step allocates nothing.
func ExampleTrainer() {
	// y = x₀ XOR x₁, learned from a stream of 4-row batches.
	x := mat.NewDense(4, 2, []float64{0, 0, 0, 1, 1, 0, 1, 1})
	y := mat.NewDense(4, 1, []float64{0, 1, 1, 0})
	net, err := nn.New(nn.Config{
		Sizes:       []int{2, 4, 1},
		Activations: []nn.Activation{nn.Tanh, nn.Sigmoid},
		Loss:        nn.BinaryCrossEntropy,
		Init:        nn.Xavier,
		Seed:        7,
	})
	if err != nil {
		log.Fatal(err)
	}
	tr, err := nn.NewTrainer(net, &nn.Settings{Method: nn.Adam, LearningRate: 0.05})
	if err != nil {
		log.Fatal(err)
	}
	for step := 1; step <= 1000; step++ {
		loss, err := tr.Step(x, y) // in a pipeline: the next batch
		if err != nil {
			log.Fatal(err)
		}
		if step == 1 || step == 1000 {
			fmt.Printf("step %4d: loss %.4f\n", step, loss)
		}
	}
	classes, err := net.Classify(x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("XOR:", classes)
	// Output:
	// step    1: loss 0.7160
	// step 1000: loss 0.0007
	// XOR: [0 1 1 0]
}

// PredictTo scores a stream of batches into buffers the caller keeps, so
// that scoring allocates nothing once the Workspace has grown.
func ExampleNetwork_PredictTo() {
	net, err := nn.New(nn.Config{Sizes: []int{3, 5, 2}, Activations: []nn.Activation{nn.ReLU, nn.Softmax}, Loss: nn.CrossEntropy, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	var ws nn.Workspace // one per goroutine
	batch := mat.NewDense(2, 3, nil)
	out := mat.NewDense(2, 2, nil)
	for _, rows := range [][]float64{{1, 2, 3, 4, 5, 6}, {0, 0, 0, -1, -1, -1}} {
		batch.Copy(mat.NewDense(2, 3, rows))
		if err := net.PredictTo(out, batch, &ws); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%.3f\n", mat.Formatted(out, mat.Squeeze()))
	}
	// Output:
	// ⎡0.145  0.855⎤
	// ⎣0.129  0.871⎦
	// ⎡0.500  0.500⎤
	// ⎣0.006  0.994⎦
}
