/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Verifier soundness fuzzing: one input -> one program -> verify -> if
 * accepted, run it and look for an escape. Shared by the libFuzzer target
 * (fuzz-verifier.c), the regression replay and the smoke run of `make check`
 * (test-replay.c).
 *
 * Input: byte 0 picks the program type (bit 0: DZ_PROG_MEM) and the buffer
 * size (bits 1-7, times 8); byte 1 seeds the context/buffer contents; then
 * 8 bytes per instruction (struct bpf_insn, little-endian). Instructions that
 * already decode are kept as they are (so verifier-corpus programs are seeds
 * unchanged); the others are repaired into a valid form (opcode from a table
 * of valid ones, fields made legal, jump targets folded into the program), so
 * most inputs reach do_check rather than dying in the decoder.
 *
 * An accepted program is a finding ("escape") if
 *  - the r0 it returns is outside the bounds the verifier computed for R0 at
 *    every exit it walked (an unsound scalar transfer, refinement or prune);
 *  - the checked interpreter faults (-EFAULT: an access outside the context,
 *    the live stack frames or a helper-approved buffer), meets an invalid
 *    instruction, or exhausts the instruction budget;
 *  - the fast and the checked interpreter disagree (r0, error, buffer);
 *  - its observable behaviour (r0, helper arguments, the DZ_PROG_MEM buffer)
 *    changes when only the host addresses of the context and the stack
 *    change: it leaked a pointer;
 *  - ASan/UBSan report anything in the verifier or the interpreter.
 */
#ifndef DZ_TESTS_FUZZ_HARNESS_H
#define DZ_TESTS_FUZZ_HARNESS_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "../../lib/bpf/insn.h"
#include "../../lib/bpf/verifier.h"

#define FUZZ_MAX_INSNS 512
#define FUZZ_RAM       (16u << 10)
#define FUZZ_TRACE_MAX 64

/* lib/bpf/verifier.h: the processed-insn limit; the fuzzer lowers it for throughput. */
#define FUZZ_INSN_LIMIT 20000
#define FUZZ_EXITS	64

/* R0 at every exit the verifier walked (dz_verifier_exit_hook). */
struct fuzz_exits {
	unsigned int n;
	struct dz_reg_state r0[FUZZ_EXITS];
};

static void fuzz_exit_hook(void *arg, const struct dz_reg_state *r0)
{
	struct fuzz_exits *e = arg;

	if (e->n < FUZZ_EXITS)
		e->r0[e->n] = *r0;
	e->n++;
}

static bool fuzz_scalar_contains(const struct dz_reg_state *r, uint64_t v)
{
	return v >= r->umin_value && v <= r->umax_value && (int64_t)v >= r->smin_value &&
	       (int64_t)v <= r->smax_value && (uint32_t)v >= r->u32_min_value &&
	       (uint32_t)v <= r->u32_max_value && (int32_t)v >= r->s32_min_value &&
	       (int32_t)v <= r->s32_max_value && (v & ~r->var_off.mask) == r->var_off.value;
}

struct fuzz_stats {
	uint64_t runs, accepted, rejected, insns_run;
};
static struct fuzz_stats fuzz_stats;

/* ---- helper side: a small guest RAM and a record of what the program asked for ---- */
struct fuzz_trace {
	unsigned int n;
	uint64_t ev[FUZZ_TRACE_MAX][2];
};

struct fuzz_guest {
	uint8_t ram[FUZZ_RAM];
	struct fuzz_trace *trace;
};

static void fuzz_record(struct fuzz_trace *t, uint64_t a, uint64_t b)
{
	if (t->n < FUZZ_TRACE_MAX) {
		t->ev[t->n][0] = a;
		t->ev[t->n][1] = b;
	}
	t->n++;
}

static int fuzz_read_gpa(void *opaque, uint64_t gpa, void *dst, uint32_t len)
{
	struct fuzz_guest *g = opaque;

	fuzz_record(g->trace, gpa, len);
	if (gpa >= FUZZ_RAM || len > FUZZ_RAM - gpa)
		return -EFAULT;
	if ((gpa >> 12) == 3)
		return -EAGAIN; /* one page "not present yet" */
	memcpy(dst, g->ram + gpa, len);
	return 0;
}

