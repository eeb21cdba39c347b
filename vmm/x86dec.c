// SPDX-License-Identifier: GPL-2.0
/*
 * x86-64 memory-operand decoder (see x86dec.h). Written from the Intel SDM's
 * opcode maps (volume 2, appendix A) and checked against the processor itself
 * by tests/unit/test-x86dec.c, which runs every decoded form natively into a
 * PROT_NONE page and compares the fault address with the decoder's.
 *
 * Decoding runs in three steps: prefixes, opcode (one-byte, 0F, 0F 38, 0F 3A
 * or VEX), then one handler per opcode that parses ModRM/SIB/displacement and
 * immediates and PLANS the accesses (the ModRM operand, a push, a pop, the
 * string source or destination, ...). The addresses are computed only at the
 * end, once the length is known: RIP-relative addressing is relative to the
 * next instruction.
 */
#include <errno.h>
#include <string.h>

#include "x86dec.h"

enum seg { SEG_NONE, SEG_FS, SEG_GS };

/* mandatory-prefix class of SSE/AVX opcodes, numbered as VEX.pp */
enum { MP_NONE, MP_66, MP_F3, MP_F2 };

enum plan_kind {
	PL_MODRM, /* the ModRM memory operand */
	PL_PUSH,  /* [RSP - size] */
	PL_POP,	  /* [RSP] */
	PL_SRC,	  /* seg:[RSI] (string source; segment overridable) */
	PL_DST,	  /* ES:[RDI] (string destination; never overridden) */
	PL_ABS,	  /* seg:[moffs] */
	PL_XLAT,  /* seg:[RBX + AL] */
	PL_LEAVE, /* [RBP]: leave pops from where RBP points */
};

struct plan {
	enum plan_kind kind;
	uint32_t size;
	bool write;
};

struct dec {
	const uint8_t *code;
	size_t avail, pos;
	const struct dz_x86_regs *r;

	/* prefixes */
	bool p66, p67, f2, f3;
	enum seg seg;
	uint8_t rex;	    /* 0x40..0x4f, or 0 */
	bool w, rr, rx, rb; /* REX (or VEX) W, R, X, B */
	bool vex;
	uint8_t vl, vpp; /* VEX.L, VEX.pp */

	/* ModRM */
	bool mem;	      /* the ModRM operand is memory */
	uint8_t mod, reg, rm; /* reg includes REX.R; rm is the raw 3 bits */
	int base, index;      /* register numbers, -1 for none */
	uint8_t scale;
	int64_t disp;
	bool riprel;
	uint64_t rsp_adj; /* pop m with RSP as base: RSP after the pop */
	int64_t bt_off;	  /* bt/bts/btr/btc with a register bit offset: byte offset */
	uint64_t moffs;

	struct plan plan[DZ_X86_MAX_ACCESS];
	unsigned int nr_plan;
};

/* ---- byte stream ---------------------------------------------------------------- */

static int get8(struct dec *d, uint8_t *b)
{
	if (d->pos >= DZ_X86_MAX_INSN)
		return -EINVAL;
	if (d->pos >= d->avail)
		return -ENODATA;
	*b = d->code[d->pos++];
	return 0;
}

/* n little-endian bytes, sign-extended from 8 * n bits */
static int get_signed(struct dec *d, unsigned int n, int64_t *v)
{
	uint64_t x = 0;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t b;
		int err = get8(d, &b);

		if (err)
			return err;
		x |= (uint64_t)b << (8 * i);
	}
	if (n && n < 8 && (x >> (8 * n - 1)) & 1)
		x |= ~0ULL << (8 * n);
	*v = (int64_t)x;
	return 0;
}

static int skip(struct dec *d, unsigned int n)
{
	int64_t v;

	return get_signed(d, n, &v);
}

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		int err_ = (expr);                                                                 \
		if (err_)                                                                          \
			return err_;                                                               \
	} while (0)

/* ---- operand sizes ---------------------------------------------------------------- */

static uint32_t osz_v(const struct dec *d) /* 16/32/64-bit operand */
{
	return d->w ? 8 : d->p66 ? 2 : 4;
}

static uint32_t osz_d64(const struct dec *d) /* stack operations: 64-bit by default */
{
	return d->w || !d->p66 ? 8 : 2;
}

static unsigned int imm_z(const struct dec *d) /* Iz: 16 or 32 bits */
{
	return osz_v(d) == 2 ? 2 : 4;
}

/* ---- ModRM, SIB, displacement ------------------------------------------------------ */

static int modrm(struct dec *d)
{
	uint8_t m, s;

	TRY(get8(d, &m));
	d->mod = m >> 6;
	d->reg = ((m >> 3) & 7) | (d->rr ? 8 : 0);
	d->rm = m & 7;
	d->base = d->index = -1;
	d->scale = 1;
	d->disp = 0;
	d->riprel = false;
	d->mem = d->mod != 3;
	if (!d->mem)
		return 0;
	if (d->rm == 4) {
		TRY(get8(d, &s));
		d->scale = 1 << (s >> 6);
		d->index = ((s >> 3) & 7) | (d->rx ? 8 : 0);
		if (d->index == DZ_X86_RSP)
			d->index = -1; /* 100 without REX.X: no index (r12 is one) */
		if ((s & 7) == 5 && d->mod == 0)
			return get_signed(d, 4, &d->disp); /* no base, disp32 */
		d->base = (s & 7) | (d->rb ? 8 : 0);
	} else if (d->rm == 5 && d->mod == 0) {
		d->riprel = true; /* whatever REX.B says */
		return get_signed(d, 4, &d->disp);
	} else {
		d->base = d->rm | (d->rb ? 8 : 0);
	}
	if (d->mod == 1)
		return get_signed(d, 1, &d->disp);
	if (d->mod == 2)
		return get_signed(d, 4, &d->disp);
	return 0;
}

