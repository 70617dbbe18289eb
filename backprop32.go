package nn

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	"github.com/neuralgo/nn/gemm"
)

// Training in float32 (Settings.Precision) runs the passes of backprop.go
// on float32 buffers: the same equations, each a call of gemm.Sgemm where
// the float64 passes call Dgemm, with the weights in a float32 copy of the
// network's parameters that the Trainer writes back to the network.

// params32 is a float32 copy of a network's parameters, laid out as
// Network.Params, with views of each layer's weights and biases.
type params32 struct {
	flat []float32
	w    [][]float32 // w[l] is W(l), in×out, row by row
	b    [][]float32 // b[l] is b(l), nil without biases
}

// newParams32 returns the parameters of n rounded to float32.
func newParams32(n *Network) *params32 {
	p := &params32{flat: make([]float32, len(n.params))}
	p.w, p.b = layerViews32(p.flat, n.sizes, n.bias)
	toFloat32(p.flat, n.params)
	return p
}

// layerViews32 is layerViews for float32 parameters.
func layerViews32(p []float32, sizes []int, bias bool) ([][]float32, [][]float32) {
	L := len(sizes) - 1
	w := make([][]float32, L)
	b := make([][]float32, L)
	off := 0
	for l := 0; l < L; l++ {
		in, out := sizes[l], sizes[l+1]
		w[l] = p[off : off+in*out : off+in*out]
		off += in * out
		if bias {
			b[l] = p[off : off+out : off+out]
			off += out
		}
	}
	return w, b
}

// l2Penalty returns ½·λ·Σ‖W‖² over the weights of p, summed in float64.
func (p *params32) l2Penalty(l2 float64) float64 {
	if l2 == 0 {
		return 0
	}
	var s float64
	for _, w := range p.w {
		for _, v := range w {
			s += float64(v) * float64(v)
		}
	}
	return 0.5 * l2 * s
}

// backprop32 is backprop in float32: the buffers of a forward and
// backward pass over a batch, with the same names. Every matrix is
// contiguous, rows×cols row by row.
type backprop32 struct {
	net  *Network
	p    *params32
	rows int

	x, y     []float32 // the batch: a[0], and the targets (and weights)
	ycols    int       // columns of y: the outputs, and one more if weighted
	weighted bool

	// Dropout, as backprop's.
	masks [][]uint8
	drop  [][]float32
	keep  []uint64
	scale []float32
	rnd   *rand.PCG

	a     [][]float32 // a[l+1] = f(z(l+1)); a[0] = x
	zOut  []float32
	zHid  [][]float32
	delta [][]float32

	grad []float32
	gw   [][]float32
	gb   [][]float32
	ones []float32 // rows ones: δᵀ·1 sums the columns of δ
}

// backprop32Bytes returns the bytes that newBackprop32(n, rows) allocates:
// half of backprop's, and the batch rounded to float32.
func (n *Network) backprop32Bytes(rows int) float64 {
	batch := float64(rows) * float64(n.sizes[0]+n.sizes[len(n.sizes)-1]+1)
	return n.backpropBytes(rows)/2 + batch*float32Bytes
}

// newBackprop32 returns float32 buffers for batches of the given number
// of rows of the network whose parameters p holds.
func newBackprop32(n *Network, p *params32, rows int, weighted bool) *backprop32 {
	L := len(n.w)
	out := n.sizes[L]
	bp := &backprop32{
		net: n, p: p, rows: rows, weighted: weighted,
		x:     make([]float32, rows*n.sizes[0]),
		ycols: out,
		a:     make([][]float32, L+1),
		delta: make([][]float32, L),
		zOut:  make([]float32, rows*out),
		zHid:  make([][]float32, L),
		grad:  make([]float32, len(p.flat)),
		ones:  make([]float32, rows),
	}
	for i := range bp.ones {
		bp.ones[i] = 1
	}
	if weighted {
		bp.ycols++
	}
	bp.y = make([]float32, rows*bp.ycols)
	bp.a[0] = bp.x
	for l := 0; l < L; l++ {
		if l < L-1 && n.acts[l].needsInput() {
			bp.zHid[l] = make([]float32, rows*n.sizes[l+1])
		}
		bp.a[l+1] = make([]float32, rows*n.sizes[l+1])
		bp.delta[l] = make([]float32, rows*n.sizes[l+1])
	}
	bp.gw, bp.gb = layerViews32(bp.grad, n.sizes, n.bias)
	return bp
}

