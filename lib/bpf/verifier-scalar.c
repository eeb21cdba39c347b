// SPDX-License-Identifier: GPL-2.0
/*
 * Scalar value tracking: the bounds of what a register may hold, their
 * transfer through ALU instructions, and their refinement by conditional
 * jumps. Names follow the kernel (reg_bounds_sync, is_branch_taken,
 * reg_set_min_max); the code is doze's own.
 *
 * Soundness rule for every function here: if the concrete inputs lie inside
 * the abstract inputs, the concrete result lies inside the abstract result.
 * 32-bit ALU ops are computed as the 64-bit op on zero- (or sign-) extended
 * views of the low halves, then truncated: the low 32 bits of the 64-bit
 * result are exactly the 32-bit result for every op used that way.
 */
#include "verifier.h"

static inline u64 umax64(u64 a, u64 b)
{
	return a > b ? a : b;
}
static inline u64 umin64(u64 a, u64 b)
{
	return a < b ? a : b;
}
static inline s64 smax64(s64 a, s64 b)
{
	return a > b ? a : b;
}
static inline s64 smin64(s64 a, s64 b)
{
	return a < b ? a : b;
}
static inline u32 umax32(u32 a, u32 b)
{
	return a > b ? a : b;
}
static inline u32 umin32(u32 a, u32 b)
{
	return a < b ? a : b;
}
static inline s32 smax32(s32 a, s32 b)
{
	return a > b ? a : b;
}
static inline s32 smin32(s32 a, s32 b)
{
	return a < b ? a : b;
}

static void mark_unbounded(struct dz_reg_state *r)
{
	r->var_off = tnum_unknown;
	r->umin_value = 0;
	r->umax_value = U64_MAX;
	r->smin_value = S64_MIN;
	r->smax_value = S64_MAX;
	r->u32_min_value = 0;
	r->u32_max_value = U32_MAX;
	r->s32_min_value = S32_MIN;
	r->s32_max_value = S32_MAX;
}

void mark_reg_not_init(struct dz_reg_state *reg)
{
	*reg = (struct dz_reg_state){.type = NOT_INIT};
	mark_unbounded(reg);
}

void mark_reg_unknown(struct dz_reg_state *reg)
{
	*reg = (struct dz_reg_state){.type = SCALAR_VALUE};
	mark_unbounded(reg);
}

void mark_reg_known(struct dz_reg_state *reg, u64 imm)
{
	*reg = (struct dz_reg_state){.type = SCALAR_VALUE};
	reg->var_off = tnum_const(imm);
	reg->umin_value = reg->umax_value = imm;
	reg->smin_value = reg->smax_value = (s64)imm;
	reg->u32_min_value = reg->u32_max_value = (u32)imm;
	reg->s32_min_value = reg->s32_max_value = (s32)imm;
}

void mark_ptr(struct dz_reg_state *reg, enum dz_reg_type t, s32 off, u8 frameno)
{
	mark_reg_known(reg, 0);
	reg->type = t;
	reg->off = off;
	reg->frameno = frameno;
}

bool ptr_has_var_off(const struct dz_reg_state *reg)
{
	return !tnum_is_const(reg->var_off) || reg->var_off.value;
}

void mark_reg_srange(struct dz_reg_state *reg, s64 smin, s64 smax)
{
	mark_reg_unknown(reg);
	reg->smin_value = smin;
	reg->smax_value = smax;
	reg_bounds_sync(reg);
}

void mark_reg_unknown_size(struct dz_reg_state *reg, int size, bool sext)
{
	mark_reg_unknown(reg);
	if (size >= 8)
		return;
	if (sext) {
		reg->smin_value = -(1LL << (size * 8 - 1));
		reg->smax_value = (1LL << (size * 8 - 1)) - 1;
	} else {
		reg->umax_value = (1ULL << (size * 8)) - 1;
	}
	reg_bounds_sync(reg);
}

bool reg_is_const(const struct dz_reg_state *reg)
{
	return reg->type == SCALAR_VALUE && tnum_is_const(reg->var_off);
}

static bool reg_bounds_empty(const struct dz_reg_state *r)
{
	return r->umin_value > r->umax_value || r->smin_value > r->smax_value ||
	       r->u32_min_value > r->u32_max_value || r->s32_min_value > r->s32_max_value ||
	       (r->var_off.value & r->var_off.mask);
}

