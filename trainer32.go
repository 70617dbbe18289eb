package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// trainer32 is the float32 state of a Trainer with Settings.Precision
// Float32: the weights it trains, the optimizer's state and the buffers of
// backpropagation. The network's float64 parameters, and the Trainer's
// float64 optimizer state, which checkpoints read, are copies of them
// written by sync.
type trainer32 struct {
	p     *params32
	bp    map[int]*backprop32 // by batch rows
	m, v  []float32
	prev  []float32   // the weights before the last update, if the Trainer keeps them
	dirty bool        // steps have been taken since the last sync
	last  *backprop32 // the buffers of a batch that held values beyond float32's range, if one did
}

// newTrainer32 returns the float32 state of a Trainer of n by the method
// m.
func newTrainer32(n *Network, m Method) *trainer32 {
	f := &trainer32{p: newParams32(n), bp: make(map[int]*backprop32)}
	switch m {
	case Momentum, Nesterov:
		f.m = make([]float32, len(n.params))
	case Adam, AdamW:
		f.m = make([]float32, len(n.params))
		f.v = make([]float32, len(n.params))
	}
	return f
}

// sync writes the float32 weights and optimizer state of t into the
// network's parameters and t's float64 state, if steps have changed them.
func (t *Trainer) sync() {
	f := t.f32
	if f == nil || !f.dirty {
		return
	}
	toFloat64(t.net.params, f.p.flat)
	toFloat64(t.m, f.m)
	toFloat64(t.v, f.v)
	f.dirty = false
}

// syncParams writes the float32 weights of t into the network's
// parameters, after a Step: the optimizer's state, which only checkpoints
// and PartialFit read, waits for sync.
func (t *Trainer) syncParams() {
	if f := t.f32; f != nil && f.dirty {
		toFloat64(t.net.params, f.p.flat)
	}
}

// load reads the network's parameters and t's float64 optimizer state
// into the float32 ones, after they have been restored from a checkpoint
// or an earlier state.
func (t *Trainer) load() {
	f := t.f32
	if f == nil {
		return
	}
	toFloat32(f.p.flat, t.net.params)
	toFloat32(f.m, t.m)
	toFloat32(f.v, t.v)
	f.dirty = false
}

// rangeError returns an error wrapping ErrNotFinite if a batch of a
// float32 Trainer held values beyond float32's range, which became
// infinite when rounded to float32 (the batch itself was checked to be
// finite): the reason, rather than the learning rate, why its step was
// refused.
func (t *Trainer) rangeError() error {
	if t.f32 == nil || t.f32.last == nil {
		return nil
	}
	bp := t.f32.last
	for _, m := range []struct {
		name string
		v    []float32
		cols int
	}{{"the inputs", bp.x, t.net.sizes[0]}, {"the targets", bp.y, bp.ycols}} {
		for i, v := range m.v {
			if math.IsInf(float64(v), 0) {
				return fmt.Errorf("nn: %s of a batch hold a value beyond float32's range (±3.4e38), at row %d, column %d of the batch: %w; scale the data, or train in Float64", m.name, i/m.cols, i%m.cols, ErrNotFinite)
			}
		}
	}
	return nil
}

// previous returns the weights from before the last update, in float64.
func (t *Trainer) previous() []float64 {
	if f := t.f32; f != nil && f.prev != nil {
		toFloat64(t.prev, f.prev)
	}
	return t.prev
}

// buffers32 returns the float32 backpropagation buffers for batches of r
// rows, as buffers.
func (t *Trainer) buffers32(r int) *backprop32 {
	f := t.f32
	bp := f.bp[r]
	if bp == nil {
		if len(f.bp) >= 4 {
			clear(f.bp)
		}
		bp = newBackprop32(t.net, f.p, r, t.weighted)
		if t.dropRNG != nil {
			bp.setDropout(t.s.Dropout, t.dropRNG)
		}
		f.bp[r] = bp
	}
	return bp
}

// step32 is step in float32. The network's parameters are left as they
// were until sync.
func (t *Trainer) step32(x, y *mat.Dense) float64 {
	r, _ := x.Dims()
	bp := t.buffers32(r)
	t.f32.last = nil
	if !bp.setBatch(x, y) {
		// x and y were checked to be finite in float64.
		t.f32.last = bp
		return math.Inf(1)
	}
	bp.forward()
	cost := bp.cost() / float64(r)
	if !finite(cost) {
		return cost
	}
	t.penalty = t.f32.p.l2Penalty(t.s.L2)
	t.apply32(bp)
	return cost
}

// apply32 is apply in float32.
func (t *Trainer) apply32(bp *backprop32) {
	f := t.f32
	if t.prev != nil {
		if f.prev == nil {
			f.prev = make([]float32, len(f.p.flat))
		}
		copy(f.prev, f.p.flat)
	}
	f.dirty = true
	t.t++
	scale := 1 / float64(bp.rows)
	if (t.s.Method == GradientDescent || t.s.Method == SGD) && t.s.ClipNorm == 0 {
		bp.descend(scale, t.s.L2, t.lr)
		return
	}
	bp.backward(scale, t.s.L2)
	if c := t.s.ClipNorm; c > 0 {
		clipNorm32(bp.grad, c)
	}
	t.update32(bp.grad)
}

// update32 is update in float32.
func (t *Trainer) update32(g []float32) {
	f := t.f32
	j := t.job()
	j.w32, j.g32, j.m32, j.v32 = f.p.flat, g, f.m, f.v
	if f.m != nil && t.t%flushEvery == 0 {
		flushTiny32(f.m)
		flushTiny32(f.v)
	}
	// Split at a multiple of eight, adam8's width.
	t.runJob(j, len(g), 8)
}

// descendFull32 is descendFull in float32.
func (r *run) descendFull32(X, Y *mat.Dense, pcg *rand.PCG) error {
	t := r.trainer
	rows, _ := X.Dims()
	bp := t.buffers32(rows)
	if !bp.setBatch(X, Y) {
		t.f32.last = bp
		return r.diverged(len(r.report.History)+1, math.Inf(1), t.previous())
	}
	dropout := t.dropRNG != nil
	if !dropout {
		bp.forward()
	}
	for e := len(r.report.History) + 1; e <= r.s.Epochs; e++ {
		if err := r.cancelled(); err != nil {
			return err
		}
		t.lr = r.s.rateAt(e-1, t.t, 1, r.plateau.rate)
		r.epochLR = t.lr
		var loss float64
		if dropout {
			// As descendFullDropout: the loss before the step, under its
			// masks.
			bp.forward()
			loss = bp.cost()/float64(rows) + t.f32.p.l2Penalty(r.s.L2)
			if !finite(loss) {
				return r.diverged(e, loss, t.previous())
			}
			t.apply32(bp)
		} else {
			t.apply32(bp)
			bp.forward()
			loss = bp.cost()/float64(rows) + t.f32.p.l2Penalty(r.s.L2)
		}
		t.sync()
		if !finite(loss) || !paramsFinite(r.net.params) {
			return r.diverged(e, loss, t.previous())
		}
		if stop, err := r.endEpoch(e, loss, pcg); stop || err != nil {
			return err
		}
	}
	return nil
}