// setDropout is backprop.setDropout for bp.
func (bp *backprop32) setDropout(rates []float64, rnd *rand.PCG) {
	n := bp.net
	L := len(n.w)
	bp.masks = make([][]uint8, L-1)
	bp.drop = make([][]float32, L-1)
	bp.keep = make([]uint64, L-1)
	bp.scale = make([]float32, L-1)
	bp.rnd = rnd
	for l, p := range rates {
		if p == 0 {
			continue
		}
		bp.masks[l] = make([]uint8, bp.rows*n.sizes[l+1])
		bp.drop[l] = make([]float32, bp.rows*n.sizes[l+1])
		bp.keep[l] = uint64(math.Round(math.Ldexp(p, 16)))
		bp.scale[l] = float32(1 / (1 - p))
	}
}

// input returns the input of weight layer l, as backprop.input.
func (bp *backprop32) input(l int) []float32 {
	if l > 0 && bp.drop != nil && bp.drop[l-1] != nil {
		return bp.drop[l-1]
	}
	return bp.a[l]
}

// setBatch rounds x and y, which must have bp.rows rows, into the batch
// buffers; y may be nil for a forward pass only. It reports whether every
// value is finite in float32: false if one was beyond float32's range.
func (bp *backprop32) setBatch(x, y *mat.Dense) bool {
	ok := denseTo32(bp.x, x)
	if y != nil {
		ok = denseTo32(bp.y, y) && ok
	}
	return ok
}

// denseTo32 rounds the elements of m into dst, row after row, and reports
// whether every value written is finite.
func denseTo32(dst []float32, m *mat.Dense) bool {
	raw := m.RawMatrix()
	if raw.Stride == raw.Cols {
		return toFloat32(dst, raw.Data[:raw.Rows*raw.Cols])
	}
	ok := true
	for i := 0; i < raw.Rows; i++ {
		ok = toFloat32(dst[i*raw.Cols:(i+1)*raw.Cols], raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols]) && ok
	}
	return ok
}

// forward runs the batch through the network, as backprop.forward.
func (bp *backprop32) forward() {
	n := bp.net
	L := len(n.w)
	if bp.masks != nil {
		drawMasks(bp.masks, bp.keep, bp.rnd)
	}
	for l := 0; l < L; l++ {
		z := bp.zHid[l]
		if l == L-1 {
			z = bp.zOut
		}
		// a(l+1) = f(a(l)·W(l) + b(l))
		layer32(n, bp.p, l, bp.a[l+1], bp.input(l), bp.rows, z)
		if l < L-1 && bp.masks != nil && bp.masks[l] != nil {
			m := bp.masks[l]
			a, d := bp.a[l+1][:len(m)], bp.drop[l][:len(m)]
			values := [2]float32{0, bp.scale[l]}
			for i, v := range a {
				d[i] = v * values[m[i]&1]
			}
		}
	}
}

// layer32 computes dst = f(a·W(l) + b(l)) for layer l of n, whose
// parameters p holds in float32, for r rows, as Network.layer; z, if not
// nil, receives the weighted input.
func layer32(n *Network, p *params32, l int, dst, a []float32, r int, z []float32) {
	in, out := n.sizes[l], n.sizes[l+1]
	dst = dst[:r*out]
	if r == 1 {
		// zᵀ = Wᵀ·aᵀ
		gemm.Sgemv(blas.Trans, in, out, 1, p.w[l], out, a[:in], 1, 0, dst, 1)
	} else {
		// z = a·W
		gemm.Sgemm(blas.NoTrans, blas.NoTrans, r, out, in, 1, a, in, p.w[l], out, 0, dst, out)
	}
	act := n.acts[l]
	slope := float32(n.slope)
	if z != nil {
		if p.b[l] != nil {
			addBias32(dst, p.b[l])
		}
		copy(z, dst)
		act.apply32(dst, nil, out, slope)
		return
	}
	act.apply32(dst, p.b[l], out, slope)
}

// cost returns J summed over the batch, after forward.
func (bp *backprop32) cost() float64 { return bp.addCost(0) }

// addCost returns J plus the cost of each row of the batch, as
// backprop.addCost, each term computed and summed in float64.
func (bp *backprop32) addCost(J float64) float64 {
	L := len(bp.net.w)
	cols := bp.net.sizes[L]
	yHat := bp.a[L]
	var Ji float64
	acc := &J
	if bp.weighted {
		acc = &Ji
	}
	for i := 0; i < bp.rows; i++ {
		yr := bp.y[i*bp.ycols : i*bp.ycols+cols]
		off := i * cols
		Ji = 0
		switch bp.net.loss {
		case SquaredError:
			for j, v := range yr {
				d := float64(v) - float64(yHat[off+j])
				*acc += 0.5 * d * d
			}
		case CrossEntropy:
			z := bp.zOut[off : off+cols]
			lse := logSumExp32(z)
			for j, v := range yr {
				if v != 0 {
					*acc -= float64(v) * (float64(z[j]) - lse)
				}
			}
		case BinaryCrossEntropy:
			z := bp.zOut[off : off+cols]
			for j, v := range yr {
				zj := float64(z[j])
				*acc += math.Max(zj, 0) - float64(v)*zj + math.Log1p(math.Exp(-math.Abs(zj)))
			}
		}
		if bp.weighted {
			J += float64(bp.y[i*bp.ycols+cols]) * Ji
		}
	}
	return J
}

