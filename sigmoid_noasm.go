//go:build !amd64 || purego

package nn

// sigmoidVec has no vector version here; see sigmoid_amd64.go.
func sigmoidVec(x, b []float64) (int, bool) { return 0, false }

// sigmoidVec32 has no vector version here; see sigmoid_amd64.go.
func sigmoidVec32(x, b []float32) (int, bool) { return 0, false }
