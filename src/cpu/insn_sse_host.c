/* The host side of MMX, SSE and SSE2 (Intel SDM vol. 2, the 0F-map
 * instructions of appendix A.3): one precompiled function per computing
 * instruction, which runs that very instruction on the host with its
 * destination in XMM0 or MM0 and its source as a memory operand (the
 * memory and register forms compute alike), under the MXCSR the caller
 * chose; the host MXCSR is restored and MMX state left with EMMS. No guest
 * byte is ever executed. The table says, per opcode and mandatory prefix,
 * which function, operand kinds and memory operand size an encoding has. */
#include "cpu/sse.h"

#define STUB(name, pre, body, post)                                         \
	static void name(struct sse_host *h)                                \
	{                                                                   \
		uint32_t saved;                                             \
		__asm__ volatile("stmxcsr %[sv]\n\t"                        \
				 "ldmxcsr %[mx]\n\t" pre "\n\t" body "\n\t" \
				 post "\n\t"                                \
				 "stmxcsr %[mx]\n\t"                        \
				 "ldmxcsr %[sv]"                            \
				 : [sv] "=m"(saved), [mx] "+m"(h->mxcsr),   \
				   [d] "+m"(h->d), "+a"(h->r)               \
				 : [s] "m"(h->s)                            \
				 : "cc", "xmm0", "mm0");                    \
	}

#define X_PRE "movdqu %[d], %%xmm0"
#define X_POST "movdqu %%xmm0, %[d]"
#define M_PRE "movq %[d], %%mm0"
#define M_POST "movq %%mm0, %[d]\n\temms"