static void fuzz_trace_cb(void *opaque, const char *msg, uint64_t arg)
{
	struct fuzz_guest *g = opaque;
	uint64_t h = 1469598103934665603ull;

	for (; *msg; msg++)
		h = (h ^ (uint8_t)*msg) * 1099511628211ull;
	fuzz_record(g->trace, h, arg);
}

/* ---- input -> program ---- */
static uint8_t fuzz_codes[256];
static unsigned int fuzz_ncodes;

static void fuzz_add_code(uint8_t code)
{
	fuzz_codes[fuzz_ncodes++] = code;
}

static void fuzz_init_codes(void)
{
	static const uint8_t alu_ops[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,  BPF_AND,
					  BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH};
	static const uint8_t jmp_ops[] = {BPF_JEQ,  BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
					  BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE};
	static const uint8_t sizes[] = {BPF_B, BPF_H, BPF_W, BPF_DW};
	unsigned int i, s;

	if (fuzz_ncodes)
		return;
	for (i = 0; i < sizeof(alu_ops); i++)
		for (s = 0; s < 2; s++) {
			fuzz_add_code(BPF_ALU64 | alu_ops[i] | (s ? BPF_X : BPF_K));
			fuzz_add_code(BPF_ALU | alu_ops[i] | (s ? BPF_X : BPF_K));
		}
	fuzz_add_code(BPF_ALU64 | BPF_NEG);
	fuzz_add_code(BPF_ALU | BPF_NEG);
	fuzz_add_code(BPF_ALU | BPF_END | BPF_TO_LE);
	fuzz_add_code(BPF_ALU | BPF_END | BPF_TO_BE);
	fuzz_add_code(BPF_ALU64 | BPF_END | BPF_TO_LE);
	for (i = 0; i < sizeof(jmp_ops); i++)
		for (s = 0; s < 2; s++) {
			fuzz_add_code(BPF_JMP | jmp_ops[i] | (s ? BPF_X : BPF_K));
			fuzz_add_code(BPF_JMP32 | jmp_ops[i] | (s ? BPF_X : BPF_K));
		}
	fuzz_add_code(BPF_JMP | BPF_JA);
	fuzz_add_code(BPF_JMP32 | BPF_JA);
	for (i = 0; i < 4; i++) {
		fuzz_add_code(BPF_JMP | BPF_CALL); /* weighted: calls matter */
		fuzz_add_code(BPF_JMP | BPF_EXIT);
		fuzz_add_code(BPF_LD | BPF_IMM | BPF_DW);
	}
	for (i = 0; i < 4; i++) {
		fuzz_add_code(BPF_LDX | BPF_MEM | sizes[i]);
		fuzz_add_code(BPF_LDX | BPF_MEM | sizes[i]);
		if (sizes[i] != BPF_DW)
			fuzz_add_code(BPF_LDX | BPF_MEMSX | sizes[i]);
		fuzz_add_code(BPF_ST | BPF_MEM | sizes[i]);
		fuzz_add_code(BPF_STX | BPF_MEM | sizes[i]);
		fuzz_add_code(BPF_STX | BPF_MEM | sizes[i]);
	}
	fuzz_add_code(BPF_STX | BPF_ATOMIC | BPF_W);
	fuzz_add_code(BPF_STX | BPF_ATOMIC | BPF_DW);
}

static int16_t fuzz_mem_off(int16_t raw)
{
	/* mostly stack (-520..-1), context (0..240) and buffer offsets */
	switch ((uint16_t)raw >> 14) {
	case 0:
		return (int16_t)(-1 - (int)((uint16_t)raw % 520));
	case 1:
		return (int16_t)((uint16_t)raw % 240);
	case 2:
		return (int16_t)(((int)((uint16_t)raw % 64) - 8) * 8);
	}
	return raw;
}

