// SPDX-License-Identifier: GPL-2.0
/*
 * Soundness of the verifier's scalar domain (lib/bpf/verifier-scalar.c),
 * checked against the interpreter as the oracle of concrete semantics.
 *
 * For random small sets S and T of 64-bit values (shaped around 0, 2^31,
 * 2^32, 2^63, ...), A and B are abstractions of them (ranges and known bits,
 * made consistent by reg_bounds_sync, which must keep every member). Then for
 * every ALU operation, 64- and 32-bit:
 *	every concrete s op t (computed by running "r0 = s; r1 = t; r0 op= r1")
 *	lies inside scalar_alu(A, B, op);
 * and for every conditional jump:
 *	is_branch_taken(A, B) is never contradicted by a concrete pair, and each
 *	pair lands inside the refinement (reg_set_min_max) of the branch it takes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "../../lib/bpf/verifier.h"
#include "tap.h"

#define SET    8
#define ROUNDS 2000

static uint64_t rs = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

/* A set of values around an interesting base. */
static void make_set(uint64_t *v)
{
	static const uint64_t bases[] = {
	    0,
	    1,
	    0x7fffffffull,
	    0x80000000ull,
	    0xffffffffull,
	    0x100000000ull,
	    0x7fffffffffffffffull,
	    0x8000000000000000ull,
	    ~0ull,
	    64,
	    4096,
	};
	uint64_t base = rnd() & 3 ? bases[rnd() % (sizeof(bases) / sizeof(bases[0]))] : rnd();
	unsigned int spread = (unsigned int)(rnd() % 5), i;

	for (i = 0; i < SET; i++) {
		uint64_t r = rnd();

		switch (spread) {
		case 0: /* a constant */
			v[i] = base;
			break;
		case 1: /* a few apart */
			v[i] = base + (r % 8) - 4;
			break;
		case 2: /* a wider window */
			v[i] = base + (r % 600) - 300;
			break;
		case 3: /* some bits varying */
			v[i] = base ^ (r & (rnd() & 0xff00000000ff00ffull));
			break;
		default: /* anything */
			v[i] = r >> (rnd() % 64);
			break;
		}
	}
}

/* The tightest state our domain can express for the set (before syncing). */
static void abstract(struct dz_reg_state *r, const uint64_t *v)
{
	uint64_t and_all = ~0ull, or_all = 0;
	unsigned int i;

	mark_reg_unknown(r);
	r->umin_value = U64_MAX;
	r->umax_value = 0;
	r->smin_value = S64_MAX;
	r->smax_value = S64_MIN;
	r->u32_min_value = U32_MAX;
	r->u32_max_value = 0;
	r->s32_min_value = S32_MAX;
	r->s32_max_value = S32_MIN;
	for (i = 0; i < SET; i++) {
		uint64_t x = v[i];

		and_all &= x;
		or_all |= x;
		if (x < r->umin_value)
			r->umin_value = x;
		if (x > r->umax_value)
			r->umax_value = x;
		if ((int64_t)x < r->smin_value)
			r->smin_value = (int64_t)x;
		if ((int64_t)x > r->smax_value)
			r->smax_value = (int64_t)x;
		if ((uint32_t)x < r->u32_min_value)
			r->u32_min_value = (uint32_t)x;
		if ((uint32_t)x > r->u32_max_value)
			r->u32_max_value = (uint32_t)x;
		if ((int32_t)x < r->s32_min_value)
			r->s32_min_value = (int32_t)x;
		if ((int32_t)x > r->s32_max_value)
			r->s32_max_value = (int32_t)x;
	}
	r->var_off = TNUM(and_all, or_all ^ and_all);
	/* sometimes forget some knowledge: states are rarely the tightest */
	switch (rnd() % 6) {
	case 0:
		r->var_off = tnum_unknown;
		break;
	case 1:
		r->umin_value = 0;
		r->smax_value = S64_MAX;
		break;
	case 2:
		r->u32_min_value = 0;
		r->u32_max_value = U32_MAX;
		r->s32_min_value = S32_MIN;
		r->s32_max_value = S32_MAX;
		break;
	case 3:
		r->umax_value = U64_MAX;
		r->smin_value = S64_MIN;
		break;
	}
}

