//go:build amd64 && !purego

package nn

// The element-wise loops of a training step that cost the most outside the
// matrix products have kernels in assembly for processors with AVX2 and
// FMA: the sigmoid (sigmoid_amd64.s) and the Adam update (adam_amd64.s).
// Each has a pure-Go twin (sigmoid_noasm.go, adam_noasm.go) for other
// processors and for builds with -tags purego, and the tests run both
// against one reference.

// hasAVX2FMA reports whether the processor and the operating system
// support AVX2 and FMA (cpu_amd64.s).
func hasAVX2FMA() bool

var useAVX2 = hasAVX2FMA()

func init() {
	if useAVX2 {
		kernels = "AVX2 sigmoid and Adam"
	}
}