/* Makes p[i] a valid instruction; returns its size in slots. */
static uint32_t fuzz_repair(struct bpf_insn *p, uint32_t i, uint32_t n)
{
	static const int32_t atomic_ops[] = {BPF_ADD,
					     BPF_AND,
					     BPF_OR,
					     BPF_XOR,
					     BPF_ADD | BPF_FETCH,
					     BPF_AND | BPF_FETCH,
					     BPF_OR | BPF_FETCH,
					     BPF_XOR | BPF_FETCH,
					     BPF_XCHG,
					     BPF_CMPXCHG};
	struct bpf_insn *in = &p[i];
	enum dz_insn_kind kind;
	uint32_t left = n - i - 1; /* insns after this one */
	int r;
	uint8_t op;

	r = dz_insn__decode(in, n - i, &kind, NULL, 0);
	if (r > 0 && kind != DZ_K_JA && kind != DZ_K_JCC && kind != DZ_K_CALL_LOCAL)
		return (uint32_t)r;
	if (r > 0) {
		int64_t t = dz_insn__target(in, i);

		if (t >= 0 && t < n)
			return 1; /* valid and lands inside: keep as is */
		if (!left)
			*in = BPF_EXIT_INSN();
		else if (BPF_CLASS(in->code) == BPF_JMP32 && kind == DZ_K_JA)
			in->imm = (int32_t)((uint32_t)in->imm % left);
		else if (kind == DZ_K_CALL_LOCAL)
			in->imm = (int32_t)((uint32_t)in->imm % left);
		else
			in->off = (int16_t)((uint16_t)in->off % left);
		return 1;
	}

	in->code = fuzz_codes[in->code % fuzz_ncodes];
	in->dst_reg %= 11;
	in->src_reg %= 11;
	op = BPF_OP(in->code);
	switch (BPF_CLASS(in->code)) {
	case BPF_ALU:
	case BPF_ALU64:
		if (op == BPF_NEG) {
			in->src_reg = 0;
			in->off = 0;
			in->imm = 0;
		} else if (op == BPF_END) {
			static const int32_t w[] = {16, 32, 64};

			in->src_reg = 0;
			in->off = 0;
			in->imm = w[(uint32_t)in->imm % 3];
		} else if (BPF_SRC(in->code) == BPF_X) {
			in->imm = 0;
			if (op == BPF_DIV || op == BPF_MOD)
				in->off &= 1;
			else if (op == BPF_MOV)
				in->off = (int16_t[]){0, 0, 8, 16, 32}[(uint16_t)in->off % 5];
			else
				in->off = 0;
			if (op == BPF_MOV && BPF_CLASS(in->code) == BPF_ALU && in->off == 32)
				in->off = 0;
		} else {
			in->src_reg = 0;
			in->off = (op == BPF_DIV || op == BPF_MOD) ? in->off & 1 : 0;
			if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH)
				in->imm &= BPF_CLASS(in->code) == BPF_ALU64 ? 63 : 31;
		}
		break;
	case BPF_JMP:
	case BPF_JMP32:
		if (op == BPF_EXIT) {
			*in = BPF_EXIT_INSN();
		} else if (op == BPF_CALL) {
			in->dst_reg = 0;
			in->off = 0;
			in->code = BPF_JMP | BPF_CALL;
			if (in->src_reg & 1 && left) {
				in->src_reg = BPF_PSEUDO_CALL;
				in->imm = (int32_t)((uint32_t)in->imm % left);
			} else {
				in->src_reg = 0;
				in->imm = 1 + (int32_t)((uint32_t)in->imm % 4);
			}
		} else if (op == BPF_JA) {
			in->dst_reg = 0;
			in->src_reg = 0;
			if (BPF_CLASS(in->code) == BPF_JMP32) {
				in->off = 0;
				in->imm = left ? (int32_t)((uint32_t)in->imm % left) : -1;
			} else {
				in->imm = 0;
				in->off = left ? (int16_t)((uint16_t)in->off % left) : -1;
			}
		} else {
			if (BPF_SRC(in->code) == BPF_X)
				in->imm = 0;
			else
				in->src_reg = 0;
			if (i + 1 + (int64_t)in->off < 0 || i + 1 + (int64_t)in->off >= n)
				in->off = left ? (int16_t)((uint16_t)in->off % left) : 0;
		}
		break;
	case BPF_LD:
		if (left < 1) {
			*in = BPF_EXIT_INSN();
			break;
		}
		in->src_reg = 0;
		in->off = 0;
		p[i + 1].code = 0;
		p[i + 1].dst_reg = 0;
		p[i + 1].src_reg = 0;
		p[i + 1].off = 0;
		return 2;
	case BPF_LDX:
		in->imm = 0;
		in->off = fuzz_mem_off(in->off);
		break;
	case BPF_ST:
		in->src_reg = 0;
		in->off = fuzz_mem_off(in->off);
		break;
	case BPF_STX:
		in->off = fuzz_mem_off(in->off);
		if (BPF_MODE(in->code) == BPF_ATOMIC)
			in->imm = atomic_ops[(uint32_t)in->imm % 10];
		else
			in->imm = 0;
		break;
	}
	return 1;
}

