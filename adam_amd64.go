//go:build amd64 && !purego

package nn

// adam4 is the Adam update of updateJob.run for the first len(g)/4·4
// parameters, four at a time (adam_amd64.s).
//
//go:noescape
func adam4(w, g, m, v []float64, lr, b1, b2, eps float64)

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

// adam8 is the float32 Adam update of updateJob.run32 for the first
// len(g)/8·8 parameters, eight at a time (adam_amd64.s).
//
//go:noescape
func adam8(w, g, m, v []float32, lr, b1, b2, eps float32)

// adamVec32 is adamVec for float32, eight at a time.
func adamVec32(w, g, m, v []float32, lr, b1, b2, eps float32) int {
	if !useAVX2 {
		return 0
	}
	n := len(g)
	adam8(w[:n], g, m[:n], v[:n], lr, b1, b2, eps)
	return n &^ 7
}