/* Bounds implied by the known bits. */
static void update_reg_bounds(struct dz_reg_state *r)
{
	struct tnum t = r->var_off, sub = tnum_subreg(t);

	r->smin_value = smax64(r->smin_value, (s64)(t.value | (t.mask & (u64)S64_MIN)));
	r->smax_value = smin64(r->smax_value, (s64)(t.value | (t.mask & (u64)S64_MAX)));
	r->umin_value = umax64(r->umin_value, t.value);
	r->umax_value = umin64(r->umax_value, t.value | t.mask);

	r->s32_min_value =
	    smax32(r->s32_min_value, (s32)(u32)(sub.value | (sub.mask & 0x80000000u)));
	r->s32_max_value =
	    smin32(r->s32_max_value, (s32)(u32)(sub.value | (sub.mask & 0x7fffffffu)));
	r->u32_min_value = umax32(r->u32_min_value, (u32)sub.value);
	r->u32_max_value = umin32(r->u32_max_value, (u32)(sub.value | sub.mask));
}

/* Signed and unsigned ranges agree where the range does not cross a sign boundary. */
static void deduce_bounds(struct dz_reg_state *r)
{
	/* 32-bit halves */
	if ((r->u32_min_value >> 31) == (r->u32_max_value >> 31)) {
		r->s32_min_value = smax32(r->s32_min_value, (s32)r->u32_min_value);
		r->s32_max_value = smin32(r->s32_max_value, (s32)r->u32_max_value);
	}
	if (((u32)r->s32_min_value >> 31) == ((u32)r->s32_max_value >> 31)) {
		r->u32_min_value = umax32(r->u32_min_value, (u32)r->s32_min_value);
		r->u32_max_value = umin32(r->u32_max_value, (u32)r->s32_max_value);
	}
	/* 64 bits */
	if ((r->umin_value >> 63) == (r->umax_value >> 63)) {
		r->smin_value = smax64(r->smin_value, (s64)r->umin_value);
		r->smax_value = smin64(r->smax_value, (s64)r->umax_value);
	}
	if (((u64)r->smin_value >> 63) == ((u64)r->smax_value >> 63)) {
		r->umin_value = umax64(r->umin_value, (u64)r->smin_value);
		r->umax_value = umin64(r->umax_value, (u64)r->smax_value);
	}
	/*
	 * 64 -> 32: values within one 2^32-aligned block have their low halves
	 * in the range of the ends' low halves (in unsigned and signed order alike).
	 */
	if ((r->umin_value >> 32) == (r->umax_value >> 32)) {
		r->u32_min_value = umax32(r->u32_min_value, (u32)r->umin_value);
		r->u32_max_value = umin32(r->u32_max_value, (u32)r->umax_value);
	}
	if (((u64)r->smin_value >> 32) == ((u64)r->smax_value >> 32)) {
		r->u32_min_value = umax32(r->u32_min_value, (u32)r->smin_value);
		r->u32_max_value = umin32(r->u32_max_value, (u32)r->smax_value);
	}
	/* A value that fits in s32 is its own low half, sign-extended. */
	if (r->smin_value >= S32_MIN && r->smax_value <= S32_MAX) {
		r->s32_min_value = smax32(r->s32_min_value, (s32)r->smin_value);
		r->s32_max_value = smin32(r->s32_max_value, (s32)r->smax_value);
		r->smin_value = smax64(r->smin_value, r->s32_min_value);
		r->smax_value = smin64(r->smax_value, r->s32_max_value);
	}
	/* 32 -> 64: inside one block, the low half's range bounds the value. */
	if ((r->umin_value >> 32) == (r->umax_value >> 32)) {
		u64 hi = r->umin_value & ~(u64)U32_MAX;

		r->umin_value = umax64(r->umin_value, hi | r->u32_min_value);
		r->umax_value = umin64(r->umax_value, hi | r->u32_max_value);
	}
	if (((u64)r->smin_value >> 32) == ((u64)r->smax_value >> 32)) {
		u64 hi = (u64)r->smin_value & ~(u64)U32_MAX;

		r->smin_value = smax64(r->smin_value, (s64)(hi | r->u32_min_value));
		r->smax_value = smin64(r->smax_value, (s64)(hi | r->u32_max_value));
	}
}

