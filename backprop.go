package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Gradients holds the partial derivatives of a cost with respect to every
// parameter of a network, laid out like the network's parameters.
type Gradients struct {
	// W[l] is ∂J/∂W(l), shaped like Network.Weights(l): W[0] is the
	// tutorial's dJdW1 and W[1] its dJdW2.
	W []*mat.Dense
	// B[l] is ∂J/∂b(l), or nil for a network without biases.
	B [][]float64
	// Flat holds all of the above in the order of Network.Params; W and B
	// are views of it.
	Flat []float64
}

func newGradients(n *Network) *Gradients {
	flat := make([]float64, len(n.params))
	w, b := layerViews(flat, n.sizes, n.bias)
	return &Gradients{W: w, B: b, Flat: flat}
}

// Cost returns the network's cost J on inputs x and targets y, summed over
// the examples (rows): for SquaredError the tutorial's J = ½·Σ(y−ŷ)². Divide
// by the number of rows for the per-example mean that Train reports. Cost
// returns an error if x or y does not fit the network or holds NaN or
// infinite values.
func (n *Network) Cost(x, y mat.Matrix) (float64, error) {
	bp, err := n.prepare(x, y)
	if err != nil {
		return 0, err
	}
	bp.forward()
	return bp.cost(), nil
}

// Gradients returns the gradient of Cost with respect to every weight and
// bias, computed by backpropagation (the tutorial's cost_derivative). It
// returns the same errors as Cost.
func (n *Network) Gradients(x, y mat.Matrix) (*Gradients, error) {
	bp, err := n.prepare(x, y)
	if err != nil {
		return nil, err
	}
	bp.forward()
	bp.backward(1, 0)
	g := newGradients(n)
	copy(g.Flat, bp.grad)
	return g, nil
}

// GradientWorkspace holds the buffers of CostGradient, so that it
// allocates nothing once warm. The zero value is ready to use. It keeps the
// buffers of two batch sizes, such as the full blocks of a data set and its
// last, shorter one. A GradientWorkspace must not be used by two goroutines
// at once, nor for two networks of different shapes.
type GradientWorkspace struct {
	bp [2]*backprop // the most recently used first
}

// buffers returns backpropagation buffers of n for batches of r rows.
func (ws *GradientWorkspace) buffers(n *Network, r int) (*backprop, error) {
	for i, bp := range ws.bp {
		if bp != nil && bp.net == n && bp.rows == r {
			ws.bp[0], ws.bp[i] = bp, ws.bp[0]
			return bp, nil
		}
	}
	if err := overBudget(n.backpropBytes(r), fmt.Sprintf("the buffers of a batch of %d rows", r)); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	ws.bp[1], ws.bp[0] = ws.bp[0], newBackprop(n, r)
	return ws.bp[0], nil
}

// CostGradient stores in dst the gradient of Cost on x and y with respect
// to every parameter, laid out as Params, and returns the cost, from one
// forward and one backward pass: the cost and the Flat gradient that Cost
// and Gradients return, bit for bit. ws holds the buffers of the passes,
// so that CostGradient allocates nothing once warm when x and y are
// *mat.Dense. It returns the same errors as Cost, and an error wrapping
// ErrMemoryBudget if the buffers of a batch of a size ws has not seen
// would not fit in the memory budget. CostGradient panics if dst is not as
// long as Params or ws is nil.
func (n *Network) CostGradient(dst []float64, x, y mat.Matrix, ws *GradientWorkspace) (float64, error) {
	if len(dst) != len(n.params) {
		panic(fmt.Sprintf("nn: CostGradient into %d values for %d parameters", len(dst), len(n.params)))
	}
	if err := n.checkInput("X", x); err != nil {
		return 0, err
	}
	r, _ := x.Dims()
	if err := n.checkTarget("Y", y, r); err != nil {
		return 0, err
	}
	bp, err := ws.buffers(n, r)
	if err != nil {
		return 0, err
	}
	bp.setBatch(asDense(x), asDense(y))
	bp.forward()
	cost := bp.cost()
	bp.backward(1, 0)
	copy(dst, bp.grad)
	return cost, nil
}

