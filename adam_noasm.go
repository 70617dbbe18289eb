//go:build !amd64 || purego

package nn

// adamVec has no vector version here; see adam_amd64.go.
func adamVec(w, g, m, v []float64, lr, b1, b2, eps float64) int { return 0 }

// adamVec32 has no vector version here; see adam_amd64.go.
func adamVec32(w, g, m, v []float32, lr, b1, b2, eps float32) int { return 0 }
