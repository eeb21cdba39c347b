// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test against the Linux kernel's own eBPF: random ALU/branch
 * programs (no memory, forward jumps only, every register initialised), and
 * a second family that also uses its stack (loads incl. sign-extending ones,
 * stores, atomics), are loaded with bpf(BPF_PROG_LOAD) as socket filters, run
 * once with BPF_PROG_TEST_RUN, and r0 is compared with doze's checked
 * interpreter, and with the fast one for the programs doze's verifier accepts.
 *
 * BPF_PROG_TEST_RUN reports a 32-bit retval, so every program is loaded
 * twice: once ending in "exit" (low half of r0) and once ending in
 * "r0 >>= 32; exit" (high half): the full 64-bit r0 is compared.
 * Includes the cpu v4 forms (sdiv/smod, movsx, bswap, gotol). Needs root
 * (CAP_BPF); skipped with the reason when the kernel refuses bpf() itself.
 *
 * For the programs doze's verifier accepts, the kernel's r0 must also lie
 * inside the bounds the verifier computed for R0 at one of the exits it
 * walked: the kernel's execution is the oracle of doze's abstract one (the
 * stack family stores bounded unknowns with narrow stores and fills them
 * back, to check the spill tracking).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "tap.h"

#include "../../lib/bpf/verifier.h" /* dz_verifier_exit_hook, struct dz_reg_state */

#define NPROGS	3000	/* ALU and branches only */
#define NMEMPROGS 1000	/* ... plus stack loads, stores and atomics */
#define NCALLPROGS 1000	/* ... plus bpf-to-bpf calls */
#define MAXLEN	96

static uint64_t rng = 0x9e3779b97f4a7c15ULL;	/* fixed seed: reproducible */

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static uint64_t interesting(void)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 7, 0xff, 0x80, 0x7f, 0x8000, 0xffff, 0x7fffffff, 0x80000000ULL,
		0xffffffffULL, 0x100000000ULL, 0x8000000000000000ULL, 0x7fffffffffffffffULL,
		0xffffffffffffffffULL, 0xfffffffffffffffeULL, 0xffffffff80000000ULL,
	};

	switch (below(3)) {
	case 0:
		return v[below(sizeof(v) / sizeof(v[0]))];
	case 1:
		return (uint64_t)(int64_t)(int32_t)(rnd() % 200 - 100);
	default:
		return rnd();
	}
}

static int32_t imm32(void)
{
	uint64_t v = interesting();

	return (int32_t)(uint32_t)v;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static char log_buf[1 << 16];

static int kload(const struct bpf_insn *insns, uint32_t cnt, bool want_log)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	attr.insns = (uintptr_t)insns;
	attr.insn_cnt = cnt;
	attr.license = (uintptr_t) "GPL";
	if (want_log) {
		attr.log_buf = (uintptr_t)log_buf;
		attr.log_size = sizeof(log_buf);
		attr.log_level = 1;
		log_buf[0] = '\0';
	}
	return (int)sys_bpf(BPF_PROG_LOAD, &attr);
}

static int krun(int fd, uint32_t *retval)
{
	uint8_t pkt[64] = { 0 };
	union bpf_attr attr;
	int ret;

	memset(&attr, 0, sizeof(attr));
	attr.test.prog_fd = fd;
	attr.test.data_in = (uintptr_t)pkt;
	attr.test.data_size_in = sizeof(pkt);
	attr.test.repeat = 1;
	ret = (int)sys_bpf(BPF_PROG_TEST_RUN, &attr);
	*retval = attr.test.retval;
	return ret;
}

/*
 * A generated program: the main function, and optionally one subprogram
 * called from it (bpf-to-bpf calls, imm fixed up when composed).
 */
struct gprog {
	struct bpf_insn main[MAXLEN + 16], callee[MAXLEN + 16];
	uint32_t nmain, ncallee;
};

/*
 * main, then the tail ("exit", or with hi "r0 >>= 32; exit": jumps to the
 * tail land on its first instruction), then the subprogram.
 */
static uint32_t compose(const struct gprog *g, bool hi, struct bpf_insn *out)
{
	uint32_t n = g->nmain, base;

	memcpy(out, g->main, n * sizeof(*out));
	if (hi)
		out[n++] = BPF_ALU64_IMM(BPF_RSH, 0, 32);
	out[n++] = BPF_EXIT_INSN();
	base = n;
	memcpy(out + n, g->callee, g->ncallee * sizeof(*out));
	n += g->ncallee;
	for (uint32_t i = 0; i < g->nmain; i++)
		if (out[i].code == (BPF_JMP | BPF_CALL) && out[i].src_reg == BPF_PSEUDO_CALL)
			out[i].imm = (int32_t)(base - (i + 1));
	return n;
}