struct fuzz_prog {
	struct bpf_insn insns[FUZZ_MAX_INSNS];
	uint32_t len;
	enum dz_prog_type type;
	uint32_t mem_size;
	uint8_t seed;
};

/* Unless seed bit 6 asks for the raw ending, end with exit (most random ends fall off). */
static void fuzz_fix_end(struct fuzz_prog *fp)
{
	struct bpf_insn *last = &fp->insns[fp->len - 1];
	uint8_t op = BPF_OP(last->code);
	uint32_t n = fp->len;

	if (fp->seed & 0x40)
		return;
	/*
	 * Seed bit 5: end with "r0 = rK; exit" so the r0 oracle checks the
	 * verifier's bounds of another register (K from the seed).
	 */
	if ((fp->seed & 0x20) && n >= 3 && fp->insns[n - 3].code != (BPF_LD | BPF_IMM | BPF_DW)) {
		fp->insns[n - 2] = BPF_MOV64_REG(BPF_REG_0, (fp->seed >> 1) % 10);
		fp->insns[n - 1] = BPF_EXIT_INSN();
		return;
	}
	if (BPF_CLASS(last->code) == BPF_JMP && (op == BPF_EXIT || op == BPF_JA))
		return;
	if (n >= 2 && fp->insns[n - 2].code == (BPF_LD | BPF_IMM | BPF_DW))
		return; /* second slot of an lddw: leave it */
	*last = BPF_EXIT_INSN();
}

