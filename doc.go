// Package nn trains and runs perceptrons and multilayer neural networks on
// top of gonum.
//
// It grows out of the tutorial "Basics of Neural Networks" (Ganesh KT, 2020):
// a Rosenblatt perceptron trained by the perceptron rule, and a sigmoid
// network trained by backpropagation and gradient descent on a squared-error
// cost. The tutorial's names survive in the code: the forward pass computes
// z2 = X·W1, a2 = σ(z2), z3 = a2·W2, ŷ = σ(z3), and backpropagation computes
// δ3, ∂J/∂W2, δ2 and ∂J/∂W1 with one gonum call each.
//
// # Overview
//
// A [Perceptron] learns a linear threshold unit with [TrainPerceptron].
//
// A [Network] is a stack of fully connected layers built by [New] from a
// [Config]: layer sizes, one [Activation] per layer, optional biases, a
// [Loss], a weight [Init] scheme and a seed. [Network.Predict] runs the
// forward pass, [Network.Cost] and [Network.Gradients] give the cost and its
// gradient by backpropagation, [Network.NumericalGradients] checks that
// gradient by central differences, and [Train] fits the weights with
// gradient descent and the other [Method]s.
//
// Weights are [mat.Dense] values laid out as in the tutorial: W(l) has one row
// per input and one column per output of layer l, so a batch X with one
// example per row goes forward as X·W1. All parameters of a network live in
// one contiguous slice ([Network.Params]); the weight matrices and bias
// vectors are views of it, which lets optimizers update everything in one
// loop.
//
// # Errors and panics
//
// As in gonum, a panic signals a programmer error: a wrong layer index, a
// destination of the wrong size, a nil argument where one is required. Every
// such panic is documented on the function that raises it. Anything that
// depends on data — matrices whose shapes do not fit the network, empty
// input, NaN or infinite values, files that cannot be parsed, training that
// diverges — is reported as an error that says what is wrong and where.
//
// # Concurrency
//
// A trained Network may be used for prediction ([Network.Predict],
// [Network.PredictTo] with one [Workspace] per goroutine, [Network.Cost]) by
// any number of goroutines at once, as long as none of them changes it.
// Training changes the network and must not run concurrently with anything
// else that uses it.
//
// # Reproducibility
//
// Randomness comes only from seeds given by the caller ([Config.Seed],
// [Settings.Seed], [PerceptronSettings.Seed]): the same seeds and data give
// bit-identical weights and training reports.
package nn
