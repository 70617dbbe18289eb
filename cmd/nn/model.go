package main

import (
	"strconv"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// modelClasses returns the class labels of m, read from the file path,
// numbering the classes "0", "1", … for a classification model saved
// without labels, or nil for a regression model. A model needs one label
// per output, or two for a single output (the classes 0 and 1 of
// nn.Network.ClassesTo); modelClasses returns an error for any other
// number, so that a class index is always a valid label index.
func modelClasses(m *nn.Model, path string) ([]string, error) {
	cfg := m.Network.Config()
	out := cfg.Sizes[len(cfg.Sizes)-1]
	k := out
	if out == 1 {
		k = 2 // a single output: classes 0 and 1
	}
	if m.Classes == nil {
		if cfg.Loss == nn.SquaredError {
			return nil, nil
		}
		c := make([]string, k)
		for i := range c {
			c[i] = strconv.Itoa(i)
		}
		return c, nil
	}
	if len(m.Classes) != k {
		if out == 1 {
			return nil, fileErrorf(path, "the model has %d class labels for its single output, which needs 2 (for class 0 and class 1)", len(m.Classes))
		}
		return nil, fileErrorf(path, "the model has %d class labels for its %d outputs; want one per output", len(m.Classes), out)
	}
	return m.Classes, nil
}

// outputActivation returns the activation of the output layer of net.
func outputActivation(net *nn.Network) nn.Activation {
	acts := net.Config().Activations
	return acts[len(acts)-1]
}

// hasProbabilities reports whether the outputs of the classifier net are
// read as class probabilities by probabilities: one output per class, or
// a single output that is a probability (sigmoid).
func hasProbabilities(net *nn.Network) bool {
	sizes := net.Sizes()
	if sizes[len(sizes)-1] > 1 {
		return true
	}
	a := outputActivation(net)
	return a == nn.Sigmoid || a == nn.Softmax
}

// modelFeatures returns the feature names of m, read from the file path,
// naming them "col0", "col1", … as nn.ReadCSV does when m does not know
// them. It returns an error if m names a feature twice, since the columns
// of a file could not then be told apart.
func modelFeatures(m *nn.Model, path string) ([]string, error) {
	if m.Features != nil {
		seen := make(map[string]bool, len(m.Features))
		for _, f := range m.Features {
			if seen[f] {
				return nil, fileErrorf(path, "the model names the feature %s twice, so its columns cannot be told apart; train it again on a file whose columns have distinct names", excerpt.Quote(f))
			}
			seen[f] = true
		}
		return m.Features, nil
	}
	f := make([]string, m.Columns())
	for j := range f {
		f[j] = "col" + strconv.Itoa(j)
	}
	return f, nil
}

// probabilities stores in dst the class probabilities of the network
// outputs out: out itself, or (1−p, p) for a single sigmoid output p (see
// hasProbabilities).
func probabilities(dst, out []float64) []float64 {
	if len(out) == 1 {
		return append(dst[:0], 1-out[0], out[0])
	}
	return append(dst[:0], out...)
}
