// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page walk (4- and 5-level, 4K/2M/1G pages) and the predicate helpers,
 * on synthetic page tables: translations, every failure (non-canonical, not
 * present at each level, reserved PS), -EAGAIN propagated from a page-table
 * page or data page that is not present yet, reads across pages, and the
 * helpers' size limits, GS-base choice and zeroing on error.
 */
#include <errno.h>
#include <stdio.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "../../lib/bpf/insn.h"
#include "synth-guest.h"
#include "tap.h"

#define CR4_LA57 (1ULL << 12)
#define CR0_PG	 (1ULL << 31)
#define EFER_LMA (1ULL << 10)

static void walk4(void)
{
	struct synth_guest *g = sg_new();
	struct dz_guest_ops ops = sg_ops(g);
	uint64_t cr3 = sg_alloc(g), gpa = 0, t;
	uint64_t va4k = 0xffff888000123000ULL, va2m = 0xffffc90000400000ULL;
	uint64_t va1g = 0x0000004000000000ULL, low = 0x400000;
	uint8_t buf[16];

	t = sg_map(g, cr3, 4, va4k, 0x700000, 4096);
	sg_map(g, cr3, 4, va2m, 0x200000, 2 << 20);
	sg_map(g, cr3, 4, va1g, 0, 1ULL << 30);
	sg_map(g, cr3, 4, low, 0x701000, 4096);

	is_int(dz_gva_to_gpa(&ops, cr3, 0, va4k + 0x45, &gpa), 0, "4K page translates");
	is_u64(gpa, 0x700045, "4K page: gpa keeps the page offset");
	is_int(dz_gva_to_gpa(&ops, cr3 | 0x18, 0, va4k, &gpa), 0, "CR3 flag bits are ignored");
	is_int(dz_gva_to_gpa(&ops, cr3, 0, va2m + 0x12345, &gpa), 0, "2M page translates");
	is_u64(gpa, 0x212345, "2M page: 21-bit offset");
	is_int(dz_gva_to_gpa(&ops, cr3, 0, va1g + 0x345678, &gpa), 0, "1G page translates");
	is_u64(gpa, 0x345678, "1G page: 30-bit offset");
	is_int(dz_gva_to_gpa(&ops, cr3, 0, low + 8, &gpa), 0, "user half translates");
	is_u64(gpa, 0x701008, "user half gpa");
	is_int(dz_gva_to_gpa(&ops, cr3, 0, va4k + 0x1000, &gpa), -EFAULT, "unmapped PTE: -EFAULT");
	is_int(dz_gva_to_gpa(&ops, cr3, 0, 0x00007f0000000000ULL, &gpa), -EFAULT,
	       "unmapped PML4E: -EFAULT");
	is_int(dz_gva_to_gpa(&ops, cr3, 0, 0x0000800000000000ULL, &gpa), -EFAULT,
	       "non-canonical address: -EFAULT");
	is_int(dz_gva_to_gpa(&ops, cr3, 0, 0xff00888000123000ULL, &gpa), -EFAULT,
	       "non-canonical high half: -EFAULT");
	is_int(dz_gva_to_gpa(NULL, cr3, 0, va4k, &gpa), -EFAULT, "no ops: -EFAULT");

	/* PS in a PML4E is reserved. */
	{
		uint64_t *pml4e = sg_pte(g, cr3, (va4k >> 39) & 511), save = *pml4e;

		*pml4e |= SG_PS;
		is_int(dz_gva_to_gpa(&ops, cr3, 0, va4k, &gpa), -EFAULT, "PS in a PML4E: -EFAULT");
		*pml4e = save;
	}
	/* A page-table page not present yet: -EAGAIN, never a wait. */
	g->missing[t / 4096] = 1;
	is_int(dz_gva_to_gpa(&ops, cr3, 0, va4k, &gpa), -EAGAIN, "PT page missing: -EAGAIN");
	g->missing[t / 4096] = 0;
	g->missing[cr3 / 4096] = 1;
	is_int(dz_gva_to_gpa(&ops, cr3, 0, va4k, &gpa), -EAGAIN, "PML4 page missing: -EAGAIN");
	g->missing[cr3 / 4096] = 0;
	/* CR3 outside guest RAM. */
	is_int(dz_gva_to_gpa(&ops, 0x40000000000ULL, 0, va4k, &gpa), -EFAULT,
	       "CR3 outside guest RAM: -EFAULT");

	/* Reads: across a page boundary into a non-contiguous frame. */
	sg_map(g, cr3, 4, va4k + 0x1000, 0x703000, 4096);
	memcpy(g->mem + 0x700ff8, "ABCDEFGH", 8);
	memcpy(g->mem + 0x703000, "IJKLMNOP", 8);
	is_int(dz_read_gva(&ops, cr3, 0, va4k + 0xff8, buf, 16), 0, "read across pages");
	ok(!memcmp(buf, "ABCDEFGHIJKLMNOP", 16), "bytes come from both frames");
	g->missing[0x703] = 1;
	is_int(dz_read_gva(&ops, cr3, 0, va4k + 0xff8, buf, 16), -EAGAIN,
	       "second data page missing: -EAGAIN");
	g->missing[0x703] = 0;
	is_int(dz_read_gva(&ops, cr3, 0, va4k + 0x1ff8, buf, 16), -EFAULT,
	       "read running into an unmapped page: -EFAULT");
	sg_free(g);
}

