package nn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/mat"
)

// Training on rows read a pass at a time (a Stream's cache, or Rows):
// each epoch draws its batches through a seeded shuffle buffer, and the
// validation rows are read in blocks.

// passSet is a set of rows read a pass at a time, in order: a stream's
// cache, or Rows.
type passSet interface {
	blockSource
	// width returns the number of values of a row as read.
	width() int
	// rewind starts a pass.
	rewind() error
	// next reads the next row into raw.
	next(raw []float64) error
	// prepare stores the input and targets of the row raw in x and y,
	// with its weight last in y if the rows are weighted.
	prepare(x, y, raw []float64)
	weighted() bool
	close()
}

// readBlock reads the rows off, off+1, … of p into the rows of x and y,
// as many as they have, starting a pass at row 0; raw holds a row as read.
func readBlock(p passSet, raw []float64, x, y *mat.Dense, off int) error {
	if off == 0 {
		if err := p.rewind(); err != nil {
			return err
		}
	}
	r, _ := x.Dims()
	for i := range r {
		if err := p.next(raw); err != nil {
			return err
		}
		p.prepare(x.RawRowView(i), y.RawRowView(i), raw)
	}
	return nil
}

// shuffler draws the rows of a pass over a cacheSet through a shuffle
// buffer.
type shuffler struct {
	set  passSet
	rnd  *rand.Rand
	buf  []float64 // size rows of the cached width
	size int
	n    int // rows in buf
	read int // rows of the pass read into buf
	out  int // rows of the pass drawn
}

func newShuffler(set passSet, size int) *shuffler {
	return &shuffler{set: set, size: size, buf: make([]float64, size*set.width())}
}

// start begins a pass, drawing from rnd.
func (s *shuffler) start(rnd *rand.Rand) error {
	s.rnd, s.n, s.read, s.out = rnd, 0, 0, 0
	return s.set.rewind()
}

// draw prepares the next row of the pass into x and y, and reports
// whether there was one.
func (s *shuffler) draw(x, y []float64) (bool, error) {
	w := s.set.width()
	for s.n < s.size && s.read < s.set.len() {
		if err := s.set.next(s.buf[s.n*w : (s.n+1)*w]); err != nil {
			return false, err
		}
		s.n++
		s.read++
	}
	if s.n == 0 {
		return false, nil
	}
	// Draw a row of the buffer; the last of the buffer takes its place,
	// and the next row read fills the end.
	i := s.rnd.IntN(s.n)
	row := s.buf[i*w : (i+1)*w]
	s.set.prepare(x, y, row)
	s.n--
	copy(row, s.buf[s.n*w:(s.n+1)*w])
	s.out++
	return true, nil
}

// trainStream trains n on the stream train, validated on val (nil for
// none), as Train does on rows in memory: the same schedules, early
// stopping, checkpoints and resume, with the rows of each epoch drawn
// through a shuffle buffer of buffer rows.
func trainStream(ctx context.Context, n *Network, s *Settings, train, val passSet, buffer int, digest string) (*Report, error) {
	start := time.Now()
	c := s.withDefaults(val != nil)
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Method == LBFGS || c.Method == GradientDescent {
		return nil, fmt.Errorf("nn: Method %v takes a step on every row at once; a stream trains by mini-batches (sgd, momentum, nesterov, adam, adamw)", c.Method)
	}
	vrows := 0
	if val != nil {
		vrows = val.len()
	}
	size := min(max(c.BatchSize, 1), train.len())
	if c.BatchSize == 0 {
		size = min(32, train.len())
	}
	need := trainBytes(n, &c, size, min(vrows, valBlock), false) + float64(buffer)*float64(train.width())*float64Bytes
	if err := overBudget(need, fmt.Sprintf("training a network of %d parameters by %v on a stream with a shuffle buffer of %d rows", len(n.params), c.Method, buffer)); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	if c.Monitor == MonitorAccuracy && (val == nil || n.loss == SquaredError) {
		return nil, errors.New("nn: Settings.Monitor is accuracy, which needs a validation set (ValidationFraction) and a classifier's loss (cross-entropy)")
	}
	defer train.close()
	pcg := rand.NewPCG(c.Seed, 0x6e6e2d747261696e) // "nn-train"
	rnd := rand.New(pcg)
	if val != nil {
		defer val.close()
	}
	r := newRun(ctx, n, &c, start, val)
	r.weighted = train.weighted()
	if (c.CheckpointEvery > 0 && c.Checkpoint != nil) || c.Resume != nil {
		// The data of a stream is its rows and the order the shuffle
		// buffer draws them in.
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/shuffle-buffer=%d", digest, buffer))
		r.fingerprint = fingerprint(n, &c, train.len(), val != nil, hex.EncodeToString(sum[:]))
	}
	var err error
	if r.trainer, err = NewTrainer(n, r.s); err == nil {
		r.trainer.weighted = r.weighted
		if c.Resume != nil {
			err = r.resume(c.Resume, pcg)
		}
		if err == nil {
			err = r.descendStream(train, newShuffler(train, buffer), size, rnd, pcg)
		}
	}
	r.end()
	return r.report, err
}

// descendStream takes one step per mini-batch of size rows, drawn from
// the shuffler sh a pass of the stream train at a time; the loss of an
// epoch is the mean of its batches' losses, as in descendBatches.
func (r *run) descendStream(train passSet, sh *shuffler, size int, rnd *rand.Rand, pcg *rand.PCG) error {
	t := r.trainer
	t.prev = slices.Clone(r.net.params)
	rows := train.len()
	bx := mat.NewDense(size, train.inputs(), nil)
	by := mat.NewDense(size, train.outputs(), nil)
	// The last, shorter batch views the buffers of a full one.
	rx, ry := bx, by
	if last := rows % size; last != 0 {
		rx = bx.Slice(0, last, 0, train.inputs()).(*mat.Dense)
		ry = by.Slice(0, last, 0, train.outputs()).(*mat.Dense)
	}
	spe := (rows + size - 1) / size
	for e := len(r.report.History) + 1; e <= r.s.Epochs; e++ {
		t.lr = r.s.rateAt(e-1, t.t, spe, r.plateau.rate)
		r.epochLR = t.lr
		if err := sh.start(rnd); err != nil {
			return err
		}
		var sum float64
		for off := 0; off < rows; off += size {
			if err := r.cancelled(); err != nil {
				return err
			}
			if r.s.PerStep {
				t.lr = r.s.rateAt(e-1, t.t, spe, r.plateau.rate)
			}
			k := min(size, rows-off)
			x, y := bx, by
			if k < size {
				x, y = rx, ry
			}
			for i := range k {
				ok, err := sh.draw(x.RawRowView(i), y.RawRowView(i))
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("nn: the cache of the stream ended after %d of its %d rows", off+i, rows)
				}
			}
			cost := t.step(x, y)
			if !finite(cost) {
				return r.diverged(e, cost, t.previous())
			}
			sum += cost * float64(k)
		}
		t.sync()
		if !paramsFinite(r.net.params) {
			return r.diverged(e, sum/float64(rows), t.previous())
		}
		loss := sum/float64(rows) + r.net.l2Penalty(r.s.L2)
		stop, err := r.endEpoch(e, loss, pcg)
		if err == nil && r.val != nil {
			err = r.val.set.error()
		}
		if stop || err != nil {
			return err
		}
	}
	return nil
}