static int kernel_half(const struct gprog *g, bool hi, uint32_t *half)
{
	struct bpf_insn prog[2 * (MAXLEN + 16) + 4];
	uint32_t n = compose(g, hi, prog);
	int fd, ret;

	fd = kload(prog, n, false);
	if (fd < 0) {
		ret = -errno;
		kload(prog, n, true);
		return ret;
	}
	ret = krun(fd, half);
	close(fd);
	return ret ? -errno : 0;
}

/* Runs in the kernel: 0 and the 64-bit r0, or -errno (log in log_buf). */
static int kernel_r0(const struct gprog *g, uint64_t *r0)
{
	uint32_t lo, hi;
	int ret = kernel_half(g, false, &lo);

	if (!ret)
		ret = kernel_half(g, true, &hi);
	if (!ret)
		*r0 = (uint64_t)hi << 32 | lo;
	return ret;
}

static unsigned int verified_runs;

/* R0 at every exit doze's verifier walked, for the last program it accepted. */
#define KDIFF_EXITS 64
static struct {
	unsigned int n;
	struct dz_reg_state r0[KDIFF_EXITS];
} exits;
static bool doze_verified;

static void exit_hook(void *arg, const struct dz_reg_state *r0)
{
	(void)arg;
	if (exits.n < KDIFF_EXITS)
		exits.r0[exits.n] = *r0;
	exits.n++;
}

static bool scalar_contains(const struct dz_reg_state *r, uint64_t v)
{
	return v >= r->umin_value && v <= r->umax_value && (int64_t)v >= r->smin_value &&
	       (int64_t)v <= r->smax_value && (uint32_t)v >= r->u32_min_value &&
	       (uint32_t)v <= r->u32_max_value && (int32_t)v >= r->s32_min_value &&
	       (int32_t)v <= r->s32_max_value && (v & ~r->var_off.mask) == r->var_off.value;
}

/* Does the verifier allow r0 == v at some exit? (True if it walked too many to keep.) */
static bool exits_allow(uint64_t v)
{
	if (exits.n > KDIFF_EXITS)
		return true;
	for (unsigned int i = 0; i < exits.n; i++)
		if (scalar_contains(&exits.r0[i], v))
			return true;
	return false;
}

/*
 * r0 from doze's checked interpreter; if doze's verifier accepts the program,
 * the fast interpreter must give the same r0 (else -EDOM).
 */
static int doze_r0(const struct gprog *g, uint64_t *r0)
{
	struct bpf_insn prog[2 * (MAXLEN + 16) + 4];
	struct dz_run_opts opts = { .checked = true };
	uint8_t pkt[64] = { 0 };
	struct dz_prog *p;
	uint64_t fast;
	int ret;

	ret = dz_prog__new(prog, compose(g, false, prog), DZ_PROG_MEM, &p);
	if (ret)
		return ret;
	p->mem_size = sizeof(pkt);
	ret = dz_prog__run(p, pkt, sizeof(pkt), &opts, r0, NULL);
	exits.n = 0;
	dz_verifier_exit_hook = exit_hook;
	doze_verified = !ret && !dz_prog__verify(p, NULL, 0, 0);
	dz_verifier_exit_hook = NULL;
	if (doze_verified) {
		opts.checked = false;
		ret = dz_prog__run(p, pkt, sizeof(pkt), &opts, &fast, NULL);
		if (!ret && fast != *r0)
			ret = -EDOM;
		verified_runs++;
	}
	dz_prog__free(p);
	return ret;
}

static void print_prog(const struct gprog *g)
{
	struct bpf_insn prog[2 * (MAXLEN + 16) + 4];
	struct dz_prog *dp;

	if (!dz_prog__new(prog, compose(g, false, prog), DZ_PROG_MEM, &dp)) {
		dz_prog__disasm(dp, stdout);
		dz_prog__free(dp);
	}
}

static const uint8_t alu_ops[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR,	BPF_AND, BPF_LSH,
				   BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH };
static const uint8_t jmp_ops[] = { BPF_JEQ,  BPF_JGT,  BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
				   BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };

static bool v4 = true;

/* One random ALU instruction on r0..r9 (never r10: a pointer). */
static struct bpf_insn rand_alu(void)
{
	uint8_t cls = below(2) ? BPF_ALU64 : BPF_ALU, op = alu_ops[below(sizeof(alu_ops))];
	int d = below(10), s = below(10), bits = cls == BPF_ALU64 ? 64 : 32;
	bool x = below(2);
	int16_t off = 0;
	int32_t imm;

	switch (below(12)) {
	case 0:	/* byte swaps */
		if (v4 && below(2))
			return BPF_BSWAP(d, 16 << below(3));
		return BPF_ENDIAN(below(2) ? BPF_TO_BE : BPF_TO_LE, d, 16 << below(3));
	case 1:	/* movsx */
		if (v4) {
			int w = 8 << below(cls == BPF_ALU64 ? 3 : 2);

			return BPF_RAW_INSN(cls | BPF_MOV | BPF_X, d, s, w, 0);
		}
		break;
	}
	if (op == BPF_NEG)
		return BPF_RAW_INSN(cls | BPF_NEG | BPF_K, d, 0, 0, 0);
	if ((op == BPF_DIV || op == BPF_MOD) && v4 && below(2))
		off = 1;
	if (x)
		return BPF_RAW_INSN(cls | op | BPF_X, d, s, off, 0);
	imm = imm32();
	if (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH)
		imm = below(bits);			/* the kernel refuses larger constants */
	if ((op == BPF_DIV || op == BPF_MOD) && imm == 0)
		imm = below(2) ? -1 : 3;		/* ... and constant division by zero */
	return BPF_RAW_INSN(cls | op | BPF_K, d, 0, off, imm);
}

/* One random stack access (aligned, in fp-64..fp-1, which gen() initialises). */
static struct bpf_insn rand_mem(void)
{
	static const uint8_t sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };
	static const int32_t atomics[] = {
		BPF_ADD, BPF_OR, BPF_AND, BPF_XOR, BPF_ADD | BPF_FETCH, BPF_OR | BPF_FETCH,
		BPF_AND | BPF_FETCH, BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG,
	};
	uint8_t sz = sizes[below(4)];
	int bytes = sz == BPF_B ? 1 : sz == BPF_H ? 2 : sz == BPF_W ? 4 : 8;
	int16_t off = (int16_t)-(bytes * (1 + (int)below(64 / bytes)));
	int d = below(10), s = below(10);

	switch (below(5)) {
	case 0:
		return BPF_STX_MEM(sz, BPF_REG_10, s, off);
	case 1:
		return BPF_ST_MEM(sz, BPF_REG_10, off, imm32());
	case 2:
		return BPF_LDX_MEM(sz, d, BPF_REG_10, off);
	case 3:
		if (v4 && sz != BPF_DW)
			return BPF_LDX_MEMSX(sz, d, BPF_REG_10, off);
		return BPF_LDX_MEM(sz, d, BPF_REG_10, off);
	default:
		sz = below(2) ? BPF_W : BPF_DW;
		bytes = sz == BPF_W ? 4 : 8;
		off = (int16_t)-(bytes * (1 + (int)below(64 / bytes)));
		return BPF_ATOMIC_OP(sz, atomics[below(sizeof(atomics) / sizeof(atomics[0]))],
				     BPF_REG_10, s, off);
	}
}

/* Gives registers first..last values (mov, mov32 or lddw). */
static uint32_t init_regs(struct bpf_insn *p, uint32_t n, int first, int last)
{
	for (int r = first; r <= last; r++) {
		uint64_t v = interesting();

		if (below(3)) {
			struct bpf_insn ld[2] = { BPF_LD_IMM64(r, v) };

			p[n++] = ld[0];
			p[n++] = ld[1];
		} else {
			p[n++] = below(2) ? BPF_MOV64_IMM(r, (int32_t)v) : BPF_MOV32_IMM(r, (int32_t)v);
		}
	}
	return n;
}

/*
 * Appends random instructions to p[n..] until at least len; every jump goes
 * forward to at most len (the tail after the body). With mem: stack accesses;
 * with calls: calls of the subprogram, each followed by new values for r1-r5,
 * which the call clobbered.
 */