/* Known bits implied by the ranges; returns false on a contradiction. */
static bool reg_bound_offset(struct dz_reg_state *r)
{
	bool conflict = false;
	struct tnum sub;

	if (reg_bounds_empty(r))
		return false;
	r->var_off =
	    tnum_intersect(r->var_off, tnum_range(r->umin_value, r->umax_value), &conflict);
	sub = tnum_intersect(tnum_subreg(r->var_off),
			     tnum_range(r->u32_min_value, r->u32_max_value), &conflict);
	r->var_off = tnum_with_subreg(r->var_off, sub);
	return !conflict;
}

bool reg_bounds_sync(struct dz_reg_state *reg)
{
	if (reg->type != SCALAR_VALUE)
		return true;
	if (reg->var_off.value & reg->var_off.mask)
		return false;
	update_reg_bounds(reg);
	deduce_bounds(reg);
	deduce_bounds(reg);
	if (!reg_bound_offset(reg))
		return false;
	update_reg_bounds(reg);
	deduce_bounds(reg);
	return !reg_bounds_empty(reg);
}

/* ---- ALU transfer functions (64-bit; 32-bit ones go through the views below) ---- */

static void scalar_add(struct dz_reg_state *d, const struct dz_reg_state *s)
{
	u64 umin, umax;
	s64 smin, smax;
	bool so = __builtin_add_overflow(d->smin_value, s->smin_value, &smin) |
		  __builtin_add_overflow(d->smax_value, s->smax_value, &smax);
	bool uo = __builtin_add_overflow(d->umin_value, s->umin_value, &umin) |
		  __builtin_add_overflow(d->umax_value, s->umax_value, &umax);
	struct tnum t = tnum_add(d->var_off, s->var_off);

	mark_unbounded(d);
	d->var_off = t;
	if (!so) {
		d->smin_value = smin;
		d->smax_value = smax;
	}
	if (!uo) {
		d->umin_value = umin;
		d->umax_value = umax;
	}
}

static void scalar_sub(struct dz_reg_state *d, const struct dz_reg_state *s)
{
	s64 smin, smax;
	bool so = __builtin_sub_overflow(d->smin_value, s->smax_value, &smin) |
		  __builtin_sub_overflow(d->smax_value, s->smin_value, &smax);
	bool uo = d->umin_value < s->umax_value;
	u64 umin = d->umin_value - s->umax_value, umax = d->umax_value - s->umin_value;
	struct tnum t = tnum_sub(d->var_off, s->var_off);

	mark_unbounded(d);
	d->var_off = t;
	if (!so) {
		d->smin_value = smin;
		d->smax_value = smax;
	}
	if (!uo) {
		d->umin_value = umin;
		d->umax_value = umax;
	}
}

static void scalar_mul(struct dz_reg_state *d, const struct dz_reg_state *s)
{
	struct tnum t = tnum_mul(d->var_off, s->var_off);
	u64 umin, umax;
	s64 p[4], smin, smax;
	bool so, uo;
	int i;

	uo = __builtin_mul_overflow(d->umax_value, s->umax_value, &umax);
	umin = d->umin_value * s->umin_value;
	so = __builtin_mul_overflow(d->smin_value, s->smin_value, &p[0]) |
	     __builtin_mul_overflow(d->smin_value, s->smax_value, &p[1]) |
	     __builtin_mul_overflow(d->smax_value, s->smin_value, &p[2]) |
	     __builtin_mul_overflow(d->smax_value, s->smax_value, &p[3]);
	smin = p[0];
	smax = p[0];
	for (i = 1; i < 4; i++) {
		smin = smin64(smin, p[i]);
		smax = smax64(smax, p[i]);
	}
	mark_unbounded(d);
	d->var_off = t;
	if (!uo) {
		d->umin_value = umin;
		d->umax_value = umax;
	}
	if (!so) {
		d->smin_value = smin;
		d->smax_value = smax;
	}
}

