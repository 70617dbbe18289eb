//go:build !amd64 || purego

package nn

// widenVec and narrowVec have no vector versions here; see
// convert_amd64.go.
func widenVec(dst []float64, src []float32) int { return 0 }

func narrowVec(dst []float32, src []float64) (int, float32) { return 0, 0 }
