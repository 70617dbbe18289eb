package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/neuralgo/nn/internal/excerpt"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Init is a scheme for drawing initial weights. Biases always start at zero.
// The zero value is StandardNormal, the tutorial's np.random.randn.
type Init int

const (
	// StandardNormal draws every weight from the standard normal N(0, 1).
	StandardNormal Init = iota
	// Xavier (Glorot) draws from N(0, 2/(in+out)); it suits sigmoid and
	// tanh layers.
	Xavier
	// He draws from N(0, 2/in); it suits ReLU layers.
	He
)

var inits = enum[Init]{"Init", "weight initialisation", []string{
	StandardNormal: "normal",
	Xavier:         "xavier",
	He:             "he",
}}

// String returns the scheme's name: "normal", "xavier" or "he".
func (i Init) String() string { return inits.name(i) }

// MarshalText returns the scheme's name, or an error if i is not a valid
// Init.
func (i Init) MarshalText() ([]byte, error) { return inits.marshal(i) }

// UnmarshalText sets i to the scheme named text: "normal", "xavier" or
// "he".
func (i *Init) UnmarshalText(text []byte) error { return inits.unmarshal(i, text) }

// Config describes a network for New.
type Config struct {
	// Sizes are the layer sizes from input to output; the tutorial's
	// network is {2, 3, 1}. At least two sizes, all positive.
	Sizes []int
	// Activations holds one activation per weight layer, that is
	// len(Sizes)−1 of them. Nil means Sigmoid everywhere, as in the
	// tutorial.
	Activations []Activation
	// NoBias leaves out the bias vectors. The zero value gives every layer
	// a bias, which real data needs (without one, a layer's decision
	// boundary must pass through the origin); the tutorial's network has
	// none and sets NoBias.
	NoBias bool
	// Loss is the cost to minimise; the zero value is SquaredError.
	// CrossEntropy needs a Softmax output layer and BinaryCrossEntropy a
	// Sigmoid one.
	Loss Loss
	// Init chooses how initial weights are drawn; the zero value is
	// StandardNormal, the tutorial's.
	Init Init
	// Seed seeds the random source of the initial weights.
	Seed uint64
	// LeakySlope is the slope s of the LeakyReLU layers for z < 0, in
	// [0, 1); zero means 0.01, as PyTorch's default.
	LeakySlope float64
}

// Network is a fully connected feed-forward network. Its parameters are
// changed only by Train, by Trainer.Step and by writing to the views
// returned by Params, Weights and Bias.
type Network struct {
	sizes []int
	acts  []Activation
	bias  bool
	loss  Loss
	slope float64 // of the LeakyReLU layers

	params []float64    // all weights and biases, layer by layer: W(l) row-major, then b(l)
	w      []*mat.Dense // views of params
	b      [][]float64  // views of params; nil without biases

	p32 *params32 // the weights that predictions use in float32 (SetPrecision); nil in float64
}

// New returns a network built and initialised as c describes. It returns an
// error wrapping ErrConfig if c is invalid, its sizes included: at most
// 1<<28 parameters, as a model file holds, and ErrMemoryBudget if they
// would not fit in the memory budget (see SetMemoryBudget).
func New(c Config) (*Network, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	if err := c.paramsOverBudget(paramCount(c.Sizes, !c.NoBias)); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	n := newNetwork(c.Sizes, c.Activations, !c.NoBias, c.Loss)
	n.slope = c.slope()
	rnd := rand.New(rand.NewPCG(c.Seed, 0x6e6e2d696e6974)) // "nn-init"
	for _, w := range n.w {
		in, out := w.Dims()
		std := 1.0
		switch c.Init {
		case Xavier:
			std = math.Sqrt(2 / float64(in+out))
		case He:
			std = math.Sqrt(2 / float64(in))
		}
		raw := w.RawMatrix().Data
		for i := range raw {
			raw[i] = std * rnd.NormFloat64()
		}
	}
	return n, nil
}

