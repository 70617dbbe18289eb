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
	"strings"
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

// Match returns the files that glob matches, on the local file system or
// any file system registered with Beam (gs://…, see IsLocal), in the
// order of their names, leaving out local directories, as ReadLines
// leaves them out. It returns an error naming glob if it is empty, if its
// file system cannot list it, or if it matches no file.
func Match(ctx context.Context, glob string) ([]string, error) {
	if glob == "" {
		return nil, errors.New("nnbeam: an empty glob matches no file")
	}
	fs, err := newFS(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: %s: %w", glob, err)
	}
	defer fs.Close()
	files, err := fs.List(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: %s: %w", glob, err)
	}
	if IsLocal(glob) {
		files = slices.DeleteFunc(files, func(f string) bool {
			st, err := os.Stat(f)
			return err == nil && st.IsDir()
		})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("nnbeam: no file matches %s", glob)
	}
	slices.Sort(files)
	return files, nil
}

// matchShards returns the shards of Data.Glob, as Match does.
func matchShards(ctx context.Context, glob string) ([]string, error) {
	if glob == "" {
		return nil, errors.New("nnbeam: Data.Glob is empty")
	}
	return Match(ctx, glob)
}

// newFS returns the Beam file system of path, with an error rather than a
// panic for a scheme that has none. Its errors do not name path, which
// the caller does.
func newFS(ctx context.Context, path string) (fs filesystem.Interface, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return filesystem.New(ctx, path)
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
	if IsLocal(dir) {
		return filepath.Join(dir, name)
	}
	if dir[len(dir)-1] == '/' {
		return dir + name
	}
	return dir + "/" + name
}

// IsLocal reports whether Beam's file systems take path for a path of the
// local file system: whether it has no scheme, the name of another file
// system before "://", as gs://bucket/file has. It is the rule by which
// Beam chooses a file system, so that a path is local for nnbeam if and
// only if it is for Beam.
func IsLocal(path string) bool {
	return strings.Index(path, "://") <= 0
}

// readSum reads the sum that a pipeline wrote to path, and removes the
// file.
func readSum(ctx context.Context, path string) (Sum, error) {
	fs, err := newFS(ctx, path)
	if err != nil {
		return Sum{}, fmt.Errorf("nnbeam: the pipeline's sum %s: %w", path, err)
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
		return fmt.Errorf("nnbeam: %s: %w", f.Path, err)
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