static void walk5(void)
{
	struct synth_guest *g = sg_new();
	struct dz_guest_ops ops = sg_ops(g);
	uint64_t cr3 = sg_alloc(g), gpa = 0;
	uint64_t va = 0xff11223344556000ULL; /* canonical only with 57 bits */

	sg_map(g, cr3, 5, va, 0x600000, 4096);
	sg_map(g, cr3, 5, 0x00f0000000200000ULL, 0x200000, 2 << 20);
	is_int(dz_gva_to_gpa(&ops, cr3, CR4_LA57, va + 0x10, &gpa), 0, "5-level 4K translates");
	is_u64(gpa, 0x600010, "5-level gpa");
	is_int(dz_gva_to_gpa(&ops, cr3, CR4_LA57, 0x00f0000000212345ULL, &gpa), 0,
	       "5-level 2M translates");
	is_u64(gpa, 0x212345, "5-level 2M gpa");
	is_int(dz_gva_to_gpa(&ops, cr3, 0, va, &gpa), -EFAULT,
	       "the same address is non-canonical with 4 levels");
	is_int(dz_gva_to_gpa(&ops, cr3, CR4_LA57, 0x0200000000000000ULL, &gpa), -EFAULT,
	       "non-canonical with 5 levels");
	sg_free(g);
}

