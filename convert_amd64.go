//go:build amd64 && !purego

package nn

// The conversions between float64 and float32 of training in float32 (a
// batch in, the weights out after every Trainer.Step), eight values at a
// time in AVX (convert_amd64.s).

//go:noescape
func widen8(dst []float64, src []float32)

//go:noescape
func narrow8(dst []float32, src []float64) float32

// widenVec converts the first len(src)/8·8 values of src into dst and
// returns how many it converted: 0 without AVX2.
func widenVec(dst []float64, src []float32) int {
	if !useAVX2 {
		return 0
	}
	widen8(dst[:len(src)], src)
	return len(src) &^ 7
}

// narrowVec is widenVec from float64 to float32; it also returns the sum
// of f−f over the values f it wrote, NaN if one is not finite.
func narrowVec(dst []float32, src []float64) (int, float32) {
	if !useAVX2 {
		return 0, 0
	}
	acc := narrow8(dst[:len(src)], src)
	return len(src) &^ 7, acc
}
