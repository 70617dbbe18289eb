//go:build amd64 && !purego

#include "textflag.h"

// Constants of the float32 vector exponential; see sigmoid_amd64.go.
DATA sigs<>+0(SB)/4, $0x42ae0000  // 87, the clamp
DATA sigs<>+4(SB)/4, $0xc2ae0000  // -87
DATA sigs<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA sigs<>+12(SB)/4, $0x4b400000 // 1.5·2²³, rounds to an integer
DATA sigs<>+16(SB)/4, $0x3f317200 // ln2, high part
DATA sigs<>+20(SB)/4, $0x35bfbe8e // ln2, low part
DATA sigs<>+24(SB)/4, $0x3f800000 // 1
DATA sigs<>+28(SB)/4, $127        // exponent bias
DATA sigs<>+32(SB)/4, $0x39500d01 // 1/7!
DATA sigs<>+36(SB)/4, $0x3ab60b61 // 1/6!
DATA sigs<>+40(SB)/4, $0x3c088889 // 1/5!
DATA sigs<>+44(SB)/4, $0x3d2aaaab // 1/4!
DATA sigs<>+48(SB)/4, $0x3e2aaaab // 1/3!
DATA sigs<>+52(SB)/4, $0x3f000000 // 1/2!
GLOBL sigs<>(SB), RODATA|NOPTR, $56

// SIGMOID8 replaces the eight floats of Y0 by 1/(1+exp(-Y0)), using
// Y1-Y6; Y8-Y15 hold the constants loaded by SIGSETUP8. As SIGMOID4 in
// float64: v = n·ln2 + r, e^r by its Taylor series to degree 7, 2^n from
// the exponent bits.
#define SIGMOID8 \
	VXORPS       Y1, Y1, Y1 \
	VSUBPS       Y0, Y1, Y0 \ // v = -z
	VMINPS       Y0, Y8, Y0 \ // min(87, v), NaN stays
	VMAXPS       Y0, Y9, Y0 \ // max(-87, v), NaN stays
	VMOVAPS      Y11, Y1 \
	VFMADD231PS  Y10, Y0, Y1 \ // t = v·log2e + 1.5·2²³
	VSUBPS       Y11, Y1, Y2 \ // n = t − 1.5·2²³
	VMOVAPS      Y0, Y3 \
	VFNMADD231PS Y12, Y2, Y3 \ // r = v − n·ln2hi
	VFNMADD231PS Y13, Y2, Y3 \ // r −= n·ln2lo
	VBROADCASTSS sigs<>+32(SB), Y4 \
	VBROADCASTSS sigs<>+36(SB), Y5 \
	VFMADD213PS  Y5, Y3, Y4 \ // p = p·r + 1/6!
	VBROADCASTSS sigs<>+40(SB), Y5 \
	VFMADD213PS  Y5, Y3, Y4 \
	VBROADCASTSS sigs<>+44(SB), Y5 \
	VFMADD213PS  Y5, Y3, Y4 \
	VBROADCASTSS sigs<>+48(SB), Y5 \
	VFMADD213PS  Y5, Y3, Y4 \
	VBROADCASTSS sigs<>+52(SB), Y5 \
	VFMADD213PS  Y5, Y3, Y4 \ // ... + 1/2!
	VFMADD213PS  Y14, Y3, Y4 \ // ... + 1
	VFMADD213PS  Y14, Y3, Y4 \ // ... + 1: p = e^r
	VPADDD       Y15, Y1, Y6 \ // the low bits of t hold n
	VPSLLD       $23, Y6, Y6 \ // 2^n
	VMULPS       Y6, Y4, Y4 \ // e^v = 2^n·e^r
	VADDPS       Y14, Y4, Y4 \
	VDIVPS       Y4, Y14, Y0 // 1/(1+e^v)

#define SIGSETUP8 \
	VBROADCASTSS sigs<>+0(SB), Y8 \
	VBROADCASTSS sigs<>+4(SB), Y9 \
	VBROADCASTSS sigs<>+8(SB), Y10 \
	VBROADCASTSS sigs<>+12(SB), Y11 \
	VBROADCASTSS sigs<>+16(SB), Y12 \
	VBROADCASTSS sigs<>+20(SB), Y13 \
	VBROADCASTSS sigs<>+24(SB), Y14 \
	VPBROADCASTD sigs<>+28(SB), Y15

// func sigmoid8(x []float32)
// x[i] = σ(x[i]) for the first len(x)/8·8 elements.
TEXT ·sigmoid8(SB), NOSPLIT, $0-24
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	SHRQ $3, CX
	JZ   done8
	SIGSETUP8

loop8:
	VMOVUPS (SI), Y0
	SIGMOID8
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     loop8
	VZEROUPPER

done8:
	RET

// func sigmoidBias8(x, b []float32)
// x[i] = σ(x[i] + b[i]) for the first len(x)/8·8 elements; len(b) ≥ len(x).
TEXT ·sigmoidBias8(SB), NOSPLIT, $0-48
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	SHRQ $3, CX
	JZ   donebias8
	SIGSETUP8

loopbias8:
	VMOVUPS (SI), Y0
	VADDPS  (DI), Y0, Y0
	SIGMOID8
	VMOVUPS Y0, (SI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loopbias8
	VZEROUPPER

donebias8:
	RET
