package main

import (
	"strings"

	"github.com/neuralgo/nn"
)

// loadModel reads the model file path and returns the model with its
// schema, the names and defaults of its inputs and outputs that every
// command takes from the library. LoadModel refuses a file whose model
// does not fit together, so the schema's own error, named after the file,
// is for a model that nn.Model.Schema finds more to refuse in.
func loadModel(path string) (*nn.Model, *nn.Schema, error) {
	m, err := nn.LoadModel(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := m.Schema()
	if err != nil {
		return nil, nil, fileErrorf(path, "%s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	return m, s, nil
}
