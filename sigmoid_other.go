//go:build !amd64 || purego

package nn

// sigmoidVec has no vector version here; see sigmoid_amd64.go.
func sigmoidVec(x, b []float64) (int, bool) { return 0, false }

// adamVec has no vector version here; see sigmoid_amd64.go.
func adamVec(w, g, m, v []float64, lr, b1, b2, eps float64) int { return 0 }
