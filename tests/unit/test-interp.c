// SPDX-License-Identifier: GPL-2.0
/*
 * Interpreter semantics per instruction class, with hand-computed expected
 * values and the RFC 9669 edge cases. Every program runs twice: in the checked
 * interpreter (unverified) and in the fast one (marked verified by hand, which
 * only a test may do), and both must agree with the expected value.
 */
#include <errno.h>
#include <stdint.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "tap.h"

#define I64_MIN 0x8000000000000000ULL
#define MOV64(d, imm) BPF_MOV64_IMM(d, imm)
#define LD64(d, v) BPF_LD_IMM64(d, v)
#define EXIT BPF_EXIT_INSN()

static int run_mode(const struct bpf_insn *insns, uint32_t cnt, bool checked, void *mem,
		    uint32_t len, uint64_t *r0)
{
	struct dz_run_opts opts = { .checked = checked };
	uint64_t dummy[8] = { 0 };
	struct dz_prog *prog;
	int ret;

	ret = dz_prog__new(insns, cnt, DZ_PROG_MEM, &prog);
	if (ret)
		return ret;
	if (!mem) {
		mem = dummy;
		len = sizeof(dummy);
	}
	prog->mem_size = len;
	prog->verified = !checked;
	ret = dz_prog__run(prog, mem, len, &opts, r0, NULL);
	dz_prog__free(prog);
	return ret;
}

#define T(want, name, ...)                                                                     \
	do {                                                                                   \
		const struct bpf_insn p_[] = { __VA_ARGS__ };                                  \
		check(p_, sizeof(p_) / sizeof(p_[0]), (want), (name));                         \
	} while (0)

static void check(const struct bpf_insn *insns, uint32_t cnt, uint64_t want, const char *name)
{
	uint64_t a = 0xdead, b = 0xdead;
	int ra = run_mode(insns, cnt, true, NULL, 0, &a);
	int rb = run_mode(insns, cnt, false, NULL, 0, &b);

	if (ra || rb) {
		ok(0, "%s: runs (checked %d, fast %d)", name, ra, rb);
		return;
	}
	if (a != b)
		diag("checked and fast interpreters disagree: %#llx vs %#llx",
		     (unsigned long long)a, (unsigned long long)b);
	is_u64(a == b ? a : ~want, want, "%s", name);
}