static uint32_t gen_body(struct bpf_insn *p, uint32_t n, uint32_t len, bool mem, bool calls)
{
	while (n < len) {
		uint32_t room = len - n;	/* slots up to the tail */

		switch (below(mem ? 14 : 8)) {
		case 0: case 1: {	/* conditional jump, maybe to the tail */
			uint8_t cls = below(2) ? BPF_JMP : BPF_JMP32, op = jmp_ops[below(11)];
			int16_t off = (int16_t)below(room < 6 ? room : 6);

			if (below(2))
				p[n++] = BPF_RAW_INSN(cls | op | BPF_X, below(10), below(10), off, 0);
			else
				p[n++] = BPF_RAW_INSN(cls | op | BPF_K, below(10), 0, off, imm32());
			break;
		}
		case 2:	/* unconditional: "if c goto +1; ja +1; X" keeps X reachable */
			if (room < 4)
				break;
			p[n++] = BPF_RAW_INSN(BPF_JMP | jmp_ops[below(11)] | BPF_X, below(10), below(10),
					      1, 0);
			p[n++] = v4 && below(2) ? BPF_JMP32_A(1) : BPF_JMP_A(1);
			p[n++] = rand_alu();
			break;
		case 3:
			if (room >= 2) {
				struct bpf_insn ld[2] = { BPF_LD_IMM64(below(10), rnd()) };

				p[n++] = ld[0];
				p[n++] = ld[1];
			}
			break;
		case 8: case 9: case 10: case 11:
			p[n++] = rand_mem();
			break;
		case 13:	/* a bounded unknown spilled with a narrow store, filled back */
			if (room >= 5) {
				static const uint8_t sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };
				static const int32_t masks[] = { 0x7f, 0xff, 0x7fff, 0xffff,
								 0x7fffffff, 0x1ff, 0x3f0 };
				int d = below(10), slot = -8 * (1 + (int)below(8));
				uint8_t sz = sizes[below(3)], sz2 = sizes[below(4)];
				int b2 = sz2 == BPF_B ? 1 : sz2 == BPF_H ? 2 : sz2 == BPF_W ? 4 : 8;
				int16_t o = (int16_t)(below(3) ? 0 : b2 * (int)below(8 / b2));

				/* the old stack word: unknown to both verifiers */
				p[n++] = BPF_ATOMIC_OP(BPF_DW, BPF_ADD | BPF_FETCH, BPF_REG_10, d,
						       -8 * (1 + (int)below(8)));
				p[n++] = BPF_ALU64_IMM(BPF_AND, d, masks[below(7)]);
				p[n++] = BPF_STX_MEM(sz, BPF_REG_10, d, slot);
				if (below(3) == 0)
					p[n++] = rand_mem();
				if (v4 && sz2 != BPF_DW && below(3) == 0)
					p[n++] = BPF_LDX_MEMSX(sz2, below(10), BPF_REG_10, slot + o);
				else
					p[n++] = BPF_LDX_MEM(sz2, below(10), BPF_REG_10, slot + o);
				break;
			}
			/* fallthrough */
		case 12:
			if (calls && room >= 6) {
				p[n++] = BPF_CALL_REL(0);	/* target set by compose() */
				n = init_regs(p, n, 1, 5);
				break;
			}
			/* fallthrough */
		default:
			p[n++] = rand_alu();
			break;
		}
	}
	/* A jump must not land on the second slot of an lddw: aim at its first. */
	for (uint32_t i = 0; i < n; i++) {
		uint8_t cls = BPF_CLASS(p[i].code), op = BPF_OP(p[i].code);

		if (p[i].code == (BPF_LD | BPF_IMM | BPF_DW)) {
			i++;
			continue;
		}
		if ((cls == BPF_JMP || cls == BPF_JMP32) && op != BPF_CALL && op != BPF_EXIT &&
		    p[i].code != (BPF_JMP32 | BPF_JA)) {
			uint32_t t = i + 1 + p[i].off;

			if (t < n && t > 0 && p[t - 1].code == (BPF_LD | BPF_IMM | BPF_DW) &&
			    p[t].code == 0)
				p[i].off--;
		}
	}
	return n;
}

/*
 * family 0: ALU and branches; 1: plus stack loads, stores and atomics;
 * 2: plus calls of a subprogram that gets r1-r5 as arguments, sets r0 and
 * r6-r9 of its own (the caller's r6-r9 must survive) and uses its own stack.
 */