static bool contains(const struct dz_reg_state *r, uint64_t v)
{
	return v >= r->umin_value && v <= r->umax_value && (int64_t)v >= r->smin_value &&
	       (int64_t)v <= r->smax_value && (uint32_t)v >= r->u32_min_value &&
	       (uint32_t)v <= r->u32_max_value && (int32_t)v >= r->s32_min_value &&
	       (int32_t)v <= r->s32_max_value && (v & ~r->var_off.mask) == r->var_off.value;
}

/* ---- the oracle: the interpreter (checked mode runs unverified programs) ---- */
static struct dz_prog *alu_prog, *jmp_prog;
static uint8_t scratch[8];

static uint64_t run(struct dz_prog *p, uint64_t a, uint64_t b)
{
	struct dz_run_opts opts = {.checked = true};
	uint64_t r0 = 0;
	int err;

	p->insns[0].imm = (int32_t)(uint32_t)a;
	p->insns[1].imm = (int32_t)(uint32_t)(a >> 32);
	p->insns[2].imm = (int32_t)(uint32_t)b;
	p->insns[3].imm = (int32_t)(uint32_t)(b >> 32);
	err = dz_prog__run(p, scratch, 0, &opts, &r0, NULL);
	if (err) {
		diag("oracle run failed: %d", err);
		fflush(stdout);
		abort();
	}
	return r0;
}

static struct dz_prog *new_prog(const struct bpf_insn *insns, uint32_t n)
{
	struct dz_prog *p;

	if (dz_prog__new(insns, n, DZ_PROG_MEM, &p))
		abort();
	return p;
}

struct alu_case {
	uint8_t code; /* class | op | src */
	int16_t off;
	int32_t imm; /* END width */
	const char *name;
};

static const struct alu_case alu_cases[] = {
#define BOTH(OP, NAME)                                                                             \
	{BPF_ALU64 | OP | BPF_X, 0, 0, NAME "64"},                                                 \
	{                                                                                          \
		BPF_ALU | OP | BPF_X, 0, 0, NAME "32"                                              \
	}
    BOTH(BPF_ADD, "add"),
    BOTH(BPF_SUB, "sub"),
    BOTH(BPF_MUL, "mul"),
    BOTH(BPF_DIV, "div"),
    BOTH(BPF_MOD, "mod"),
    BOTH(BPF_OR, "or"),
    BOTH(BPF_AND, "and"),
    BOTH(BPF_LSH, "lsh"),
    BOTH(BPF_RSH, "rsh"),
    BOTH(BPF_XOR, "xor"),
    BOTH(BPF_MOV, "mov"),
    BOTH(BPF_ARSH, "arsh"),
    {BPF_ALU64 | BPF_DIV | BPF_X, 1, 0, "sdiv64"},
    {BPF_ALU | BPF_DIV | BPF_X, 1, 0, "sdiv32"},
    {BPF_ALU64 | BPF_MOD | BPF_X, 1, 0, "smod64"},
    {BPF_ALU | BPF_MOD | BPF_X, 1, 0, "smod32"},
    {BPF_ALU64 | BPF_MOV | BPF_X, 8, 0, "movsx8"},
    {BPF_ALU64 | BPF_MOV | BPF_X, 16, 0, "movsx16"},
    {BPF_ALU64 | BPF_MOV | BPF_X, 32, 0, "movsx32"},
    {BPF_ALU | BPF_MOV | BPF_X, 8, 0, "movsx32_8"},
    {BPF_ALU | BPF_MOV | BPF_X, 16, 0, "movsx32_16"},
    {BPF_ALU64 | BPF_NEG, 0, 0, "neg64"},
    {BPF_ALU | BPF_NEG, 0, 0, "neg32"},
    {BPF_ALU | BPF_END | BPF_TO_LE, 0, 16, "le16"},
    {BPF_ALU | BPF_END | BPF_TO_LE, 0, 32, "le32"},
    {BPF_ALU | BPF_END | BPF_TO_BE, 0, 16, "be16"},
    {BPF_ALU | BPF_END | BPF_TO_BE, 0, 32, "be32"},
    {BPF_ALU | BPF_END | BPF_TO_BE, 0, 64, "be64"},
    {BPF_ALU64 | BPF_END, 0, 32, "bswap32"},
#undef BOTH
};

