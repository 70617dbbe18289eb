//go:build amd64 && !purego

package nn

// The sigmoid's exponentials are most of a training step's work outside the
// matrix products: math.Exp costs about 7 ns an element. On processors with
// AVX2 and FMA, sigmoid_amd64.s computes four at a time, with the method of
// math.Exp (Cody and Waite's reduction x = n·ln2 + r, |r| ≤ ln2/2, then
// e^r by its Taylor series to degree 12 and 2^n by the exponent bits),
// within a few units in the last place. Build with -tags purego for the
// scalar loops alone.

//go:noescape
func sigmoid4(x []float64)

//go:noescape
func sigmoidBias4(x, b []float64)

//go:noescape
func adam4(w, g, m, v []float64, lr, b1, b2, eps float64)

func hasAVX2FMA() bool

var useAVX2 = hasAVX2FMA()

func init() {
	if useAVX2 {
		kernels = "AVX2 sigmoid and Adam"
	}
}

// sigmoidVec sets x[i] = σ(x[i] + b[i]) (b nil: σ(x[i])) and reports
// whether it could; it leaves the tail of fewer than four to the caller and
// returns its start.
func sigmoidVec(x, b []float64) (int, bool) {
	if !useAVX2 {
		return 0, false
	}
	if b == nil {
		sigmoid4(x)
	} else {
		sigmoidBias4(x, b[:len(x)])
	}
	return len(x) &^ 3, true
}

// adamVec applies the Adam update to the parameters [0, k) and returns k,
// leaving the tail of fewer than four to the caller; k is 0 without AVX2.
func adamVec(w, g, m, v []float64, lr, b1, b2, eps float64) int {
	if !useAVX2 {
		return 0
	}
	n := len(g)
	adam4(w[:n], g, m[:n], v[:n], lr, b1, b2, eps)
	return n &^ 3
}
