//go:build amd64 && !purego

package nn

// The sigmoid's exponentials are most of a training step's work outside the
// matrix products: math.Exp costs about 7 ns an element. On processors with
// AVX2 and FMA, sigmoid_amd64.s computes four at a time: Cody and Waite's
// reduction x = n·ln2 + r, |r| ≤ ln2/2 (as in math.Exp), then e^r by its
// Taylor series to degree 12 and 2^n from the exponent bits, within a few
// units in the last place of 1/(1+math.Exp(−z)). The argument is clamped
// to |z| ≤ 708, so below z = −708 the result is 3.3e-308 rather than the
// subnormal or zero value; NaN stays NaN. Build with -tags purego for the
// scalar loops alone.

//go:noescape
func sigmoid4(x []float64)

//go:noescape
func sigmoidBias4(x, b []float64)

// sigmoidVec sets x[i] = σ(x[i] + b[i]) (b nil: σ(x[i])) and reports
// whether it could, returning len(x) if so and 0 if not.
func sigmoidVec(x, b []float64) (int, bool) {
	if !useAVX2 {
		return 0, false
	}
	if b == nil {
		sigmoid4(x)
	} else {
		sigmoidBias4(x, b[:len(x)])
	}
	// The last elements go through the kernel too, padded to four, so that
	// an element's value does not depend on where it sits in the batch.
	k := len(x) &^ 3
	if k < len(x) {
		var pad [4]float64
		copy(pad[:], x[k:])
		if b != nil {
			for i := range len(x) - k {
				pad[i] += b[k+i]
			}
		}
		sigmoid4(pad[:])
		copy(x[k:], pad[:])
	}
	return len(x), true
}

//go:noescape
func sigmoid8(x []float32)

//go:noescape
func sigmoidBias8(x, b []float32)

// sigmoidVec32 is sigmoidVec for float32, eight at a time
// (sigmoid32_amd64.s): the same method in single precision, with the
// series to degree 7, within two units in the last place of σ computed in
// float64 and rounded. The argument is clamped to |z| ≤ 87, so below
// z = −87 the result is 1.6e-38 rather than a subnormal or zero.
func sigmoidVec32(x, b []float32) (int, bool) {
	if !useAVX2 {
		return 0, false
	}
	if b == nil {
		sigmoid8(x)
	} else {
		sigmoidBias8(x, b[:len(x)])
	}
	k := len(x) &^ 7
	if k < len(x) {
		var pad [8]float32
		copy(pad[:], x[k:])
		if b != nil {
			for i := range len(x) - k {
				pad[i] += b[k+i]
			}
		}
		sigmoid8(pad[:])
		copy(x[k:], pad[:])
	}
	return len(x), true
}