static void scalar_udiv(struct dz_reg_state *d, const struct dz_reg_state *s)
{
	u64 umin, umax;

	if (s->umin_value == 0) { /* division by zero yields 0 */
		umin = 0;
		umax = s->umax_value == 0 ? 0 : d->umax_value;
	} else {
		umin = d->umin_value / s->umax_value;
		umax = d->umax_value / s->umin_value;
	}
	mark_unbounded(d);
	d->umin_value = umin;
	d->umax_value = umax;
}

static void scalar_umod(struct dz_reg_state *d, const struct dz_reg_state *s)
{
	u64 umax;

	if (reg_is_const(d) && reg_is_const(s)) {
		u64 a = d->var_off.value, b = s->var_off.value;

		mark_reg_known(d, b ? a % b : a); /* modulo by zero keeps the dividend */
		return;
	}
	if (s->umin_value > d->umax_value)
		return; /* divisor always larger: dividend unchanged */
	if (s->umin_value == 0)
		umax = d->umax_value; /* maybe by zero: the dividend */
	else
		umax = umin64(d->umax_value, s->umax_value - 1);
	mark_unbounded(d);
	d->umax_value = umax;
}

/* Signed division and modulo: exact for constants (RFC 9669 corner cases), else unknown. */
static void scalar_sdivmod(struct dz_reg_state *d, const struct dz_reg_state *s, bool mod,
			   bool alu32)
{
	s64 a, b, r;

	if (!reg_is_const(d) || !reg_is_const(s)) {
		mark_unbounded(d);
		return;
	}
	if (alu32) {
		s32 a32 = (s32)d->var_off.value, b32 = (s32)s->var_off.value, r32;

		if (b32 == 0)
			r32 = mod ? a32 : 0;
		else if (b32 == -1)
			r32 = mod ? 0 : (s32)(0u - (u32)a32);
		else
			r32 = mod ? a32 % b32 : a32 / b32;
		mark_reg_known(d, (u32)r32);
		return;
	}
	a = (s64)d->var_off.value;
	b = (s64)s->var_off.value;
	if (b == 0)
		r = mod ? a : 0;
	else if (b == -1)
		r = mod ? 0 : (s64)(0ull - (u64)a);
	else
		r = mod ? a % b : a / b;
	mark_reg_known(d, (u64)r);
}

static void scalar_and(struct dz_reg_state *d, const struct dz_reg_state *s)
{
	struct tnum t = tnum_and(d->var_off, s->var_off);
	u64 umax = umin64(d->umax_value, s->umax_value);

	mark_unbounded(d);
	d->var_off = t;
	d->umax_value = umax;
}

static void scalar_or(struct dz_reg_state *d, const struct dz_reg_state *s)
{
	struct tnum t = tnum_or(d->var_off, s->var_off);
	u64 umin = umax64(d->umin_value, s->umin_value);

	mark_unbounded(d);
	d->var_off = t;
	d->umin_value = umin;
}

static void scalar_xor(struct dz_reg_state *d, const struct dz_reg_state *s)
{
	struct tnum t = tnum_xor(d->var_off, s->var_off);

	mark_unbounded(d);
	d->var_off = t;
}

static void scalar_lsh(struct dz_reg_state *d, u8 k)
{
	struct tnum t = tnum_lshift(d->var_off, k);
	u64 umin = d->umin_value, umax = d->umax_value;
	bool keep = k == 0 || !(umax >> (64 - k));

	mark_unbounded(d);
	d->var_off = t;
	if (keep) {
		d->umin_value = umin << k;
		d->umax_value = umax << k;
	}
}

static void scalar_rsh(struct dz_reg_state *d, u8 k)
{
	struct tnum t = tnum_rshift(d->var_off, k);
	u64 umin = d->umin_value >> k, umax = d->umax_value >> k;

	mark_unbounded(d);
	d->var_off = t;
	d->umin_value = umin;
	d->umax_value = umax;
}

static void scalar_arsh(struct dz_reg_state *d, u8 k)
{
	struct tnum t = tnum_arshift(d->var_off, k, 64);
	s64 smin = d->smin_value >> k, smax = d->smax_value >> k;

	mark_unbounded(d);
	d->var_off = t;
	d->smin_value = smin;
	d->smax_value = smax;
}

