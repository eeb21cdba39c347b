// SPDX-License-Identifier: GPL-2.0
/*
 * eBPF engine benchmark (not a test: prints numbers, asserts nothing).
 *
 *  1. ns per evaluation of the reference predicate (guest/pred/pred.bpf.o) on a
 *     ring-0 context whose per-CPU read goes through a synthetic 4-level page
 *     walk (4 page-table reads + 1 data read per evaluation), next to the
 *     ring-3 path (the same walk: it reads the task count) and the checked
 *     interpreter, so the cost of
 *     the walk and of run-time checks is visible as a ratio measured side by side.
 *  2. Verification time of a 4096-instruction program (straight-line ALU,
 *     context loads, stack traffic and helper calls), and of one with a
 *     branch every 16 instructions (run with a time limit: it shows whether
 *     the verifier prunes states).
 *
 * usage: bench-bpf PRED.bpf.o
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <doze/bpf.h>
#include <doze/filter.h>

#include "../../guest/pred/percpu.h"
#include "../../tests/unit/synth-guest.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double bench_eval(struct dz_prog *prog, struct dz_pred_ctx *ctx,
			 const struct dz_guest_ops *ops, bool checked, uint64_t want, int n)
{
	struct dz_run_opts opts = {.ops = ops, .checked = checked};
	double best = 1e18;

	/* Best of 5 rounds: the least disturbed by the other core's work. */
	for (int round = 0; round < 5; round++) {
		double t0 = now_ns();
		uint64_t r0 = 0, bad = 0;

		for (int i = 0; i < n; i++) {
			if (dz_prog__run(prog, ctx, sizeof(*ctx), &opts, &r0, NULL) || r0 != want)
				bad++;
		}
		double dt = (now_ns() - t0) / n;

		if (bad) {
			fprintf(stderr, "bench-bpf: %llu runs gave a wrong answer\n",
				(unsigned long long)bad);
			exit(1);
		}
		if (dt < best)
			best = dt;
	}
	return best;
}

/* A @size-slot predicate the verifier must accept; branchy: a diamond every 16. */
static struct bpf_insn *big_prog(bool branchy, uint32_t size, uint32_t *cnt)
{
	struct bpf_insn *p = calloc(size, sizeof(*p));
	uint32_t n = 0;

	p[n++] = BPF_MOV64_REG(BPF_REG_6, BPF_REG_1);
	p[n++] = BPF_MOV64_IMM(BPF_REG_0, 0);
	p[n++] = BPF_ST_MEM(BPF_DW, BPF_REG_10, -16, 0);
	while (n < size - 16) {
		if (n % 256 == 0) {
			/* dz_read_percpu(fp - 8, 8, 16) */
			p[n++] = BPF_MOV64_REG(BPF_REG_1, BPF_REG_10);
			p[n++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_1, -8);
			p[n++] = BPF_MOV64_IMM(BPF_REG_2, 8);
			p[n++] = BPF_MOV64_IMM(BPF_REG_3, 16);
			p[n++] = BPF_CALL_HELPER(DZ_HELPER_READ_PERCPU);
			p[n++] = BPF_LDX_MEM(BPF_DW, BPF_REG_7, BPF_REG_10, -8);
			p[n++] = BPF_ALU64_REG(BPF_XOR, BPF_REG_0, BPF_REG_7);
			/* The call clobbered r1-r5: give r2 and r3 values again. */
			p[n++] = BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_6,
					     offsetof(struct dz_pred_ctx, cpl));
			p[n++] = BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_10, -16);
			continue;
		}
		if (branchy && n % 16 == 0) {
			p[n++] = BPF_JMP_IMM(BPF_JGT, BPF_REG_2, 100, 1);
			p[n++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 1);
			continue;
		}
		switch (n % 6) {
		case 0:
			p[n++] = BPF_LDX_MEM(BPF_W, BPF_REG_2, BPF_REG_6,
					     offsetof(struct dz_pred_ctx, cpl));
			break;
		case 1:
			p[n++] = BPF_ALU64_REG(BPF_ADD, BPF_REG_0, BPF_REG_2);
			break;
		case 2:
			p[n++] = BPF_STX_MEM(BPF_DW, BPF_REG_10, BPF_REG_0, -16);
			break;
		case 3:
			p[n++] = BPF_LDX_MEM(BPF_DW, BPF_REG_3, BPF_REG_10, -16);
			break;
		case 4:
			p[n++] = BPF_ALU64_IMM(BPF_AND, BPF_REG_3, 0xff);
			break;
		default:
			p[n++] = BPF_ALU64_REG(BPF_SUB, BPF_REG_0, BPF_REG_3);
			break;
		}
	}
	while (n < size - 2)
		p[n++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_0, 1);
	p[n++] = BPF_ALU64_IMM(BPF_AND, BPF_REG_0, 1);
	p[n++] = BPF_EXIT_INSN();
	*cnt = n;
	return p;
}

