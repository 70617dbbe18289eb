//go:build amd64 && !purego

#include "textflag.h"

// Constants of the vector exponential; see sigmoid_amd64.go.
DATA sigc<>+0(SB)/8, $0x4086200000000000   // 708, the clamp
DATA sigc<>+8(SB)/8, $0xc086200000000000   // -708
DATA sigc<>+16(SB)/8, $0x3ff71547652b82fe  // log2(e)
DATA sigc<>+24(SB)/8, $0x4338000000000000  // 1.5·2⁵², rounds to an integer
DATA sigc<>+32(SB)/8, $0x3fe62e42fee00000  // ln2, high part
DATA sigc<>+40(SB)/8, $0x3dea39ef35793c76  // ln2, low part
DATA sigc<>+48(SB)/8, $0x3ff0000000000000  // 1
DATA sigc<>+56(SB)/8, $1023                // exponent bias
DATA sigc<>+64(SB)/8, $0x3e21eed8eff8d898  // 1/12!
DATA sigc<>+72(SB)/8, $0x3e5ae64567f544e4  // 1/11!
DATA sigc<>+80(SB)/8, $0x3e927e4fb7789f5c  // 1/10!
DATA sigc<>+88(SB)/8, $0x3ec71de3a556c734  // 1/9!
DATA sigc<>+96(SB)/8, $0x3efa01a01a01a01a  // 1/8!
DATA sigc<>+104(SB)/8, $0x3f2a01a01a01a01a // 1/7!
DATA sigc<>+112(SB)/8, $0x3f56c16c16c16c17 // 1/6!
DATA sigc<>+120(SB)/8, $0x3f81111111111111 // 1/5!
DATA sigc<>+128(SB)/8, $0x3fa5555555555555 // 1/4!
DATA sigc<>+136(SB)/8, $0x3fc5555555555555 // 1/3!
DATA sigc<>+144(SB)/8, $0x3fe0000000000000 // 1/2!
GLOBL sigc<>(SB), RODATA|NOPTR, $152

// SIGMOID4 replaces Y0 by 1/(1+exp(-Y0)), using Y1-Y6; Y8-Y15 hold the
// constants loaded by SIGSETUP.
#define SIGMOID4 \
	VXORPD       Y1, Y1, Y1 \
	VSUBPD       Y0, Y1, Y0 \ // v = -z
	VMINPD       Y0, Y8, Y0 \ // min(708, v), NaN stays
	VMAXPD       Y0, Y9, Y0 \ // max(-708, v), NaN stays
	VMOVAPD      Y11, Y1 \
	VFMADD231PD  Y10, Y0, Y1 \ // t = v·log2e + 1.5·2⁵²
	VSUBPD       Y11, Y1, Y2 \ // n = t − 1.5·2⁵², the integer nearest v·log2e
	VMOVAPD      Y0, Y3 \
	VFNMADD231PD Y12, Y2, Y3 \ // r = v − n·ln2hi
	VFNMADD231PD Y13, Y2, Y3 \ // r −= n·ln2lo
	VBROADCASTSD sigc<>+64(SB), Y4 \
	VBROADCASTSD sigc<>+72(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \ // p = p·r + 1/11!
	VBROADCASTSD sigc<>+80(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \
	VBROADCASTSD sigc<>+88(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \
	VBROADCASTSD sigc<>+96(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \
	VBROADCASTSD sigc<>+104(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \
	VBROADCASTSD sigc<>+112(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \
	VBROADCASTSD sigc<>+120(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \
	VBROADCASTSD sigc<>+128(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \
	VBROADCASTSD sigc<>+136(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \
	VBROADCASTSD sigc<>+144(SB), Y5 \
	VFMADD213PD  Y5, Y3, Y4 \ // ... + 1/2!
	VFMADD213PD  Y14, Y3, Y4 \ // ... + 1
	VFMADD213PD  Y14, Y3, Y4 \ // ... + 1: p = e^r
	VPADDQ       Y15, Y1, Y6 \ // the low bits of t hold n
	VPSLLQ       $52, Y6, Y6 \ // 2^n
	VMULPD       Y6, Y4, Y4 \ // e^v = 2^n·e^r
	VADDPD       Y14, Y4, Y4 \
	VDIVPD       Y4, Y14, Y0 // 1/(1+e^v)

#define SIGSETUP \
	VBROADCASTSD sigc<>+0(SB), Y8 \
	VBROADCASTSD sigc<>+8(SB), Y9 \
	VBROADCASTSD sigc<>+16(SB), Y10 \
	VBROADCASTSD sigc<>+24(SB), Y11 \
	VBROADCASTSD sigc<>+32(SB), Y12 \
	VBROADCASTSD sigc<>+40(SB), Y13 \
	VBROADCASTSD sigc<>+48(SB), Y14 \
	VPBROADCASTQ sigc<>+56(SB), Y15

// func sigmoid4(x []float64)
// x[i] = σ(x[i]) for the first len(x)/4·4 elements.
TEXT ·sigmoid4(SB), NOSPLIT, $0-24
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	SHRQ $2, CX
	JZ   done
	SIGSETUP

loop:
	VMOVUPD (SI), Y0
	SIGMOID4
	VMOVUPD Y0, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     loop
	VZEROUPPER

done:
	RET

// func sigmoidBias4(x, b []float64)
// x[i] = σ(x[i] + b[i]) for the first len(x)/4·4 elements; len(b) ≥ len(x).
TEXT ·sigmoidBias4(SB), NOSPLIT, $0-48
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	SHRQ $2, CX
	JZ   donebias
	SIGSETUP

loopbias:
	VMOVUPD (SI), Y0
	VADDPD  (DI), Y0, Y0
	SIGMOID4
	VMOVUPD Y0, (SI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     loopbias
	VZEROUPPER

donebias:
	RET