/* ---- plans ------------------------------------------------------------------------------ */

static void plan(struct dec *d, enum plan_kind k, uint32_t size, bool write)
{
	if (d->nr_plan < DZ_X86_MAX_ACCESS)
		d->plan[d->nr_plan++] = (struct plan){.kind = k, .size = size, .write = write};
}

/* the ModRM operand, if it is memory */
static void plan_m(struct dec *d, uint32_t size, bool write)
{
	if (d->mem && size)
		plan(d, PL_MODRM, size, write);
}

/* ModRM operand of size, then an immediate of imm bytes */
static int rm_imm(struct dec *d, uint32_t size, bool write, unsigned int imm)
{
	TRY(modrm(d));
	TRY(skip(d, imm));
	plan_m(d, size, write);
	return 0;
}

/* ---- the one-byte map ---------------------------------------------------------------- */

static int string_op(struct dec *d, uint8_t op)
{
	uint32_t size = (op & 1) ? osz_v(d) : 1;

	if (d->f2 && d->f3)
		return -ENOTSUP;
	if (op == 0x6d || op == 0x6f) /* ins/outs: 16 or 32 bits */
		size = d->p66 ? 2 : 4;
	switch (op & ~1) {
	case 0xa4: /* movs: read the source, then write the destination */
		plan(d, PL_SRC, size, false);
		plan(d, PL_DST, size, true);
		break;
	case 0xa6: /* cmps */
		plan(d, PL_SRC, size, false);
		plan(d, PL_DST, size, false);
		break;
	case 0xaa: /* stos */
	case 0x6c: /* ins */
		plan(d, PL_DST, size, true);
		break;
	case 0xac: /* lods */
	case 0x6e: /* outs */
		plan(d, PL_SRC, size, false);
		break;
	case 0xae: /* scas */
		plan(d, PL_DST, size, false);
		break;
	}
	return 0;
}

static int map1(struct dec *d, uint8_t op)
{
	uint32_t v = osz_v(d);

	/* ALU: add or adc sbb and sub xor cmp in their ModRM forms, then AL/eAX, imm */
	if (op < 0x40 && (op & 7) < 6) {
		bool cmp = (op >> 3) == 7;

		switch (op & 7) {
		case 0:
		case 1:
			TRY(modrm(d));
			plan_m(d, (op & 1) ? v : 1, !cmp);
			return 0;
		case 2:
		case 3:
			TRY(modrm(d));
			plan_m(d, (op & 1) ? v : 1, false);
			return 0;
		case 4:
			return skip(d, 1);
		case 5:
			return skip(d, imm_z(d));
		}
	}
	if (op < 0x40)
		return -EINVAL; /* push/pop segment, daa/das/aaa/aas: invalid in 64-bit mode */
	if (op >= 0x50 && op <= 0x57) {
		plan(d, PL_PUSH, osz_d64(d), true);
		return 0;
	}
	if (op >= 0x58 && op <= 0x5f) {
		plan(d, PL_POP, osz_d64(d), false);
		return 0;
	}
	if (op >= 0x70 && op <= 0x7f) /* jcc rel8 */
		return skip(d, 1);
	if (op >= 0x90 && op <= 0x97) /* xchg with rAX, nop, pause */
		return 0;
	if (op >= 0xb0 && op <= 0xb7) /* mov r8, imm8 */
		return skip(d, 1);
	if (op >= 0xb8 && op <= 0xbf) /* mov r, imm16/32/64 */
		return skip(d, d->w ? 8 : imm_z(d));
	if (op >= 0xd8 && op <= 0xdf)
		return -ENOTSUP; /* x87 */

	switch (op) {
	case 0x60:
	case 0x61:
	case 0x62: /* EVEX in 64-bit mode */
	case 0x82:
	case 0x9a:
	case 0xc4: /* VEX: handled before */
	case 0xc5:
	case 0xce:
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xea:
		return -EINVAL;
	case 0x63: /* movsxd Gv, Ed (Ew with 66 and no REX.W) */
		TRY(modrm(d));
		plan_m(d, d->w ? 4 : d->p66 ? 2 : 4, false);
		return 0;
	case 0x68: /* push Iz */
		TRY(skip(d, imm_z(d)));
		plan(d, PL_PUSH, osz_d64(d), true);
		return 0;
	case 0x6a: /* push Ib */
		TRY(skip(d, 1));
		plan(d, PL_PUSH, osz_d64(d), true);
		return 0;
	case 0x69: /* imul Gv, Ev, Iz */
		return rm_imm(d, v, false, imm_z(d));
	case 0x6b: /* imul Gv, Ev, Ib */
		return rm_imm(d, v, false, 1);
	case 0x6c:
	case 0x6d:
	case 0x6e:
	case 0x6f:
		return string_op(d, op);
	case 0x80: /* group 1 Eb, Ib */
		TRY(rm_imm(d, 1, true, 1));
		d->plan[0].write = (d->reg & 7) != 7;
		return 0;
	case 0x81: /* group 1 Ev, Iz */
		TRY(rm_imm(d, v, true, imm_z(d)));
		d->plan[0].write = (d->reg & 7) != 7;
		return 0;
	case 0x83: /* group 1 Ev, Ib */
		TRY(rm_imm(d, v, true, 1));
		d->plan[0].write = (d->reg & 7) != 7;
		return 0;
	case 0x84: /* test */
	case 0x85:
		TRY(modrm(d));
		plan_m(d, (op & 1) ? v : 1, false);
		return 0;
	case 0x86: /* xchg: read-modify-write */
	case 0x87:
	case 0x88: /* mov E, G */
	case 0x89:
		TRY(modrm(d));
		plan_m(d, (op & 1) ? v : 1, true);
		return 0;
	case 0x8a: /* mov G, E */
	case 0x8b:
		TRY(modrm(d));
		plan_m(d, (op & 1) ? v : 1, false);
		return 0;
	case 0x8c: /* mov Ew, Sreg: a 16-bit store to memory */
		TRY(modrm(d));
		plan_m(d, 2, true);
		return 0;
	case 0x8d: /* lea: no access */
		return modrm(d);
	case 0x8e: /* mov Sreg, Ew */
		TRY(modrm(d));
		plan_m(d, 2, false);
		return 0;
	case 0x8f: /* group 1A: pop Ev (XOP when reg != 0) */
		TRY(modrm(d));
		if ((d->reg & 7) != 0)
			return -ENOTSUP;
		/* the stack is read first; RSP as a base is the incremented one */
		plan(d, PL_POP, osz_d64(d), false);
		if (d->base == DZ_X86_RSP)
			d->rsp_adj = osz_d64(d);
		plan_m(d, osz_d64(d), true);
		return 0;
	case 0x98: /* cbw/cwde/cdqe, cwd/cdq/cqo, fwait */
	case 0x99:
	case 0x9b:
	case 0x9e: /* sahf, lahf */
	case 0x9f:
		return 0;
	case 0x9c: /* pushf */
		plan(d, PL_PUSH, osz_d64(d), true);
		return 0;
	case 0x9d: /* popf */
		plan(d, PL_POP, osz_d64(d), false);
		return 0;
	case 0xa0: /* mov AL/rAX, moffs; mov moffs, AL/rAX */
	case 0xa1:
	case 0xa2:
	case 0xa3: {
		int64_t m;

		TRY(get_signed(d, d->p67 ? 4 : 8, &m));
		d->moffs = d->p67 ? (uint32_t)m : (uint64_t)m;
		plan(d, PL_ABS, (op & 1) ? v : 1, op >= 0xa2);
		return 0;
	}
	case 0xa4:
	case 0xa5:
	case 0xa6:
	case 0xa7:
	case 0xaa:
	case 0xab:
	case 0xac:
	case 0xad:
	case 0xae:
	case 0xaf:
		return string_op(d, op);
	case 0xa8: /* test AL, Ib; test rAX, Iz */
		return skip(d, 1);
	case 0xa9:
		return skip(d, imm_z(d));
	case 0xc0: /* group 2 Eb/Ev, Ib */
	case 0xc1:
	case 0xd0: /* group 2 by 1 */
	case 0xd1:
	case 0xd2: /* group 2 by CL */
	case 0xd3:
		TRY(rm_imm(d, (op & 1) ? v : 1, true, op <= 0xc1 ? 1 : 0));
		if ((d->reg & 7) == 6)
			return -ENOTSUP; /* the undocumented SAL alias */
		return 0;
	case 0xc2: /* ret Iw; ret */
	case 0xc3:
		/* Intel ignores 66 on near branches in 64-bit mode, AMD honours it */
		if (d->p66 && !d->w)
			return -ENOTSUP;
		TRY(skip(d, op == 0xc2 ? 2 : 0));
		plan(d, PL_POP, 8, false);
		return 0;
	case 0xc6: /* group 11: mov Eb, Ib (xabort) */
	case 0xc7: /* mov Ev, Iz (xbegin) */
		TRY(modrm(d));
		if ((d->reg & 7) != 0)
			return (d->reg & 7) == 7 ? -ENOTSUP : -EINVAL;
		TRY(skip(d, op == 0xc6 ? 1 : imm_z(d)));
		plan_m(d, op == 0xc6 ? 1 : v, true);
		return 0;
	case 0xc9: /* leave: RSP = RBP, then pop RBP */
		plan(d, PL_LEAVE, osz_d64(d), false);
		return 0;
	case 0xd7: /* xlat */
		plan(d, PL_XLAT, 1, false);
		return 0;
	case 0xe0: /* loopne, loope, loop, jrcxz */
	case 0xe1:
	case 0xe2:
	case 0xe3:
	case 0xeb: /* jmp rel8 */
		return skip(d, 1);
	case 0xe4: /* in/out imm8 */
	case 0xe5:
	case 0xe6:
	case 0xe7:
		return skip(d, 1);
	case 0xe8: /* call rel32 */
		if (d->p66 && !d->w)
			return -ENOTSUP;
		TRY(skip(d, 4));
		plan(d, PL_PUSH, 8, true);
		return 0;
	case 0xe9: /* jmp rel32 */
		return skip(d, 4);
	case 0xec: /* in/out DX */
	case 0xed:
	case 0xee:
	case 0xef:
	case 0xf4: /* hlt, cmc, clc, stc, cli, sti, cld, std */
	case 0xf5:
	case 0xf8:
	case 0xf9:
	case 0xfa:
	case 0xfb:
	case 0xfc:
	case 0xfd:
		return 0;
	case 0xf6: /* group 3 Eb */
	case 0xf7: /* group 3 Ev */
		TRY(modrm(d));
		if ((d->reg & 7) == 0 || (d->reg & 7) == 1) /* test E, imm */
			TRY(skip(d, op == 0xf6 ? 1 : imm_z(d)));
		/* not and neg write; test, mul, imul, div, idiv only read */
		plan_m(d, op == 0xf6 ? 1 : v, (d->reg & 7) == 2 || (d->reg & 7) == 3);
		return 0;
	case 0xfe: /* group 4: inc/dec Eb */
		TRY(modrm(d));
		if ((d->reg & 7) > 1)
			return -EINVAL;
		plan_m(d, 1, true);
		return 0;
	case 0xff: /* group 5 */
		TRY(modrm(d));
		switch (d->reg & 7) {
		case 0: /* inc, dec */
		case 1:
			plan_m(d, v, true);
			return 0;
		case 2: /* call near Ev: read the target, then push */
		case 4: /* jmp near Ev */
			if (d->p66 && !d->w)
				return -ENOTSUP;
			plan_m(d, 8, false);
			if ((d->reg & 7) == 2)
				plan(d, PL_PUSH, 8, true);
			return 0;
		case 6: /* push Ev: read, then push */
			plan_m(d, osz_d64(d), false);
			plan(d, PL_PUSH, osz_d64(d), true);
			return 0;
		case 7:
			return -EINVAL;
		default: /* far call/jmp */
			return -ENOTSUP;
		}
	}
	/* c8 enter, ca/cb far ret, cc-cf int/iret, f1 int1, and the rest */
	return -ENOTSUP;
}

/* ---- SSE / AVX ----------------------------------------------------------------------- */

/*
 * Memory operand of the vector instruction map:op with mandatory prefix mp
 * (legacy 66/F3/F2 or VEX.pp). *size 0 with 0: the form exists but has no
 * memory operand. Legacy no-prefix integer forms are MMX (8 bytes).
 */
static int vec_0f(struct dec *d, uint8_t op, int mp, uint32_t *size, bool *write, unsigned int *imm)
{
	bool vex = d->vex, mmx = mp == MP_NONE && !vex;
	uint32_t x = vex ? 16u << d->vl : 16; /* full vector */
	uint32_t ss = mp == MP_F3 ? 4 : mp == MP_F2 ? 8 : x;

	*write = false;
	*imm = 0;
	switch (op) {
	case 0x10: /* movups/upd/ss/sd */
	case 0x11:
	case 0x51: /* sqrt */
	case 0x58: /* add mul sub min div max */
	case 0x59:
	case 0x5c:
	case 0x5d:
	case 0x5e:
	case 0x5f:
		*size = ss;
		*write = op == 0x11;
		return 0;
	case 0x52: /* rsqrtps/ss, rcpps/ss */
	case 0x53:
		if (mp != MP_NONE && mp != MP_F3)
			return -ENOTSUP;
		*size = ss;
		return 0;
	case 0xc2: /* cmpps/pd/ss/sd */
		*size = ss;
		*imm = 1;
		return 0;
	case 0x12: /* movlps/lpd, movsldup, movddup */
		*size = mp == MP_F3 ? x : mp == MP_F2 ? (vex && d->vl ? 32 : 8) : 8;
		return 0;
	case 0x16: /* movhps/hpd, movshdup */
		if (mp == MP_F2)
			return -ENOTSUP;
		*size = mp == MP_F3 ? x : 8;
		return 0;
	case 0x13: /* movlps/lpd, movhps/hpd stores */
	case 0x17:
		if (mp > MP_66)
			return -ENOTSUP;
		*size = 8;
		*write = true;
		return 0;
	case 0x14: /* unpck, movaps/apd, andps .. xorpd */
	case 0x15:
	case 0x28:
	case 0x29:
	case 0x2b:
	case 0x54:
	case 0x55:
	case 0x56:
	case 0x57:
		if (mp > MP_66)
			return -ENOTSUP;
		*size = x;
		*write = op == 0x29 || op == 0x2b;
		return 0;
	case 0xc6: /* shufps/pd */
		if (mp > MP_66)
			return -ENOTSUP;
		*size = x;
		*imm = 1;
		return 0;
	case 0x2e: /* ucomiss/sd, comiss/sd */
	case 0x2f:
		if (mp > MP_66)
			return -ENOTSUP;
		*size = mp == MP_66 ? 8 : 4;
		return 0;
	case 0x5a: /* cvtps2pd, cvtpd2ps, cvtss2sd, cvtsd2ss */
		*size = mp == MP_NONE ? (vex ? 8u << d->vl : 8) : ss;
		return 0;
	case 0x5b: /* cvtdq2ps, cvtps2dq, cvttps2dq */
		if (mp == MP_F2)
			return -ENOTSUP;
		*size = x;
		return 0;
	case 0x6c: /* punpcklqdq, punpckhqdq */
	case 0x6d:
		if (mp != MP_66)
			return -ENOTSUP;
		*size = x;
		return 0;
	case 0x6e: /* movd/movq to xmm/mm */
		if (mp > MP_66 || (vex && mp != MP_66))
			return -ENOTSUP;
		*size = d->w ? 8 : 4;
		return 0;
	case 0x7e: /* movd/movq from xmm/mm; F3: movq xmm, m64 */
		if (mp == MP_F2 || (vex && mp == MP_NONE))
			return -ENOTSUP;
		*size = mp == MP_F3 ? 8 : d->w ? 8 : 4;
		*write = mp != MP_F3;
		return 0;
	case 0x6f: /* movq mm; movdqa; movdqu */
	case 0x7f:
		if (mp == MP_F2 || (vex && mp == MP_NONE))
			return -ENOTSUP;
		*size = mmx ? 8 : x;
		*write = op == 0x7f;
		return 0;
	case 0x70: /* pshufw/pshufd/pshufhw/pshuflw */
		if (vex && mp == MP_NONE)
			return -ENOTSUP;
		*size = mmx ? 8 : x;
		*imm = 1;
		return 0;
	case 0xd6: /* movq m64, xmm */
		if (mp != MP_66)
			return -ENOTSUP;
		*size = 8;
		*write = true;
		return 0;
	case 0xe7: /* movntq, movntdq */
		if (mp > MP_66 || (vex && mp != MP_66))
			return -ENOTSUP;
		*size = mmx ? 8 : x;
		*write = true;
		return 0;
	}
	/* the integer forms: MMX without a prefix, SSE2/AVX with 66 */
	if ((op >= 0x60 && op <= 0x6b) || (op >= 0x74 && op <= 0x76) ||
	    (op >= 0xd1 && op <= 0xd5) || (op >= 0xd8 && op <= 0xdf) ||
	    (op >= 0xe0 && op <= 0xe5) || (op >= 0xe8 && op <= 0xef) ||
	    (op >= 0xf1 && op <= 0xf6) || (op >= 0xf8 && op <= 0xfe)) {
		if (mp == MP_66) {
			*size = x;
			return 0;
		}
		if (mmx) {
			/* punpckl{bw,wd,dq} mm, m32 read 4 bytes */
			*size = op <= 0x62 ? 4 : 8;
			return 0;
		}
	}
	return -ENOTSUP;
}

/* pmovsx/pmovzx: bytes read per 128 bits of result */
static uint32_t pmov_size(uint8_t op)
{
	static const uint8_t sz[6] = {8, 4, 2, 8, 4, 8};

	return sz[op & 7];
}

static int vec_0f38(struct dec *d, uint8_t op, int mp, uint32_t *size, bool *write)
{
	bool vex = d->vex;
	uint32_t x = vex ? 16u << d->vl : 16;

	*write = false;
	if (vex && op >= 0xf2) { /* BMI1/BMI2 */
		switch (op) {
		case 0xf2: /* andn */
		case 0xf3: /* blsr/blsmsk/blsi */
			if (mp != MP_NONE)
				return -ENOTSUP;
			break;
		case 0xf5: /* bzhi, pext, pdep */
			if (mp == MP_66)
				return -ENOTSUP;
			break;
		case 0xf6: /* mulx */
			if (mp != MP_F2)
				return -ENOTSUP;
			break;
		case 0xf7: /* bextr, shlx, sarx, shrx */
			break;
		default:
			return -ENOTSUP;
		}
		*size = d->w ? 8 : 4;
		return 0;
	}
	if (mp == MP_66) {
		if (op <= 0x0b || (op >= 0x1c && op <= 0x1e) || op == 0x17 || op == 0x28 ||
		    op == 0x29 || op == 0x2a || op == 0x2b || (op >= 0x37 && op <= 0x40)) {
			*size = x;
			return 0;
		}
		if ((op >= 0x20 && op <= 0x25) || (op >= 0x30 && op <= 0x35)) {
			*size = pmov_size(op) << (vex ? d->vl : 0);
			return 0;
		}
		if (!vex && (op == 0x10 || op == 0x14 || op == 0x15)) { /* blendv: implicit XMM0 */
			*size = 16;
			return 0;
		}
		if (vex) {
			switch (op) {
			case 0x0c: /* vpermilps/pd, vpermps, vpermd, vpsrlv/vpsllv... */
			case 0x0d:
			case 0x16:
			case 0x36:
			case 0x45:
			case 0x46:
			case 0x47:
				*size = x;
				return 0;
			case 0x18: /* vbroadcastss */
			case 0x58: /* vpbroadcastd */
				*size = 4;
				return 0;
			case 0x19: /* vbroadcastsd */
			case 0x59: /* vpbroadcastq */
				*size = 8;
				return 0;
			case 0x1a: /* vbroadcastf128, vbroadcasti128 */
			case 0x5a:
				*size = 16;
				return 0;
			case 0x78: /* vpbroadcastb, vpbroadcastw */
				*size = 1;
				return 0;
			case 0x79:
				*size = 2;
				return 0;
			}
			/* FMA: packed forms read a vector, scalar ones a float or a double */
			if (op >= 0x96 && op <= 0xbf && (op & 0xf) >= 6) {
				bool scalar = (op & 1) && (op & 0xf) >= 9;

				*size = scalar ? (d->w ? 8 : 4) : x;
				return 0;
			}
		}
		return -ENOTSUP;
	}
	if (vex)
		return -ENOTSUP;
	if (mp == MP_NONE && (op <= 0x0b || (op >= 0x1c && op <= 0x1e))) { /* SSSE3 on MMX */
		*size = 8;
		return 0;
	}
	return -ENOTSUP;
}

static int vec_0f3a(struct dec *d, uint8_t op, int mp, uint32_t *size, bool *write)
{
	bool vex = d->vex;
	uint32_t x = vex ? 16u << d->vl : 16;

	*write = false;
	if (mp == MP_NONE && !vex && op == 0x0f) { /* palignr mm */
		*size = 8;
		return 0;
	}
	if (mp != MP_66)
		return -ENOTSUP;
	switch (op) {
	case 0x08: /* round, blend, palignr */
	case 0x09:
	case 0x0c:
	case 0x0d:
	case 0x0e:
	case 0x0f:
	case 0x40: /* dpps, dppd, mpsadbw, pclmulqdq */
	case 0x41:
	case 0x42:
	case 0x44:
		*size = x;
		return 0;
	case 0x0a: /* roundss */
	case 0x21: /* insertps */
		*size = 4;
		return 0;
	case 0x0b: /* roundsd */
		*size = 8;
		return 0;
	case 0x14: /* pextrb, pextrw, pextrd/q, extractps */
		*size = 1;
		*write = true;
		return 0;
	case 0x15:
		*size = 2;
		*write = true;
		return 0;
	case 0x16:
		*size = d->w ? 8 : 4;
		*write = true;
		return 0;
	case 0x17:
		*size = 4;
		*write = true;
		return 0;
	case 0x20: /* pinsrb, pinsrd/q */
		*size = 1;
		return 0;
	case 0x22:
		*size = d->w ? 8 : 4;
		return 0;
	case 0x60: /* pcmpestrm, pcmpestri, pcmpistrm, pcmpistri */
	case 0x61:
	case 0x62:
	case 0x63:
		if (vex && d->vl)
			return -ENOTSUP;
		*size = 16;
		return 0;
	}
	if (!vex)
		return -ENOTSUP;
	switch (op) {
	case 0x00: /* vpermq, vpermpd, vpblendd, vpermilps/pd, vperm2f128 */
	case 0x01:
	case 0x02:
	case 0x04:
	case 0x05:
	case 0x06:
	case 0x46: /* vperm2i128 */
	case 0x4a: /* vblendvps/pd, vpblendvb */
	case 0x4b:
	case 0x4c:
		*size = x;
		return 0;
	case 0x18: /* vinsertf128, vinserti128 */
	case 0x38:
		*size = 16;
		return 0;
	case 0x19: /* vextractf128, vextracti128 */
	case 0x39:
		*size = 16;
		*write = true;
		return 0;
	}
	return -ENOTSUP;
}

/* A vector instruction: ModRM, immediate, memory operand. */
static int vec(struct dec *d, int map, uint8_t op, int mp)
{
	uint32_t size = 0;
	unsigned int imm = map == 3 ? 1 : 0, imm0 = 0;
	bool write = false;
	int err;

	if (map == 1)
		err = vec_0f(d, op, mp, &size, &write, &imm0);
	else if (map == 2)
		err = vec_0f38(d, op, mp, &size, &write);
	else
		err = vec_0f3a(d, op, mp, &size, &write);
	if (err)
		return err;
	return rm_imm(d, size, write, imm + imm0);
}

/* the SSE mandatory prefix of a legacy-encoded instruction */
static int legacy_mp(const struct dec *d)
{
	if (d->f2 && d->f3)
		return -1;
	return d->f3 ? MP_F3 : d->f2 ? MP_F2 : d->p66 ? MP_66 : MP_NONE;
}

/* ---- the 0F map ------------------------------------------------------------------------ */

static int map2(struct dec *d, uint8_t op)
{
	uint32_t v = osz_v(d);
	int mp = legacy_mp(d);

	if (op >= 0x40 && op <= 0x4f) { /* cmovcc: reads whatever the condition */
		TRY(modrm(d));
		plan_m(d, v, false);
		return 0;
	}
	if (op >= 0x80 && op <= 0x8f) /* jcc rel32 */
		return skip(d, 4);
	if (op >= 0x90 && op <= 0x9f) { /* setcc Eb */
		TRY(modrm(d));
		plan_m(d, 1, true);
		return 0;
	}
	if (op >= 0xc8) /* bswap */
		return op <= 0xcf ? 0 : (mp < 0 ? -ENOTSUP : vec(d, 1, op, mp));
	if (op >= 0x18 && op <= 0x1f) /* prefetch hints and hint NOPs (endbr64): no fault */
		return modrm(d);
	switch (op) {
	case 0x05: /* syscall, clts, sysret, invd, wbinvd, ud2, wrmsr, rdtsc, rdmsr, rdpmc */
	case 0x06:
	case 0x07:
	case 0x08:
	case 0x09:
	case 0x0b:
	case 0x30:
	case 0x31:
	case 0x32:
	case 0x33:
	case 0xa2: /* cpuid */
		return 0;
	case 0x0d: /* prefetchw: never faults */
		return modrm(d);
	case 0xa3: /* bt Ev, Gv */
	case 0xab: /* bts */
	case 0xb3: /* btr */
	case 0xbb: /* btc */ {
		int64_t off;
		uint32_t bits = v * 8;

		if (d->p67)
			return -ENOTSUP;
		TRY(modrm(d));
		/* the register's bit offset is signed and reaches past the operand */
		off = (int64_t)d->r->gpr[d->reg];
		if (v == 4)
			off = (int32_t)off;
		else if (v == 2)
			off = (int16_t)off;
		/* floor division, then operand-size units */
		d->bt_off = (off >= 0 ? off / bits : -((-(off + 1)) / bits) - 1) * (int64_t)v;
		plan_m(d, v, op != 0xa3);
		return 0;
	}
	case 0xba: /* group 8: bt/bts/btr/btc Ev, Ib (offset taken modulo the size) */
		TRY(rm_imm(d, v, true, 1));
		if ((d->reg & 7) < 4)
			return -EINVAL;
		if (d->nr_plan)
			d->plan[0].write = (d->reg & 7) != 4;
		return 0;
	case 0xa4: /* shld/shrd Ev, Gv, Ib / CL */
	case 0xac:
		return rm_imm(d, v, true, 1);
	case 0xa5:
	case 0xad:
		return rm_imm(d, v, true, 0);
	case 0xaf: /* imul Gv, Ev */
		return rm_imm(d, v, false, 0);
	case 0xb0: /* cmpxchg */
	case 0xc0: /* xadd */
		return rm_imm(d, 1, true, 0);
	case 0xb1:
	case 0xc1:
		return rm_imm(d, v, true, 0);
	case 0xb6: /* movzx/movsx Gv, Eb / Ew */
	case 0xbe:
		return rm_imm(d, 1, false, 0);
	case 0xb7:
	case 0xbf:
		return rm_imm(d, 2, false, 0);
	case 0xb8: /* popcnt (F3 only) */
		if (!d->f3)
			return -ENOTSUP;
		return rm_imm(d, v, false, 0);
	case 0xbc: /* bsf/tzcnt, bsr/lzcnt */
	case 0xbd:
		return rm_imm(d, v, false, 0);
	case 0xc3: /* movnti My, Gy */
		return rm_imm(d, d->w ? 8 : 4, true, 0);
	case 0xc7: /* group 9: cmpxchg8b/16b */
		TRY(modrm(d));
		if (d->mem && (d->reg & 7) == 1 && !d->f2 && !d->f3) {
			plan_m(d, d->w ? 16 : 8, true);
			return 0;
		}
		return -ENOTSUP;
	case 0xae: /* group 15 */
		TRY(modrm(d));
		if (!d->mem) /* fences, rd/wr fs/gs base */
			return 0;
		if (d->f2 || d->f3 || d->p66)
			return -ENOTSUP;
		switch (d->reg & 7) {
		case 2: /* ldmxcsr, stmxcsr */
		case 3:
			plan_m(d, 4, (d->reg & 7) == 3);
			return 0;
		}
		/*
		 * fxsave/fxrstor: the processor does not walk the 512 bytes in
		 * order (measured: a fault names a byte inside the area, not its
		 * first); xsave family: size from XCR0; clflush.
		 */
		return -ENOTSUP;
	case 0x77: /* emms */
		return 0;
	}
	if (op >= 0x10 && mp >= 0)
		return vec(d, 1, op, mp);
	return -ENOTSUP;
}

