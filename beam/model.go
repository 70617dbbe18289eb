package nnbeam

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/neuralgo/nn"
)

// models caches the model files a worker has loaded, by path, so that a
// worker reads a model once however many DoFn instances of a Score it
// runs. Another Score reads the file afresh, since it may have changed
// (the local runners' workers are the driver's process, which may score,
// train and save the model again, and score), and replaces the model of
// the path. Models are only read once loaded, which any number of
// goroutines may do at once.
var models struct {
	sync.Mutex
	byPath map[string]cachedModel
}

// cachedModel is a model in the cache, with the Score that read it.
type cachedModel struct {
	l   *loaded
	run string
}

// scoreRuns counts the Scores of this process, to name them.
var scoreRuns atomic.Int64

// loaded is a model file read and checked for scoring.
type loaded struct {
	m        *nn.Model
	schema   *nn.Schema
	features []string // the names of the columns: the model's, or col0, col1, …
	classes  []string // the class labels; nil for regression
}

// loadModel returns the model of the file path, on any file system
// registered with Beam, reading it the first time a worker asks for it
// for the Score run.
func loadModel(ctx context.Context, path, run string) (*loaded, error) {
	models.Lock()
	defer models.Unlock()
	if c, ok := models.byPath[path]; ok && c.run == run {
		return c.l, nil
	}
	l, err := readModel(ctx, path)
	if err != nil {
		return nil, err
	}
	if models.byPath == nil {
		models.byPath = make(map[string]cachedModel)
	}
	models.byPath[path] = cachedModel{l: l, run: run}
	return l, nil
}

// readModel reads the model file path and works out its features and
// classes as nn predict does.
func readModel(ctx context.Context, path string) (*loaded, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: model %s: %w", path, err)
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: model %s: %w", path, err)
	}
	defer r.Close()
	// DecodeModel reads at most what the memory budget allows.
	m, err := nn.DecodeModel(io.Reader(r))
	if err != nil {
		return nil, fmt.Errorf("nnbeam: model %s: %w", path, err)
	}
	return checkModel(m, path)
}

// checkModel returns m ready for scoring: its feature names, or col0,
// col1, … if it has none, and its class labels, or 0, 1, … for a
// classifier saved without them.
func checkModel(m *nn.Model, path string) (*loaded, error) {
	s, err := m.Schema()
	if err != nil {
		return nil, fmt.Errorf("nnbeam: model %s: %w", path, err)
	}
	l := &loaded{m: m, schema: s, features: m.Features}
	if l.features == nil {
		l.features = make([]string, m.Columns())
		for j := range l.features {
			l.features[j] = "col" + strconv.Itoa(j)
		}
	}
	cfg := m.Network.Config()
	out := cfg.Sizes[len(cfg.Sizes)-1]
	k := out
	if out == 1 {
		k = 2 // a single output: classes 0 and 1
	}
	switch {
	case m.Classes == nil && cfg.Loss != nn.SquaredError:
		l.classes = make([]string, k)
		for i := range l.classes {
			l.classes[i] = strconv.Itoa(i)
		}
	case m.Classes != nil && len(m.Classes) != k:
		return nil, fmt.Errorf("nnbeam: model %s has %d class labels for its %d outputs", path, len(m.Classes), out)
	default:
		l.classes = m.Classes
	}
	return l, nil
}
