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

// func narrow8(dst []float32, src []float64)
// dst[i] = float32(src[i]), rounded to nearest, for the first len(src)/8·8
// elements; len(dst) ≥ len(src).
TEXT ·narrow8(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $3, CX
	JZ   narrowdone

narrowloop:
	VCVTPD2PSY (SI), X0
	VCVTPD2PSY 32(SI), X1
	VMOVUPS    X0, (DI)
	VMOVUPS    X1, 16(DI)
	ADDQ       $64, SI
	ADDQ       $32, DI
	DECQ       CX
	JNZ        narrowloop
	VZEROUPPER

narrowdone:
	RET
