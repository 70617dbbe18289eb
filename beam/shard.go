package nnbeam

// The workers' side of training: the DoFns that evaluate the network on a
// shard (its cost and gradient, or an epoch of parameter mixing), and the
// shards they read, parsed and cached.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

func init() {
	register.DoFn3x1[context.Context, string, func(Sum), error](&gradientFn{})
	register.DoFn3x1[context.Context, string, func(Sum), error](&mixFn{})
}

// shardFn is what the DoFns of the training pipelines share: the network
// they evaluate, and how to read a shard.
type shardFn struct {
	Config    nn.Config
	Params    []byte // the weights, as floatBytes writes them
	Data      Data
	BlockRows int
	// Run names the Train, whose shards alone the worker's cache
	// gives back: another Train reads the files afresh, as they may
	// have changed.
	Run string

	net  *nn.Network
	read string // Data.readKey()
}

// Setup builds the network.
func (f *shardFn) Setup() error {
	net, err := nn.New(f.Config)
	if err != nil {
		return fmt.Errorf("nnbeam: %w", err)
	}
	if err := bytesFloats(net.Params(), f.Params); err != nil {
		return err
	}
	f.net = net
	if f.read, err = f.Data.readKey(); err != nil {
		return err
	}
	if f.BlockRows <= 0 {
		f.BlockRows = defaultTrainBlockRows
	}
	return nil
}

// gradientFn sums the cost and its gradient over the rows of a shard, in
// blocks.
type gradientFn struct {
	shardFn
	ws   nn.GradientWorkspace
	grad []float64
}

// ProcessElement emits the sum of the cost and gradient over the rows of
// the shard path, element 0 the cost and the others the gradient, or an
// empty sum for a shard without rows.
func (f *gradientFn) ProcessElement(ctx context.Context, path string, emit func(Sum)) error {
	sh, err := loadShard(ctx, f.Run, f.read, path, &f.Data)
	if err != nil {
		return err
	}
	if sh.rows() == 0 {
		emit(Sum{}) // so that the combined sum exists, with no rows
		return nil
	}
	n := len(f.net.Params())
	if f.grad == nil {
		f.grad = make([]float64, n)
	}
	sum := newSum(1 + n)
	rows := sh.rows()
	for lo := 0; lo < rows; lo += f.BlockRows {
		hi := min(lo+f.BlockRows, rows)
		x := sh.x.Slice(lo, hi, 0, sh.x.RawMatrix().Cols).(*mat.Dense)
		y := sh.y.Slice(lo, hi, 0, sh.y.RawMatrix().Cols).(*mat.Dense)
		cost, err := f.net.CostGradient(f.grad, x, y, &f.ws)
		if err != nil {
			return fmt.Errorf("nnbeam: %s, rows %d to %d: %w", path, lo+1, hi, err)
		}
		sum.Add(0, cost)
		sum.AddVec(1, f.grad)
	}
	sum.Rows = int64(rows)
	emit(sum)
	return nil
}

// mixFn trains a copy of the network for an epoch on a shard.
type mixFn struct {
	shardFn
	Settings mixSettingsJSON
	Epoch    int
}

// ProcessElement emits the rows of the shard path, its loss and its
// weights after an epoch, both times the rows, or an empty sum for a
// shard without rows.
func (f *mixFn) ProcessElement(ctx context.Context, path string, emit func(Sum)) error {
	sh, err := loadShard(ctx, f.Run, f.read, path, &f.Data)
	if err != nil {
		return err
	}
	if sh.rows() == 0 {
		emit(Sum{}) // so that the combined sum exists, with no rows
		return nil
	}
	net := f.net.Clone()
	s := f.Settings
	// Shuffle each shard and epoch differently, and the same way in every
	// run.
	h := fnv.New64a()
	fmt.Fprintf(h, "%s %d", path, f.Epoch)
	settings := &nn.Settings{Method: s.Method, LearningRate: s.LearningRate, Epochs: 1, BatchSize: s.BatchSize, Momentum: s.Momentum,
		Beta1: s.Beta1, Beta2: s.Beta2, Epsilon: s.Epsilon, L2: s.L2, WeightDecay: s.WeightDecay, Seed: s.Seed ^ h.Sum64()}
	rep, err := nn.Train(ctx, net, sh.x, sh.y, settings)
	if err != nil {
		return fmt.Errorf("nnbeam: %s: %w", path, err)
	}
	rows := float64(sh.rows())
	sum := newSum(1 + len(net.Params()))
	sum.Add(0, rep.History[len(rep.History)-1].Loss*rows)
	for i, w := range net.Params() {
		sum.Add(1+i, w*rows)
	}
	sum.Rows = int64(sh.rows())
	emit(sum)
	return nil
}

