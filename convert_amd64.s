//go:build amd64 && !purego

#include "textflag.h"

// func widen8(dst []float64, src []float32)
// dst[i] = float64(src[i]) for the first len(src)/8·8 elements; len(dst) ≥ len(src).
TEXT ·widen8(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   widendone

widenloop:
	VCVTPS2PD (SI), Y0
	VCVTPS2PD 16(SI), Y1
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)
	ADDQ      $32, SI
	ADDQ      $64, DI
	DECQ      CX
	JNZ       widenloop
	VZEROUPPER

widendone:
	RET

// func narrow8(dst []float32, src []float64) float32
// dst[i] = float32(src[i]), rounded to nearest, for the first len(src)/8·8
// elements; len(dst) ≥ len(src). It returns the sum of f−f over the
// values f written: 0 if they are all finite, NaN if not.
TEXT ·narrow8(SB), NOSPLIT, $0-52
	MOVQ   dst_base+0(FP), DI
	MOVQ   src_base+24(FP), SI
	MOVQ   src_len+32(FP), CX
	VXORPS X4, X4, X4
	SHRQ   $3, CX
	JZ     narrowdone

narrowloop:
	VCVTPD2PSY (SI), X0
	VCVTPD2PSY 32(SI), X1
	VMOVUPS    X0, (DI)
	VMOVUPS    X1, 16(DI)
	VSUBPS     X0, X0, X2
	VSUBPS     X1, X1, X3
	VADDPS     X2, X4, X4
	VADDPS     X3, X4, X4
	ADDQ       $64, SI
	ADDQ       $32, DI
	DECQ       CX
	JNZ        narrowloop
	VHADDPS    X4, X4, X4
	VHADDPS    X4, X4, X4
	VZEROUPPER

narrowdone:
	MOVSS X4, ret+48(FP)
	RET