static int map_0f38(struct dec *d, uint8_t op)
{
	int mp = legacy_mp(d);

	if (op == 0xf0 || op == 0xf1) {
		if (d->f2 && !d->f3) /* crc32 Gd, Eb / Ev */
			return rm_imm(d, op == 0xf0 ? 1 : osz_v(d), false, 0);
		if (d->f2 || d->f3)
			return -ENOTSUP;
		/* movbe Gv, Mv / Mv, Gv */
		return rm_imm(d, osz_v(d), op == 0xf1, 0);
	}
	return mp < 0 ? -ENOTSUP : vec(d, 2, op, mp);
}

/* ---- VEX ------------------------------------------------------------------------------------ */

static int vex(struct dec *d, uint8_t c)
{
	uint8_t b1, b2, op;
	int map;

	/* a legacy SSE prefix or REX before VEX is #UD */
	if (d->p66 || d->f2 || d->f3 || d->rex)
		return -EINVAL;
	TRY(get8(d, &b1));
	d->rr = !(b1 & 0x80);
	if (c == 0xc5) {
		map = 1;
		b2 = b1;
	} else {
		d->rx = !(b1 & 0x40);
		d->rb = !(b1 & 0x20);
		map = b1 & 0x1f;
		TRY(get8(d, &b2));
		d->w = b2 & 0x80;
	}
	d->vl = (b2 >> 2) & 1;
	d->vpp = b2 & 3;
	d->vex = true;
	TRY(get8(d, &op));
	if (map < 1 || map > 3)
		return -ENOTSUP;
	if (map == 1 && op == 0x77) /* vzeroupper, vzeroall */
		return 0;
	return vec(d, map, op, d->vpp);
}

/* ---- addresses ------------------------------------------------------------------------------ */

static uint64_t seg_base(const struct dec *d)
{
	return d->seg == SEG_FS ? d->r->fs_base : d->seg == SEG_GS ? d->r->gs_base : 0;
}

/* an address-size-wrapped offset plus the segment base */
static uint64_t linear(const struct dec *d, uint64_t off, bool seg)
{
	if (d->p67)
		off = (uint32_t)off;
	return off + (seg ? seg_base(d) : 0);
}

static uint64_t modrm_ea(const struct dec *d)
{
	const uint64_t *g = d->r->gpr;
	uint64_t ea = (uint64_t)d->disp;

	if (d->riprel)
		return linear(d, d->r->rip + d->pos + ea, true);
	if (d->base >= 0)
		ea += g[d->base] + (d->base == DZ_X86_RSP ? d->rsp_adj : 0);
	if (d->index >= 0)
		ea += g[d->index] * d->scale;
	return linear(d, ea + (uint64_t)d->bt_off, true);
}

static void finish(struct dec *d, struct dz_x86_insn *out)
{
	const uint64_t *g = d->r->gpr;
	bool rep = d->f2 || d->f3, df = d->r->rflags & DZ_X86_RFLAGS_DF;
	uint64_t count = d->p67 ? (uint32_t)g[DZ_X86_RCX] : g[DZ_X86_RCX];

	out->len = d->pos;
	out->nr = 0;
	for (unsigned int i = 0; i < d->nr_plan; i++) {
		const struct plan *p = &d->plan[i];
		struct dz_x86_access *a = &out->acc[out->nr];

		*a = (struct dz_x86_access){.size = p->size, .write = p->write};
		switch (p->kind) {
		case PL_MODRM:
			a->gva = modrm_ea(d);
			break;
		case PL_PUSH: /* the stack's address size is 64 bits whatever 67 says */
			a->gva = g[DZ_X86_RSP] - p->size;
			break;
		case PL_POP:
			a->gva = g[DZ_X86_RSP];
			break;
		case PL_LEAVE:
			a->gva = g[DZ_X86_RBP];
			break;
		case PL_SRC:
		case PL_DST:
			if (rep && !count)
				return; /* a zero count touches nothing */
			a->gva = linear(d, g[p->kind == PL_SRC ? DZ_X86_RSI : DZ_X86_RDI],
					p->kind == PL_SRC);
			if (rep && !df)
				a->span = (count > (1ULL << 32) ? (1ULL << 32) : count) * p->size;
			break;
		case PL_ABS:
			a->gva = d->moffs + seg_base(d);
			break;
		case PL_XLAT:
			a->gva = linear(d, g[DZ_X86_RBX] + (g[DZ_X86_RAX] & 0xff), true);
			break;
		}
		out->nr++;
	}
}

