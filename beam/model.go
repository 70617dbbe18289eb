package nnbeam

// Model files on Beam's file systems: reading one, and the cache of the
// models a worker has read for Score.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/neuralgo/nn"
)

// ReadModel reads the model file path, written by nn.Model.Save, from the
// local file system or any file system registered with Beam (gs://…, see
// IsLocal), as nn.LoadModel reads a local one. Its errors name the file,
// "nnbeam: model PATH: what is wrong", and wrap those of nn.DecodeModel
// (an input larger than the memory budget allows wraps
// nn.ErrMemoryBudget) and of the file system.
func ReadModel(ctx context.Context, path string) (*nn.Model, error) {
	fsys, err := newFS(ctx, path)
	if err != nil {
		return nil, modelError(path, err)
	}
	defer fsys.Close()
	r, err := fsys.OpenRead(ctx, path)
	if err != nil {
		return nil, modelError(path, err)
	}
	defer r.Close()
	// DecodeModel reads at most what the memory budget allows.
	m, err := nn.DecodeModel(r)
	if err != nil {
		return nil, modelError(path, err)
	}
	return m, nil
}

// modelError returns err, an error in reading or checking the model file
// path, as "nnbeam: model PATH: what is wrong": without the path that an
// error of the local file system repeats, or the prefix of package nn.
func modelError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err
	}
	return fmt.Errorf("nnbeam: model %s: %w", path, unprefixed{err})
}

// unprefixed is an error of package nn quoted in an error of nnbeam,
// whose message leaves out its prefix "nn: ", and which it wraps.
type unprefixed struct{ err error }

func (e unprefixed) Error() string { return strings.TrimPrefix(e.err.Error(), "nn: ") }
func (e unprefixed) Unwrap() error { return e.err }

// models caches the schemas of the model files a worker has read, by
// path, so that a worker reads a model once however many DoFn instances
// of a Score it runs. Another Score reads the file afresh, since it may
// have changed (the local runners' workers are the driver's process,
// which may score, train and save the model again, and score), and
// replaces the model of the path. A Schema does not change, and any
// number of goroutines may use it at once.
var models struct {
	sync.Mutex
	byPath map[string]cachedModel
}

// cachedModel is a model in the cache, with the Score that read it.
type cachedModel struct {
	schema *nn.Schema
	run    string
}

// scoreRuns counts the Scores of this process, to name them.
var scoreRuns atomic.Int64

// loadSchema returns the schema of the model file path, reading the file
// the first time a worker asks for it for the Score run. Its errors are
// those of ReadModel and nn.Model.Schema, naming the file.
func loadSchema(ctx context.Context, path, run string) (*nn.Schema, error) {
	models.Lock()
	defer models.Unlock()
	if c, ok := models.byPath[path]; ok && c.run == run {
		return c.schema, nil
	}
	m, err := ReadModel(ctx, path)
	if err != nil {
		return nil, err
	}
	s, err := m.Schema()
	if err != nil {
		return nil, modelError(path, err)
	}
	if models.byPath == nil {
		models.byPath = make(map[string]cachedModel)
	}
	models.byPath[path] = cachedModel{schema: s, run: run}
	return s, nil
}
