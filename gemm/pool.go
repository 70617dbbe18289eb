package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The pool: worker goroutines, started on first use and kept for the life
// of the program, take the parts of large products from one queue. The
// goroutine that calls Dgemm or Dgemv computes the first part itself and
// waits for the others. Jobs and workspaces are kept on free lists, so a
// warm call allocates nothing.
//
// A worker that runs out of tasks polls the queue for spinTime before it
// blocks, yielding its processor to any other goroutine in between; a
// caller waiting for its parts polls for as long. A training step makes a
// dozen products with a little element-wise work between them, and
// without the polling each would pay for the operating system waking a
// thread, which on a virtual machine takes tens of microseconds.

// A job is one call's product, shared by its parts.
type job struct {
	g    args
	kn   *kernel
	gemv bool // g describes y = α·Aᵀ·x + β·y: a is A, b is x, c is y
	// pending counts the parts that workers have not finished; wg
	// follows it, for a caller that stops polling.
	pending atomic.Int32
	wg      sync.WaitGroup
}

// spinTime is how long workers and callers poll before they block.
const spinTime = 100 * time.Microsecond

// start readies j for n parts run by workers.
func (j *job) start(n int) {
	j.pending.Store(int32(n))
	j.wg.Add(n)
}

// done marks one part of j finished.
func (j *job) done() {
	j.pending.Add(-1)
	j.wg.Done()
}

// wait returns when every part of j run by workers has finished.
func (j *job) wait() {
	start := time.Now()
	for i := 1; j.pending.Load() > 0; i++ {
		if i%16 == 0 && time.Since(start) > spinTime {
			break
		}
		runtime.Gosched()
	}
	j.wg.Wait()
}

// A task is a part of a job: rows [i0, i1) and columns [j0, j1) of C.
type task struct {
	j              *job
	i0, i1, j0, j1 int
}

// run computes the part t with the workspace w.
func (t task) run(w *workspace) {
	g := &t.j.g
	if t.j.gemv {
		gemvT(g.k, t.j1-t.j0, g.alpha, g.a[t.j0:], g.lda, g.b, g.c[t.j0:], g.beta)
		return
	}
	w.part(g, t.j.kn, t.i0, t.i1, t.j0, t.j1)
}

var pool struct {
	mu      sync.Mutex
	workers int
	tasks   chan task
	jobs    []*job
	spaces  []*workspace
}

// submit queues t for a worker, first starting workers until there are at
// least n.
func submit(t task, n int) {
	pool.mu.Lock()
	if pool.tasks == nil {
		pool.tasks = make(chan task, 256)
	}
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

// receive returns the next task, polling for spinTime before it blocks.
func receive(tasks <-chan task) task {
	start := time.Now()
	for i := 1; ; i++ {
		select {
		case t := <-tasks:
			return t
		default:
		}
		if i%16 == 0 && time.Since(start) > spinTime {
			return <-tasks
		}
		runtime.Gosched()
	}
}

// getJob returns a job for g and kn from the free list.
func getJob(g *args, kn *kernel) *job {
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
	j.g, j.kn, j.gemv = *g, kn, false
	return j
}

// putJob returns j to the free list, dropping its references to the
// caller's matrices.
func putJob(j *job) {
	j.g, j.kn = args{}, nil
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