// check returns an error wrapping ErrConfig, without the package's prefix,
// if c is not a valid configuration.
func (c *Config) check() error {
	if len(c.Sizes) < 2 {
		return fmt.Errorf("Config.Sizes has %d sizes, want at least 2 (input and output): %w", len(c.Sizes), ErrConfig)
	}
	for i, s := range c.Sizes {
		if s <= 0 {
			return fmt.Errorf("Config.Sizes[%d] is %d, want a positive size: %w", i, s, ErrConfig)
		}
	}
	if err := c.tooManyParams(paramCount(c.Sizes, !c.NoBias)); err != nil {
		return err
	}
	L := len(c.Sizes) - 1
	if s := c.LeakySlope; !(s >= 0 && s < 1) {
		return fmt.Errorf("Config.LeakySlope is %v, want a slope in [0, 1) (0 for 0.01): %w", s, ErrConfig)
	}
	if c.Activations != nil && len(c.Activations) != L {
		return fmt.Errorf("Config.Activations has %d entries, want %d (one per weight layer): %w", len(c.Activations), L, ErrConfig)
	}
	for l, a := range c.Activations {
		if !activations.valid(a) {
			return fmt.Errorf("Config.Activations[%d] is %v: %w", l, a, ErrConfig)
		}
		if a == Softmax && l != L-1 {
			return fmt.Errorf("Config.Activations[%d] is softmax, allowed on the output layer only: %w", l, ErrConfig)
		}
		if a == Softmax && c.Sizes[L] < 2 {
			return fmt.Errorf("a softmax output layer needs at least 2 outputs, not %d: %w", c.Sizes[L], ErrConfig)
		}
	}
	out := Sigmoid
	if c.Activations != nil {
		out = c.Activations[L-1]
	}
	switch c.Loss {
	case SquaredError:
	case CrossEntropy:
		if out != Softmax {
			return fmt.Errorf("cross-entropy loss needs a softmax output layer, not %v: %w", out, ErrConfig)
		}
	case BinaryCrossEntropy:
		if out != Sigmoid {
			return fmt.Errorf("binary-cross-entropy loss needs a sigmoid output layer, not %v: %w", out, ErrConfig)
		}
	default:
		return fmt.Errorf("unknown Config.Loss %v: %w", c.Loss, ErrConfig)
	}
	if !inits.valid(c.Init) {
		return fmt.Errorf("unknown Config.Init %v: %w", c.Init, ErrConfig)
	}
	return nil
}

// paramCount returns the number of weights and biases of a network of the
// given sizes, as a float64 so that sizes from input cannot overflow it.
func paramCount(sizes []int, bias bool) float64 {
	var p float64
	for l := 1; l < len(sizes); l++ {
		p += float64(sizes[l-1]) * float64(sizes[l])
		if bias {
			p += float64(sizes[l])
		}
	}
	return p
}

// tooManyParams returns an error wrapping ErrConfig if p, the parameters
// of c's sizes, are more than a model file holds.
func (c Config) tooManyParams(p float64) error {
	if p > maxModelParams {
		return fmt.Errorf("Config.Sizes %s make %.0f parameters, more than the %d that a model file holds: %w", excerpt.List(c.Sizes), p, maxModelParams, ErrConfig)
	}
	return nil
}

// paramsOverBudget returns an error wrapping ErrMemoryBudget if p, the
// parameters of c's sizes, do not fit in the memory budget.
func (c Config) paramsOverBudget(p float64) error {
	return overBudget(p*float64Bytes, fmt.Sprintf("the %.0f parameters of a network of sizes %s", p, excerpt.List(c.Sizes)))
}

// newNetwork allocates a zeroed network; the arguments must be valid.
func newNetwork(sizes []int, acts []Activation, bias bool, loss Loss) *Network {
	L := len(sizes) - 1
	n := &Network{
		sizes: append([]int(nil), sizes...),
		acts:  make([]Activation, L),
		bias:  bias,
		loss:  loss,
		w:     make([]*mat.Dense, L),
		b:     make([][]float64, L),
	}
	copy(n.acts, acts) // nil acts leaves Sigmoid, the zero value
	total := 0
	for l := 0; l < L; l++ {
		total += sizes[l] * sizes[l+1]
		if bias {
			total += sizes[l+1]
		}
	}
	n.params = make([]float64, total)
	n.w, n.b = layerViews(n.params, sizes, bias)
	return n
}

// layerViews returns weight matrices and bias vectors that view p, laid out
// as the parameters of a network with the given sizes.
func layerViews(p []float64, sizes []int, bias bool) ([]*mat.Dense, [][]float64) {
	L := len(sizes) - 1
	w := make([]*mat.Dense, L)
	b := make([][]float64, L)
	off := 0
	for l := 0; l < L; l++ {
		in, out := sizes[l], sizes[l+1]
		w[l] = mat.NewDense(in, out, p[off:off+in*out:off+in*out])
		off += in * out
		if bias {
			b[l] = p[off : off+out : off+out]
			off += out
		}
	}
	return w, b
}

