// SPDX-License-Identifier: GPL-2.0
/*
 * Soundness fuzz of verifier + interpreter together: random predicates that
 * poke at the edges (context reads at odd offsets and sizes, stack accesses
 * near and past both ends, stack pointers moved by constants and by bounded
 * scalars, helper buffers of varying size, context writes). Whatever the
 * verifier accepts must then run in the checked interpreter without a single
 * out-of-bounds access (-EFAULT) or bad instruction (-EINVAL), and give the
 * same r0 in the fast interpreter. The oracle needs no knowledge of the
 * verifier's rules: the checked interpreter bounds-checks every access.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "synth-guest.h"
#include "tap.h"

#define NPROGS 20000

static uint64_t rs = 0x243f6a8885a308d3ULL; /* fixed seed */

static uint32_t below(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

static int32_t pick(const int32_t *v, size_t n)
{
	return v[below(n)];
}

#define PICK(...)                                                                                  \
	({                                                                                         \
		static const int32_t v_[] = {__VA_ARGS__};                                         \
		pick(v_, sizeof(v_) / sizeof(v_[0]));                                              \
	})

#define ctxsz ((int)sizeof(struct dz_pred_ctx))

static const uint8_t sizes[] = {BPF_B, BPF_H, BPF_W, BPF_DW};

/* r6 = ctx, r7/r9 = stack pointers, r8 = a bounded scalar, r0 = result. */
static uint32_t gen(struct bpf_insn *p)
{
	uint32_t n = 0, len = 4 + below(24);

	p[n++] = BPF_MOV64_REG(BPF_REG_6, BPF_REG_1);
	p[n++] = BPF_MOV64_IMM(BPF_REG_0, 0);
	p[n++] = BPF_MOV64_REG(BPF_REG_7, BPF_REG_10);
	p[n++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_7, -PICK(8, 16, 64, 256, 504, 512, 520, 0));
	p[n++] = BPF_LDX_MEM(BPF_W, BPF_REG_8, BPF_REG_6, offsetof(struct dz_pred_ctx, cpl));
	while (n < len) {
		uint8_t sz = sizes[below(4)];

		switch (below(13)) {
		case 0: /* context read, sometimes misaligned or past the end */
			p[n++] = BPF_LDX_MEM(sz, BPF_REG_2, BPF_REG_6,
					     PICK(0, 4, 8, 16, 1, 3, ctxsz - 8, ctxsz - 4,
						  ctxsz - 1, ctxsz, -8, 224, 228));
			p[n++] = BPF_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_2);
			break;
		case 1: /* stack store near the ends */
			p[n++] = BPF_STX_MEM(sz, BPF_REG_10, BPF_REG_0,
					     PICK(-8, -1, -4, -512, -504, -513, -520, 0, 8, -256));
			break;
		case 2: /* stack load (maybe uninitialised) */
			p[n++] = BPF_LDX_MEM(sz, BPF_REG_2, BPF_REG_10,
					     PICK(-8, -16, -512, -520, 0, -4));
			p[n++] = BPF_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_2);
			break;
		case 3: /* through the moved stack pointer */
			p[n++] = BPF_ST_MEM(sz, BPF_REG_7, PICK(0, -8, 8, 4, -4, 16, -16, 504), 7);
			break;
		case 4: /* bound r8 and move a stack pointer by it */
			p[n++] =
			    BPF_ALU64_IMM(BPF_AND, BPF_REG_8, PICK(0, 7, 15, 63, 255, 511, -1));
			p[n++] = BPF_MOV64_REG(BPF_REG_9, BPF_REG_10);
			p[n++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_9, -PICK(8, 64, 256, 512));
			p[n++] = BPF_ALU64_REG(below(2) ? BPF_ADD : BPF_SUB, BPF_REG_9, BPF_REG_8);
			p[n++] = BPF_ST_MEM(sz, BPF_REG_9, 0, 1);
			break;
		case 5: /* a range check the verifier can use */
			p[n++] = BPF_JMP_IMM(PICK(BPF_JGT, BPF_JGE, BPF_JLT, BPF_JSGT), BPF_REG_8,
					     PICK(0, 3, 8, 64, 255, -1), 1);
			p[n++] = BPF_MOV64_IMM(BPF_REG_8, PICK(0, 1, 100, 600, -1));
			break;
		case 6: /* helper into the stack, constant or scalar size */
			p[n++] = BPF_MOV64_REG(BPF_REG_1, BPF_REG_10);
			p[n++] =
			    BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -PICK(8, 16, 256, 512, 520, 0, 4));
			if (below(2))
				p[n++] =
				    BPF_MOV64_IMM(BPF_REG_2, PICK(0, 1, 8, 16, 256, 257, 512, -1));
			else
				p[n++] = BPF_MOV64_REG(BPF_REG_2, BPF_REG_8);
			p[n++] = BPF_MOV64_IMM(BPF_REG_3, PICK(0, 0x1000, 0x500010));
			p[n++] = BPF_CALL_HELPER(PICK(DZ_HELPER_READ_GPA, DZ_HELPER_READ_GVA,
						      DZ_HELPER_READ_PERCPU, DZ_HELPER_TRACE));
			p[n++] = BPF_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_0);
			break;
		case 7: /* context write: must never pass */
			p[n++] = BPF_ST_MEM(sz, BPF_REG_6, PICK(0, 8, 16), 0);
			break;
		case 8: /* context pointer arithmetic */
			p[n++] = BPF_MOV64_REG(BPF_REG_2, BPF_REG_6);
			p[n++] =
			    BPF_ALU64_IMM(BPF_ADD, BPF_REG_2, PICK(8, 16, ctxsz - 8, ctxsz, -8));
			p[n++] = BPF_LDX_MEM(sz, BPF_REG_3, BPF_REG_2, 0);
			p[n++] = BPF_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_3);
			break;
		case 9: /* atomics on the stack */
			p[n++] = BPF_ST_MEM(BPF_DW, BPF_REG_10, -8, 3);
			p[n++] = BPF_MOV64_IMM(BPF_REG_2, 5);
			p[n++] =
			    BPF_ATOMIC_OP(below(2) ? BPF_W : BPF_DW,
					  PICK(BPF_ADD, BPF_ADD | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG),
					  BPF_REG_10, BPF_REG_2, PICK(-8, -4, -512, -516, 0));
			break;
		case 10: /* sign-extending ctx load, then a scalar into r8 */
			p[n++] = BPF_LDX_MEMSX(sizes[below(3)], BPF_REG_8, BPF_REG_6,
					       PICK(0, 4, 8, 2, 1));
			break;
		case 11: /* spill r8 with a narrow store, maybe overwrite part of it, fill it back */
			if (below(2))
				p[n++] = BPF_ALU64_IMM(BPF_AND, BPF_REG_8,
						       PICK(7, 255, 511, 0xffff, 0x1ff0));
			if (below(3) == 0)
				p[n++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_8, PICK(1, 0x80, 0x100, 0x10000));
			{
				int16_t slot = (int16_t)-PICK(8, 16, 504);
				uint8_t s2 = sizes[below(4)];

				p[n++] = BPF_STX_MEM(sizes[below(3)], BPF_REG_10, BPF_REG_8, slot);
				if (below(3) == 0) /* r0: some data */
					p[n++] = BPF_STX_MEM(sizes[below(3)], BPF_REG_10, BPF_REG_0,
							     slot + PICK(0, 1, 2, 4));
				if (s2 != BPF_DW && below(3) == 0)
					p[n++] = BPF_LDX_MEMSX(s2, BPF_REG_8, BPF_REG_10,
							       slot + PICK(0, 0, 1, 2, 4));
				else
					p[n++] = BPF_LDX_MEM(s2, BPF_REG_8, BPF_REG_10,
							     slot + PICK(0, 0, 1, 2, 4));
			}
			/* use it as a stack offset at once: a wrong bound is an out-of-bounds access */
			p[n++] = BPF_MOV64_REG(BPF_REG_9, BPF_REG_10);
			p[n++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_9, -PICK(16, 256, 512));
			p[n++] = BPF_ALU64_REG(BPF_ADD, BPF_REG_9, BPF_REG_8);
			p[n++] = BPF_ST_MEM(BPF_B, BPF_REG_9, 0, 1);
			break;
		default:
			p[n++] = BPF_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_8);
			break;
		}
	}
	p[n++] = BPF_EXIT_INSN();
	return n;
}