/* Shift by an unknown amount (0..63). */
static void scalar_shift_unknown(struct dz_reg_state *d, u8 op)
{
	u64 umax = d->umax_value;
	s64 smin = d->smin_value, smax = d->smax_value;

	mark_unbounded(d);
	if (op == BPF_RSH) {
		d->umax_value = umax; /* never grows */
	} else if (op == BPF_ARSH) {  /* moves towards 0 or -1 */
		d->smin_value = smin64(smin, 0) < 0 ? smin : 0;
		d->smax_value = smax > 0 ? smax : (smax < 0 ? -1 : 0);
		if (smin >= 0)
			d->smin_value = 0;
	}
}

/* Sign-extend the low 'bits' bits (movsx). */
static void scalar_sext(struct dz_reg_state *d, int bits)
{
	s64 lo = -(1LL << (bits - 1)), hi = (1LL << (bits - 1)) - 1;

	if (d->smin_value >= lo && d->smax_value <= hi)
		return; /* already its own sign extension */
	if (reg_is_const(d)) {
		u64 v = d->var_off.value;

		mark_reg_known(d, (u64)((s64)(v << (64 - bits)) >> (64 - bits)));
		return;
	}
	mark_unbounded(d);
	d->smin_value = lo;
	d->smax_value = hi;
}

/* Keep the low 'bits' bits (zero-extended). */
static void scalar_trunc(struct dz_reg_state *d, int bits)
{
	u64 m, lo, hi;
	struct tnum t;

	if (bits >= 64)
		return;
	m = (1ULL << bits) - 1;
	t = tnum_cast(d->var_off, bits / 8);
	if ((d->umin_value >> bits) == (d->umax_value >> bits)) {
		lo = d->umin_value & m;
		hi = d->umax_value & m;
	} else {
		lo = 0;
		hi = m;
	}
	if (((u64)d->smin_value >> bits) == ((u64)d->smax_value >> bits)) {
		lo = umax64(lo, (u64)d->smin_value & m);
		hi = umin64(hi, (u64)d->smax_value & m);
	}
	mark_unbounded(d);
	d->var_off = t;
	d->umin_value = lo;
	d->umax_value = hi;
}

/*
 * The value a load of 'size' bytes gives from memory holding reg's value (the
 * kernel's coerce_reg_to_size and _sx): its low bytes, zero- or sign-extended.
 * Keeps no id: the caller decides whether the result still equals reg.
 */
void scalar_coerce(struct dz_reg_state *reg, int size, bool sext)
{
	reg->id = 0;
	reg->off = 0;
	if (size < 8) {
		scalar_trunc(reg, size * 8);
		if (!reg_bounds_sync(reg))
			mark_reg_unknown_size(reg, size, false);
		if (sext)
			scalar_sext(reg, size * 8);
	}
	if (!reg_bounds_sync(reg))
		mark_reg_unknown_size(reg, size, sext); /* cannot happen: consistent input */
}

/* The low half as a 64-bit value, zero- or sign-extended. */
static void subreg_view(struct dz_reg_state *v, const struct dz_reg_state *r, bool sext)
{
	mark_reg_unknown(v);
	if (sext) {
		v->var_off = tnum_sext32(r->var_off);
		v->smin_value = r->s32_min_value;
		v->smax_value = r->s32_max_value;
	} else {
		v->var_off = tnum_subreg(r->var_off);
		v->umin_value = r->u32_min_value;
		v->umax_value = r->u32_max_value;
	}
	v->u32_min_value = r->u32_min_value;
	v->u32_max_value = r->u32_max_value;
	v->s32_min_value = r->s32_min_value;
	v->s32_max_value = r->s32_max_value;
	reg_bounds_sync(v);
}

