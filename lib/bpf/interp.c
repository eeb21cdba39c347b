// SPDX-License-Identifier: GPL-2.0
/*
 * The interpreter: the hot path run at every candidate fault, so it is a flat
 * switch over the opcode byte with no allocation (the call frames and their
 * stacks live on the C stack). Semantics follow RFC 9669 and the Linux
 * interpreter exactly (kdiff tests compare with the kernel):
 *   division by zero gives 0, modulo by zero keeps the dividend, shift amounts
 *   are masked to 63/31, 32-bit ops zero-extend into 64 bits, and the signed
 *   INT_MIN / -1 wraps to INT_MIN with INT_MIN % -1 == 0 (the kernel rewrites
 *   sdiv/smod by -1 into neg / zero).
 *
 * Two instances are compiled from one body: the unchecked one, only for
 * programs the verifier accepted, and the checked one, which bounds-checks
 * every memory access against the context, the live stack frames and helper
 * buffers and returns -EFAULT rather than touching anything else.
 */
#include <errno.h>
#include <string.h>

#include "insn.h"

struct interp_frame {
	uint64_t saved[4]; /* caller's r6..r9 */
	uint64_t fp;	   /* caller's r10 */
	uint32_t ret_pc;
};

struct interp_env {
	uintptr_t ctx, ctx_end; /* [ctx, ctx_end) */
	uintptr_t stk, stk_end; /* live frames' stacks */
	bool ctx_writable;
};

/* Is [addr, addr + size) inside one region the program may touch? */
static inline bool access_ok(const struct interp_env *env, uint64_t addr, uint64_t size, bool write)
{
	if (addr >= env->stk && addr <= env->stk_end && size <= env->stk_end - addr)
		return true;
	if (write && !env->ctx_writable)
		return false;
	return addr >= env->ctx && addr <= env->ctx_end && size <= env->ctx_end - addr;
}

/* One-line cases read better in these two tables. */
/* clang-format off */
static inline uint64_t load(uint64_t addr, int size)
{
	switch (size) {
	case 1: { uint8_t v; memcpy(&v, (void *)addr, 1); return v; }
	case 2: { uint16_t v; memcpy(&v, (void *)addr, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, (void *)addr, 4); return v; }
	default: { uint64_t v; memcpy(&v, (void *)addr, 8); return v; }
	}
}

static inline void store(uint64_t addr, int size, uint64_t val)
{
	switch (size) {
	case 1: { uint8_t v = val; memcpy((void *)addr, &v, 1); break; }
	case 2: { uint16_t v = val; memcpy((void *)addr, &v, 2); break; }
	case 4: { uint32_t v = val; memcpy((void *)addr, &v, 4); break; }
	default: memcpy((void *)addr, &val, 8); break;
	}
}

/* clang-format on */