static void helpers(void)
{
	struct synth_guest *g = sg_new();
	struct dz_guest_ops ops = sg_ops(g);
	struct dz_pred_ctx ctx = {0};
	uint64_t percpu_va = 0xffff888000100000ULL, user_gs = 0x7f0000000000ULL;
	uint8_t buf[300];
	int64_t r;

	ctx.cr3 = sg_alloc(g);
	ctx.cr0 = CR0_PG | 1;
	ctx.efer = EFER_LMA | (1 << 8);
	sg_map(g, ctx.cr3, 4, percpu_va, 0x500000, 4096);
	memcpy(g->mem + 0x500010, "\x2a\0\0\0\x07\0\0\0", 8);
	ctx.gs_base = percpu_va;
	ctx.kernel_gs_base = user_gs;

	r = dz__helper_call(DZ_HELPER_READ_PERCPU, (uintptr_t)buf, 8, 16, &ctx, &ops);
	ok(r == 0 && !memcmp(buf, "\x2a\0\0\0\x07\0\0\0", 8), "percpu in ring 0 uses GS base");
	ctx.cpl = 3;
	ctx.gs_base = user_gs;
	ctx.kernel_gs_base = percpu_va;
	r = dz__helper_call(DZ_HELPER_READ_PERCPU, (uintptr_t)buf, 8, 16, &ctx, &ops);
	ok(r == 0 && buf[0] == 0x2a, "percpu in ring 3 uses KERNEL_GS_BASE (as after swapgs)");
	ctx.kernel_gs_base = user_gs;
	memset(buf, 0xee, sizeof(buf));
	r = dz__helper_call(DZ_HELPER_READ_PERCPU, (uintptr_t)buf, 8, 16, &ctx, &ops);
	ok(r == -EFAULT && !buf[0] && !buf[7] && buf[8] == 0xee,
	   "unmapped per-CPU base: -EFAULT and exactly size bytes zeroed");

	r = dz__helper_call(DZ_HELPER_READ_GVA, (uintptr_t)buf, 4, percpu_va + 0x14, &ctx, &ops);
	ok(r == 0 && buf[0] == 7, "dz_read_gva through the context's CR3");
	r = dz__helper_call(DZ_HELPER_READ_GPA, (uintptr_t)buf, 4, 0x500010, &ctx, &ops);
	ok(r == 0 && buf[0] == 0x2a, "dz_read_gpa");
	r = dz__helper_call(DZ_HELPER_READ_GPA, (uintptr_t)buf, 4, SG_SIZE - 2, &ctx, &ops);
	is_int(r, -EFAULT, "dz_read_gpa past guest RAM: -EFAULT");
	g->missing[0x500] = 1;
	memset(buf, 0xee, 8);
	r = dz__helper_call(DZ_HELPER_READ_GVA, (uintptr_t)buf, 8, percpu_va + 0x10, &ctx, &ops);
	ok(r == -EAGAIN && !buf[0] && !buf[7], "page not present yet: -EAGAIN, dst zeroed");
	g->missing[0x500] = 0;
	memset(buf, 0xee, sizeof(buf));
	r = dz__helper_call(DZ_HELPER_READ_GPA, (uintptr_t)buf, DZ_PRED_MAX_READ + 1, 0x500000,
			    &ctx, &ops);
	ok(r == -EINVAL && !buf[0] && !buf[DZ_PRED_MAX_READ], "size > 256: -EINVAL, zeroed");
	r = dz__helper_call(DZ_HELPER_READ_GPA, (uintptr_t)buf, DZ_PRED_MAX_READ, 0x500000, &ctx,
			    &ops);
	is_int(r, 0, "size 256 is allowed");
	r = dz__helper_call(DZ_HELPER_READ_GPA, (uintptr_t)buf, 0, 0x500000, &ctx, &ops);
	is_int(r, 0, "size 0 reads nothing");
	r = dz__helper_call(DZ_HELPER_READ_GPA, (uintptr_t)buf, 8, 0x500000, &ctx, NULL);
	is_int(r, -EFAULT, "no guest ops: -EFAULT");
	/* Paging off: linear == physical. */
	ctx.cr0 = 1;
	r = dz__helper_call(DZ_HELPER_READ_GVA, (uintptr_t)buf, 1, 0x500010, &ctx, &ops);
	ok(r == 0 && buf[0] == 0x2a, "CR0.PG=0: linear addresses are physical");
	ctx.cr0 = CR0_PG;
	ctx.efer = 0;
	r = dz__helper_call(DZ_HELPER_READ_GVA, (uintptr_t)buf, 1, percpu_va, &ctx, &ops);
	is_int(r, -EFAULT, "legacy (non-long-mode) paging is refused");
	/* Trace. */
	r = dz__helper_call(DZ_HELPER_TRACE, (uintptr_t) "hello", 5, 0x1234, &ctx, &ops);
	ok(r == 0 && g->traces == 1 && !strcmp(g->last_trace, "hello") &&
	       g->last_trace_arg == 0x1234,
	   "dz_trace hands msg (NUL-terminated at size) and arg to the host");
	is_int(dz__helper_call(DZ_HELPER_TRACE, (uintptr_t)buf, 1000, 0, &ctx, &ops), -EINVAL,
	       "dz_trace size limit");
	is_int(dz__helper_call(99, 0, 0, 0, &ctx, &ops), -ENOSYS, "unknown helper");

	/* Through the interpreter: a checked predicate's helper buffer must be on its stack. */
	{
		const struct bpf_insn bad[] = {
		    BPF_MOV64_REG(1, 10),
		    BPF_ALU64_IMM(BPF_ADD, 1, -4),
		    BPF_MOV64_IMM(2, 8),
		    BPF_MOV64_IMM(3, 0x500000),
		    BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		    BPF_EXIT_INSN(),
		};
		const struct bpf_insn good[] = {
		    BPF_MOV64_REG(1, 10),
		    BPF_ALU64_IMM(BPF_ADD, 1, -8),
		    BPF_MOV64_IMM(2, 8),
		    BPF_MOV64_IMM(3, 0x500010),
		    BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		    BPF_LDX_MEM(BPF_W, 0, 10, -8),
		    BPF_EXIT_INSN(),
		};
		struct dz_run_opts o = {.ops = &ops, .checked = true};
		struct dz_run_stats st;
		struct dz_prog *p;
		uint64_t r0 = 0;

		ctx.cr0 = CR0_PG;
		ctx.efer = EFER_LMA;
		dz_prog__new(bad, 6, DZ_PROG_PREDICATE, &p);
		is_int(dz_prog__run(p, &ctx, sizeof(ctx), &o, &r0, NULL), -EFAULT,
		       "helper writing past the stack top: -EFAULT");
		dz_prog__free(p);
		dz_prog__new(good, 7, DZ_PROG_PREDICATE, &p);
		is_int(dz_prog__run(p, &ctx, sizeof(ctx), &o, &r0, &st), 0,
		       "helper into the stack");
		is_u64(r0, 0x2a, "value read by the helper");
		is_u64(st.helper_calls, 1, "one helper call counted");
		is_int(dz_prog__run(p, &ctx, sizeof(ctx) - 8, &o, &r0, NULL), -EINVAL,
		       "predicate context too short");
		dz_prog__free(p);
	}
	/* A predicate's context is read-only; helper buffers must not be the context. */
	{
		const struct bpf_insn wr[] = {
		    BPF_ST_MEM(BPF_W, 1, 0, 7),
		    BPF_MOV64_IMM(0, 0),
		    BPF_EXIT_INSN(),
		};
		const struct bpf_insn into_ctx[] = {
		    BPF_MOV64_IMM(2, 8),
		    BPF_MOV64_IMM(3, 0x500010),
		    BPF_CALL_HELPER(DZ_HELPER_READ_GPA),
		    BPF_EXIT_INSN(),
		};
		const struct bpf_insn trace_ctx[] = {
		    BPF_MOV64_IMM(2, 8),
		    BPF_MOV64_IMM(3, 0),
		    BPF_CALL_HELPER(DZ_HELPER_TRACE),
		    BPF_EXIT_INSN(),
		};
		struct dz_run_opts o = {.ops = &ops, .checked = true};
		struct dz_pred_ctx before = ctx;
		struct dz_prog *p;
		uint64_t r0 = 0;

		dz_prog__new(wr, 3, DZ_PROG_PREDICATE, &p);
		is_int(dz_prog__run(p, &ctx, sizeof(ctx), &o, &r0, NULL), -EFAULT,
		       "store into the predicate context: -EFAULT");
		dz_prog__free(p);
		dz_prog__new(into_ctx, 4, DZ_PROG_PREDICATE, &p);
		is_int(dz_prog__run(p, &ctx, sizeof(ctx), &o, &r0, NULL), -EFAULT,
		       "helper writing into the context: -EFAULT");
		dz_prog__free(p);
		ok(!memcmp(&before, &ctx, sizeof(ctx)), "the context is unchanged");
		dz_prog__new(trace_ctx, 4, DZ_PROG_PREDICATE, &p);
		is_int(dz_prog__run(p, &ctx, sizeof(ctx), &o, &r0, NULL), 0,
		       "dz_trace may read its message from the context");
		dz_prog__free(p);
	}
	sg_free(g);
}

int main(void)
{
	walk4();
	walk5();
	helpers();
	return done_testing();
}