// NumericalGradients returns the gradient of Cost estimated by finite
// differences, to check Gradients against. A nil s uses central differences
// with gonum's default step; a non-nil s is used as it is (its zero Formula
// means forward differences, see fd.Settings), except that s.Concurrent is
// ignored. It returns the same errors as Cost. It evaluates the cost twice per
// parameter, so it is meant for small networks and batches.
func (n *Network) NumericalGradients(x, y mat.Matrix, s *fd.Settings) (*Gradients, error) {
	c := n.Clone()
	bp, err := c.prepare(x, y)
	if err != nil {
		return nil, err
	}
	var settings fd.Settings
	if s == nil {
		settings.Formula = fd.Central
	} else {
		settings = *s
		settings.Concurrent = false // the evaluations share one copy of the network
	}
	f := func(p []float64) float64 {
		copy(c.params, p)
		bp.forward()
		return bp.cost()
	}
	g := newGradients(n)
	fd.Gradient(g.Flat, f, n.params, &settings)
	return g, nil
}

// backprop holds the buffers of a forward and backward pass over a batch,
// sized once and reused so that a training step allocates nothing. Its
// fields carry the tutorial's names, indexed by weight layer l = 0, 1, …:
// for the tutorial's 2-3-1 network a[0] is X, a[1] is a2, a[2] is ŷ,
// delta[0] is δ2, delta[1] is δ3, gw[0] is ∂J/∂W1 and gw[1] is ∂J/∂W2.
type backprop struct {
	net  *Network
	rows int

	x, y *mat.Dense // the batch: inputs a[0] and targets
	// weighted says that y has a column after the targets holding the
	// weight of each row's cost (Settings.Weights).
	weighted bool

	// Dropout, for training only: the mask of each hidden layer (nil
	// without dropout there), the layer's output times its mask, which
	// is the input of the next layer, the threshold of a kept unit and
	// its scale, and the source of the masks.
	masks [][]uint8 // 1 to keep a unit, 0 to drop it
	drop  []*mat.Dense
	keep  []uint64
	scale []float64
	rnd   *rand.PCG
	a     []*mat.Dense // a[l+1] = f(z(l+1)), the activation of layer l; a[0] = x
	zOut  []float64    // weighted input of the output layer, for the cross-entropy costs
	zHid  [][]float64  // weighted input of hidden layer l, for activations whose derivative needs it; else nil
	delta []*mat.Dense // delta[l] = ∂J/∂z of layer l's output

	grad []float64    // all gradients, in the order of Network.params
	gw   []*mat.Dense // ∂J/∂W(l), views of grad
	gb   [][]float64  // ∂J/∂b(l), views of grad
}

// backpropBytes returns the bytes that newBackprop(n, rows) allocates: per
// row the activations, errors and output of every layer, and one
// gradient.
func (n *Network) backpropBytes(rows int) float64 {
	var acts float64
	for l := 1; l < len(n.sizes); l++ {
		acts += float64(n.sizes[l])
		if l < len(n.sizes)-1 && n.acts[l-1].needsInput() {
			acts += float64(n.sizes[l]) / 2 // the weighted inputs kept, counted twice below
		}
	}
	perRow := 2*acts + float64(n.sizes[len(n.sizes)-1])
	return (float64(rows)*perRow + float64(len(n.params))) * float64Bytes
}

// newBackprop returns buffers for batches of the given number of rows.
func newBackprop(n *Network, rows int) *backprop {
	L := len(n.w)
	bp := &backprop{
		net:   n,
		rows:  rows,
		a:     make([]*mat.Dense, L+1),
		delta: make([]*mat.Dense, L),
		zOut:  make([]float64, rows*n.sizes[L]),
		zHid:  make([][]float64, L),
		grad:  make([]float64, len(n.params)),
	}
	for l := 0; l < L-1; l++ {
		if n.acts[l].needsInput() {
			bp.zHid[l] = make([]float64, rows*n.sizes[l+1])
		}
	}
	for l := 0; l < L; l++ {
		bp.a[l+1] = mat.NewDense(rows, n.sizes[l+1], nil)
		bp.delta[l] = mat.NewDense(rows, n.sizes[l+1], nil)
	}
	bp.gw, bp.gb = layerViews(bp.grad, n.sizes, n.bias)
	return bp
}

