// SPDX-License-Identifier: GPL-2.0
/*
 * The reference predicate (guest/pred/pred.bpf.c, compiled by clang): loaded
 * from its ELF object, verified, and run on
 * synthetic contexts whose per-CPU area is reached through real page tables
 * built in a synthetic guest, so the helper's page walk is exercised.
 */
#include <errno.h>
#include <stdio.h>

#include <doze/bpf.h>

#include "../../guest/pred/percpu.h"
#include "synth-guest.h"
#include "tap.h"

#define RFLAGS_IF  (1ULL << 9)
#define CR0_PG	   (1ULL << 31)
#define EFER_LMA   (1ULL << 10)
#define PERCPU_VA  0xffff888000100000ULL
#define PERCPU_GPA 0x500000ULL

static struct dz_prog *prog;
static struct synth_guest *g;
static struct dz_guest_ops ops;
static bool verified;

static void set_percpu(uint32_t preempt, uint32_t irq)
{
	memcpy(g->mem + PERCPU_GPA + DZ_PERCPU_PREEMPT_COUNT, &preempt, 4);
	memcpy(g->mem + PERCPU_GPA + DZ_PERCPU_IRQ_DEPTH, &irq, 4);
}

static void set_tasks(uint32_t n)
{
	memcpy(g->mem + PERCPU_GPA + DZ_PERCPU_NR_TASKS, &n, 4);
}

static void expect(const struct dz_pred_ctx *ctx, uint64_t want, const char *name)
{
	struct dz_run_opts opts = {.ops = &ops, .checked = !verified};
	struct dz_pred_ctx copy = *ctx;
	uint64_t r0 = 0xdead;
	int ret = dz_prog__run(prog, &copy, sizeof(copy), &opts, &r0, NULL);

	if (!ok(ret == 0 && r0 == want, "%s -> %llu", name, (unsigned long long)want))
		diag("run returned %d, r0 = %#llx", ret, (unsigned long long)r0);
	ok(!memcmp(&copy, ctx, sizeof(copy)), "%s: context left untouched", name);
	if (verified) {
		/* The checked interpreter must agree with the fast one. */
		uint64_t r1 = 0xdead;

		opts.checked = true;
		ret = dz_prog__run(prog, &copy, sizeof(copy), &opts, &r1, NULL);
		ok(ret == 0 && r1 == r0, "%s: checked run agrees", name);
	}
}

int main(void)
{
	const char *build = getenv("DZ_BUILD");
	struct dz_pred_ctx ctx = {0};
	char path[512], err[512];
	uint64_t pt;
	int ret;

	snprintf(path, sizeof(path), "%s/guest/pred.bpf.o", build ? build : "build");
	ret = dz_prog__load_file(path, NULL, DZ_PROG_PREDICATE, &prog, err, sizeof(err));
	if (!ok(ret == 0, "load %s", path)) {
		diag("%s", err);
		return done_testing();
	}
	ok(!strcmp(prog->name, "dz_pred"), "program name from the ELF symbol (%s)", prog->name);
	{
		static char log[65536];

		ret = dz_prog__verify(prog, log, sizeof(log), 1);
		if (!ok(ret == 0, "the verifier accepts the reference predicate"))
			diag("%s", log);
		verified = ret == 0; /* if not, the runs below are checked ones */
		ok(prog->verified == verified, "prog->verified set on acceptance");
	}

	g = sg_new();
	ops = sg_ops(g);
	ctx.cr3 = sg_alloc(g);
	ctx.cr0 = CR0_PG | 1;
	ctx.efer = EFER_LMA | (1 << 8);
	ctx.cr4 = 1 << 5; /* PAE */
	pt = sg_map(g, ctx.cr3, 4, PERCPU_VA, PERCPU_GPA, 4096);
	ctx.gs_base = PERCPU_VA;
	ctx.kernel_gs_base = 0x7f0000001000ULL; /* a user GS base: unmapped */
	set_percpu(0, 0);
	set_tasks(2);

	ctx.cpl = 3;
	ctx.rflags = RFLAGS_IF | 2;
	ctx.gs_base = 0x7f0000001000ULL; /* in ring 3, GS is the user's */
	ctx.kernel_gs_base = PERCPU_VA;
	expect(&ctx, 1, "ring 3, IF=1, 2 tasks");
	ctx.rflags = 2;
	expect(&ctx, 0, "ring 3, IF=0");
	ctx.rflags = RFLAGS_IF | 2;
	set_tasks(1);
	expect(&ctx, 0, "ring 3, the CPU's only task: waiting is cheaper");
	set_tasks(0);
	expect(&ctx, 0, "ring 3, no task counted");
	set_tasks(64);
	expect(&ctx, 1, "ring 3, 64 tasks");
	set_tasks(2);
	g->missing[PERCPU_GPA / 4096] = 1;
	expect(&ctx, 0, "ring 3, per-CPU page not present yet (-EAGAIN)");
	g->missing[PERCPU_GPA / 4096] = 0;
	ctx.kernel_gs_base = 0x7f0000001000ULL;
	expect(&ctx, 0, "ring 3, kernel GS base unmapped");
	ctx.kernel_gs_base = PERCPU_VA;

	ctx.cpl = 0;
	ctx.gs_base = PERCPU_VA;
	ctx.kernel_gs_base = 0x7f0000001000ULL;
	ctx.rflags = RFLAGS_IF | 2;
	g->reads = 0;
	expect(&ctx, 1, "ring 0, IF=1, preempt 0, irq 0");
	ok(g->reads >= 5, "the per-CPU read walked the page tables (%u guest reads)", g->reads);
	ctx.rflags = 2;
	expect(&ctx, 0, "ring 0, IF=0");
	ctx.rflags = RFLAGS_IF | 2;
	set_percpu(1, 0);
	expect(&ctx, 0, "ring 0, preempt_count 1");
	set_percpu(0, 1);
	expect(&ctx, 0, "ring 0, in an interrupt");
	set_percpu(0x10000, 0);
	expect(&ctx, 0, "ring 0, preempt_count 0x10000");
	set_percpu(0, 0);
	expect(&ctx, 1, "ring 0 back to sleepable");
	set_tasks(1);
	expect(&ctx, 0, "ring 0, the CPU's only task");
	set_tasks(3);
	expect(&ctx, 1, "ring 0, 3 tasks");

	g->missing[PERCPU_GPA / 4096] = 1;
	expect(&ctx, 0, "per-CPU page not present yet (-EAGAIN)");
	g->missing[PERCPU_GPA / 4096] = 0;
	g->missing[pt / 4096] = 1;
	expect(&ctx, 0, "page-table page not present yet (-EAGAIN)");
	g->missing[pt / 4096] = 0;
	ctx.gs_base = PERCPU_VA + 0x200000;
	expect(&ctx, 0, "per-CPU area unmapped (-EFAULT)");
	ctx.gs_base = 0x8000000000000000ULL;
	expect(&ctx, 0, "non-canonical GS base");
	ctx.gs_base = PERCPU_VA;
	ctx.cpl = 1;
	expect(&ctx, 0, "ring 1");
	ctx.cpl = 0;
	ops.read_gpa = NULL;
	expect(&ctx, 0, "no guest memory access at all");
	ops = sg_ops(g);
	expect(&ctx, 1, "and sleepable again");

	dz_prog__free(prog);
	sg_free(g);
	return done_testing();
}