static bool fuzz_build(const uint8_t *data, size_t size, struct fuzz_prog *fp)
{
	uint32_t i, n;

	fuzz_init_codes();
	if (size < 2 + sizeof(struct bpf_insn))
		return false;
	fp->type = (data[0] & 1) ? DZ_PROG_MEM : DZ_PROG_PREDICATE;
	fp->mem_size = (uint32_t)(data[0] >> 1) * 8;
	fp->seed = data[1];
	n = (uint32_t)((size - 2) / sizeof(struct bpf_insn));
	if (fp->seed & 0x80) {
		/*
		 * A prologue that initialises every register and some stack, so
		 * random bodies get past "R%d !read_ok" into the interesting rules.
		 */
		static const struct bpf_insn pro_pred[] = {
		    BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		    BPF_LDX_MEM(BPF_W, BPF_REG_0, BPF_REG_1, 0),
		    BPF_LDX_MEM(BPF_DW, BPF_REG_2, BPF_REG_1, 8),
		    BPF_LDX_MEM(BPF_W, BPF_REG_3, BPF_REG_1, 4),
		    BPF_LDX_MEM(BPF_DW, BPF_REG_4, BPF_REG_1, 16),
		    BPF_MOV64_IMM(BPF_REG_5, 8),
		    BPF_MOV64_REG(BPF_REG_7, BPF_REG_10),
		    BPF_ALU64_IMM(BPF_ADD, BPF_REG_7, -64),
		    BPF_MOV64_IMM(BPF_REG_8, 0),
		    BPF_MOV64_IMM(BPF_REG_9, -1),
		    BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -16),
		    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_6, -24),
		    BPF_ST_MEM(BPF_DW, BPF_REG_10, -32, 16),
		};
		static const struct bpf_insn pro_mem[] = {
		    BPF_MOV64_REG(BPF_REG_6, BPF_REG_1),
		    BPF_MOV64_IMM(BPF_REG_0, 0),
		    BPF_MOV64_IMM(BPF_REG_3, 1),
		    BPF_MOV64_IMM(BPF_REG_4, 4),
		    BPF_MOV64_IMM(BPF_REG_5, 8),
		    BPF_MOV64_REG(BPF_REG_7, BPF_REG_10),
		    BPF_ALU64_IMM(BPF_ADD, BPF_REG_7, -64),
		    BPF_MOV64_IMM(BPF_REG_8, 0),
		    BPF_MOV64_IMM(BPF_REG_9, -1),
		    BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 0),
		    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_2, -16),
		    BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_6, -24),
		    BPF_ST_MEM(BPF_DW, BPF_REG_10, -32, 16),
		    BPF_MOV64_IMM(BPF_REG_2, 4),
		};
		const struct bpf_insn *pro = fp->type == DZ_PROG_MEM ? pro_mem : pro_pred;
		uint32_t np = 14;

		if (n > FUZZ_MAX_INSNS - np)
			n = FUZZ_MAX_INSNS - np;
		memcpy(fp->insns, pro, np * sizeof(*pro));
		memcpy(fp->insns + np, data + 2, n * sizeof(struct bpf_insn));
		for (i = np; i < np + n;)
			i += fuzz_repair(fp->insns, i, np + n);
		fp->len = np + n;
		fuzz_fix_end(fp);
		return true;
	}
	if (n > FUZZ_MAX_INSNS)
		n = FUZZ_MAX_INSNS;
	memcpy(fp->insns, data + 2, n * sizeof(struct bpf_insn));
	for (i = 0; i < n;)
		i += fuzz_repair(fp->insns, i, n);
	fp->len = n;
	fuzz_fix_end(fp);
	return true;
}

/* ---- running ---- */

static void fuzz_fill(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
}

struct fuzz_result {
	int err;
	uint64_t r0;
	struct fuzz_trace trace;
	uint8_t mem[1024];
	uint64_t insns;
};

/*
 * One run with the context (or buffer) placed at 'shift' bytes into a fresh
 * allocation and the interpreter's stack pushed down by 'shift' bytes, so
 * two runs with different shifts see different host addresses only.
 */
static __attribute__((noinline)) void fuzz_run_at(const struct dz_prog *prog,
						  const struct fuzz_prog *fp, struct fuzz_guest *g,
						  bool checked, size_t shift,
						  struct fuzz_result *res)
{
	size_t arg_len = fp->type == DZ_PROG_MEM ? fp->mem_size : sizeof(struct dz_pred_ctx);
	uint8_t *block = malloc(arg_len + shift + 1);
	volatile uint8_t *pad = __builtin_alloca(shift + 16);
	struct dz_guest_ops ops = {
	    .opaque = g,
	    .read_gpa = fuzz_read_gpa,
	    .trace = fuzz_trace_cb,
	};
	struct dz_run_opts opts = {.ops = &ops, .checked = checked};
	struct dz_run_stats stats;
	uint8_t *arg;

	if (!block)
		abort();
	pad[0] = 1;
	arg = block + shift;
	fuzz_fill(arg, arg_len, fp->seed);
	if (fp->type == DZ_PROG_PREDICATE && (fp->seed & 3) != 3) {
		struct dz_pred_ctx *c = (struct dz_pred_ctx *)arg;

		c->cpl &= 3; /* mostly realistic values, sometimes anything */
		c->cr3 = 0x1000;
		c->gs_base = 0x800;
	}
	memset(&res->trace, 0, sizeof(res->trace));
	g->trace = &res->trace;
	res->r0 = 0;
	res->err = dz_prog__run(prog, arg, arg_len, &opts, &res->r0, &stats);
	res->insns = stats.insns;
	memset(res->mem, 0, sizeof(res->mem));
	if (fp->type == DZ_PROG_MEM)
		memcpy(res->mem, arg, arg_len < sizeof(res->mem) ? arg_len : sizeof(res->mem));
	free(block);
}