static void gen(struct gprog *g, int family)
{
	bool mem = family >= 1, calls = family == 2;
	struct bpf_insn *p = g->main;
	uint32_t n;

	/* Every register r0..r9 gets a value first (r1 held the context). */
	n = init_regs(p, 0, 0, 9);
	/* The stack the memory ops use starts initialised (the kernel insists). */
	for (int k = 1; mem && k <= 8; k++)
		p[n++] = BPF_STX_MEM(BPF_DW, BPF_REG_10, k % 10, -8 * k);
	if (calls) {
		/* At least one call, or the subprogram is unreachable. */
		p[n++] = BPF_CALL_REL(0);
		n = init_regs(p, n, 1, 5);
	}
	n = gen_body(p, n, 20 + below(MAXLEN - 42), mem, calls);
	/* Fold everything into r0 so no computation is dead. */
	for (int r = 1; r < 10; r++)
		p[n++] = BPF_ALU64_REG(below(2) ? BPF_XOR : BPF_ADD, 0, r);
	g->nmain = n;
	g->ncallee = 0;
	if (!calls)
		return;

	p = g->callee;
	n = init_regs(p, 0, 0, 0);
	n = init_regs(p, n, 6, 9);
	for (int k = 1; k <= 8; k++)
		p[n++] = BPF_STX_MEM(BPF_DW, BPF_REG_10, k % 10, -8 * k);
	n = gen_body(p, n, n + 4 + below(20), true, false);
	for (int r = 1; r < 10; r++)
		p[n++] = BPF_ALU64_REG(below(2) ? BPF_XOR : BPF_ADD, 0, r);
	p[n++] = BPF_EXIT_INSN();
	g->ncallee = n;
}