static void alu(void)
{
	/* ALU64 basics and wrap-around. */
	T(7, "add imm", MOV64(0, 3), BPF_ALU64_IMM(BPF_ADD, 0, 4), EXIT);
	T(0xffffffffffffffffULL, "sub below zero", MOV64(0, 3), BPF_ALU64_IMM(BPF_SUB, 0, 4), EXIT);
	T(0, "add wraps 64", LD64(0, UINT64_MAX), BPF_ALU64_IMM(BPF_ADD, 0, 1), EXIT);
	T(0x100000000ULL, "64-bit add does not wrap at 32", MOV64(0, -1),
	  BPF_ALU32_IMM(BPF_MOV, 0, -1), BPF_ALU64_IMM(BPF_ADD, 0, 1), EXIT);
	T(0xfffffffffffffffeULL, "imm is sign-extended in ALU64", MOV64(0, 1),
	  BPF_ALU64_IMM(BPF_MUL, 0, -2), EXIT);
	T(0x0000000100000002ULL, "mul 64", LD64(0, 0x80000001ULL), BPF_ALU64_IMM(BPF_MUL, 0, 2),
	  EXIT);
	T(0x2, "mul 32 wraps and zero-extends", LD64(0, 0xffffffff80000001ULL),
	  BPF_ALU32_IMM(BPF_MUL, 0, 2), EXIT);
	/* 32-bit ops zero-extend. */
	T(0, "add32 wraps to 0", MOV64(0, -1), BPF_ALU32_IMM(BPF_ADD, 0, 1), EXIT);
	T(0xffffffffULL, "mov32 -1 zero-extends", MOV64(0, 0), BPF_MOV32_IMM(0, -1), EXIT);
	T(0xffffffffffffffffULL, "mov64 -1 sign-extends", BPF_MOV64_IMM(0, -1), EXIT);
	T(0x5, "mov32 reg truncates", LD64(1, 0x1234567800000005ULL), BPF_MOV32_REG(0, 1), EXIT);
	T(0x7fffffff, "w0 -= 1 from INT32_MIN", LD64(0, 0xffffffff80000000ULL),
	  BPF_ALU32_IMM(BPF_SUB, 0, 1), EXIT);
	/* Bitwise. */
	T(0xf0f0, "or", MOV64(0, 0xf000), BPF_ALU64_IMM(BPF_OR, 0, 0xf0), EXIT);
	T(0x30, "and", MOV64(0, 0xff30), BPF_ALU64_IMM(BPF_AND, 0, 0xff), EXIT);
	T(0xffffffffffff00ffULL, "xor with sign-extended imm", MOV64(0, 0xff00),
	  BPF_ALU64_IMM(BPF_XOR, 0, -1), EXIT);
	T(0xffff00ff, "xor32", MOV64(0, 0xff00), BPF_ALU32_IMM(BPF_XOR, 0, -1), EXIT);
	/* Shifts: masked to 63 / 31. */
	T(I64_MIN, "lsh 63", MOV64(0, 1), BPF_ALU64_IMM(BPF_LSH, 0, 63), EXIT);
	T(1, "lsh by 64 reg is lsh by 0", MOV64(0, 1), MOV64(1, 64), BPF_ALU64_REG(BPF_LSH, 0, 1),
	  EXIT);
	T(2, "lsh by 65 reg is lsh by 1", MOV64(0, 1), MOV64(1, 65), BPF_ALU64_REG(BPF_LSH, 0, 1),
	  EXIT);
	T(1, "rsh 63", LD64(0, I64_MIN), BPF_ALU64_IMM(BPF_RSH, 0, 63), EXIT);
	T(0xffffffffffffffffULL, "arsh 63", LD64(0, I64_MIN), BPF_ALU64_IMM(BPF_ARSH, 0, 63), EXIT);
	T(0xfffffffffffffff0ULL, "arsh 4", MOV64(0, -256), BPF_ALU64_IMM(BPF_ARSH, 0, 4), EXIT);
	T(0x80000000, "lsh32 31", MOV64(0, 1), BPF_ALU32_IMM(BPF_LSH, 0, 31), EXIT);
	T(0x2, "lsh32 by 33 is by 1", MOV64(0, 0x80000001), MOV64(1, 33),
	  BPF_ALU32_REG(BPF_LSH, 0, 1), EXIT);
	T(0xffffffff, "arsh32 31", MOV64(0, 0x80000000), BPF_ALU32_IMM(BPF_ARSH, 0, 31), EXIT);
	T(0x00800000, "rsh32 of a 64-bit value uses the low half", LD64(0, 0xffffffff80000000ULL),
	  BPF_ALU32_IMM(BPF_RSH, 0, 8), EXIT);
	/* Unsigned division and modulo. */
	T(3, "div", MOV64(0, 10), BPF_ALU64_IMM(BPF_DIV, 0, 3), EXIT);
	T(1, "mod", MOV64(0, 10), BPF_ALU64_IMM(BPF_MOD, 0, 3), EXIT);
	T(0, "div by zero reg gives 0", MOV64(0, 10), MOV64(1, 0), BPF_ALU64_REG(BPF_DIV, 0, 1),
	  EXIT);
	T(0, "div by zero imm gives 0", MOV64(0, 10), BPF_ALU64_IMM(BPF_DIV, 0, 0), EXIT);
	T(10, "mod by zero keeps the dividend", MOV64(0, 10), MOV64(1, 0),
	  BPF_ALU64_REG(BPF_MOD, 0, 1), EXIT);
	T(0xffffffff, "mod32 by zero zero-extends the dividend", MOV64(0, -1), MOV64(1, 0),
	  BPF_ALU32_REG(BPF_MOD, 0, 1), EXIT);
	T(0, "div32 by zero gives 0", MOV64(0, -1), BPF_ALU32_IMM(BPF_DIV, 0, 0), EXIT);
	T(1, "div64 by imm -1 is by UINT64_MAX", MOV64(0, -1), BPF_ALU64_IMM(BPF_DIV, 0, -1), EXIT);
	T(0, "div32 by a 64-bit value only sees its low half", MOV64(0, 7),
	  LD64(1, 0x100000000ULL), BPF_ALU32_REG(BPF_DIV, 0, 1), EXIT);
	T(0x7fffffff, "div32 is unsigned", MOV64(0, -2), BPF_ALU32_IMM(BPF_DIV, 0, 2), EXIT);
	/* Signed division and modulo (off = 1). */
	T((uint64_t)-3, "sdiv -7 / 2 truncates", MOV64(0, -7), BPF_ALU64_IMM_OFF(BPF_DIV, 0, 2, 1),
	  EXIT);
	T((uint64_t)-1, "smod -7 % 2 takes the dividend's sign", MOV64(0, -7),
	  BPF_ALU64_IMM_OFF(BPF_MOD, 0, 2, 1), EXIT);
	T(1, "smod 7 % -2", MOV64(0, 7), BPF_ALU64_IMM_OFF(BPF_MOD, 0, -2, 1), EXIT);
	T(I64_MIN, "sdiv INT64_MIN / -1 wraps", LD64(0, I64_MIN), MOV64(1, -1),
	  BPF_ALU64_REG_OFF(BPF_DIV, 0, 1, 1), EXIT);
	T(0, "smod INT64_MIN % -1 is 0", LD64(0, I64_MIN), MOV64(1, -1),
	  BPF_ALU64_REG_OFF(BPF_MOD, 0, 1, 1), EXIT);
	T(0, "sdiv by zero gives 0", MOV64(0, -5), BPF_ALU64_IMM_OFF(BPF_DIV, 0, 0, 1), EXIT);
	T((uint64_t)-5, "smod by zero keeps the dividend", MOV64(0, -5), MOV64(1, 0),
	  BPF_ALU64_REG_OFF(BPF_MOD, 0, 1, 1), EXIT);
	T(0x80000000, "sdiv32 INT32_MIN / -1 wraps", MOV64(0, 0x80000000),
	  BPF_ALU32_IMM_OFF(BPF_DIV, 0, -1, 1), EXIT);
	T(0, "smod32 INT32_MIN % -1 is 0", MOV64(0, 0x80000000),
	  BPF_ALU32_IMM_OFF(BPF_MOD, 0, -1, 1), EXIT);
	T(0xfffffffd, "sdiv32 -7 / 2 zero-extends", MOV64(0, -7),
	  BPF_ALU32_IMM_OFF(BPF_DIV, 0, 2, 1), EXIT);
	T(0xfffffffb, "smod32 by zero keeps the dividend, zero-extended", MOV64(0, -5),
	  BPF_ALU32_IMM_OFF(BPF_MOD, 0, 0, 1), EXIT);
	/* neg. */
	T((uint64_t)-5, "neg", MOV64(0, 5), BPF_ALU64_IMM(BPF_NEG, 0, 0), EXIT);
	T(I64_MIN, "neg INT64_MIN", LD64(0, I64_MIN), BPF_ALU64_IMM(BPF_NEG, 0, 0), EXIT);
	T(0xfffffffb, "neg32", MOV64(0, 5), BPF_ALU32_IMM(BPF_NEG, 0, 0), EXIT);
	/* movsx. */
	T(0xffffffffffffff80ULL, "movsx s8", MOV64(1, 0x180), BPF_MOVSX64_REG(0, 1, 8), EXIT);
	T(0x7f, "movsx s8 positive", MOV64(1, 0x17f), BPF_MOVSX64_REG(0, 1, 8), EXIT);
	T(0xffffffffffff8000ULL, "movsx s16", MOV64(1, 0x8000), BPF_MOVSX64_REG(0, 1, 16), EXIT);
	T(0xffffffff80000000ULL, "movsx s32", LD64(1, 0x180000000ULL), BPF_MOVSX64_REG(0, 1, 32),
	  EXIT);
	T(0xffffff80, "movsx32 s8 zero-extends", MOV64(1, 0x80), BPF_MOVSX32_REG(0, 1, 8), EXIT);
	T(0xffff8000, "movsx32 s16", MOV64(1, 0x8000), BPF_MOVSX32_REG(0, 1, 16), EXIT);
	/* Byte swaps on a little-endian host. */
	T(0x3412, "be16", LD64(0, 0x1122334455661234ULL), BPF_ENDIAN(BPF_TO_BE, 0, 16), EXIT);
	T(0x78563412, "be32", LD64(0, 0x1122334412345678ULL), BPF_ENDIAN(BPF_TO_BE, 0, 32), EXIT);
	T(0x8877665544332211ULL, "be64", LD64(0, 0x1122334455667788ULL),
	  BPF_ENDIAN(BPF_TO_BE, 0, 64), EXIT);
	T(0x1234, "le16 truncates", LD64(0, 0x1122334455661234ULL), BPF_ENDIAN(BPF_TO_LE, 0, 16),
	  EXIT);
	T(0x12345678, "le32 truncates", LD64(0, 0x1122334412345678ULL),
	  BPF_ENDIAN(BPF_TO_LE, 0, 32), EXIT);
	T(0x1122334455667788ULL, "le64 is a no-op", LD64(0, 0x1122334455667788ULL),
	  BPF_ENDIAN(BPF_TO_LE, 0, 64), EXIT);
	T(0x3412, "bswap16", LD64(0, 0x1122334455661234ULL), BPF_BSWAP(0, 16), EXIT);
	T(0x78563412, "bswap32", LD64(0, 0x1122334412345678ULL), BPF_BSWAP(0, 32), EXIT);
	T(0x8877665544332211ULL, "bswap64", LD64(0, 0x1122334455667788ULL), BPF_BSWAP(0, 64),
	  EXIT);
	T(0xdeadbeefcafef00dULL, "lddw", LD64(0, 0xdeadbeefcafef00dULL), EXIT);
}