bool scalar_alu(struct dz_reg_state *dst, const struct dz_reg_state *src, u8 op, bool alu32,
		s16 off)
{
	struct dz_reg_state d, s;
	u32 id = 0;
	u8 k;

	if (alu32) {
		subreg_view(&d, dst, op == BPF_ARSH);
		subreg_view(&s, src, false);
	} else {
		d = *dst;
		s = *src;
	}

	switch (op) {
	case BPF_ADD:
		scalar_add(&d, &s);
		break;
	case BPF_SUB:
		scalar_sub(&d, &s);
		break;
	case BPF_NEG: {
		struct dz_reg_state zero;

		mark_reg_known(&zero, 0);
		scalar_sub(&zero, &d);
		d = zero;
		break;
	}
	case BPF_MUL:
		scalar_mul(&d, &s);
		break;
	case BPF_DIV:
	case BPF_MOD:
		if (off == DZ_OFF_SIGNED)
			scalar_sdivmod(&d, &s, op == BPF_MOD, alu32);
		else if (op == BPF_DIV)
			scalar_udiv(&d, &s);
		else
			scalar_umod(&d, &s);
		break;
	case BPF_AND:
		scalar_and(&d, &s);
		break;
	case BPF_OR:
		scalar_or(&d, &s);
		break;
	case BPF_XOR:
		scalar_xor(&d, &s);
		break;
	case BPF_LSH:
	case BPF_RSH:
	case BPF_ARSH:
		if (!tnum_is_const(s.var_off)) {
			if (alu32 && op == BPF_ARSH)
				mark_unbounded(&d); /* sign of the 32-bit half */
			else
				scalar_shift_unknown(&d, op);
			break;
		}
		k = s.var_off.value & (alu32 ? 31 : 63); /* shift amounts are masked */
		if (op == BPF_LSH)
			scalar_lsh(&d, k);
		else if (op == BPF_RSH)
			scalar_rsh(&d, k);
		else
			scalar_arsh(&d, k);
		break;
	case BPF_MOV:
		d = s;
		id = alu32 ? 0 : src->id;
		if (off)
			scalar_sext(&d, off);
		break;
	default:
		return false;
	}
	if (alu32) {
		reg_bounds_sync(&d);
		scalar_trunc(&d, 32);
	}
	d.type = SCALAR_VALUE;
	d.id = off ? 0 : id;
	d.off = d.id ? src->off : 0; /* a copy keeps the link's delta */
	d.frameno = 0;
	*dst = d;
	return reg_bounds_sync(dst);
}

bool scalar_end(struct dz_reg_state *dst, bool swap, int bits)
{
	if (!swap) {
		scalar_trunc(dst, bits);
	} else if (reg_is_const(dst)) {
		u64 v = dst->var_off.value;

		if (bits == 16)
			v = __builtin_bswap16((uint16_t)v);
		else if (bits == 32)
			v = __builtin_bswap32((u32)v);
		else
			v = __builtin_bswap64(v);
		mark_reg_known(dst, v);
	} else {
		mark_reg_unknown_size(dst, bits / 8, false);
	}
	dst->id = 0;
	return reg_bounds_sync(dst);
}

/* ---- conditional jumps ---- */

/* A register's bounds seen at one width: the 64 bits, or the low 32 as 32-bit numbers. */
struct rview {
	u64 umin, umax;
	s64 smin, smax;
	struct tnum t;
	u64 ulim;     /* U64_MAX or U32_MAX */
	s64 slo, shi; /* S64_MIN..S64_MAX or S32_MIN..S32_MAX */
};

static void get_view(struct rview *v, const struct dz_reg_state *r, bool is32)
{
	if (is32) {
		v->umin = r->u32_min_value;
		v->umax = r->u32_max_value;
		v->smin = r->s32_min_value;
		v->smax = r->s32_max_value;
		v->t = tnum_subreg(r->var_off);
		v->ulim = U32_MAX;
		v->slo = S32_MIN;
		v->shi = S32_MAX;
	} else {
		v->umin = r->umin_value;
		v->umax = r->umax_value;
		v->smin = r->smin_value;
		v->smax = r->smax_value;
		v->t = r->var_off;
		v->ulim = U64_MAX;
		v->slo = S64_MIN;
		v->shi = S64_MAX;
	}
}

static bool put_view(struct dz_reg_state *r, const struct rview *v, bool is32)
{
	if (is32) {
		r->u32_min_value = v->umin;
		r->u32_max_value = v->umax;
		r->s32_min_value = v->smin;
		r->s32_max_value = v->smax;
		r->var_off = tnum_with_subreg(r->var_off, v->t);
	} else {
		r->umin_value = v->umin;
		r->umax_value = v->umax;
		r->smin_value = v->smin;
		r->smax_value = v->smax;
		r->var_off = v->t;
	}
	if (v->umin > v->umax || v->smin > v->smax || (v->t.value & v->t.mask))
		return false;
	return reg_bounds_sync(r);
}