static void directed(void)
{
	/* Edge cases worth naming, checked against the kernel one by one. */
	static const struct {
		const char *name;
		struct bpf_insn insns[6];
		uint32_t n;
	} cases[] = {
		{ "sdiv INT64_MIN / -1",
		  { BPF_LD_IMM64(0, 0x8000000000000000ULL), BPF_MOV64_IMM(1, -1),
		    BPF_ALU64_REG_OFF(BPF_DIV, 0, 1, 1) }, 4 },
		{ "smod INT64_MIN % -1",
		  { BPF_LD_IMM64(0, 0x8000000000000000ULL), BPF_MOV64_IMM(1, -1),
		    BPF_ALU64_REG_OFF(BPF_MOD, 0, 1, 1) }, 4 },
		{ "sdiv32 INT32_MIN / -1 (imm)",
		  { BPF_MOV64_IMM(0, INT32_MIN), BPF_ALU32_IMM_OFF(BPF_DIV, 0, -1, 1) }, 2 },
		{ "div by zero register",
		  { BPF_MOV64_IMM(0, 77), BPF_MOV64_IMM(1, 0), BPF_ALU64_REG(BPF_DIV, 0, 1) }, 3 },
		{ "mod32 by zero register keeps the zero-extended dividend",
		  { BPF_MOV64_IMM(0, -77), BPF_MOV64_IMM(1, 0), BPF_ALU32_REG(BPF_MOD, 0, 1) }, 3 },
		{ "smod by zero register",
		  { BPF_MOV64_IMM(0, -77), BPF_MOV64_IMM(1, 0), BPF_ALU64_REG_OFF(BPF_MOD, 0, 1, 1) },
		  3 },
		{ "lsh by 64 (register)",
		  { BPF_MOV64_IMM(0, 3), BPF_MOV64_IMM(1, 64), BPF_ALU64_REG(BPF_LSH, 0, 1) }, 3 },
		{ "arsh32 by 33 (register)",
		  { BPF_MOV64_IMM(0, INT32_MIN), BPF_MOV64_IMM(1, 33), BPF_ALU32_REG(BPF_ARSH, 0, 1) },
		  3 },
		{ "movsx s32", { BPF_MOV32_IMM(1, -5), BPF_MOVSX64_REG(0, 1, 32) }, 2 },
		{ "bswap16 of a 64-bit value",
		  { BPF_LD_IMM64(0, 0x1122334455667788ULL), BPF_BSWAP(0, 16) }, 3 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct gprog g;
		uint64_t k = 0, d = 1;
		int kr, dr;

		memcpy(g.main, cases[i].insns, cases[i].n * sizeof(struct bpf_insn));
		g.nmain = cases[i].n;
		g.ncallee = 0;
		kr = kernel_r0(&g, &k);
		dr = doze_r0(&g, &d);

		if (kr)
			diag("kernel: %s", log_buf);
		ok(!kr && !dr && k == d, "%s: kernel %#llx, doze %#llx", cases[i].name,
		   (unsigned long long)k, (unsigned long long)d);
	}
}

int main(void)
{
	const struct bpf_insn probe[] = { BPF_MOV64_IMM(0, 1), BPF_EXIT_INSN() };
	const struct bpf_insn probe4[] = { BPF_MOV64_IMM(0, 1), BPF_MOVSX64_REG(0, 0, 8),
					   BPF_EXIT_INSN() };
	static struct gprog g;
	int scale = getenv("DZ_KDIFF_SCALE") ? atoi(getenv("DZ_KDIFF_SCALE")) : 1;
	uint32_t retval;
	int fd;

	if (getenv("DZ_KDIFF_SEED"))
		rng ^= strtoull(getenv("DZ_KDIFF_SEED"), NULL, 0) * 0x2545f4914f6cdd1dULL;

	fd = kload(probe, 2, false);
	if (fd < 0 && (errno == EPERM || errno == ENOSYS || errno == EACCES))
		skip_all("the kernel refuses bpf(BPF_PROG_LOAD): %s (needs root / CAP_BPF)",
			 strerror(errno));
	if (fd < 0)
		skip_all("the kernel refuses even a trivial socket filter: %s", strerror(errno));
	if (krun(fd, &retval) && (errno == EPERM || errno == 524 /* ENOTSUPP */ || errno == EINVAL ||
				  errno == ENOSYS))
		skip_all("BPF_PROG_TEST_RUN refused for socket filters: %s", strerror(errno));
	close(fd);
	fd = kload(probe4, 3, false);
	if (fd < 0) {
		diag("kernel without cpu v4 instructions (%s): testing v1-v3 forms only",
		     strerror(errno));
		v4 = false;
	} else {
		close(fd);
	}

	directed();
	for (int family = 0; family < 3; family++) {
		static const char *const names[] = { "ALU/branch", "ALU/branch/stack-memory",
						     "ALU/branch/stack-memory/bpf-to-bpf call" };
		static const int counts[] = { NPROGS, NMEMPROGS, NCALLPROGS };
		const char *what = names[family];
		/* longer runs: DZ_KDIFF_SCALE=100 DZ_KDIFF_SEED=7 test-kdiff */
		int nprogs = counts[family] * (scale > 0 ? scale : 1);
		unsigned int agree = 0, refused = 0, failed = 0, outside = 0;

		verified_runs = 0;
		for (int i = 0; i < nprogs; i++) {
			uint64_t k = 0, d = 0;
			int kr, dr;

			gen(&g, family);
			kr = kernel_r0(&g, &k);
			if (kr) {
				/* A program the generator should not have made: show why. */
				if (refused++ < 3) {
					diag("%s program %d refused by the kernel (%s):\n%s", what, i,
					     strerror(-kr), log_buf);
					print_prog(&g);
				}
				continue;
			}
			dr = doze_r0(&g, &d);
			if (!dr && k == d && doze_verified && !exits_allow(k)) {
				if (outside++ < 5) {
					diag("%s program %d: kernel r0 %#llx is outside every R0 "
					     "doze's verifier computed (%u exits)",
					     what, i, (unsigned long long)k, exits.n);
					print_prog(&g);
				}
				continue;
			}
			if (dr || k != d) {
				if (failed++ < 5) {
					diag("%s program %d: kernel r0 %#llx, doze %#llx (run %d)", what,
					     i, (unsigned long long)k, (unsigned long long)d, dr);
					print_prog(&g);
				}
				continue;
			}
			agree++;
		}
		diag("%d %s programs: %u agree, %u differ, %u refused by the kernel; "
		     "%u also accepted by doze's verifier and run fast, %u with r0 outside "
		     "its bounds",
		     nprogs, what, agree, failed, refused, verified_runs, outside);
		is_int(failed, 0, "%s: doze's r0 equals the kernel's for every random program",
		       what);
		is_int(outside, 0,
		       "%s: the kernel's r0 lies inside the bounds doze's verifier computed", what);
		is_int(refused, 0, "%s: the kernel accepted every generated program", what);
		ok(agree == (unsigned int)nprogs, "%s: all %d programs compared", what, nprogs);
	}
	return done_testing();
}