static inline uint64_t sdiv64(uint64_t a, uint64_t b)
{
	if (!b)
		return 0;
	if ((int64_t)b == -1)
		return -a; /* INT64_MIN / -1 wraps to INT64_MIN */
	return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint64_t smod64(uint64_t a, uint64_t b)
{
	if (!b)
		return a;
	if ((int64_t)b == -1)
		return 0;
	return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t sdiv32(uint32_t a, uint32_t b)
{
	if (!b)
		return 0;
	if ((int32_t)b == -1)
		return -a;
	return (uint32_t)((int32_t)a / (int32_t)b);
}

static inline uint32_t smod32(uint32_t a, uint32_t b)
{
	if (!b)
		return a;
	if ((int32_t)b == -1)
		return 0;
	return (uint32_t)((int32_t)a % (int32_t)b);
}

static inline uint64_t sext(uint64_t v, int bits)
{
	switch (bits) {
	case 8:
		return (uint64_t)(int64_t)(int8_t)v;
	case 16:
		return (uint64_t)(int64_t)(int16_t)v;
	case 32:
		return (uint64_t)(int64_t)(int32_t)v;
	}
	return v;
}

/* clang-format off */
static const uint8_t size_bytes[4] = { 4, 2, 1, 8 };	/* by BPF_SIZE() >> 3 */

/* clang-format on */

/*
 * Zeroes one 512-byte stack frame with 32 plain 16-byte stores, written out so
 * the compiler cannot turn them back into "rep stos" (slow to start: it was a
 * fifth of the interpreter's time on the reference predicate).
 */
static inline void zero_frame(uint8_t *frame)
{
	typedef uint64_t v16 __attribute__((vector_size(16), aligned(16)));
	v16 *p = (v16 *)frame, z = {0, 0};

#define Z4(i) p[i] = z, p[i + 1] = z, p[i + 2] = z, p[i + 3] = z
	Z4(0), Z4(4), Z4(8), Z4(12), Z4(16), Z4(20), Z4(24), Z4(28);
#undef Z4
	_Static_assert(DZ_STACK_SIZE == 32 * 16, "zero_frame writes 512 bytes");
}

/* Checks a helper's (ptr, size) argument in checked mode. */
static inline bool helper_args_ok(const struct interp_env *env, int32_t id, uint64_t ptr,
				  uint64_t size)
{
	if (id == DZ_HELPER_TRACE)
		return !size || access_ok(env, ptr, size, false);
	/* Read helpers write (or zero) the whole buffer, even on a size error. */
	return !size || access_ok(env, ptr, size, true);
}

/* The opcode table keeps its hand layout (macros generating cases). */
/* clang-format off */
__attribute__((always_inline)) static inline int
interp(const struct dz_prog *prog, void *ctx, uint64_t ctx_len, const struct dz_run_opts *opts,
       uint64_t *ret, struct dz_run_stats *stats, const bool checked)
{
	uint8_t stack[DZ_MAX_CALL_FRAMES][DZ_STACK_SIZE] __attribute__((aligned(16)));
	struct interp_frame frames[DZ_MAX_CALL_FRAMES];
	const struct bpf_insn *insns = prog->insns, *insn;
	const struct dz_guest_ops *ops = opts ? opts->ops : NULL;
	uint64_t budget = opts && opts->budget ? opts->budget : DZ_DEFAULT_BUDGET;
	uint64_t reg[DZ_NR_REGS] = { 0 }, nexec = 0, ncalls = 0;
	uint32_t pc = 0, cnt = prog->insn_cnt, depth = 0;
	struct interp_env env;
	int err = 0;

	zero_frame(stack[0]);
	env.ctx = (uintptr_t)ctx;
	env.ctx_end = (uintptr_t)ctx + ctx_len;
	env.stk = (uintptr_t)stack[0];
	env.stk_end = (uintptr_t)stack[1];
	env.ctx_writable = prog->type == DZ_PROG_MEM;
	reg[1] = (uintptr_t)ctx;
	reg[2] = ctx_len;
	reg[DZ_REG_FP] = (uintptr_t)stack[1];

#define DST reg[insn->dst_reg]
#define SRC reg[insn->src_reg]
#define IMM ((uint64_t)(int64_t)insn->imm)	/* sign-extended, as RFC 9669 says */
#define CHECK(addr, size, write)                                                               \
	do {                                                                                   \
		if (checked && !access_ok(&env, (addr), (size), (write))) {                     \
			err = -EFAULT;                                                         \
			goto out;                                                              \
		}                                                                              \
	} while (0)

	for (;;) {
		if (checked && pc >= cnt) {
			err = -EINVAL;	/* fell off the end */
			goto out;
		}
		if (++nexec > budget) {
			nexec--;	/* the one over budget did not run */
			err = -E2BIG;
			goto out;
		}
		insn = &insns[pc++];

		switch (insn->code) {
		/* ---- ALU64 ---- */
#define ALU64(OP, EXPR_X, EXPR_K)                                                              \
	case BPF_ALU64 | OP | BPF_X:                                                           \
		EXPR_X;                                                                        \
		break;                                                                         \
	case BPF_ALU64 | OP | BPF_K:                                                           \
		EXPR_K;                                                                        \
		break;
		ALU64(BPF_ADD, DST += SRC, DST += IMM)
		ALU64(BPF_SUB, DST -= SRC, DST -= IMM)
		ALU64(BPF_MUL, DST *= SRC, DST *= IMM)
		ALU64(BPF_OR, DST |= SRC, DST |= IMM)
		ALU64(BPF_AND, DST &= SRC, DST &= IMM)
		ALU64(BPF_XOR, DST ^= SRC, DST ^= IMM)
		ALU64(BPF_LSH, DST <<= (SRC & 63), DST <<= (IMM & 63))
		ALU64(BPF_RSH, DST >>= (SRC & 63), DST >>= (IMM & 63))
		ALU64(BPF_ARSH, DST = (uint64_t)((int64_t)DST >> (SRC & 63)),
		      DST = (uint64_t)((int64_t)DST >> (IMM & 63)))
		ALU64(BPF_DIV,
		      DST = insn->off ? sdiv64(DST, SRC) : (SRC ? DST / SRC : 0),
		      DST = insn->off ? sdiv64(DST, IMM) : (IMM ? DST / IMM : 0))
		ALU64(BPF_MOD,
		      DST = insn->off ? smod64(DST, SRC) : (SRC ? DST % SRC : DST),
		      DST = insn->off ? smod64(DST, IMM) : (IMM ? DST % IMM : DST))
		ALU64(BPF_MOV, DST = sext(SRC, insn->off), DST = IMM)
		case BPF_ALU64 | BPF_NEG:
			DST = -DST;
			break;
		case BPF_ALU64 | BPF_END:	/* bswap, unconditional */
			switch (insn->imm) {
			case 16: DST = __builtin_bswap16((uint16_t)DST); break;
			case 32: DST = __builtin_bswap32((uint32_t)DST); break;
			default: DST = __builtin_bswap64(DST); break;
			}
			break;

		/* ---- ALU (32-bit, result zero-extended) ---- */
#define ALU32(OP, EXPR)                                                                        \
	case BPF_ALU | OP | BPF_X:                                                             \
		b = (uint32_t)SRC;                                                             \
		goto OP##_32;                                                                  \
	case BPF_ALU | OP | BPF_K:                                                             \
		b = (uint32_t)insn->imm;                                                       \
	OP##_32:                                                                               \
		a = (uint32_t)DST;                                                             \
		DST = (uint32_t)(EXPR);                                                        \
		break;
		{
			uint32_t a, b;

		ALU32(BPF_ADD, a + b)
		ALU32(BPF_SUB, a - b)
		ALU32(BPF_MUL, a * b)
		ALU32(BPF_OR, a | b)
		ALU32(BPF_AND, a & b)
		ALU32(BPF_XOR, a ^ b)
		ALU32(BPF_LSH, a << (b & 31))
		ALU32(BPF_RSH, a >> (b & 31))
		ALU32(BPF_ARSH, (uint32_t)((int32_t)a >> (b & 31)))
		ALU32(BPF_DIV, insn->off ? sdiv32(a, b) : (b ? a / b : 0))
		ALU32(BPF_MOD, insn->off ? smod32(a, b) : (b ? a % b : a))
		}
		case BPF_ALU | BPF_MOV | BPF_X:
			DST = (uint32_t)sext(SRC, insn->off);
			break;
		case BPF_ALU | BPF_MOV | BPF_K:
			DST = (uint32_t)insn->imm;
			break;
		case BPF_ALU | BPF_NEG:
			DST = (uint32_t)-(uint32_t)DST;
			break;
		case BPF_ALU | BPF_END | BPF_TO_LE:	/* host is little-endian: truncate */
			switch (insn->imm) {
			case 16: DST = (uint16_t)DST; break;
			case 32: DST = (uint32_t)DST; break;
			}
			break;
		case BPF_ALU | BPF_END | BPF_TO_BE:
			switch (insn->imm) {
			case 16: DST = __builtin_bswap16((uint16_t)DST); break;
			case 32: DST = __builtin_bswap32((uint32_t)DST); break;
			default: DST = __builtin_bswap64(DST); break;
			}
			break;

		/* ---- jumps ---- */
#define JCC(OP, COND64, COND32)                                                                \
	case BPF_JMP | OP | BPF_X:                                                             \
		if (COND64(DST, SRC))                                                          \
			pc += insn->off;                                                       \
		break;                                                                         \
	case BPF_JMP | OP | BPF_K:                                                             \
		if (COND64(DST, IMM))                                                          \
			pc += insn->off;                                                       \
		break;                                                                         \
	case BPF_JMP32 | OP | BPF_X:                                                           \
		if (COND32((uint32_t)DST, (uint32_t)SRC))                                      \
			pc += insn->off;                                                       \
		break;                                                                         \
	case BPF_JMP32 | OP | BPF_K:                                                           \
		if (COND32((uint32_t)DST, (uint32_t)insn->imm))                                \
			pc += insn->off;                                                       \
		break;
#define U_EQ(a, b) ((a) == (b))
#define U_NE(a, b) ((a) != (b))
#define U_GT(a, b) ((a) > (b))
#define U_GE(a, b) ((a) >= (b))
#define U_LT(a, b) ((a) < (b))
#define U_LE(a, b) ((a) <= (b))
#define U_SET(a, b) (((a) & (b)) != 0)
#define S64_GT(a, b) ((int64_t)(a) > (int64_t)(b))
#define S64_GE(a, b) ((int64_t)(a) >= (int64_t)(b))
#define S64_LT(a, b) ((int64_t)(a) < (int64_t)(b))
#define S64_LE(a, b) ((int64_t)(a) <= (int64_t)(b))
#define S32_GT(a, b) ((int32_t)(a) > (int32_t)(b))
#define S32_GE(a, b) ((int32_t)(a) >= (int32_t)(b))
#define S32_LT(a, b) ((int32_t)(a) < (int32_t)(b))
#define S32_LE(a, b) ((int32_t)(a) <= (int32_t)(b))
		JCC(BPF_JEQ, U_EQ, U_EQ)
		JCC(BPF_JNE, U_NE, U_NE)
		JCC(BPF_JGT, U_GT, U_GT)
		JCC(BPF_JGE, U_GE, U_GE)
		JCC(BPF_JLT, U_LT, U_LT)
		JCC(BPF_JLE, U_LE, U_LE)
		JCC(BPF_JSET, U_SET, U_SET)
		JCC(BPF_JSGT, S64_GT, S32_GT)
		JCC(BPF_JSGE, S64_GE, S32_GE)
		JCC(BPF_JSLT, S64_LT, S32_LT)
		JCC(BPF_JSLE, S64_LE, S32_LE)
		case BPF_JMP | BPF_JA:
			pc += insn->off;
			break;
		case BPF_JMP32 | BPF_JA:
			pc += insn->imm;
			break;

		case BPF_JMP | BPF_CALL:
			if (insn->src_reg == BPF_PSEUDO_CALL) {
				struct interp_frame *f;

				if (depth + 1 >= DZ_MAX_CALL_FRAMES) {
					err = -E2BIG;	/* call stack too deep */
					goto out;
				}
				f = &frames[depth++];
				memcpy(f->saved, &reg[6], sizeof(f->saved));
				f->fp = reg[DZ_REG_FP];
				f->ret_pc = pc;
				zero_frame(stack[depth]);
				reg[DZ_REG_FP] = (uintptr_t)stack[depth] + DZ_STACK_SIZE;
				env.stk_end = reg[DZ_REG_FP];
				pc += insn->imm;
				break;
			}
			if (checked) {
				if (prog->type != DZ_PROG_PREDICATE || !dz_helper__name(insn->imm)) {
					err = -EINVAL;	/* no such helper */
					goto out;
				}
				if (!helper_args_ok(&env, insn->imm, reg[1], reg[2])) {
					err = -EFAULT;
					goto out;
				}
			}
			ncalls++;
			reg[0] = (uint64_t)dz__helper_call(insn->imm, reg[1], reg[2], reg[3],
							   ctx, ops);
			break;
		case BPF_JMP | BPF_EXIT:
			if (!depth) {
				*ret = reg[0];
				goto out;
			} else {
				struct interp_frame *f = &frames[--depth];

				memcpy(&reg[6], f->saved, sizeof(f->saved));
				reg[DZ_REG_FP] = f->fp;
				env.stk_end = (uintptr_t)stack[depth] + DZ_STACK_SIZE;
				pc = f->ret_pc;
			}
			break;

		/* ---- wide immediate ---- */
		case BPF_LD | BPF_IMM | BPF_DW:
			DST = ((uint64_t)(uint32_t)insn[1].imm << 32) | (uint32_t)insn->imm;
			pc++;
			break;

		/* ---- memory ---- */
#define LDST(SZ)                                                                               \
	case BPF_LDX | BPF_MEM | SZ: {                                                         \
		uint64_t addr_ = SRC + insn->off;                                              \
		CHECK(addr_, size_bytes[SZ >> 3], false);                                      \
		DST = load(addr_, size_bytes[SZ >> 3]);                                        \
		break;                                                                         \
	}                                                                                      \
	case BPF_STX | BPF_MEM | SZ: {                                                         \
		uint64_t addr_ = DST + insn->off;                                              \
		CHECK(addr_, size_bytes[SZ >> 3], true);                                       \
		store(addr_, size_bytes[SZ >> 3], SRC);                                        \
		break;                                                                         \
	}                                                                                      \
	case BPF_ST | BPF_MEM | SZ: {                                                          \
		uint64_t addr_ = DST + insn->off;                                              \
		CHECK(addr_, size_bytes[SZ >> 3], true);                                       \
		store(addr_, size_bytes[SZ >> 3], IMM);                                        \
		break;                                                                         \
	}
		LDST(BPF_B)
		LDST(BPF_H)
		LDST(BPF_W)
		LDST(BPF_DW)
#define LDSX(SZ)                                                                               \
	case BPF_LDX | BPF_MEMSX | SZ: {                                                       \
		uint64_t addr_ = SRC + insn->off;                                              \
		CHECK(addr_, size_bytes[SZ >> 3], false);                                      \
		DST = sext(load(addr_, size_bytes[SZ >> 3]), size_bytes[SZ >> 3] * 8);         \
		break;                                                                         \
	}
		LDSX(BPF_B)
		LDSX(BPF_H)
		LDSX(BPF_W)

		case BPF_STX | BPF_ATOMIC | BPF_W:
		case BPF_STX | BPF_ATOMIC | BPF_DW: {
			int sz = BPF_SIZE(insn->code) == BPF_DW ? 8 : 4;
			uint64_t addr = DST + insn->off, old, val = SRC, nv;

			CHECK(addr, sz, true);
			old = load(addr, sz);
			if (sz == 4)
				val = (uint32_t)val;
			switch (insn->imm & ~BPF_FETCH) {
			case BPF_ADD: nv = old + val; break;
			case BPF_OR: nv = old | val; break;
			case BPF_AND: nv = old & val; break;
			case BPF_XOR: nv = old ^ val; break;
			case BPF_XCHG & ~BPF_FETCH: nv = val; break;
			case BPF_CMPXCHG & ~BPF_FETCH:
				nv = (sz == 4 ? (uint32_t)reg[0] : reg[0]) == old ? val : old;
				store(addr, sz, nv);
				reg[0] = old;
				goto next;
			default:
				err = -EINVAL;
				goto out;
			}
			store(addr, sz, nv);
			if (insn->imm & BPF_FETCH)
				SRC = old;
			break;
		}

		default:
			err = -EINVAL;
			goto out;
		}
next:;
	}
out:
	if (stats) {
		stats->insns = nexec;
		stats->helper_calls = ncalls;
	}
	return err;
#undef DST
#undef SRC
#undef IMM
#undef CHECK
}

/* clang-format on */

static int interp_fast(const struct dz_prog *prog, void *ctx, uint64_t ctx_len,
		       const struct dz_run_opts *opts, uint64_t *ret, struct dz_run_stats *stats)
{
	return interp(prog, ctx, ctx_len, opts, ret, stats, false);
}

static int interp_checked(const struct dz_prog *prog, void *ctx, uint64_t ctx_len,
			  const struct dz_run_opts *opts, uint64_t *ret, struct dz_run_stats *stats)
{
	return interp(prog, ctx, ctx_len, opts, ret, stats, true);
}

int dz_prog__run(const struct dz_prog *prog, void *ctx, uint64_t ctx_len,
		 const struct dz_run_opts *opts, uint64_t *ret, struct dz_run_stats *stats)
{
	bool checked = opts && opts->checked;
	uint64_t r0 = 0;
	int err;

	if (stats)
		memset(stats, 0, sizeof(*stats));
	if (!prog || !prog->insns || !prog->insn_cnt)
		return -EINVAL;
	if (!prog->verified && !checked)
		return -EPERM;
	if (prog->type == DZ_PROG_PREDICATE && (!ctx || ctx_len < sizeof(struct dz_pred_ctx)))
		return -EINVAL;
	/* The verifier proved accesses against mem_size: the buffer must be that large. */
	if (prog->type == DZ_PROG_MEM && !checked && (!ctx || ctx_len < prog->mem_size))
		return -EINVAL;
	if (checked) {
		uint32_t i;
		int n;

		/*
		 * Unverified code: every instruction must decode (register numbers in
		 * range, lddw complete). Jumps are checked as they happen: a pc outside
		 * the program stops the run, and landing in the second slot of an lddw
		 * meets opcode 0, which is invalid. No allocation, even here.
		 */
		for (i = 0; i < prog->insn_cnt; i += n) {
			n = dz_insn__decode(&prog->insns[i], prog->insn_cnt - i, NULL, NULL, 0);
			if (n < 0)
				return -EINVAL;
		}
		err = interp_checked(prog, ctx, ctx_len, opts, &r0, stats);
	} else {
		err = interp_fast(prog, ctx, ctx_len, opts, &r0, stats);
	}
	if (!err && ret)
		*ret = r0;
	return err;
}
