// Package isa says which instruction-set extensions the processor and the
// operating system support, for the vector kernels of package nn, from
// golang.org/x/sys/cpu, as package gemm reads them.
package isa

import "golang.org/x/sys/cpu"

// AVX2FMA reports whether the processor runs AVX2 and FMA and the
// operating system saves the ymm registers.
var AVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA
