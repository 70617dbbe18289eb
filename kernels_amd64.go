//go:build amd64 && !purego

package nn

import "github.com/neuralgo/nn/internal/isa"

// The element-wise loops of a training step that cost the most outside the
// matrix products have kernels in assembly for processors with AVX2 and
// FMA: the sigmoid (sigmoid_amd64.s, and in float32 sigmoid32_amd64.s),
// the Adam update (adam_amd64.s) and the conversions between float64 and
// float32 (convert_amd64.s). Each has a pure-Go twin (sigmoid_noasm.go,
// adam_noasm.go, convert_noasm.go) for other processors and for builds
// with -tags purego, and the tests run both against one reference.

// useAVX2 says whether the processor and the operating system support
// AVX2 and FMA, as golang.org/x/sys/cpu reports them.
var useAVX2 = isa.AVX2FMA

func init() {
	if useAVX2 {
		kernels = "AVX2 sigmoid, Adam and float32 conversions"
	}
}