int main(void)
{
	struct synth_guest *g = sg_new();
	struct dz_guest_ops ops = sg_ops(g);
	struct dz_pred_ctx ctx = {0};
	unsigned int accepted = 0, unsound = 0, mismatched = 0;
	struct bpf_insn p[256];
	/* For longer campaigns: DZ_VFUZZ_N=1000000 DZ_VFUZZ_SEED=7 test-vfuzz */
	int nprogs = getenv("DZ_VFUZZ_N") ? atoi(getenv("DZ_VFUZZ_N")) : NPROGS;

	if (getenv("DZ_VFUZZ_SEED"))
		rs ^= strtoull(getenv("DZ_VFUZZ_SEED"), NULL, 0) * 0x9e3779b97f4a7c15ULL;

	ctx.cr3 = sg_alloc(g);
	ctx.cr0 = 0x80000001;
	ctx.efer = 0x500;
	sg_map(g, ctx.cr3, 4, 0xffff888000100000ULL, 0x500000, 4096);
	ctx.gs_base = 0xffff888000100000ULL;
	ctx.rflags = 0x202;

	for (int i = 0; i < nprogs; i++) {
		uint32_t n = gen(p);
		struct dz_run_opts checked = {.ops = &ops, .checked = true};
		struct dz_run_opts fast = {.ops = &ops};
		struct dz_pred_ctx copy = ctx;
		uint64_t r_checked = 0, r_fast = 1;
		struct dz_prog *prog;
		int rc, rf;

		ctx.cpl = below(4);
		copy = ctx;
		if (dz_prog__new(p, n, DZ_PROG_PREDICATE, &prog))
			continue;
		if (dz_prog__verify(prog, NULL, 0, 0)) {
			dz_prog__free(prog);
			continue;
		}
		accepted++;
		rc = dz_prog__run(prog, &copy, sizeof(copy), &checked, &r_checked, NULL);
		if (rc) {
			if (unsound++ < 3) {
				diag("program %d accepted by the verifier, but the checked run "
				     "returned %d:",
				     i, rc);
				dz_prog__disasm(prog, stdout);
			}
		} else {
			rf = dz_prog__run(prog, &copy, sizeof(copy), &fast, &r_fast, NULL);
			if (rf || r_fast != r_checked || memcmp(&copy, &ctx, sizeof(ctx)))
				mismatched++;
		}
		dz_prog__free(prog);
	}
	diag("%d random predicates, %u accepted by the verifier", nprogs, accepted);
	ok(accepted > (unsigned int)nprogs / 20, "the generator reaches accepted programs (%u)",
	   accepted);
	is_int(unsound, 0, "no accepted program makes an out-of-bounds access at run time");
	is_int(mismatched, 0, "fast and checked interpreters agree, the context is untouched");
	sg_free(g);
	return done_testing();
}