static void jmp(void)
{
#define J(want, name, a, jump)                                                                 \
	T(want, name, LD64(1, a), MOV64(0, 0), jump, BPF_JMP_A(1), MOV64(0, 1), EXIT)
	J(1, "jeq imm taken", 5, BPF_JMP_IMM(BPF_JEQ, 1, 5, 1));
	J(0, "jeq imm not taken", 6, BPF_JMP_IMM(BPF_JEQ, 1, 5, 1));
	J(1, "jeq -1 sign-extends imm", UINT64_MAX, BPF_JMP_IMM(BPF_JEQ, 1, -1, 1));
	J(0, "jeq 0xffffffff vs sign-extended -1", 0xffffffffULL, BPF_JMP_IMM(BPF_JEQ, 1, -1, 1));
	J(1, "jeq32 sees the low half", 0xffffffffULL, BPF_JMP32_IMM(BPF_JEQ, 1, -1, 1));
	J(1, "jne", 1, BPF_JMP_IMM(BPF_JNE, 1, 0, 1));
	J(1, "jgt unsigned", UINT64_MAX, BPF_JMP_IMM(BPF_JGT, 1, 1, 1));
	J(0, "jsgt signed", UINT64_MAX, BPF_JMP_IMM(BPF_JSGT, 1, 1, 1));
	J(1, "jge equal", 3, BPF_JMP_IMM(BPF_JGE, 1, 3, 1));
	J(1, "jlt", 2, BPF_JMP_IMM(BPF_JLT, 1, 3, 1));
	J(1, "jle equal", 3, BPF_JMP_IMM(BPF_JLE, 1, 3, 1));
	J(1, "jslt negative", (uint64_t)-4, BPF_JMP_IMM(BPF_JSLT, 1, -3, 1));
	J(1, "jsle", (uint64_t)-3, BPF_JMP_IMM(BPF_JSLE, 1, -3, 1));
	J(1, "jsge", 0, BPF_JMP_IMM(BPF_JSGE, 1, -3, 1));
	J(1, "jset", 0x10, BPF_JMP_IMM(BPF_JSET, 1, 0x30, 1));
	J(0, "jset none", 0x40, BPF_JMP_IMM(BPF_JSET, 1, 0x30, 1));
	J(1, "jsgt32 low half negative vs positive", 0x00000001ffffffffULL,
	  BPF_JMP32_IMM(BPF_JSLT, 1, 0, 1));
	J(0, "jgt32 ignores the high half", 0x100000000ULL, BPF_JMP32_IMM(BPF_JGT, 1, 0, 1));
	J(1, "jgt reg", 5, BPF_JMP_REG(BPF_JGT, 1, 0, 1));
	J(1, "jmp32 reg jsge", 0x80000000ULL, BPF_JMP32_REG(BPF_JSLE, 1, 0, 1));
	T(2, "gotol (JMP32 | JA, imm)", MOV64(0, 1), BPF_JMP32_A(1), MOV64(0, 3),
	  BPF_ALU64_IMM(BPF_ADD, 0, 1), EXIT);
	T(4, "goto +0 is a no-op", MOV64(0, 4), BPF_JMP_A(0), EXIT);
	T(3, "forward goto skips", MOV64(0, 3), BPF_JMP_A(1), MOV64(0, 9), EXIT);
}