static bool view_const(const struct rview *v)
{
	return tnum_is_const(v->t);
}

static int view_branch_taken(const struct rview *a, const struct rview *b, u8 op)
{
	switch (op) {
	case BPF_JEQ:
		if (view_const(a) && view_const(b))
			return a->t.value == b->t.value;
		if (a->umin > b->umax || a->umax < b->umin || a->smin > b->smax ||
		    a->smax < b->smin)
			return 0;
		if ((a->t.value ^ b->t.value) & ~(a->t.mask | b->t.mask))
			return 0;
		return -1;
	case BPF_JNE: {
		int r = view_branch_taken(a, b, BPF_JEQ);

		return r < 0 ? r : !r;
	}
	case BPF_JSET:
		if (a->t.value & b->t.value)
			return 1;
		if (!((a->t.value | a->t.mask) & (b->t.value | b->t.mask)))
			return 0;
		return -1;
	case BPF_JGT:
		if (a->umin > b->umax)
			return 1;
		if (a->umax <= b->umin)
			return 0;
		return -1;
	case BPF_JGE:
		if (a->umin >= b->umax)
			return 1;
		if (a->umax < b->umin)
			return 0;
		return -1;
	case BPF_JLT:
		if (a->umax < b->umin)
			return 1;
		if (a->umin >= b->umax)
			return 0;
		return -1;
	case BPF_JLE:
		if (a->umax <= b->umin)
			return 1;
		if (a->umin > b->umax)
			return 0;
		return -1;
	case BPF_JSGT:
		if (a->smin > b->smax)
			return 1;
		if (a->smax <= b->smin)
			return 0;
		return -1;
	case BPF_JSGE:
		if (a->smin >= b->smax)
			return 1;
		if (a->smax < b->smin)
			return 0;
		return -1;
	case BPF_JSLT:
		if (a->smax < b->smin)
			return 1;
		if (a->smin >= b->smax)
			return 0;
		return -1;
	case BPF_JSLE:
		if (a->smax <= b->smin)
			return 1;
		if (a->smin > b->smax)
			return 0;
		return -1;
	}
	return -1;
}

int is_branch_taken(const struct dz_reg_state *a, const struct dz_reg_state *b, u8 op, bool is32)
{
	struct rview va, vb;

	get_view(&va, a, is32);
	get_view(&vb, b, is32);
	return view_branch_taken(&va, &vb, op);
}

/* Pseudo-op for the false branch of JSET: (a & b) == 0. */
#define DZ_JSET_NOT 0xf0

u8 negate_jmp_op(u8 op)
{
	switch (op) {
	case BPF_JEQ:
		return BPF_JNE;
	case BPF_JNE:
		return BPF_JEQ;
	case BPF_JGT:
		return BPF_JLE;
	case BPF_JLE:
		return BPF_JGT;
	case BPF_JGE:
		return BPF_JLT;
	case BPF_JLT:
		return BPF_JGE;
	case BPF_JSGT:
		return BPF_JSLE;
	case BPF_JSLE:
		return BPF_JSGT;
	case BPF_JSGE:
		return BPF_JSLT;
	case BPF_JSLT:
		return BPF_JSGE;
	case BPF_JSET:
		return DZ_JSET_NOT;
	case DZ_JSET_NOT:
		return BPF_JSET;
	}
	return op;
}

/* a != const c: shave c off the ends of a's ranges. */
static bool view_ne_const(struct rview *a, const struct rview *c)
{
	if (view_const(a) && a->t.value == c->t.value)
		return false;
	if (a->umin == c->umin)
		a->umin++;
	if (a->umax == c->umin)
		a->umax--;
	if (a->smin == c->smin)
		a->smin++;
	if (a->smax == c->smin)
		a->smax--;
	return true;
}