static bool fuzz_same(const struct fuzz_result *a, const struct fuzz_result *b)
{
	unsigned int n = a->trace.n < FUZZ_TRACE_MAX ? a->trace.n : FUZZ_TRACE_MAX;

	return a->err == b->err && a->r0 == b->r0 && a->trace.n == b->trace.n &&
	       !memcmp(a->trace.ev, b->trace.ev, n * sizeof(a->trace.ev[0])) &&
	       !memcmp(a->mem, b->mem, sizeof(a->mem));
}

static int fuzz_fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return 1;
}

/* 0: fine (rejected, or accepted and safe), 1: escape (why says what). */
static int dz_fuzz_one(const uint8_t *data, size_t size, char *why, size_t why_size)
{
	static struct fuzz_prog fp;
	static struct fuzz_guest guest;
	static struct fuzz_result a, b, c;
	static struct fuzz_exits exits;
	struct dz_prog *prog;
	unsigned int i;
	int err, ret = 0;

	dz_verifier_insn_limit = FUZZ_INSN_LIMIT;
	if (!fuzz_build(data, size, &fp))
		return 0;
	fuzz_stats.runs++;
	if (dz_prog__new(fp.insns, fp.len, fp.type, &prog))
		return 0;
	prog->mem_size = fp.mem_size;
	exits.n = 0;
	dz_verifier_exit_hook = fuzz_exit_hook;
	dz_verifier_exit_hook_arg = &exits;
	err = dz_prog__verify(prog, NULL, 0, 0);
	dz_verifier_exit_hook = NULL;
	if (err) {
		fuzz_stats.rejected++;
		if (prog->verified)
			ret = fuzz_fail(why, why_size, "rejected (%d) but marked verified", err);
		goto out;
	}
	fuzz_stats.accepted++;
	fuzz_fill(guest.ram, sizeof(guest.ram), fp.seed ^ 0x5a);

	fuzz_run_at(prog, &fp, &guest, true, 0, &a);
	fuzz_stats.insns_run += a.insns;
	if (a.err) {
		ret =
		    fuzz_fail(why, why_size,
			      "accepted program failed in the checked interpreter: %d (%s)", a.err,
			      a.err == -EFAULT	? "memory access outside ctx/stack/buffer"
			      : a.err == -E2BIG ? "instruction budget exhausted"
						: "bad instruction");
		goto out;
	}
	/* the returned r0 must be a value the verifier allowed at some exit */
	if (exits.n <= FUZZ_EXITS) {
		for (i = 0; i < exits.n && !fuzz_scalar_contains(&exits.r0[i], a.r0); i++)
			;
		if (i == exits.n) {
			ret = fuzz_fail(
			    why, why_size,
			    "r0 %#llx is outside every exit state the verifier computed (%u)",
			    (unsigned long long)a.r0, exits.n);
			goto out;
		}
	}
	fuzz_run_at(prog, &fp, &guest, false, 0, &b);
	if (!fuzz_same(&a, &b)) {
		ret = fuzz_fail(why, why_size,
				"fast and checked interpreters disagree: err %d/%d r0 %#llx/%#llx",
				b.err, a.err, (unsigned long long)b.r0, (unsigned long long)a.r0);
		goto out;
	}
	fuzz_run_at(prog, &fp, &guest, false, 4096 + 8 * (fp.seed & 7), &c);
	if (!fuzz_same(&b, &c))
		ret = fuzz_fail(
		    why, why_size,
		    "behaviour depends on host addresses (pointer leak): r0 %#llx vs %#llx",
		    (unsigned long long)b.r0, (unsigned long long)c.r0);
out:
	dz_prog__free(prog);
	return ret;
}

#endif /* DZ_TESTS_FUZZ_HARNESS_H */