static void mem(void)
{
	uint8_t buf[16] = { 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
			    0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xf0 };
	uint64_t r0;

#define M(want, name, ...)                                                                     \
	do {                                                                                   \
		const struct bpf_insn p_[] = { __VA_ARGS__ };                                  \
		uint8_t copy_[16];                                                             \
		uint64_t a_ = 1, b_ = 2;                                                       \
		memcpy(copy_, buf, 16);                                                        \
		int ra_ = run_mode(p_, sizeof(p_) / 8, true, copy_, 16, &a_);                  \
		memcpy(copy_, buf, 16);                                                        \
		int rb_ = run_mode(p_, sizeof(p_) / 8, false, copy_, 16, &b_);                 \
		ok(!ra_ && !rb_ && a_ == b_, "%s: both modes run and agree", name);            \
		is_u64(a_, want, "%s", name);                                                  \
	} while (0)

	M(0x80, "ldx u8", BPF_LDX_MEM(BPF_B, 0, 1, 0), EXIT);
	M(0x8281, "ldx u16 unaligned", BPF_LDX_MEM(BPF_H, 0, 1, 1), EXIT);
	M(0x83828180, "ldx u32", BPF_LDX_MEM(BPF_W, 0, 1, 0), EXIT);
	M(0xf070605040302010ULL, "ldx u64", BPF_LDX_MEM(BPF_DW, 0, 1, 8), EXIT);
	M(0xffffffffffffff80ULL, "ldxsx s8", BPF_LDX_MEMSX(BPF_B, 0, 1, 0), EXIT);
	M(0xffffffffffff8180ULL, "ldxsx s16", BPF_LDX_MEMSX(BPF_H, 0, 1, 0), EXIT);
	M(0xffffffff83828180ULL, "ldxsx s32", BPF_LDX_MEMSX(BPF_W, 0, 1, 0), EXIT);
	M(0x10, "ldxsx s8 positive", BPF_LDX_MEMSX(BPF_B, 0, 1, 8), EXIT);
	M(16, "r2 holds the buffer length", BPF_MOV64_REG(0, 2), EXIT);
	M(0x1234, "stx u16 then ldx", MOV64(3, 0x51234), BPF_STX_MEM(BPF_H, 1, 3, 2),
	  BPF_LDX_MEM(BPF_W, 0, 1, 2), BPF_ALU64_IMM(BPF_AND, 0, 0xffff), EXIT);
	M(0x8584ffff, "st u16 -1 truncates", BPF_ST_MEM(BPF_H, 1, 2, -1),
	  BPF_LDX_MEM(BPF_W, 0, 1, 2), EXIT);
	M(0xfffffffffffffffeULL, "st u64 sign-extends imm", BPF_ST_MEM(BPF_DW, 1, 8, -2),
	  BPF_LDX_MEM(BPF_DW, 0, 1, 8), EXIT);
	M(0x5a, "stack: st u8 then ldx u8", BPF_ST_MEM(BPF_B, 10, -1, 0x5a),
	  BPF_LDX_MEM(BPF_B, 0, 10, -1), EXIT);
	M(0, "stack starts zeroed", BPF_LDX_MEM(BPF_DW, 0, 10, -512), EXIT);
	/* Atomics. */
	M(7, "lock add 64", BPF_ST_MEM(BPF_DW, 10, -8, 5), MOV64(1, 2),
	  BPF_ATOMIC_OP(BPF_DW, BPF_ADD, 10, 1, -8), BPF_LDX_MEM(BPF_DW, 0, 10, -8), EXIT);
	M(0x100000000ULL + 5, "atomic fetch_add 32 returns the old value, writes 32 bits",
	  BPF_ST_MEM(BPF_DW, 10, -8, 5), BPF_ST_MEM(BPF_W, 10, -4, 1), MOV64(1, -1),
	  BPF_ATOMIC_OP(BPF_W, BPF_ADD | BPF_FETCH, 10, 1, -8),
	  BPF_LDX_MEM(BPF_DW, 0, 10, -8), BPF_ALU64_REG(BPF_SUB, 0, 1),
	  /* mem = 0x1_00000004, old = 5: 0x100000004 - 5 = 0xffffffff */
	  BPF_ALU64_IMM(BPF_ADD, 0, 6), EXIT);
	M(0xc, "lock or/and/xor", BPF_ST_MEM(BPF_DW, 10, -8, 0x3), MOV64(1, 0xc),
	  BPF_ATOMIC_OP(BPF_DW, BPF_OR, 10, 1, -8), MOV64(1, 0xe),
	  BPF_ATOMIC_OP(BPF_DW, BPF_AND, 10, 1, -8), MOV64(1, 0x2),
	  BPF_ATOMIC_OP(BPF_DW, BPF_XOR, 10, 1, -8), BPF_LDX_MEM(BPF_DW, 0, 10, -8), EXIT);
	M(0x3, "fetch_xor returns old", BPF_ST_MEM(BPF_DW, 10, -8, 0x3), MOV64(0, 0xff),
	  BPF_ATOMIC_OP(BPF_DW, BPF_XOR | BPF_FETCH, 10, 0, -8), EXIT);
	M(0x9, "fetch_or/and 32", BPF_ST_MEM(BPF_W, 10, -4, 0x1), MOV64(2, 0x8),
	  BPF_ATOMIC_OP(BPF_W, BPF_OR | BPF_FETCH, 10, 2, -4), MOV64(2, 0xf),
	  BPF_ATOMIC_OP(BPF_W, BPF_AND | BPF_FETCH, 10, 2, -4),
	  /* r2 = old (9) */ BPF_MOV64_REG(0, 2), EXIT);
	M(0x77, "xchg 64 swaps", BPF_ST_MEM(BPF_DW, 10, -8, 0x66), MOV64(0, 0x77),
	  BPF_ATOMIC_OP(BPF_DW, BPF_XCHG, 10, 0, -8), BPF_LDX_MEM(BPF_DW, 0, 10, -8), EXIT);
	M(0xffffffffULL, "xchg 32 returns the zero-extended old value",
	  BPF_ST_MEM(BPF_W, 10, -4, -1), MOV64(0, 1),
	  BPF_ATOMIC_OP(BPF_W, BPF_XCHG, 10, 0, -4), EXIT);
	M(0x42, "cmpxchg 64 equal: writes, r0 = old", BPF_ST_MEM(BPF_DW, 10, -8, 0x41),
	  MOV64(0, 0x41), MOV64(1, 0x42), BPF_ATOMIC_OP(BPF_DW, BPF_CMPXCHG, 10, 1, -8),
	  BPF_LDX_MEM(BPF_DW, 0, 10, -8), EXIT);
	M(0x41, "cmpxchg 64 different: keeps, r0 = old", BPF_ST_MEM(BPF_DW, 10, -8, 0x41),
	  MOV64(0, 0x40), MOV64(1, 0x42), BPF_ATOMIC_OP(BPF_DW, BPF_CMPXCHG, 10, 1, -8), EXIT);
	M(0x42, "cmpxchg 32 compares only the low half of r0", BPF_ST_MEM(BPF_W, 10, -4, 0x41),
	  LD64(0, 0xff00000041ULL), MOV64(1, 0x42), BPF_ATOMIC_OP(BPF_W, BPF_CMPXCHG, 10, 1, -4),
	  BPF_LDX_MEM(BPF_W, 0, 10, -4), EXIT);

	/* Checked mode: every access outside ctx and stack is refused. */
	{
		const struct bpf_insn oob[] = { BPF_LDX_MEM(BPF_B, 0, 1, 16), EXIT };
		const struct bpf_insn oob2[] = { BPF_LDX_MEM(BPF_DW, 0, 1, 9), EXIT };
		const struct bpf_insn under[] = { BPF_LDX_MEM(BPF_B, 0, 1, -1), EXIT };
		const struct bpf_insn stk[] = { BPF_LDX_MEM(BPF_DW, 0, 10, -513), EXIT };
		const struct bpf_insn stk2[] = { BPF_ST_MEM(BPF_DW, 10, -4, 0), EXIT };
		const struct bpf_insn wild[] = { LD64(1, 0x1000), BPF_LDX_MEM(BPF_B, 0, 1, 0),
						 EXIT };
		const struct bpf_insn nullp[] = { MOV64(1, 0), BPF_ST_MEM(BPF_B, 1, 0, 0), EXIT };

		is_int(run_mode(oob, 2, true, buf, 16, &r0), -EFAULT, "ctx read past the end");
		is_int(run_mode(oob2, 2, true, buf, 16, &r0), -EFAULT, "ctx read straddling the end");
		is_int(run_mode(under, 2, true, buf, 16, &r0), -EFAULT, "ctx read before the start");
		is_int(run_mode(stk, 2, true, buf, 16, &r0), -EFAULT, "stack read below 512");
		is_int(run_mode(stk2, 2, true, buf, 16, &r0), -EFAULT, "stack write above r10");
		is_int(run_mode(wild, 3, true, buf, 16, &r0), -EFAULT, "wild pointer");
		is_int(run_mode(nullp, 3, true, buf, 16, &r0), -EFAULT, "NULL store");
	}
}