static int check_alu(const struct alu_case *c, const uint64_t *s, const uint64_t *t,
		     const struct dz_reg_state *a, const struct dz_reg_state *b)
{
	struct bpf_insn insns[] = {
	    BPF_LD_IMM64(BPF_REG_0, 0),
	    BPF_LD_IMM64(BPF_REG_1, 0),
	    BPF_RAW_INSN(c->code, BPF_REG_0, BPF_REG_1, c->off, c->imm),
	    BPF_EXIT_INSN(),
	};
	uint8_t op = BPF_OP(c->code);
	bool alu32 = BPF_CLASS(c->code) == BPF_ALU;
	struct dz_reg_state r = *a;
	unsigned int i, j;
	bool ok;

	if (op == BPF_NEG || op == BPF_END)
		insns[4].src_reg = 0;
	if (sizeof(insns) != alu_prog->insn_cnt * sizeof(insns[0]))
		abort();
	memcpy(alu_prog->insns, insns, sizeof(insns));
	if (op == BPF_END)
		ok = scalar_end(&r, !alu32 || BPF_SRC(c->code) == BPF_TO_BE, c->imm);
	else
		ok = scalar_alu(&r, op == BPF_NEG ? &r : b, op, alu32, c->off);
	if (!ok) {
		diag("%s: inconsistent result", c->name);
		return 1;
	}
	for (i = 0; i < SET; i++)
		for (j = 0; j < SET; j++) {
			uint64_t v = run(alu_prog, s[i], t[j]);

			if (!contains(&r, v)) {
				diag("%s: %#llx op %#llx = %#llx outside [%#llx, %#llx] s[%lld, "
				     "%lld] tnum (%#llx; %#llx)",
				     c->name, (unsigned long long)s[i], (unsigned long long)t[j],
				     (unsigned long long)v, (unsigned long long)r.umin_value,
				     (unsigned long long)r.umax_value, (long long)r.smin_value,
				     (long long)r.smax_value, (unsigned long long)r.var_off.value,
				     (unsigned long long)r.var_off.mask);
				return 1;
			}
			if (op == BPF_NEG || op == BPF_END)
				break;
		}
	return 0;
}

static const uint8_t jmp_ops[] = {BPF_JEQ,  BPF_JNE,  BPF_JGT,	BPF_JGE,  BPF_JLT, BPF_JLE,
				  BPF_JSET, BPF_JSGT, BPF_JSGE, BPF_JSLT, BPF_JSLE};

static int check_jmp(uint8_t op, bool is32, const uint64_t *s, const uint64_t *t,
		     const struct dz_reg_state *a, const struct dz_reg_state *b)
{
	struct bpf_insn insns[] = {
	    BPF_LD_IMM64(BPF_REG_0, 0),
	    BPF_LD_IMM64(BPF_REG_1, 0),
	    BPF_MOV64_IMM(BPF_REG_2, 1),
	    BPF_RAW_INSN((is32 ? BPF_JMP32 : BPF_JMP) | op | BPF_X, BPF_REG_0, BPF_REG_1, 1, 0),
	    BPF_MOV64_IMM(BPF_REG_2, 0),
	    BPF_MOV64_REG(BPF_REG_0, BPF_REG_2),
	    BPF_EXIT_INSN(),
	};
	struct dz_reg_state at = *a, bt = *b, af = *a, bf = *b;
	int taken = is_branch_taken(a, b, op, is32);
	bool ok_t = reg_set_min_max(&at, &bt, op, is32);
	bool ok_f = reg_set_min_max(&af, &bf, negate_jmp_op(op), is32);
	unsigned int i, j;

	if (sizeof(insns) != jmp_prog->insn_cnt * sizeof(insns[0]))
		abort();
	memcpy(jmp_prog->insns, insns, sizeof(insns));
	for (i = 0; i < SET; i++)
		for (j = 0; j < SET; j++) {
			bool c = run(jmp_prog, s[i], t[j]);
			bool in = c ? ok_t && contains(&at, s[i]) && contains(&bt, t[j])
				    : ok_f && contains(&af, s[i]) && contains(&bf, t[j]);

			if ((c && taken == 0) || (!c && taken == 1) || !in) {
				diag("jmp%s op %#x: %#llx vs %#llx is %s; branch_taken %d, refined "
				     "%s",
				     is32 ? "32" : "", op, (unsigned long long)s[i],
				     (unsigned long long)t[j], c ? "true" : "false", taken,
				     in ? "ok" : "excludes it");
				return 1;
			}
		}
	return 0;
}

