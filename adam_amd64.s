//go:build amd64 && !purego

#include "textflag.h"

DATA adamone<>+0(SB)/8, $0x3ff0000000000000 // 1
GLOBL adamone<>(SB), RODATA|NOPTR, $8

// func adam4(w, g, m, v []float64, lr, b1, b2, eps float64)
// The Adam update of updateJob.run for the first len(g)/4·4 parameters:
// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − η·m/(√v + ε).
// len(w), len(m) and len(v) are at least len(g).
TEXT ·adam4(SB), NOSPLIT, $0-128
	MOVQ w_base+0(FP), DI
	MOVQ g_base+24(FP), SI
	MOVQ g_len+32(FP), CX
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	SHRQ $2, CX
	JZ   adamdone
	VBROADCASTSD lr+96(FP), Y12
	VBROADCASTSD b1+104(FP), Y8
	VBROADCASTSD b2+112(FP), Y10
	VBROADCASTSD eps+120(FP), Y13
	VBROADCASTSD adamone<>(SB), Y14 // 1
	VSUBPD       Y8, Y14, Y9        // 1−β₁
	VSUBPD       Y10, Y14, Y11      // 1−β₂

adamloop:
	VMOVUPD      (SI), Y0      // g
	VMOVUPD      (R8), Y1      // m
	VMOVUPD      (R9), Y2      // v
	VMULPD       Y8, Y1, Y1    // β₁m
	VFMADD231PD  Y9, Y0, Y1    // + (1−β₁)g
	VMULPD       Y0, Y0, Y3    // g²
	VMULPD       Y10, Y2, Y2   // β₂v
	VFMADD231PD  Y11, Y3, Y2   // + (1−β₂)g²
	VMOVUPD      Y1, (R8)
	VMOVUPD      Y2, (R9)
	VSQRTPD      Y2, Y4
	VADDPD       Y13, Y4, Y4   // √v + ε
	VDIVPD       Y4, Y1, Y5    // m/(√v + ε)
	VMOVUPD      (DI), Y6
	VFNMADD231PD Y12, Y5, Y6   // w − η·m/(√v + ε)
	VMOVUPD      Y6, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	ADDQ         $32, R8
	ADDQ         $32, R9
	DECQ         CX
	JNZ          adamloop
	VZEROUPPER

adamdone:
	RET

DATA adamone32<>+0(SB)/4, $0x3f800000 // 1
GLOBL adamone32<>(SB), RODATA|NOPTR, $4

// func adam8(w, g, m, v []float32, lr, b1, b2, eps float32)
// adam4 for float32, for the first len(g)/8·8 parameters.
TEXT ·adam8(SB), NOSPLIT, $0-112
	MOVQ w_base+0(FP), DI
	MOVQ g_base+24(FP), SI
	MOVQ g_len+32(FP), CX
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	SHRQ $3, CX
	JZ   adamdone32
	VBROADCASTSS lr+96(FP), Y12
	VBROADCASTSS b1+100(FP), Y8
	VBROADCASTSS b2+104(FP), Y10
	VBROADCASTSS eps+108(FP), Y13
	VBROADCASTSS adamone32<>(SB), Y14 // 1
	VSUBPS       Y8, Y14, Y9          // 1−β₁
	VSUBPS       Y10, Y14, Y11        // 1−β₂

adamloop32:
	VMOVUPS      (SI), Y0      // g
	VMOVUPS      (R8), Y1      // m
	VMOVUPS      (R9), Y2      // v
	VMULPS       Y8, Y1, Y1    // β₁m
	VFMADD231PS  Y9, Y0, Y1    // + (1−β₁)g
	VMULPS       Y0, Y0, Y3    // g²
	VMULPS       Y10, Y2, Y2   // β₂v
	VFMADD231PS  Y11, Y3, Y2   // + (1−β₂)g²
	VMOVUPS      Y1, (R8)
	VMOVUPS      Y2, (R9)
	VSQRTPS      Y2, Y4
	VADDPS       Y13, Y4, Y4   // √v + ε
	VDIVPS       Y4, Y1, Y5    // m/(√v + ε)
	VMOVUPS      (DI), Y6
	VFNMADD231PS Y12, Y5, Y6   // w − η·m/(√v + ε)
	VMOVUPS      Y6, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	ADDQ         $32, R8
	ADDQ         $32, R9
	DECQ         CX
	JNZ          adamloop32
	VZEROUPPER

adamdone32:
	RET