static void calls_and_limits(void)
{
	uint64_t r0 = 0;
	struct dz_prog *prog;
	struct dz_run_opts opts = { .checked = true, .budget = 10 };
	struct dz_run_stats st;
	int ret;

	/* Local calls: new frame, own zeroed stack, r6-r9 preserved, r0 returned. */
	T(0x2a + 6, "bpf-to-bpf call", MOV64(6, 6), MOV64(1, 0x2a), BPF_ST_MEM(BPF_DW, 10, -8, 99),
	  BPF_CALL_REL(2), BPF_ALU64_REG(BPF_ADD, 0, 6), EXIT,
	  /* callee: */ BPF_LDX_MEM(BPF_DW, 0, 10, -8), /* own stack: 0 */
	  BPF_ALU64_REG(BPF_ADD, 0, 1), MOV64(6, 1000), EXIT);
	T(3, "nested calls", MOV64(0, 0), BPF_CALL_REL(1), EXIT,
	  BPF_ALU64_IMM(BPF_ADD, 0, 1), BPF_CALL_REL(1), EXIT,
	  BPF_ALU64_IMM(BPF_ADD, 0, 2), EXIT);
	T(0x55, "callee reads the caller's stack through a pointer",
	  BPF_ST_MEM(BPF_DW, 10, -8, 0x55), BPF_MOV64_REG(1, 10), BPF_ALU64_IMM(BPF_ADD, 1, -8),
	  BPF_CALL_REL(1), EXIT, BPF_LDX_MEM(BPF_DW, 0, 1, 0), EXIT);
	{
		/* Infinite recursion is stopped by the frame limit. */
		const struct bpf_insn rec[] = { BPF_CALL_REL(-1), EXIT };

		is_int(run_mode(rec, 2, true, NULL, 0, &r0), -E2BIG, "call depth limit");
	}
	{
		/* The budget stops a loop (unverified code may have back-edges). */
		const struct bpf_insn loop[] = { MOV64(0, 0), BPF_JMP_A(-1), EXIT };

		ret = dz_prog__new(loop, 3, DZ_PROG_MEM, &prog);
		ok(!ret, "new");
		uint64_t buf[1];
		ret = dz_prog__run(prog, buf, 8, &opts, &r0, &st);
		is_int(ret, -E2BIG, "budget exhausted");
		is_u64(st.insns, 10, "stopped after exactly the budget of instructions");
		prog->verified = true;
		prog->mem_size = 16;
		opts.checked = false;
		is_int(dz_prog__run(prog, buf, 8, &opts, &r0, NULL), -EINVAL,
		       "a buffer smaller than the verified mem_size is refused");
		prog->verified = false;
		is_int(dz_prog__run(prog, buf, 8, &opts, &r0, NULL), -EPERM,
		       "unverified program refused without checked");
		dz_prog__free(prog);
	}
	{
		const struct bpf_insn fall[] = { MOV64(0, 0) };
		const struct bpf_insn bad[] = { BPF_RAW_INSN(0xff, 0, 0, 0, 0), EXIT };
		const struct bpf_insn helper[] = { BPF_CALL_HELPER(1), EXIT };

		const struct bpf_insn mid[] = { BPF_JMP_A(1), BPF_LD_IMM64(0, 1), BPF_EXIT_INSN() };
		const struct bpf_insn far[] = { BPF_JMP_A(5), BPF_EXIT_INSN() };
		const struct bpf_insn back[] = { BPF_JMP_A(-3), BPF_EXIT_INSN() };
		const struct bpf_insn r11[] = { BPF_MOV64_IMM(11, 1), BPF_EXIT_INSN() };
		const struct bpf_insn half[] = { BPF_EXIT_INSN(), BPF_LD_IMM64(0, 1) };

		is_int(run_mode(fall, 1, true, NULL, 0, &r0), -EINVAL, "falling off the end");
		is_int(run_mode(mid, 4, true, NULL, 0, &r0), -EINVAL, "jump into the middle of lddw");
		is_int(run_mode(far, 2, true, NULL, 0, &r0), -EINVAL, "jump past the end");
		is_int(run_mode(back, 2, true, NULL, 0, &r0), -EINVAL, "jump before the start");
		is_int(run_mode(r11, 2, true, NULL, 0, &r0), -EINVAL, "register r11");
		is_int(run_mode(half, 2, true, NULL, 0, &r0), -EINVAL, "lddw cut off at the end");
		is_int(run_mode(bad, 2, true, NULL, 0, &r0), -EINVAL, "garbage opcode");
		is_int(run_mode(helper, 2, true, NULL, 0, &r0), -EINVAL,
		       "helpers do not exist for DZ_PROG_MEM");
	}
	ok(dz_prog__new(NULL, 0, DZ_PROG_MEM, &prog) == -EINVAL, "empty program refused");
}

