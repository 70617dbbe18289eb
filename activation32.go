package nn

import "math"

// The activations in float32: each value is computed in float64, where an
// exponential or a tangent is needed, and rounded once; but the sigmoid,
// most of the work, runs in float32 eight at a time on processors with
// AVX2 (sigmoid_amd64.go).

// sigmoidOf32 returns σ(v), computed in float64.
func sigmoidOf32(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

// apply32 is apply for float32: z ← f(z + b), b nil for none.
func (a Activation) apply32(z, b []float32, cols int, slope float32) {
	if b == nil {
		a.applyFlat32(z, cols, slope)
		return
	}
	switch a {
	case Sigmoid:
		for off := 0; off < len(z); off += cols {
			row := z[off : off+cols]
			k, _ := sigmoidVec32(row, b)
			for j, v := range b[k:] {
				row[k+j] = sigmoidOf32(row[k+j] + v)
			}
		}
	case ReLU:
		for off := 0; off < len(z); off += cols {
			row := z[off : off+cols]
			for j, v := range b {
				row[j] = max(row[j]+v, 0)
			}
		}
	default:
		addBias32(z, b)
		a.applyFlat32(z, cols, slope)
	}
}

// applyFlat32 is applyFlat for float32.
func (a Activation) applyFlat32(z []float32, cols int, slope float32) {
	if a.modern() {
		s := float64(slope)
		for i, v := range z {
			z[i] = float32(a.scalar(float64(v), s))
		}
		return
	}
	switch a {
	case Sigmoid:
		k, _ := sigmoidVec32(z, nil)
		for i, v := range z[k:] {
			z[k+i] = sigmoidOf32(v)
		}
	case Tanh:
		for i, v := range z {
			z[i] = float32(math.Tanh(float64(v)))
		}
	case ReLU:
		for i, v := range z {
			z[i] = max(v, 0)
		}
	case Identity:
	case Softmax:
		for off := 0; off < len(z); off += cols {
			softmax32(z[off : off+cols])
		}
	default:
		panic("nn: bad activation")
	}
}

// softmax32 replaces row by exp(row)/Σexp(row), computed in float64.
func softmax32(row []float32) {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = max(mx, float64(v))
	}
	var sum float64
	for _, v := range row {
		sum += math.Exp(float64(v) - mx)
	}
	inv := 1 / sum
	for j, v := range row {
		row[j] = float32(math.Exp(float64(v)-mx) * inv)
	}
}

// mulDerivative32 is mulDerivative for float32.
func (a Activation) mulDerivative32(d, out, z []float32, cols int, slope float32) {
	out = out[:len(d)]
	if a.modern() {
		s := float64(slope)
		if a.needsInput() {
			z = z[:len(d)]
			for i, v := range z {
				d[i] *= float32(a.derivative(float64(v), float64(out[i]), s))
			}
			return
		}
		for i, v := range out {
			d[i] *= float32(a.derivative(0, float64(v), s))
		}
		return
	}
	switch a {
	case Sigmoid:
		for i, v := range out {
			d[i] *= v * (1 - v)
		}
	case Tanh:
		for i, v := range out {
			d[i] *= 1 - v*v
		}
	case ReLU:
		// d ← 0 where the output is +0, without a branch, which the
		// signs of a layer's inputs would make unpredictable: an output
		// of ReLU is +0, positive or NaN, and its bits are 0 only for +0.
		for i, v := range out {
			b := math.Float32bits(v)
			keep := uint32(int32(b|-b) >> 31) // all ones unless b is 0
			d[i] = math.Float32frombits(math.Float32bits(d[i]) & keep)
		}
	case Identity:
	case Softmax:
		for off := 0; off < len(d); off += cols {
			dr, ar := d[off:off+cols], out[off:off+cols]
			var dot float64
			for j, v := range dr {
				dot += float64(v) * float64(ar[j])
			}
			dot32 := float32(dot)
			for j := range dr {
				dr[j] = ar[j] * (dr[j] - dot32)
			}
		}
	default:
		panic("nn: bad activation")
	}
}

// addBias32 adds b to every row of z, which has len(b) columns.
func addBias32(z, b []float32) {
	cols := len(b)
	for off := 0; off < len(z); off += cols {
		row := z[off : off+cols]
		for j, v := range b {
			row[j] += v
		}
	}
}
