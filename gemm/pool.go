package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// The pool: worker goroutines, started on first use and kept for the life
// of the program, take the parts of large products, of either precision,
// from one queue. The goroutine that calls Dgemm, Dgemv, Sgemm or Sgemv
// computes the first part itself and waits for the others. Jobs and
// workspaces are kept on free lists, so a warm call allocates nothing.
//
// A worker that runs out of tasks polls the queue spinPolls times before
// it blocks, yielding its processor to any other goroutine between polls;
// a caller waiting for its parts polls as often. A training step makes a
// dozen products with a little element-wise work between them, and
// without the polling each would pay for the operating system waking a
// thread, which on a virtual machine takes tens of microseconds.

// A job is one call's product, shared by its parts. It has room for the
// arguments of either precision, so that one queue and one free list
// serve both.
type job struct {
	d      args[float64]
	s      args[float32]
	single bool // the product is s, in float32; otherwise d
	kn     *kernel
	gemv   bool // the args describe y = α·Aᵀ·x + β·y: a is A, b is x, c is y
	// pending counts the parts that workers have not finished. The
	// caller locks gate when it hands the parts out, the worker that
	// finishes the last one unlocks it, and a caller that stops polling
	// pending waits by locking it. (A sync.WaitGroup or sync.Cond would
	// tie the job to a testing/synctest bubble, or count as durably
	// blocked in one while a worker outside it is still busy.)
	pending atomic.Int32
	gate    sync.Mutex
}

// spinPolls is how many times workers and callers poll before they
// block, yielding their processor between polls: 50 to 150 µs.
const spinPolls = 1000

// start readies j for n parts run by workers.
func (j *job) start(n int) {
	j.pending.Store(int32(n))
	if n > 0 {
		j.gate.Lock()
	}
}

// done marks one part of j finished.
func (j *job) done() {
	if j.pending.Add(-1) == 0 {
		j.gate.Unlock()
	}
}

// wait returns when every part of j run by workers has finished.
func (j *job) wait() {
	for i := 0; i < spinPolls && j.pending.Load() > 0; i++ {
		runtime.Gosched()
	}
	j.gate.Lock()
	j.gate.Unlock()
}

// A task is a part of a job: rows [i0, i1) and columns [j0, j1) of C.
type task struct {
	j              *job
	i0, i1, j0, j1 int
}

// run computes the part t with the workspace w.
func (t task) run(w *workspace) {
	if t.j.single {
		runPart(t, &t.j.s, w)
		return
	}
	runPart(t, &t.j.d, w)
}

// runPart computes the part t of the product g with the workspace w.
func runPart[T float](t task, g *args[T], w *workspace) {
	if t.j.gemv {
		gemvT(g.k, t.j1-t.j0, g.alpha, g.a[t.j0:], g.lda, g.b, g.c[t.j0:], g.beta)
		return
	}
	buffersOf[T](w).part(g, t.j.kn, t.i0, t.i1, t.j0, t.j1)
}

var pool = struct {
	mu      sync.Mutex
	workers int
	tasks   chan task // made here, outside any testing/synctest bubble
	jobs    []*job
	spaces  []*workspace
}{tasks: make(chan task, 256)}

// submit queues t for a worker, first starting workers until there are at
// least n.
func submit(t task, n int) {
	pool.mu.Lock()
	for pool.workers < n {
		pool.workers++
		go worker(pool.tasks)
	}
	pool.mu.Unlock()
	pool.tasks <- t
}

// worker runs tasks from the queue with a workspace of its own.
func worker(tasks <-chan task) {
	w := new(workspace)
	for {
		t := receive(tasks)
		t.run(w)
		t.j.done()
	}
}

// receive returns the next task, polling spinPolls times before it
// blocks. (Counting polls rather than time keeps a worker from spinning
// for ever where time stands still, in a testing/synctest bubble.)
func receive(tasks <-chan task) task {
	for i := 0; i < spinPolls; i++ {
		select {
		case t := <-tasks:
			return t
		default:
		}
		runtime.Gosched()
	}
	return <-tasks
}

// getJob returns a job for g and kn from the free list.
func getJob[T float](g *args[T], kn *kernel) *job {
	pool.mu.Lock()
	var j *job
	if n := len(pool.jobs); n > 0 {
		j = pool.jobs[n-1]
		pool.jobs = pool.jobs[:n-1]
	}
	pool.mu.Unlock()
	if j == nil {
		j = new(job)
	}
	if d, ok := any(g).(*args[float64]); ok {
		j.d, j.single = *d, false
	} else {
		j.s, j.single = *any(g).(*args[float32]), true
	}
	j.kn, j.gemv = kn, false
	return j
}

// putJob returns j to the free list, dropping its references to the
// caller's matrices.
func putJob(j *job) {
	j.d, j.s, j.kn = args[float64]{}, args[float32]{}, nil
	pool.mu.Lock()
	pool.jobs = append(pool.jobs, j)
	pool.mu.Unlock()
}

// getWorkspace returns a workspace from the free list.
func getWorkspace() *workspace {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if n := len(pool.spaces); n > 0 {
		w := pool.spaces[n-1]
		pool.spaces = pool.spaces[:n-1]
		return w
	}
	return new(workspace)
}

// putWorkspace returns w to the free list.
func putWorkspace(w *workspace) {
	pool.mu.Lock()
	pool.spaces = append(pool.spaces, w)
	pool.mu.Unlock()
}