/* Verifies the big program in a child with a time limit; prints the result. */
static void bench_verify(bool branchy, uint32_t size, int limit_s)
{
	static char log[1 << 16];
	char what[64];
	uint32_t cnt;
	struct bpf_insn *insns = big_prog(branchy, size, &cnt);

	snprintf(what, sizeof(what), branchy ? "%u-insn program, a branch every 16 insns"
					     : "%u-insn straight-line program", size);
	struct dz_prog *prog;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		double t0, best = 1e18;
		int ret = 0, rounds = 0;

		alarm(limit_s);
		do {
			if (dz_prog__new(insns, cnt, DZ_PROG_PREDICATE, &prog))
				_exit(2);
			t0 = now_ns();
			ret = dz_prog__verify(prog, log, sizeof(log), 0);
			double dt = now_ns() - t0;

			if (dt < best)
				best = dt;
			dz_prog__free(prog);
			rounds++;
		} while (!ret && rounds < 10);
		if (ret) {
			printf("verify %-45s rejected (%d): %.200s\n", what, ret, log);
			fflush(stdout);
			_exit(1);
		}
		printf("verify %-45s %10.1f us (%u insns, best of %d)\n", what, best / 1e3, cnt,
		       rounds);
		fflush(stdout); /* _exit() does not flush */
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		printf("verify %-45s did not finish in %d s\n", what, limit_s);
	free(insns);
}

int main(int argc, char **argv)
{
	struct synth_guest *g;
	struct dz_guest_ops ops;
	struct dz_pred_ctx ctx = {0};
	struct dz_prog *prog;
	char err[512];
	double ring0, ring3, checked;
	const int n = 1000000;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PRED.bpf.o\n", argv[0]);
		return 2;
	}
	if (dz_prog__load_file(argv[1], NULL, DZ_PROG_PREDICATE, &prog, err, sizeof(err))) {
		fprintf(stderr, "bench-bpf: %s\n", err);
		return 1;
	}
	{
		static char log[1 << 16];

		if (dz_prog__verify(prog, log, sizeof(log), 0)) {
			fprintf(stderr, "bench-bpf: the verifier rejects %s:\n%s\n", argv[1], log);
			return 1;
		}
	}

	g = sg_new();
	ops = sg_ops(g);
	ctx.cr3 = sg_alloc(g);
	ctx.cr0 = 0x80000001;
	ctx.efer = 0x500;
	ctx.cr4 = 0x20;
	sg_map(g, ctx.cr3, 4, 0xffff888000100000ULL, 0x500000, 4096);
	{
		/* two tasks on the CPU: with one the predicate says "wait" (pred.bpf.c) */
		uint32_t tasks = 2;

		memcpy(g->mem + 0x500000 + DZ_PERCPU_NR_TASKS, &tasks, sizeof(tasks));
	}
	ctx.gs_base = 0xffff888000100000ULL;
	ctx.rflags = 0x202;

	ctx.cpl = 0;
	ring0 = bench_eval(prog, &ctx, &ops, false, 1, n);
	g->reads = 0;
	{
		struct dz_run_opts o = {.ops = &ops};
		uint64_t r0;
		struct dz_run_stats st;

		dz_prog__run(prog, &ctx, sizeof(ctx), &o, &r0, &st);
		printf("reference predicate: %llu insns, %llu helper call, %u guest-physical reads "
		       "per ring-0 evaluation\n",
		       (unsigned long long)st.insns, (unsigned long long)st.helper_calls, g->reads);
	}
	checked = bench_eval(prog, &ctx, &ops, true, 1, n);
	ctx.cpl = 3;
	ctx.kernel_gs_base = ctx.gs_base;
	ring3 = bench_eval(prog, &ctx, &ops, false, 1, n);

	printf("eval  ring 0, 4-level page walk (fast interpreter) %8.1f ns\n", ring0);
	printf("eval  ring 0, 4-level page walk (checked)          %8.1f ns  (x%.2f)\n", checked,
	       checked / ring0);
	printf("eval  ring 3, 4-level page walk too (task count)   %8.1f ns  (x%.2f)\n", ring3,
	       ring3 / ring0);

	/* Verification time vs program size (64 ... 4096 instructions). */
	for (uint32_t size = 64; size <= DZ_MAX_INSNS; size *= 2)
		bench_verify(false, size, 20);
	for (uint32_t size = 64; size <= DZ_MAX_INSNS; size *= 2)
		bench_verify(true, size, 20);
	dz_prog__free(prog);
	sg_free(g);
	return 0;
}