// input returns the input of weight layer l: the batch for l = 0, the
// activation of the layer before, or its product with a dropout mask.
func (bp *backprop) input(l int) *mat.Dense {
	if l > 0 && bp.drop != nil && bp.drop[l-1] != nil {
		return bp.drop[l-1]
	}
	return bp.a[l]
}

// setDropout gives bp a dropout mask for each hidden layer l with a rate
// rates[l] > 0, drawn from rnd at every forward pass: inverted dropout,
// each activation kept with probability 1−p and then scaled by 1/(1−p).
func (bp *backprop) setDropout(rates []float64, rnd *rand.PCG) {
	n := bp.net
	L := len(n.w)
	bp.masks = make([][]uint8, L-1)
	bp.drop = make([]*mat.Dense, L-1)
	bp.keep = make([]uint64, L-1)
	bp.scale = make([]float64, L-1)
	bp.rnd = rnd
	for l, p := range rates {
		if p == 0 {
			continue
		}
		bp.masks[l] = make([]uint8, bp.rows*n.sizes[l+1])
		bp.drop[l] = mat.NewDense(bp.rows, n.sizes[l+1], nil)
		// Keep when a uniform 16-bit draw is at least p·2¹⁶, rounded: four
		// draws come from each 64-bit number, and the rate is applied to
		// within 2⁻¹⁷.
		bp.keep[l] = uint64(math.Round(math.Ldexp(p, 16)))
		bp.scale[l] = 1 / (1 - p)
	}
}

// drawMasks draws the dropout mask of every hidden layer that has one,
// first layer first, unless the masks are fixed (rnd nil, for tests). It
// runs before the forward pass, so that the matrix products of the pass
// follow one another without a serial gap, in which the goroutines of
// package gemm would go to sleep.
func (bp *backprop) drawMasks() { drawMasks(bp.masks, bp.keep, bp.rnd) }

// drawMasks draws each mask of masks that is not nil from rnd, unless rnd
// is nil: a unit of layer l is kept when a uniform 16-bit draw is at least
// keep[l].
func drawMasks(masks [][]uint8, keep []uint64, rnd *rand.PCG) {
	if rnd == nil {
		return
	}
	for l, m := range masks {
		if m == nil {
			continue
		}
		k := keep[l]
		var bits uint64
		for i := range m {
			if i&3 == 0 {
				bits = rnd.Uint64()
			}
			// Without a branch, which a random mask would mispredict:
			// the sign of draw − k is 1 to drop, 0 to keep.
			m[i] = uint8(1 ^ (bits&0xffff-k)>>63)
			bits >>= 16
		}
	}
}

// dropout stores a(l+1) ⊙ mask, the input of layer l+1.
func (bp *backprop) dropout(l int) {
	m := bp.masks[l]
	a := bp.a[l+1].RawMatrix().Data[:len(m)]
	d := bp.drop[l].RawMatrix().Data[:len(m)]
	values := [2]float64{0, bp.scale[l]}
	for i, v := range a {
		d[i] = v * values[m[i]&1]
	}
}

// setBatch makes x and y the batch of the next passes. x must have bp.rows
// rows; y may be nil for a forward pass only.
func (bp *backprop) setBatch(x, y *mat.Dense) {
	bp.x = x
	bp.a[0] = x
	bp.y = y
}

// prepare checks x and y and returns buffers holding them as the batch.
func (n *Network) prepare(x, y mat.Matrix) (*backprop, error) {
	if err := n.checkInput("X", x); err != nil {
		return nil, err
	}
	r, _ := x.Dims()
	if err := n.checkTarget("Y", y, r); err != nil {
		return nil, err
	}
	bp := newBackprop(n, r)
	bp.setBatch(asDense(x), asDense(y))
	return bp, nil
}

