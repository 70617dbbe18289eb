package serve

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn"
)

// errClosed is the error of a request to a closed Server.
var errClosed = errors.New("the server is shutting down")

// job is the rows of one request waiting for the batcher.
type job struct {
	e    *entry
	in   []float64 // n rows of e.in scaled inputs
	out  []float64 // n rows of e.out outputs, written by the batcher
	n    int
	err  error
	done chan struct{}
}

var jobs = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}

// batcher predicts the jobs of one model, gathering concurrent ones into
// one matrix product, as Triton's dynamic batcher does.
type batcher struct {
	jobs chan *job
	// pending counts the requests to the model that may still queue a
	// job: the batcher waits for more jobs only while it is positive.
	pending atomic.Int64
	delay   time.Duration
	maxRows int
	quit    chan struct{}
	stopped chan struct{}
	rows    prometheus.Observer

	// Owned by the batcher's goroutine.
	batch  []*job
	x, p   []float64
	xm, pm mat.Dense
	ws     nn.Workspace
	timer  *time.Timer
}

// newBatcher starts the batcher of a model.
func newBatcher(delay time.Duration, maxRows int, rows prometheus.Observer) *batcher {
	b := &batcher{
		jobs: make(chan *job), delay: delay, maxRows: maxRows, rows: rows,
		quit: make(chan struct{}), stopped: make(chan struct{}),
	}
	b.timer = time.NewTimer(time.Hour)
	b.timer.Stop()
	go b.run()
	return b
}

// stop stops the batcher once its batch is done; jobs sent after are
// refused with errClosed.
func (b *batcher) stop() {
	close(b.quit)
	<-b.stopped
}

// predict queues the n rows of inputs in to be predicted with e and waits
// for their outputs, written to out. The caller counted the request in
// b.pending, which the batcher uncounts when it takes the job.
func (b *batcher) predict(e *entry, in, out []float64, n int) error {
	j := jobs.Get().(*job)
	j.e, j.in, j.out, j.n, j.err = e, in, out, n, nil
	select {
	case b.jobs <- j:
	case <-b.quit:
		b.pending.Add(-1)
		jobs.Put(j)
		return errClosed
	}
	<-j.done
	err := j.err
	j.e, j.in, j.out = nil, nil, nil
	jobs.Put(j)
	return err
}

// run gathers jobs into batches until stopped: a batch starts with the
// first job to arrive and takes the jobs that follow, of the same model
// version, up to maxRows rows, for at most delay, and only while more
// requests are on their way (pending > 0).
func (b *batcher) run() {
	defer close(b.stopped)
	for {
		var j *job
		select {
		case j = <-b.jobs:
		case <-b.quit:
			return
		}
		b.take(j)
		waiting := false
	gather:
		for b.size() < b.maxRows {
			select {
			case j = <-b.jobs:
				b.add(j)
				continue
			default:
			}
			if b.delay <= 0 || b.pending.Load() <= 0 {
				break
			}
			if !waiting {
				waiting = true
				b.timer.Reset(b.delay)
			}
			select {
			case j = <-b.jobs:
				b.add(j)
			case <-b.timer.C:
				waiting = false
				break gather
			case <-b.quit:
				break gather
			}
		}
		if waiting {
			b.timer.Stop()
		}
		b.flush()
	}
}

// take starts a batch with j.
func (b *batcher) take(j *job) {
	b.pending.Add(-1)
	b.batch = append(b.batch[:0], j)
}

// add adds j to the batch, or predicts the batch first if j does not fit
// in it: too many rows, or another version of the model.
func (b *batcher) add(j *job) {
	if j.e != b.batch[0].e || b.size()+j.n > b.maxRows {
		b.flush()
		b.take(j)
		return
	}
	b.pending.Add(-1)
	b.batch = append(b.batch, j)
}

// size returns the rows of the batch.
func (b *batcher) size() int {
	n := 0
	for _, j := range b.batch {
		n += j.n
	}
	return n
}

// flush predicts the batch in one matrix product and hands each job its
// rows of the outputs.
func (b *batcher) flush() {
	if len(b.batch) == 0 {
		return
	}
	e := b.batch[0].e
	n := b.size()
	b.x = grow(b.x, n*e.in)
	b.p = grow(b.p, n*e.out)
	off := 0
	for _, j := range b.batch {
		copy(b.x[off*e.in:], j.in[:j.n*e.in])
		off += j.n
	}
	b.xm.SetRawMatrix(blas64.General{Rows: n, Cols: e.in, Stride: e.in, Data: b.x})
	b.pm.SetRawMatrix(blas64.General{Rows: n, Cols: e.out, Stride: e.out, Data: b.p})
	err := e.m.Network.PredictTo(&b.pm, &b.xm, &b.ws)
	if b.rows != nil {
		b.rows.Observe(float64(n))
	}
	off = 0
	for _, j := range b.batch {
		j.err = err
		copy(j.out[:j.n*e.out], b.p[off*e.out:])
		off += j.n
		j.done <- struct{}{}
	}
	clear(b.batch)
	b.batch = b.batch[:0]
}

// grow returns s with length n, reallocated if it is too short.
func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// worker predicts requests on their own, unbatched.
type worker struct {
	xm, pm mat.Dense
	ws     nn.Workspace
}

var workers = sync.Pool{New: func() any { return new(worker) }}

// predictDirect predicts the n rows of in with e into out. A worker whose
// workspace grew larger than maxPooled is dropped, not pooled, so that the
// memory of a large request returns.
func predictDirect(e *entry, in, out []float64, n int) error {
	w := workers.Get().(*worker)
	if int64(n)*e.wsRowBytes <= maxPooled {
		defer workers.Put(w)
	}
	w.xm.SetRawMatrix(blas64.General{Rows: n, Cols: e.in, Stride: e.in, Data: in[:n*e.in]})
	w.pm.SetRawMatrix(blas64.General{Rows: n, Cols: e.out, Stride: e.out, Data: out[:n*e.out]})
	return e.m.Network.PredictTo(&w.pm, &w.xm, &w.ws)
}