// logSumExp32 returns log Σ exp(z_j), in float64.
func logSumExp32(z []float32) float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, float64(v))
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s)
}

// backward computes the gradient of scale·J + ½·l2·Σ‖W‖² into bp.grad,
// after forward, as backprop.backward.
func (bp *backprop32) backward(scale, l2 float64) {
	n := bp.net
	bp.outputDelta(scale)
	for l := len(n.w) - 1; l >= 0; l-- {
		if l > 0 {
			bp.hiddenDelta(l)
		}
		in, out := n.sizes[l], n.sizes[l+1]
		// ∂J/∂W(l) = a(l)ᵀ·δ(l)
		gemm.Sgemm(blas.Trans, blas.NoTrans, in, out, bp.rows, 1, bp.input(l), in, bp.delta[l], out, 0, bp.gw[l], out)
		if l2 != 0 {
			// + λ·W(l)
			lam := float32(l2)
			for i, w := range bp.p.w[l] {
				bp.gw[l][i] += lam * w
			}
		}
		if gb := bp.gb[l]; gb != nil {
			// ∂J/∂b(l) = Σ_rows δ(l) = δ(l)ᵀ·1
			gemm.Sgemv(blas.Trans, bp.rows, out, 1, bp.delta[l], out, bp.ones, 1, 0, gb, 1)
		}
	}
}

// descend takes a gradient-descent step of size lr, after forward, as
// backprop.descend.
func (bp *backprop32) descend(scale, l2, lr float64) {
	n := bp.net
	bp.outputDelta(scale)
	for l := len(n.w) - 1; l >= 0; l-- {
		if l > 0 {
			bp.hiddenDelta(l)
		}
		in, out := n.sizes[l], n.sizes[l+1]
		// W(l) ← (1−ηλ)·W(l) − η·a(l)ᵀ·δ(l)
		gemm.Sgemm(blas.Trans, blas.NoTrans, in, out, bp.rows, float32(-lr), bp.input(l), in, bp.delta[l], out, float32(1-lr*l2), bp.p.w[l], out)
		if b := bp.p.b[l]; b != nil {
			// b(l) ← b(l) − η·δ(l)ᵀ·1
			gemm.Sgemv(blas.Trans, bp.rows, out, float32(-lr), bp.delta[l], out, bp.ones, 1, 1, b, 1)
		}
	}
}

// outputDelta sets δ(L) = ∂(scale·J)/∂z(L), as backprop.outputDelta.
func (bp *backprop32) outputDelta(scale float64) {
	n := bp.net
	L := len(n.w)
	out := n.sizes[L]
	yHat := bp.a[L][:bp.rows*out]
	d := bp.delta[L-1][:bp.rows*out]
	for i := 0; i < bp.rows; i++ {
		yr := bp.y[i*bp.ycols : i*bp.ycols+out]
		dr, hr := d[i*out:(i+1)*out], yHat[i*out:(i+1)*out]
		s := scale
		if bp.weighted {
			s *= float64(bp.y[i*bp.ycols+out])
		}
		s32 := float32(s)
		if n.loss == CrossEntropy {
			var sum float32
			for _, v := range yr {
				sum += v
			}
			for j, v := range yr {
				dr[j] = s32 * (hr[j]*sum - v)
			}
			continue
		}
		for j, v := range yr {
			dr[j] = s32 * (hr[j] - v)
		}
	}
	if n.loss == SquaredError {
		n.acts[L-1].mulDerivative32(d, yHat, bp.zOut, out, float32(n.slope))
	}
}

// hiddenDelta sets δ(l−1) from δ(l), for l > 0, as backprop.hiddenDelta.
func (bp *backprop32) hiddenDelta(l int) {
	n := bp.net
	in, out := n.sizes[l], n.sizes[l+1]
	// δ(l−1) = δ(l)·W(l)ᵀ ⊙ f′(z(l−1))
	gemm.Sgemm(blas.NoTrans, blas.Trans, bp.rows, in, out, 1, bp.delta[l], out, bp.p.w[l], out, 0, bp.delta[l-1], in)
	d := bp.delta[l-1][:bp.rows*in]
	if bp.masks != nil && bp.masks[l-1] != nil {
		mask := bp.masks[l-1]
		values := [2]float32{0, bp.scale[l-1]}
		if n.acts[l-1] == ReLU {
			a := bp.a[l][:len(mask)]
			for i, v := range a {
				if k := mask[i]; v <= 0 || k == 0 {
					d[i] = 0
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
	n.acts[l-1].mulDerivative32(d, bp.a[l], bp.zHid[l-1], in, float32(n.slope))
}