// Config returns the configuration of n. Its Seed and Init are zero: they
// describe how weights were first drawn, which n does not record.
func (n *Network) Config() Config {
	return Config{
		Sizes:       append([]int(nil), n.sizes...),
		Activations: append([]Activation(nil), n.acts...),
		NoBias:      !n.bias,
		Loss:        n.loss,
		LeakySlope:  n.slope,
	}
}

// leakySlope returns the slope of n's LeakyReLU layers, or 0 if it has
// none.
func (n *Network) leakySlope() float64 {
	if slices.Contains(n.acts, LeakyReLU) {
		return n.slope
	}
	return 0
}

// defaultLeakySlope is LeakyReLU's slope when Config.LeakySlope is zero.
const defaultLeakySlope = 0.01

// slope returns the slope of c's LeakyReLU layers.
func (c *Config) slope() float64 {
	if c.LeakySlope == 0 {
		return defaultLeakySlope
	}
	return c.LeakySlope
}

// Layers returns the number of weight layers, len(Sizes)−1.
func (n *Network) Layers() int { return len(n.w) }

// Sizes returns the layer sizes, input first.
func (n *Network) Sizes() []int { return append([]int(nil), n.sizes...) }

// Weights returns the weight matrix of layer l (0-based: Weights(0) is the
// tutorial's W1), with one row per input and one column per output. The
// matrix is a view of n's parameters, not a copy: writing to it changes n.
// Weights panics if l is out of range.
func (n *Network) Weights(l int) *mat.Dense { return n.w[l] }

// Bias returns the bias vector of layer l, or nil if n has no biases. Like
// Weights it is a view of n's parameters. Bias panics if l is out of range.
func (n *Network) Bias(l int) []float64 { return n.b[l] }

// Params returns all weights and biases of n as one slice, layer by layer:
// the elements of W(l) in row-major order followed by b(l). It is a view:
// writing to it changes n.
func (n *Network) Params() []float64 { return n.params }

// Clone returns a deep copy of n.
func (n *Network) Clone() *Network {
	c := newNetwork(n.sizes, n.acts, n.bias, n.loss)
	c.slope = n.slope
	copy(c.params, n.params)
	if n.p32 != nil {
		// The clone predicts as n does, from the same float32 weights.
		c.p32 = newParams32(c)
		copy(c.p32.flat, n.p32.flat)
	}
	return c
}

// checkInput returns an error if x cannot go through n.
func (n *Network) checkInput(name string, x mat.Matrix) error {
	r, c := x.Dims()
	if r == 0 {
		return fmt.Errorf("nn: %s has no rows: %w", name, ErrEmpty)
	}
	if c != n.sizes[0] {
		return fmt.Errorf("nn: %s is %d×%d, want %d columns (the network's input size): %w", name, r, c, n.sizes[0], ErrShape)
	}
	return checkFinite(name, x)
}

// checkPredict is checkInput for a prediction: a network that predicts in
// float32 also refuses values beyond float32's range, in the same pass.
func (n *Network) checkPredict(name string, x mat.Matrix) error {
	if n.p32 == nil {
		return n.checkInput(name, x)
	}
	r, c := x.Dims()
	if r == 0 || c != n.sizes[0] {
		return n.checkInput(name, x)
	}
	return checkFinite32(name, x)
}

// checkTarget returns an error if y does not fit n's output for r examples.
func (n *Network) checkTarget(name string, y mat.Matrix, r int) error {
	yr, yc := y.Dims()
	out := n.sizes[len(n.sizes)-1]
	if yr != r || yc != out {
		return fmt.Errorf("nn: %s is %d×%d, want %d×%d (one row per example, one column per output): %w", name, yr, yc, r, out, ErrShape)
	}
	return checkFinite(name, y)
}

// layer computes dst = f(a·W(l) + b(l)) for layer l. dst must be r×out and
// contiguous, a r×in. If z is not nil it receives the weighted input
// a·W(l) + b(l) before the activation. A single row goes through a
// matrix-vector product, which is much faster than a one-row Gemm.
func (n *Network) layer(l int, dst, a *mat.Dense, z []float64) {
	w := n.w[l]
	r, _ := a.Dims()
	_, out := w.Dims()
	raw := dst.RawMatrix().Data[:r*out]
	if r == 1 {
		// zᵀ = Wᵀ·aᵀ
		ar := a.RawMatrix()
		gemvT(w, ar.Data[:ar.Cols], raw)
	} else {
		// z = a·W, the tutorial's z2 = X·W1 and z3 = a2·W2
		mul(dst, 1, blas.NoTrans, a, blas.NoTrans, w, 0)
	}
	if z != nil {
		// Keep the weighted input for the cross-entropy costs.
		if n.b[l] != nil {
			addBias(raw, n.b[l])
		}
		copy(z, raw)
		n.acts[l].applyFlat(raw, out, n.slope)
		return
	}
	// a = f(z + b), the tutorial's a2 = σ(z2) and ŷ = σ(z3)
	n.acts[l].apply(raw, n.b[l], out, n.slope)
}