// shard is the rows of a shard, parsed and scaled.
type shard struct {
	x, y *mat.Dense // nil for a shard without rows
}

func (s *shard) rows() int {
	if s.x == nil {
		return 0
	}
	r, _ := s.x.Dims()
	return r
}

// shards caches the shards a worker has parsed, as Spark's cache() keeps
// a data set in memory between the iterations of a job: on the local
// runners, whose workers live as long as the driver, every iteration after
// the first reads no file. A Train finds only the shards it cached itself,
// since the files may have changed since another read them, and drops
// them when it ends, on the local runners, whose workers are the driver's
// process; a Train that finds the cache full drops those of other Trains.
// The cache holds at most a quarter of the memory budget.
var shards struct {
	sync.Mutex
	byKey map[string]cachedShard
	bytes int64
}

// cachedShard is a shard in the cache, with the Train that read it and
// its size in bytes.
type cachedShard struct {
	sh   *shard
	run  string
	size int64
}

// loadShard returns the rows of the shard path read as data says, from
// the cache if the Train run has put them there; read is data.readKey().
func loadShard(ctx context.Context, run, read, path string, data *Data) (*shard, error) {
	key := run + "\x00" + path + "\x00" + read
	shards.Lock()
	c, ok := shards.byKey[key]
	shards.Unlock()
	if ok {
		return c.sh, nil
	}
	sh, err := readShard(ctx, path, data)
	if err != nil {
		return nil, err
	}
	shards.Lock()
	defer shards.Unlock()
	size := int64(0)
	if sh.x != nil {
		r, c := sh.x.Dims()
		_, k := sh.y.Dims()
		size = int64(r) * int64(c+k) * 8
	}
	limit := nn.MemoryBudget() / 4
	if shards.bytes+size > limit {
		for k, c := range shards.byKey {
			if c.run != run {
				delete(shards.byKey, k)
				shards.bytes -= c.size
			}
		}
	}
	if _, ok := shards.byKey[key]; !ok && shards.bytes+size <= limit {
		if shards.byKey == nil {
			shards.byKey = make(map[string]cachedShard)
		}
		shards.byKey[key] = cachedShard{sh: sh, run: run, size: size}
		shards.bytes += size
	}
	return sh, nil
}

// readKey returns how d reads its shards, for the keys of the cache and
// the fingerprint of a run: its CSV options and scaler as JSON.
func (d *Data) readKey() (string, error) {
	read, err := json.Marshal(struct {
		CSV    nn.CSVOptions
		Scaler *nn.Scaler
	}{d.CSV, d.Scaler})
	if err != nil {
		return "", fmt.Errorf("nnbeam: %w", err)
	}
	return string(read), nil
}

// dropShards removes the shards of the Train run from the cache.
func dropShards(run string) {
	shards.Lock()
	defer shards.Unlock()
	for k, c := range shards.byKey {
		if c.run == run {
			delete(shards.byKey, k)
			shards.bytes -= c.size
		}
	}
}

// readShard reads and scales the rows of the shard path.
func readShard(ctx context.Context, path string, data *Data) (*shard, error) {
	fs, err := newFS(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: %s: %w", path, err)
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("nnbeam: %s: %w", path, err)
	}
	defer r.Close()
	opts := data.CSV
	d, err := nn.ReadCSV(r, &opts)
	if errors.Is(err, nn.ErrEmpty) {
		return &shard{}, nil
	}
	if err != nil {
		var pe *nn.ParseError
		if errors.As(err, &pe) {
			pe.File = path
			return nil, pe
		}
		return nil, fmt.Errorf("nnbeam: %s: %w", path, err)
	}
	if data.Scaler != nil {
		data.Scaler.Transform(d.X, d.X)
	}
	return &shard{x: d.X, y: d.Y}, nil
}
