//go:build race

package nn_test

// raceEnabled is true when the tests run under the race detector, which
// slows numerical code too much for the long Fashion-MNIST run.
const raceEnabled = true