// Workspace holds the buffers of a forward pass so that PredictTo allocates
// nothing once warm. The zero value is ready to use. A Workspace must not be
// used by two goroutines at once; give each goroutine its own.
type Workspace struct {
	buf [2][]float64
	m   [2]mat.Dense
	f32 [3][]float32 // the input and two layers' outputs, in float32
}

// matrix returns a contiguous r×c matrix over buffer k, growing it if needed.
func (ws *Workspace) matrix(k, r, c int) *mat.Dense {
	m := &ws.m[k]
	if mr, mc := m.Dims(); mr == r && mc == c {
		return m
	}
	if cap(ws.buf[k]) < r*c {
		ws.buf[k] = make([]float64, r*c)
	}
	m.SetRawMatrix(blas64.General{Rows: r, Cols: c, Stride: c, Data: ws.buf[k][:r*c]})
	return m
}

// Predict returns the network's output for each row of x, the tutorial's
// feedforward. It returns an error if x is empty, has the wrong number of
// columns or holds NaN or infinite values (or, predicting in Float32,
// values beyond float32's range), or if the output would not fit
// in the memory budget (an error wrapping ErrMemoryBudget, see
// SetMemoryBudget); large batches go through the network in blocks of
// rows. Predict may be called from many goroutines at once.
func (n *Network) Predict(x mat.Matrix) (*mat.Dense, error) {
	if err := n.checkPredict("X", x); err != nil {
		return nil, err
	}
	r, _ := x.Dims()
	if err := n.checkOutput(r); err != nil {
		return nil, err
	}
	dst := mat.NewDense(r, n.sizes[len(n.sizes)-1], nil)
	var ws Workspace
	n.forwardTo(dst, asDense(x), &ws, n.blockRows(1))
	return dst, nil
}

// PredictTo writes the network's output for each row of x into dst, using
// ws for intermediate results, and allocates nothing once ws has grown to
// the batch size and x is a *mat.Dense (other matrices are copied into
// one). It returns the same errors as Predict. PredictTo panics
// if dst is not r×out, where r is the number of rows of x and out the
// network's output size, or if ws is nil.
func (n *Network) PredictTo(dst *mat.Dense, x mat.Matrix, ws *Workspace) error {
	if err := n.checkPredict("X", x); err != nil {
		return err
	}
	r, _ := x.Dims()
	out := n.sizes[len(n.sizes)-1]
	if dr, dc := dst.Dims(); dr != r || dc != out {
		panic(fmt.Sprintf("nn: PredictTo destination is %d×%d, want %d×%d", dr, dc, r, out))
	}
	n.forwardTo(dst, asDense(x), ws, n.blockRows(1))
	return nil
}

// predictShare is the share of the memory budget that the intermediate
// results of a prediction may take: 256 MiB of the default budget.
const predictShare = 16

// maxBlockRows is the most rows that go through the network at once in a
// prediction: the matrix products run as fast on a few thousand rows as on
// more, and larger blocks would only hold more memory.
const maxBlockRows = 4096

// blockRows returns the most rows whose intermediate results, the outputs
// of two layers, fit in the share of the memory budget that prediction
// takes, for each of workers goroutines predicting at once, and at most
// maxBlockRows.
func (n *Network) blockRows(workers int) int {
	widest := 0
	for _, s := range n.sizes[1:] {
		widest = max(widest, s)
	}
	return max(1, min(maxBlockRows, int(MemoryBudget()/predictShare/int64(workers)/int64(2*widest*float64Bytes))))
}

// forwardTo runs the checked input a through the network into dst, in
// blocks of at most block rows (see blockRows): a batch of many rows
// through a very wide layer would otherwise need rows×width buffers. (The
// results are those of the whole batch, to the last bit in pure Go; an
// OpenBLAS product may sum in another order for another number of rows.)
func (n *Network) forwardTo(dst, a *mat.Dense, ws *Workspace, block int) {
	r, c := a.Dims()
	if r <= block {
		n.forwardBlock(dst, a, ws)
		return
	}
	out := n.sizes[len(n.sizes)-1]
	for lo := 0; lo < r; lo += block {
		hi := min(lo+block, r)
		n.forwardBlock(dst.Slice(lo, hi, 0, out).(*mat.Dense), a.Slice(lo, hi, 0, c).(*mat.Dense), ws)
	}
}

