package nnbeam

// The plumbing between the driver and the workers of the training
// pipelines: matching the shards, running a pipeline that sums what a DoFn
// emits for each shard, and passing the sum and the weights between them.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn2x1[context.Context, Sum, error](&writeSumFn{})
	register.Emitter1[Sum]()
}

// matchShards returns the files that glob matches, sorted.
func matchShards(ctx context.Context, glob string) ([]string, error) {
	if glob == "" {
		return nil, errors.New("nnbeam: Data.Glob is empty")
	}
	fs, err := newFS(ctx, glob)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	files, err := fs.List(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: %s: %w", glob, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("nnbeam: no file matches %s", glob)
	}
	slices.Sort(files)
	return files, nil
}

// newFS returns the Beam file system of path, with an error rather than a
// panic for a scheme that has none.
func newFS(ctx context.Context, path string) (fs filesystem.Interface, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("nnbeam: %s: %v", path, r)
		}
	}()
	fs, err = filesystem.New(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: %s: %w", path, err)
	}
	return fs, nil
}

// runSum runs a pipeline on runner ("" for prism) that applies fn to
// every shard and combines what it emits, writing the sum to a file of
// the directory work, and returns the sum.
func runSum(ctx context.Context, runner, work string, shards []string, fn any) (Sum, error) {
	runs := sumFiles.Add(1)
	out := joinPath(work, fmt.Sprintf("nnbeam-sum-%d-%d-%d.bin", os.Getpid(), time.Now().UnixNano(), runs))
	p, s := beam.NewPipelineWithRoot()
	col := beam.CreateList(s, shards)
	sums := beam.ParDo(s, fn, col)
	total := beam.Combine(s, &sumFn{}, sums)
	beam.ParDo0(s, &writeSumFn{Path: out}, total)
	if runner == "" {
		runner = "prism"
	}
	if _, err := beam.Run(ctx, runner, p); err != nil {
		return Sum{}, err
	}
	return readSum(ctx, out)
}

// sumFiles counts the files of sums written by this process, to name
// them.
var sumFiles atomic.Int64

// joinPath joins a directory, local or a URL such as gs://b/tmp, and a
// file name.
func joinPath(dir, name string) string {
	if filepath.IsAbs(dir) || !containsScheme(dir) {
		return filepath.Join(dir, name)
	}
	if dir[len(dir)-1] == '/' {
		return dir + name
	}
	return dir + "/" + name
}

// containsScheme reports whether path starts with a URL scheme.
func containsScheme(path string) bool {
	for i, c := range path {
		switch {
		case c == ':':
			return i > 0 && len(path) > i+2 && path[i+1] == '/' && path[i+2] == '/'
		case c == '/':
			return false
		}
	}
	return false
}

// readSum reads the sum that a pipeline wrote to path, and removes the
// file.
func readSum(ctx context.Context, path string) (Sum, error) {
	fs, err := newFS(ctx, path)
	if err != nil {
		return Sum{}, err
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, path)
	if err != nil {
		return Sum{}, fmt.Errorf("nnbeam: the pipeline's sum: %w", err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return Sum{}, fmt.Errorf("nnbeam: the pipeline's sum %s: %w", path, err)
	}
	if rm, ok := fs.(filesystem.Remover); ok {
		rm.Remove(ctx, path)
	}
	return decodeSum(b)
}

// floatBytes returns v as 64-bit little-endian words.
func floatBytes(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// bytesFloats returns the float64 values of the words of b into dst.
func bytesFloats(dst []float64, b []byte) error {
	if len(b) != 8*len(dst) {
		return fmt.Errorf("nnbeam: %d bytes of weights for %d parameters", len(b), len(dst))
	}
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return nil
}

// writeSumFn writes the combined sum for the driver.
type writeSumFn struct {
	Path string
}

// ProcessElement writes s to the file of f.Path.
func (f *writeSumFn) ProcessElement(ctx context.Context, s Sum) error {
	b, err := encodeSum(s)
	if err != nil {
		return err
	}
	fs, err := newFS(ctx, f.Path)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, f.Path)
	if err != nil {
		return fmt.Errorf("nnbeam: %s: %w", f.Path, err)
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return fmt.Errorf("nnbeam: %s: %w", f.Path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("nnbeam: %s: %w", f.Path, err)
	}
	return nil
}