/* XMM destination; MM destination; general register; flags (AH). */
#define HX(op) STUB(hx_##op, X_PRE, #op " %[s], %%xmm0", X_POST)
#define HM(op) STUB(hm_##op, M_PRE, #op " %[s], %%mm0", M_POST)
#define HR(op) STUB(hr_##op, "", #op " %[s], %%eax", "")             \
	STUB(hr64_##op, "", #op " %[s], %%rax", "")
#define HF(op) STUB(hf_##op, X_PRE, #op " %[s], %%xmm0", "lahf")
#define HI(op) HX(op) HM(op)
#define HCMP(op, i) STUB(hc_##op##_##i, X_PRE, #op " $" #i ", %[s], %%xmm0", X_POST)
#define HCMP8(op)                                                           \
	HCMP(op, 0) HCMP(op, 1) HCMP(op, 2) HCMP(op, 3) HCMP(op, 4)         \
	HCMP(op, 5) HCMP(op, 6) HCMP(op, 7)
#define HFP4(op) HX(op##ps) HX(op##pd) HX(op##ss) HX(op##sd)

/* Floating point, packed and scalar */
HFP4(add) HFP4(mul) HFP4(sub) HFP4(min) HFP4(div) HFP4(max) HFP4(sqrt)
HX(rsqrtps) HX(rsqrtss) HX(rcpps) HX(rcpss)
HX(andps) HX(andpd) HX(andnps) HX(andnpd) HX(orps) HX(orpd)
HX(xorps) HX(xorpd)
HX(unpcklps) HX(unpcklpd) HX(unpckhps) HX(unpckhpd)
HCMP8(cmpps) HCMP8(cmppd) HCMP8(cmpss) HCMP8(cmpsd)
HF(comiss) HF(ucomiss) HF(comisd) HF(ucomisd)
/* Conversions */
HX(cvtpi2ps) HX(cvtpi2pd)
STUB(hx_cvtsi2ss, X_PRE, "cvtsi2ssl %[s], %%xmm0", X_POST)
STUB(hx64_cvtsi2ss, X_PRE, "cvtsi2ssq %[s], %%xmm0", X_POST)
STUB(hx_cvtsi2sd, X_PRE, "cvtsi2sdl %[s], %%xmm0", X_POST)
STUB(hx64_cvtsi2sd, X_PRE, "cvtsi2sdq %[s], %%xmm0", X_POST)
HM(cvtps2pi) HM(cvttps2pi) HM(cvtpd2pi) HM(cvttpd2pi)
HR(cvtss2si) HR(cvttss2si) HR(cvtsd2si) HR(cvttsd2si)
HX(cvtps2pd) HX(cvtpd2ps) HX(cvtss2sd) HX(cvtsd2ss)
HX(cvtdq2ps) HX(cvtps2dq) HX(cvttps2dq)
HX(cvttpd2dq) HX(cvtdq2pd) HX(cvtpd2dq)
/* Integer, MMX and XMM forms */
HI(punpcklbw) HI(punpcklwd) HI(punpckldq) HI(packsswb)
HI(pcmpgtb) HI(pcmpgtw) HI(pcmpgtd) HI(packuswb)
HI(punpckhbw) HI(punpckhwd) HI(punpckhdq) HI(packssdw)
HX(punpcklqdq) HX(punpckhqdq)
HI(pcmpeqb) HI(pcmpeqw) HI(pcmpeqd)
HI(psrlw) HI(psrld) HI(psrlq) HI(paddq) HI(pmullw)
HI(psubusb) HI(psubusw) HI(pminub) HI(pand)
HI(paddusb) HI(paddusw) HI(pmaxub) HI(pandn)
HI(pavgb) HI(psraw) HI(psrad) HI(pavgw) HI(pmulhuw) HI(pmulhw)
HI(psubsb) HI(psubsw) HI(pminsw) HI(por)
HI(paddsb) HI(paddsw) HI(pmaxsw) HI(pxor)
HI(psllw) HI(pslld) HI(psllq) HI(pmuludq) HI(pmaddwd) HI(psadbw)
HI(psubb) HI(psubw) HI(psubd) HI(psubq) HI(paddb) HI(paddw) HI(paddd)

#define F(fn_, k, sz, al, fp_) { .fn = fn_, .kind = k, .msize = sz, .align = al, .fp = fp_ }
#define UDF { .kind = SK_UD }
#define CF { .kind = SK_C }
#define PS(op) F(hx_##op, SK_XX, 16, 1, 1)
#define S4(op) F(hx_##op, SK_XX, 4, 0, 1)
#define S8(op) F(hx_##op, SK_XX, 8, 0, 1)
#define FP4(op) { PS(op##ps), PS(op##pd), S4(op##ss), S8(op##sd) }
#define UBF(fn_, sz, al, u, n, s64, p53)                                     \
	{ .fn = fn_, .kind = SK_XX, .msize = sz, .align = al, .fp = 1,      \
	  .ub = u, .ub_lanes = n, .ub_src64 = s64, .ub_p53 = p53 }
#define FP4U(op, u)                                                          \
	{ UBF(hx_##op##ps, 16, 1, u, 4, 0, 0), UBF(hx_##op##pd, 16, 1, u, 2, 1, 1), \
	  UBF(hx_##op##ss, 4, 0, u, 1, 0, 0), UBF(hx_##op##sd, 8, 0, u, 1, 1, 1) }
#define LOGIC(op) { F(hx_##op##ps, SK_XX, 16, 1, 0), F(hx_##op##pd, SK_XX, 16, 1, 0), UDF, UDF }
#define INT(op) { F(hm_##op, SK_MM, 8, 0, 0), F(hx_##op, SK_XX, 16, 1, 0), UDF, UDF }
/* PUNPCKL* read 32 bits of an MMX memory operand */
#define INTL(op) { F(hm_##op, SK_MM, 4, 0, 0), F(hx_##op, SK_XX, 16, 1, 0), UDF, UDF }
#define CVTR(op, sz) { .fn = hr_##op, .fn64 = hr64_##op, .kind = SK_RX, .msize = sz, .fp = 1 }
#define CVTI(op) { .fn = hx_##op, .fn64 = hx64_##op, .kind = SK_XR, .msize = 4, .fp = 1 }
#define CROW { CF, CF, CF, CF }

static const struct sse_form forms[256][4] = {
	[0x10] = CROW, [0x11] = CROW,
	[0x12] = { CF, CF, UDF, UDF }, [0x13] = { CF, CF, UDF, UDF },
	[0x14] = { F(hx_unpcklps, SK_XX, 16, 1, 0), F(hx_unpcklpd, SK_XX, 16, 1, 0), UDF, UDF },
	[0x15] = { F(hx_unpckhps, SK_XX, 16, 1, 0), F(hx_unpckhpd, SK_XX, 16, 1, 0), UDF, UDF },
	[0x16] = { CF, CF, UDF, UDF }, [0x17] = { CF, CF, UDF, UDF },
	[0x28] = { CF, CF, UDF, UDF }, [0x29] = { CF, CF, UDF, UDF },
	[0x2a] = { F(hx_cvtpi2ps, SK_XM, 8, 0, 1), F(hx_cvtpi2pd, SK_XM, 8, 0, 1),
		   CVTI(cvtsi2ss), CVTI(cvtsi2sd) },
	[0x2b] = { CF, CF, UDF, UDF },
	[0x2c] = { F(hm_cvttps2pi, SK_MX, 8, 0, 1), F(hm_cvttpd2pi, SK_MX, 16, 1, 1),
		   CVTR(cvttss2si, 4), CVTR(cvttsd2si, 8) },
	[0x2d] = { F(hm_cvtps2pi, SK_MX, 8, 0, 1), F(hm_cvtpd2pi, SK_MX, 16, 1, 1),
		   CVTR(cvtss2si, 4), CVTR(cvtsd2si, 8) },
	[0x2e] = { F(hf_ucomiss, SK_FX, 4, 0, 1), F(hf_ucomisd, SK_FX, 8, 0, 1), UDF, UDF },
	[0x2f] = { F(hf_comiss, SK_FX, 4, 0, 1), F(hf_comisd, SK_FX, 8, 0, 1), UDF, UDF },
	[0x50] = { CF, CF, UDF, UDF },
	[0x51] = FP4(sqrt),
	[0x52] = { PS(rsqrtps), UDF, S4(rsqrtss), UDF },
	[0x53] = { PS(rcpps), UDF, S4(rcpss), UDF },
	[0x54] = LOGIC(and), [0x55] = LOGIC(andn), [0x56] = LOGIC(or), [0x57] = LOGIC(xor),
	[0x58] = FP4U(add, UB_ADD), [0x59] = FP4U(mul, UB_MUL),
	[0x5a] = { F(hx_cvtps2pd, SK_XX, 8, 0, 1), UBF(hx_cvtpd2ps, 16, 1, UB_CVT, 2, 1, 0),
		   S4(cvtss2sd), UBF(hx_cvtsd2ss, 8, 0, UB_CVT, 1, 1, 0) },
	[0x5b] = { PS(cvtdq2ps), PS(cvtps2dq), PS(cvttps2dq), UDF },
	[0x5c] = FP4U(sub, UB_SUB), [0x5d] = FP4(min), [0x5e] = FP4U(div, UB_DIV),
	[0x5f] = FP4(max),
	[0x60] = INTL(punpcklbw), [0x61] = INTL(punpcklwd), [0x62] = INTL(punpckldq),
	[0x63] = INT(packsswb), [0x64] = INT(pcmpgtb), [0x65] = INT(pcmpgtw),
	[0x66] = INT(pcmpgtd), [0x67] = INT(packuswb),
	[0x68] = INT(punpckhbw), [0x69] = INT(punpckhwd), [0x6a] = INT(punpckhdq),
	[0x6b] = INT(packssdw),
	[0x6c] = { UDF, F(hx_punpcklqdq, SK_XX, 16, 1, 0), UDF, UDF },
	[0x6d] = { UDF, F(hx_punpckhqdq, SK_XX, 16, 1, 0), UDF, UDF },
	[0x6e] = { CF, CF, UDF, UDF }, [0x6f] = { CF, CF, CF, UDF },
	[0x70] = CROW,
	[0x74] = INT(pcmpeqb), [0x75] = INT(pcmpeqw), [0x76] = INT(pcmpeqd),
	[0x77] = { CF, UDF, UDF, UDF },
	[0x7e] = { CF, CF, CF, UDF }, [0x7f] = { CF, CF, CF, UDF },
	[0xc2] = { { .kind = SK_CMP, .msize = 16, .align = 1, .fp = 1 },
		   { .kind = SK_CMP, .msize = 16, .align = 1, .fp = 1 },
		   { .kind = SK_CMP, .msize = 4, .fp = 1 },
		   { .kind = SK_CMP, .msize = 8, .fp = 1 } },
	[0xc3] = { CF, UDF, UDF, UDF },
	[0xc4] = { CF, CF, UDF, UDF }, [0xc5] = { CF, CF, UDF, UDF },
	[0xc6] = { CF, CF, UDF, UDF },
	[0xd1] = INT(psrlw), [0xd2] = INT(psrld), [0xd3] = INT(psrlq),
	[0xd4] = INT(paddq), [0xd5] = INT(pmullw),
	[0xd6] = { UDF, CF, CF, CF },
	[0xd7] = { CF, CF, UDF, UDF },
	[0xd8] = INT(psubusb), [0xd9] = INT(psubusw), [0xda] = INT(pminub),
	[0xdb] = INT(pand), [0xdc] = INT(paddusb), [0xdd] = INT(paddusw),
	[0xde] = INT(pmaxub), [0xdf] = INT(pandn),
	[0xe0] = INT(pavgb), [0xe1] = INT(psraw), [0xe2] = INT(psrad),
	[0xe3] = INT(pavgw), [0xe4] = INT(pmulhuw), [0xe5] = INT(pmulhw),
	[0xe6] = { UDF, PS(cvttpd2dq), F(hx_cvtdq2pd, SK_XX, 8, 0, 1), PS(cvtpd2dq) },
	[0xe7] = { CF, CF, UDF, UDF },
	[0xe8] = INT(psubsb), [0xe9] = INT(psubsw), [0xea] = INT(pminsw),
	[0xeb] = INT(por), [0xec] = INT(paddsb), [0xed] = INT(paddsw),
	[0xee] = INT(pmaxsw), [0xef] = INT(pxor),
	[0xf1] = INT(psllw), [0xf2] = INT(pslld), [0xf3] = INT(psllq),
	[0xf4] = INT(pmuludq), [0xf5] = INT(pmaddwd), [0xf6] = INT(psadbw),
	[0xf7] = { CF, CF, UDF, UDF },
	[0xf8] = INT(psubb), [0xf9] = INT(psubw), [0xfa] = INT(psubd),
	[0xfb] = INT(psubq), [0xfc] = INT(paddb), [0xfd] = INT(paddw),
	[0xfe] = INT(paddd),
};

const struct sse_form *sse_form_for(unsigned opcode, unsigned pfx)
{
	return &forms[opcode & 0xff][pfx & 3];
}

#define C8(op) { hc_##op##_0, hc_##op##_1, hc_##op##_2, hc_##op##_3, \
		 hc_##op##_4, hc_##op##_5, hc_##op##_6, hc_##op##_7 }
static const sse_host_fn cmps[4][8] = {
	C8(cmpps), C8(cmppd), C8(cmpss), C8(cmpsd),
};

sse_host_fn sse_host_cmp(unsigned pfx, unsigned imm)
{
	return cmps[pfx & 3][imm & 7];
}

sse_host_fn sse_host_shift(unsigned op, bool xmm)
{
	switch (op) {
	case 0xd1: return xmm ? hx_psrlw : hm_psrlw;
	case 0xd2: return xmm ? hx_psrld : hm_psrld;
	case 0xd3: return xmm ? hx_psrlq : hm_psrlq;
	case 0xe1: return xmm ? hx_psraw : hm_psraw;
	case 0xe2: return xmm ? hx_psrad : hm_psrad;
	case 0xf1: return xmm ? hx_psllw : hm_psllw;
	case 0xf2: return xmm ? hx_pslld : hm_pslld;
	default: return xmm ? hx_psllq : hm_psllq;
	}
}