// forward runs the batch through the network, the tutorial's feedforward.
func (bp *backprop) forward() {
	n := bp.net
	L := len(n.w)
	if bp.masks != nil {
		bp.drawMasks()
	}
	for l := 0; l < L; l++ {
		z := bp.zHid[l]
		if l == L-1 {
			z = bp.zOut
		}
		// a(l+1) = f(a(l)·W(l) + b(l))
		n.layer(l, bp.a[l+1], bp.input(l), z)
		if l < L-1 && bp.masks != nil && bp.masks[l] != nil {
			bp.dropout(l)
		}
	}
}

// cost returns J summed over the batch, after forward.
func (bp *backprop) cost() float64 { return bp.addCost(0) }

// addCost returns J plus the cost of each row of the batch, added row
// after row, after forward.
func (bp *backprop) addCost(J float64) float64 {
	L := len(bp.net.w)
	yHat := bp.a[L].RawMatrix().Data
	y := bp.y.RawMatrix()
	cols := bp.net.sizes[L]
	var Ji float64
	// acc is where a row's terms are summed: J itself, as without
	// weights, or Ji, added to J times the row's weight.
	acc := &J
	if bp.weighted {
		acc = &Ji
	}
	for i := 0; i < bp.rows; i++ {
		yr := y.Data[i*y.Stride : i*y.Stride+cols]
		off := i * cols
		Ji = 0
		switch bp.net.loss {
		case SquaredError:
			// J = ½·Σ(y−ŷ)²
			for j, v := range yr {
				d := v - yHat[off+j]
				*acc += 0.5 * d * d
			}
		case CrossEntropy:
			// J = −Σ y·log ŷ with log ŷ_j = z_j − log Σ_k exp(z_k)
			z := bp.zOut[off : off+cols]
			lse := logSumExp(z)
			for j, v := range yr {
				if v != 0 {
					*acc -= v * (z[j] - lse)
				}
			}
		case BinaryCrossEntropy:
			// J = −Σ y·log σ(z) + (1−y)·log(1−σ(z)) = Σ max(z,0) − y·z + log(1+e^−|z|)
			z := bp.zOut[off : off+cols]
			for j, v := range yr {
				*acc += math.Max(z[j], 0) - v*z[j] + math.Log1p(math.Exp(-math.Abs(z[j])))
			}
		}
		if bp.weighted {
			// J = Σ_rows w·J_row
			J += y.Data[i*y.Stride+cols] * Ji
		}
	}
	return J
}

// backward computes the gradient of scale·J + ½·l2·Σ‖W‖² into bp.grad, after
// forward: the tutorial's costFunctionPrime. Training passes scale = 1/rows
// for the per-example mean.
func (bp *backprop) backward(scale, l2 float64) {
	n := bp.net
	bp.outputDelta(scale)
	for l := len(n.w) - 1; l >= 0; l-- {
		if l > 0 {
			bp.hiddenDelta(l)
		}
		// ∂J/∂W(l) = a(l)ᵀ·δ(l): the tutorial's dJdW2 = a2ᵀ·δ3 and dJdW1 = Xᵀ·δ2
		mul(bp.gw[l], 1, blas.Trans, bp.input(l), blas.NoTrans, bp.delta[l], 0)
		if l2 != 0 {
			// + λ·W(l); biases are not decayed
			floats.AddScaled(bp.gw[l].RawMatrix().Data, l2, n.w[l].RawMatrix().Data)
		}
		if gb := bp.gb[l]; gb != nil {
			// ∂J/∂b(l) = Σ_rows δ(l)
			colSums(gb, bp.delta[l])
		}
	}
}

// descend takes a gradient-descent step of size lr on scale·J + ½·l2·Σ‖W‖²,
// after forward: the tutorial's W1 -= learn_rate·dJdW1 for every layer,
// with ∂J/∂W(l) taken straight into the weights by Gemm's β rather than
// stored. bp.grad is left alone.
func (bp *backprop) descend(scale, l2, lr float64) {
	n := bp.net
	bp.outputDelta(scale)
	for l := len(n.w) - 1; l >= 0; l-- {
		if l > 0 {
			// δ(l−1) needs W(l) before its update.
			bp.hiddenDelta(l)
		}
		// W(l) ← (1−ηλ)·W(l) − η·a(l)ᵀ·δ(l)
		mul(n.w[l], -lr, blas.Trans, bp.input(l), blas.NoTrans, bp.delta[l], 1-lr*l2)
		if b := n.b[l]; b != nil {
			// b(l) ← b(l) − η·Σ_rows δ(l)
			raw := bp.delta[l].RawMatrix()
			for i := 0; i < raw.Rows; i++ {
				floats.AddScaled(b, -lr, raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols])
			}
		}
	}
}