/*
 * Garbage programs in the checked interpreter: random instruction words (with
 * valid-looking opcodes mixed in) must end in a result or an error, never
 * touch memory outside the buffer and stack (ASan builds check that).
 */
static void garbage(void)
{
	static const uint8_t codes[] = {
		BPF_LDX | BPF_MEM | BPF_DW, BPF_STX | BPF_MEM | BPF_W, BPF_ST | BPF_MEM | BPF_B,
		BPF_STX | BPF_ATOMIC | BPF_DW, BPF_JMP | BPF_JA, BPF_JMP | BPF_CALL,
		BPF_ALU64 | BPF_ADD | BPF_X, BPF_ALU64 | BPF_MOV | BPF_K, BPF_LD | BPF_IMM | BPF_DW,
		BPF_JMP | BPF_JEQ | BPF_K, BPF_JMP | BPF_EXIT, BPF_LDX | BPF_MEMSX | BPF_H,
	};
	uint64_t rs = 12345, r0, counts[4] = { 0 };
	struct bpf_insn p[16];
	uint8_t buf[64];

	for (int i = 0; i < 20000; i++) {
		int n = 1 + (int)(rs % 16), ret;

		for (int k = 0; k < n; k++) {
			rs ^= rs << 13;
			rs ^= rs >> 7;
			rs ^= rs << 17;
			memcpy(&p[k], &rs, 8);
			if (rs & 0x100000000ULL)
				p[k].code = codes[(rs >> 40) % sizeof(codes)];
			if (rs & 0x200000000ULL)
				p[k].dst_reg = (rs >> 50) % 11, p[k].src_reg = (rs >> 54) % 11;
			if (rs & 0x400000000ULL)
				p[k].off = (int16_t)((rs >> 20) % 32) - 16;
		}
		p[n - 1] = BPF_EXIT_INSN();
		ret = run_mode(p, n, true, buf, sizeof(buf), &r0);
		counts[ret == 0 ? 0 : ret == -EFAULT ? 1 : ret == -EINVAL ? 2 : 3]++;
	}
	diag("20000 garbage programs: %llu ran, %llu -EFAULT, %llu -EINVAL, %llu other",
	     (unsigned long long)counts[0], (unsigned long long)counts[1],
	     (unsigned long long)counts[2], (unsigned long long)counts[3]);
	ok(counts[0] && counts[1] && counts[2], "garbage programs: results and errors, no crash");
}

int main(void)
{
	garbage();
	alu();
	jmp();
	mem();
	calls_and_limits();
	return done_testing();
}