/* test-scalar [ROUNDS [SEED]]: more rounds for a longer hunt */
/*
 * scalar_coerce (a fill narrower than the spilled value): every value's low
 * 'size' bytes, zero- or sign-extended, must lie in the result.
 */
static int check_coerce(const uint64_t *s, const struct dz_reg_state *a)
{
	static const int sizes[] = {1, 2, 4, 8};
	int fails = 0;
	unsigned int k, i;

	for (k = 0; k < 8; k++) {
		int size = sizes[k % 4], sh = 64 - 8 * size;
		bool sext = k >= 4 && size < 8;
		struct dz_reg_state c = *a;

		scalar_coerce(&c, size, sext);
		for (i = 0; i < SET; i++) {
			uint64_t v = sh ? s[i] << sh : s[i];

			v = !sh ? v : sext ? (uint64_t)((int64_t)v >> sh) : v >> sh;
			if (!contains(&c, v)) {
				if (fails++ < 3)
					diag("coerce %d%s of %#llx: %#llx not in the result", size,
					     sext ? "s" : "", (unsigned long long)s[i],
					     (unsigned long long)v);
			}
		}
	}
	return fails;
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) : ROUNDS;
	struct bpf_insn stub[9] = {BPF_EXIT_INSN()};
	unsigned int round, k, alu_fail = 0, jmp_fail = 0, sync_fail = 0, coerce_fail = 0;
	uint64_t s[SET], t[SET];

	if (argc > 2)
		rs ^= strtoull(argv[2], NULL, 0) * 0x2545f4914f6cdd1dull;
	alu_prog = new_prog(stub, 6);
	jmp_prog = new_prog(stub, 9);
	for (round = 0; round < rounds; round++) {
		struct dz_reg_state a, b;
		unsigned int i;

		make_set(s);
		make_set(t);
		abstract(&a, s);
		abstract(&b, t);
		if (!reg_bounds_sync(&a) || !reg_bounds_sync(&b)) {
			sync_fail++;
			continue;
		}
		for (i = 0; i < SET; i++)
			if (!contains(&a, s[i]) || !contains(&b, t[i]))
				sync_fail++;
		coerce_fail += check_coerce(s, &a);
		for (k = 0; k < sizeof(alu_cases) / sizeof(alu_cases[0]); k++)
			alu_fail += check_alu(&alu_cases[k], s, t, &a, &b);
		for (k = 0; k < sizeof(jmp_ops); k++) {
			jmp_fail += check_jmp(jmp_ops[k], false, s, t, &a, &b);
			jmp_fail += check_jmp(jmp_ops[k], true, s, t, &a, &b);
		}
	}
	is_int(sync_fail, 0, "reg_bounds_sync keeps every member of %u random sets", 2 * rounds);
	is_int(alu_fail, 0, "scalar_alu/scalar_end contain every concrete result (%zu ops x %u)",
	       sizeof(alu_cases) / sizeof(alu_cases[0]), rounds);
	is_int(coerce_fail, 0,
	       "scalar_coerce contains every value's low bytes, zero- and sign-extended (%u)",
	       rounds);
	is_int(jmp_fail, 0,
	       "is_branch_taken and reg_set_min_max agree with every concrete pair (22 jumps x %u)",
	       rounds);
	dz_prog__free(alu_prog);
	dz_prog__free(jmp_prog);
	return done_testing();
}