// outputDelta sets δ(L) = ∂(scale·J)/∂z(L), the error of the output layer,
// after forward. For squared error it is the tutorial's
// δ3 = −(y−ŷ)⊙σ′(z3); for cross-entropy after softmax with one-hot
// targets, and binary cross-entropy after sigmoid, it is ŷ−y.
func (bp *backprop) outputDelta(scale float64) {
	n := bp.net
	L := len(n.w)
	out := n.sizes[L]
	yHat := bp.a[L].RawMatrix().Data[:bp.rows*out]
	y := bp.y.RawMatrix()
	d := bp.delta[L-1].RawMatrix().Data[:bp.rows*out]
	for i := 0; i < bp.rows; i++ {
		yr := y.Data[i*y.Stride : i*y.Stride+out]
		dr, hr := d[i*out:(i+1)*out], yHat[i*out:(i+1)*out]
		scale := scale
		if bp.weighted {
			// ∂(w·J_row)/∂z = w·∂J_row/∂z
			scale *= y.Data[i*y.Stride+out]
		}
		if n.loss == CrossEntropy {
			// For targets that do not sum to one, ∂J/∂z = ŷ·Σy − y.
			var sum float64
			for _, v := range yr {
				sum += v
			}
			for j, v := range yr {
				dr[j] = scale * (hr[j]*sum - v)
			}
			continue
		}
		for j, v := range yr {
			dr[j] = scale * (hr[j] - v)
		}
	}
	if n.loss == SquaredError {
		n.acts[L-1].mulDerivative(d, yHat, bp.zOut, out, n.slope)
	}
}

// hiddenDelta sets δ(l−1) from δ(l), for l > 0.
func (bp *backprop) hiddenDelta(l int) {
	n := bp.net
	// δ(l−1) = δ(l)·W(l)ᵀ ⊙ f′(z(l−1)): the tutorial's δ2 = δ3·W2ᵀ ⊙ σ′(z2)
	mul(bp.delta[l-1], 1, blas.NoTrans, bp.delta[l], blas.Trans, n.w[l], 0)
	d := bp.delta[l-1].RawMatrix().Data
	if bp.masks != nil && bp.masks[l-1] != nil {
		// δ(l−1) ⊙ mask ⊙ f′: the layer's input was a(l) ⊙ mask
		mask := bp.masks[l-1]
		values := [2]float64{0, bp.scale[l-1]}
		if n.acts[l-1] == ReLU {
			// One pass: the mask is already 0 where a unit was dropped.
			a := bp.a[l].RawMatrix().Data[:len(mask)]
			for i, v := range a {
				if k := mask[i]; v <= 0 || k == 0 {
					d[i] = 0 // as ReLU's derivative sets it, even under an infinite δ
				} else {
					d[i] *= values[1]
				}
			}
			return
		}
		for i, m := range mask {
			d[i] *= values[m&1]
		}
	}
	n.acts[l-1].mulDerivative(d, bp.a[l].RawMatrix().Data, bp.zHid[l-1], n.sizes[l], n.slope)
}

// l2Penalty returns ½·λ·Σ‖W‖² over the weights of n (not the biases).
func (n *Network) l2Penalty(l2 float64) float64 {
	if l2 == 0 {
		return 0
	}
	var s float64
	for _, w := range n.w {
		raw := w.RawMatrix().Data
		s += blas64.Dot(blas64.Vector{N: len(raw), Data: raw, Inc: 1}, blas64.Vector{N: len(raw), Data: raw, Inc: 1})
	}
	return 0.5 * l2 * s
}