static bool view_refine(struct rview *a, struct rview *b, u8 op)
{
	struct rview oa = *a, ob = *b;
	bool conflict = false;

	switch (op) {
	case BPF_JEQ:
		a->umin = b->umin = umax64(oa.umin, ob.umin);
		a->umax = b->umax = umin64(oa.umax, ob.umax);
		a->smin = b->smin = smax64(oa.smin, ob.smin);
		a->smax = b->smax = smin64(oa.smax, ob.smax);
		a->t = b->t = tnum_intersect(oa.t, ob.t, &conflict);
		return !conflict;
	case BPF_JNE:
		if (view_const(&ob))
			return view_ne_const(a, &ob);
		if (view_const(&oa))
			return view_ne_const(b, &oa);
		return true;
	case BPF_JSET:
		/* a & b != 0: with a single-bit constant, that bit is set */
		if (view_const(&ob) && ob.t.value && !(ob.t.value & (ob.t.value - 1))) {
			a->t = tnum_intersect(oa.t, TNUM(ob.t.value, ~ob.t.value & oa.ulim),
					      &conflict);
			return !conflict;
		}
		if (view_const(&oa) && oa.t.value && !(oa.t.value & (oa.t.value - 1))) {
			b->t = tnum_intersect(ob.t, TNUM(oa.t.value, ~oa.t.value & ob.ulim),
					      &conflict);
			return !conflict;
		}
		return true;
	case DZ_JSET_NOT:
		/* a & b == 0: a constant's set bits are clear in the other */
		if (view_const(&ob)) {
			if (oa.t.value & ob.t.value)
				return false;
			a->t = TNUM(oa.t.value, oa.t.mask & ~ob.t.value);
		}
		if (view_const(&oa)) {
			if (ob.t.value & oa.t.value)
				return false;
			b->t = TNUM(ob.t.value, ob.t.mask & ~oa.t.value);
		}
		return true;
	case BPF_JGT: /* a > b */
		if (ob.umin == oa.ulim || oa.umax == 0)
			return false;
		a->umin = umax64(oa.umin, ob.umin + 1);
		b->umax = umin64(ob.umax, oa.umax - 1);
		return true;
	case BPF_JGE:
		a->umin = umax64(oa.umin, ob.umin);
		b->umax = umin64(ob.umax, oa.umax);
		return true;
	case BPF_JLT: /* a < b */
		if (ob.umax == 0 || oa.umin == oa.ulim)
			return false;
		a->umax = umin64(oa.umax, ob.umax - 1);
		b->umin = umax64(ob.umin, oa.umin + 1);
		return true;
	case BPF_JLE:
		a->umax = umin64(oa.umax, ob.umax);
		b->umin = umax64(ob.umin, oa.umin);
		return true;
	case BPF_JSGT:
		if (ob.smin == oa.shi || oa.smax == oa.slo)
			return false;
		a->smin = smax64(oa.smin, ob.smin + 1);
		b->smax = smin64(ob.smax, oa.smax - 1);
		return true;
	case BPF_JSGE:
		a->smin = smax64(oa.smin, ob.smin);
		b->smax = smin64(ob.smax, oa.smax);
		return true;
	case BPF_JSLT:
		if (ob.smax == oa.slo || oa.smin == oa.shi)
			return false;
		a->smax = smin64(oa.smax, ob.smax - 1);
		b->smin = smax64(ob.smin, oa.smin + 1);
		return true;
	case BPF_JSLE:
		a->smax = smin64(oa.smax, ob.smax);
		b->smin = smax64(ob.smin, oa.smin);
		return true;
	}
	return true;
}

bool reg_set_min_max(struct dz_reg_state *a, struct dz_reg_state *b, u8 op, bool is32)
{
	struct rview va, vb;

	get_view(&va, a, is32);
	get_view(&vb, b, is32);
	if (view_branch_taken(&va, &vb, op) == 0)
		return false;
	if (!view_refine(&va, &vb, op))
		return false;
	if (!put_view(a, &va, is32))
		return false;
	return put_view(b, &vb, is32);
}

bool scalar_range_within(const struct dz_reg_state *old, const struct dz_reg_state *cur)
{
	return old->umin_value <= cur->umin_value && old->umax_value >= cur->umax_value &&
	       old->smin_value <= cur->smin_value && old->smax_value >= cur->smax_value &&
	       old->u32_min_value <= cur->u32_min_value &&
	       old->u32_max_value >= cur->u32_max_value &&
	       old->s32_min_value <= cur->s32_min_value &&
	       old->s32_max_value >= cur->s32_max_value && tnum_in(old->var_off, cur->var_off);
}