// forwardBlock runs the checked input a through the network into dst.
func (n *Network) forwardBlock(dst, a *mat.Dense, ws *Workspace) {
	if n.p32 != nil {
		n.forwardBlock32(dst, a, ws)
		return
	}
	r, _ := a.Dims()
	out := n.sizes[len(n.sizes)-1]
	L := len(n.w)
	for l := 0; l < L; l++ {
		next := dst
		if l < L-1 {
			next = ws.matrix(l%2, r, n.sizes[l+1])
		}
		if next == dst && dst.RawMatrix().Stride != out {
			// dst is a view with padding: compute into a buffer, then copy.
			next = ws.matrix(l%2, r, out)
			n.layer(l, next, a, nil)
			dst.Copy(next)
			return
		}
		n.layer(l, next, a, nil)
		a = next
	}
}

// PredictParallel is Predict for large batches: it splits the rows of x
// into blocks and scores them on up to GOMAXPROCS goroutines at once, each
// with its own Workspace. It returns the same errors as Predict, and may be
// called from many goroutines at once.
func (n *Network) PredictParallel(x mat.Matrix) (*mat.Dense, error) {
	if err := n.checkPredict("X", x); err != nil {
		return nil, err
	}
	r, c := x.Dims()
	if err := n.checkOutput(r); err != nil {
		return nil, err
	}
	out := n.sizes[len(n.sizes)-1]
	dst := mat.NewDense(r, out, nil)
	const minBlock = 256 // rows below which another goroutine costs more than it saves
	workers := min(runtime.GOMAXPROCS(0), (r+minBlock-1)/minBlock)
	if workers <= 1 {
		var ws Workspace
		n.forwardTo(dst, asDense(x), &ws, n.blockRows(1))
		return dst, nil
	}
	xd := asDense(x)
	block := (r + workers - 1) / workers
	inner := n.blockRows(workers)
	var wg sync.WaitGroup
	for lo := 0; lo < r; lo += block {
		hi := min(lo+block, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ws Workspace
			n.forwardTo(dst.Slice(lo, hi, 0, out).(*mat.Dense), xd.Slice(lo, hi, 0, c).(*mat.Dense), &ws, inner)
		}()
	}
	wg.Wait()
	return dst, nil
}

// checkOutput returns an error if the outputs of rows rows would not fit
// in the memory budget.
func (n *Network) checkOutput(rows int) error {
	out := n.sizes[len(n.sizes)-1]
	if err := overBudget(float64(rows)*float64(out)*float64Bytes, fmt.Sprintf("the outputs of %d rows by %d", rows, out)); err != nil {
		return fmt.Errorf("nn: %w", err)
	}
	return nil
}

// Classify returns the predicted class of each row of x, as ClassesTo
// reads Predict's outputs. It returns the same errors as Predict.
func (n *Network) Classify(x mat.Matrix) ([]int, error) {
	p, err := n.Predict(x)
	if err != nil {
		return nil, err
	}
	return n.ClassesTo(nil, p), nil
}

// ClassesTo writes into dst the class that each row of p, an output of n
// such as Predict returns, predicts, and returns dst (a nil or short dst
// is replaced by a new slice). With one output per class that is the index
// of the largest output (the first on a tie; NaN never wins). A single
// output stands for two classes, 0 and 1: class 1 where the output is at
// least 0.5 (the middle of Sigmoid's range, and of 0/1 targets learned by
// an Identity output), or at least 0 for a Tanh output. ClassesTo panics
// if p does not have n's output width.
func (n *Network) ClassesTo(dst []int, p mat.Matrix) []int {
	r, c := p.Dims()
	if out := n.sizes[len(n.sizes)-1]; c != out {
		panic(fmt.Sprintf("nn: ClassesTo of a %d×%d matrix, want %d columns", r, c, out))
	}
	if cap(dst) < r {
		dst = make([]int, r)
	}
	dst = dst[:r]
	if c > 1 {
		return ArgMax(dst, p)
	}
	threshold := 0.5
	if n.acts[len(n.acts)-1] == Tanh {
		threshold = 0
	}
	for i := range dst {
		dst[i] = 0
		if p.At(i, 0) >= threshold {
			dst[i] = 1
		}
	}
	return dst
}