/* ---- entry ------------------------------------------------------------------------------------
 */

int dz_x86_decode(const uint8_t *code, size_t avail, const struct dz_x86_regs *r,
		  struct dz_x86_insn *out)
{
	struct dec d = {.code = code, .avail = avail, .r = r, .base = -1, .index = -1};
	bool other_seg = false;
	uint8_t b;
	int err;

	memset(out, 0, sizeof(*out));
	if (!code || !r)
		return -EINVAL;
	for (;;) {
		TRY(get8(&d, &b));
		switch (b) {
		case 0x26: /* ES CS SS DS: null in 64-bit mode */
		case 0x2e:
		case 0x36:
		case 0x3e:
			other_seg = true;
			break;
		case 0x64:
		case 0x65:
			if (d.seg != SEG_NONE && d.seg != (b == 0x64 ? SEG_FS : SEG_GS))
				return -ENOTSUP; /* two overrides: which one wins is not defined */
			d.seg = b == 0x64 ? SEG_FS : SEG_GS;
			break;
		case 0x66:
			d.p66 = true;
			break;
		case 0x67:
			d.p67 = true;
			break;
		case 0xf0:
			break;
		case 0xf2:
			d.f2 = true;
			break;
		case 0xf3:
			d.f3 = true;
			break;
		default:
			if (b >= 0x40 && b <= 0x4f) {
				d.rex = b;
				continue;
			}
			goto opcode;
		}
		d.rex = 0; /* a REX followed by a legacy prefix is ignored */
	}
opcode:
	if (other_seg && d.seg != SEG_NONE)
		return -ENOTSUP;
	d.w = d.rex & 8;
	d.rr = d.rex & 4;
	d.rx = d.rex & 2;
	d.rb = d.rex & 1;
	if (b == 0xc4 || b == 0xc5) {
		err = vex(&d, b);
	} else if (b == 0x0f) {
		TRY(get8(&d, &b));
		if (b == 0x38) {
			TRY(get8(&d, &b));
			err = map_0f38(&d, b);
		} else if (b == 0x3a) {
			int mp = legacy_mp(&d);

			TRY(get8(&d, &b));
			err = mp < 0 ? -ENOTSUP : vec(&d, 3, b, mp);
		} else {
			err = map2(&d, b);
		}
	} else {
		err = map1(&d, b);
	}
	if (err)
		return err;
	finish(&d, out);
	return 0;
}

/* ---- which access faulted ------------------------------------------------------------------ */

#define PAGE_MASK_4K (~0xfffULL)

/* Does the linear page of gva map to fault_gpa's page? */
static bool maps_to(dz_x86_xlate_fn xlate, void *opaque, uint64_t gva, uint64_t fault_gpa)
{
	uint64_t gpa;

	return !xlate(opaque, gva & PAGE_MASK_4K, &gpa) &&
	       (gpa & PAGE_MASK_4K) == (fault_gpa & PAGE_MASK_4K);
}

/* [lo, hi] (inclusive) clipped to the page of gva_page, checked against the exact offset */
static int pick(uint64_t lo, uint64_t hi, uint64_t page, uint64_t fault_gpa, bool exact,
		uint64_t *gva)
{
	uint64_t first = lo > page ? lo : page, last = hi < page + 0xfff ? hi : page + 0xfff;

	if (!exact) {
		*gva = first;
		return 0;
	}
	if ((fault_gpa & 0xfff) < (first & 0xfff) || (fault_gpa & 0xfff) > (last & 0xfff))
		return -ENOENT;
	*gva = page | (fault_gpa & 0xfff);
	return 0;
}

int dz_x86_fault_gva(const struct dz_x86_insn *in, dz_x86_xlate_fn xlate, void *opaque,
		     uint64_t fault_gpa, bool exact, uint64_t *gva)
{
	for (unsigned int i = 0; i < in->nr && i < DZ_X86_MAX_ACCESS; i++) {
		const struct dz_x86_access *a = &in->acc[i];
		uint64_t lo = a->gva, hi = a->gva + (a->size ? a->size - 1 : 0);

		if (hi < lo)
			continue; /* wraps around the address space: not for us */
		if (maps_to(xlate, opaque, lo, fault_gpa) &&
		    !pick(lo, hi, lo & PAGE_MASK_4K, fault_gpa, exact, gva))
			return 0;
		if ((hi & PAGE_MASK_4K) != (lo & PAGE_MASK_4K) &&
		    maps_to(xlate, opaque, hi, fault_gpa) &&
		    !pick(lo, hi, hi & PAGE_MASK_4K, fault_gpa, exact, gva))
			return 0;
	}
	/* fast strings may fault ahead of the element RSI/RDI name */
	for (unsigned int i = 0; i < in->nr && i < DZ_X86_MAX_ACCESS; i++) {
		const struct dz_x86_access *a = &in->acc[i];
		uint64_t end = a->gva + a->span - 1, page;
		int n = 0;

		if (a->span <= a->size || end < a->gva)
			continue;
		for (page = (a->gva & PAGE_MASK_4K) + 0x1000;
		     page <= (end & PAGE_MASK_4K) && page > a->gva && n < 16; page += 0x1000, n++)
			if (maps_to(xlate, opaque, page, fault_gpa) &&
			    !pick(page, end, page, fault_gpa, exact, gva))
				return 0;
	}
	return -ENOENT;
}
