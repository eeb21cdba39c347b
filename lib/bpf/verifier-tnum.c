// SPDX-License-Identifier: GPL-2.0
/*
 * Tristate numbers ("tnums", as in the kernel's kernel/bpf/tnum.c): a 64-bit
 * value of which some bits are known. 'value' holds the known bits, 'mask' has
 * a 1 for every unknown bit, and value & mask == 0. Each operation returns a
 * tnum containing every result of the operation on any pair of members.
 */
#include <stdio.h>

#include "verifier.h"

const struct tnum tnum_unknown = {.value = 0, .mask = U64_MAX};

struct tnum tnum_const(u64 value)
{
	return TNUM(value, 0);
}

/* Smallest tnum containing [min, max]: the common prefix is known. */
struct tnum tnum_range(u64 min, u64 max)
{
	u64 chi = min ^ max, delta;
	int bits = chi ? 64 - __builtin_clzll(chi) : 0;

	if (bits > 63)
		return tnum_unknown;
	delta = (1ULL << bits) - 1;
	return TNUM(min & ~delta, delta);
}

struct tnum tnum_lshift(struct tnum a, u8 shift)
{
	return TNUM(a.value << shift, a.mask << shift);
}

struct tnum tnum_rshift(struct tnum a, u8 shift)
{
	return TNUM(a.value >> shift, a.mask >> shift);
}

/*
 * Arithmetic shift: an unknown sign bit makes the copies unknown (value's sign
 * bit is 0 then, mask's is 1), a known one copies into known bits.
 */
struct tnum tnum_arshift(struct tnum a, u8 shift, u8 insn_bitness)
{
	if (insn_bitness == 32)
		return TNUM((u32)((s32)a.value >> shift), (u32)((s32)a.mask >> shift));
	return TNUM((u64)((s64)a.value >> shift), (u64)((s64)a.mask >> shift));
}

/*
 * Addition: add the known parts and the all-ones-where-unknown parts; any bit
 * where the two sums differ, or that was unknown in an input, may carry.
 */
struct tnum tnum_add(struct tnum a, struct tnum b)
{
	u64 sm = a.mask + b.mask, sv = a.value + b.value;
	u64 sigma = sm + sv, chi = sigma ^ sv, mu = chi | a.mask | b.mask;

	return TNUM(sv & ~mu, mu);
}

struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	u64 dv = a.value - b.value;
	u64 alpha = dv + a.mask, beta = dv - b.mask;
	u64 chi = alpha ^ beta, mu = chi | a.mask | b.mask;

	return TNUM(dv & ~mu, mu);
}

struct tnum tnum_and(struct tnum a, struct tnum b)
{
	u64 alpha = a.value | a.mask, beta = b.value | b.mask, v = a.value & b.value;

	return TNUM(v, alpha & beta & ~v);
}

struct tnum tnum_or(struct tnum a, struct tnum b)
{
	u64 v = a.value | b.value, mu = a.mask | b.mask;

	return TNUM(v, mu & ~v);
}

struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	u64 v = a.value ^ b.value, mu = a.mask | b.mask;

	return TNUM(v & ~mu, mu);
}

/*
 * Multiplication as shift-and-add over a's bits: a known 1 bit of a adds b's
 * unknown bits, an unknown bit of a adds all of b's possibly-set bits, as
 * uncertainty only; the product of the known parts is exact.
 */
struct tnum tnum_mul(struct tnum a, struct tnum b)
{
	u64 acc_v = a.value * b.value;
	struct tnum acc_m = TNUM(0, 0);

	while (a.value || a.mask) {
		if (a.value & 1)
			acc_m = tnum_add(acc_m, TNUM(0, b.mask));
		else if (a.mask & 1)
			acc_m = tnum_add(acc_m, TNUM(0, b.value | b.mask));
		a = tnum_rshift(a, 1);
		b = tnum_lshift(b, 1);
	}
	return tnum_add(TNUM(acc_v, 0), acc_m);
}

struct tnum tnum_intersect(struct tnum a, struct tnum b, bool *conflict)
{
	u64 v = a.value | b.value, mu = a.mask & b.mask;

	if ((a.value ^ b.value) & ~(a.mask | b.mask))
		*conflict = true;
	return TNUM(v & ~mu, mu);
}

struct tnum tnum_cast(struct tnum a, u8 size)
{
	if (size >= 8)
		return a;
	a.value &= (1ULL << (size * 8)) - 1;
	a.mask &= (1ULL << (size * 8)) - 1;
	return a;
}

struct tnum tnum_sext32(struct tnum a)
{
	return TNUM((u64)(s64)(s32)(u32)a.value, (u64)(s64)(s32)(u32)a.mask);
}

bool tnum_is_const(struct tnum a)
{
	return !a.mask;
}

bool tnum_in(struct tnum a, struct tnum b)
{
	if (b.mask & ~a.mask)
		return false;
	b.value &= ~a.mask;
	return a.value == b.value;
}

bool tnum_is_aligned(struct tnum a, u64 size)
{
	if (!size)
		return true;
	return !((a.value | a.mask) & (size - 1));
}

struct tnum tnum_subreg(struct tnum a)
{
	return tnum_cast(a, 4);
}

struct tnum tnum_with_subreg(struct tnum reg, struct tnum subreg)
{
	return TNUM((reg.value & ~(u64)U32_MAX) | (u32)subreg.value,
		    (reg.mask & ~(u64)U32_MAX) | (u32)subreg.mask);
}

int tnum_sbin(char *buf, size_t size, struct tnum a)
{
	return snprintf(buf, size, "(%#llx; %#llx)", (unsigned long long)a.value,
			(unsigned long long)a.mask);
}
