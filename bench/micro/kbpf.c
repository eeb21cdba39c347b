// SPDX-License-Identifier: GPL-2.0
/*
 * Reference point for the predicate's cost: the Linux kernel's own eBPF
 * (JIT when /proc/sys/net/core/bpf_jit_enable says so) running a program with
 * the reference predicate's instruction mix, timed by BPF_PROG_TEST_RUN with
 * repeat (the kernel reports the mean ns per run).
 *
 * The kernel has no doze helpers, so the mix is rebuilt from what it has: an
 * XDP program whose packet holds the predicate's context (rflags at +8, cpl at
 * +4, as in struct dz_pred_ctx); the IF and CPL tests, then one helper call
 * (bpf_map_lookup_elem on an array map, standing in for dz_read_percpu) and a
 * chain of 4 dependent loads plus 1 data load (the 4-level guest page walk and
 * the per-CPU read), then the preempt_count/irq-depth test. Root only.
 *
 * usage: kbpf [REPEAT]          prints one line per case
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

/* The opcode macros only (doze/filter.h defines the same ones as the kernel's). */
#define I(code, dst, src, off, imm) ((struct bpf_insn){ code, dst, src, off, imm })
#define LDX(sz, d, s, o) I(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define MOVI(d, imm) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, imm)
#define MOVR(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ALUI(op, d, imm) I(BPF_ALU64 | (op) | BPF_K, d, 0, 0, imm)
#define ALUR(op, d, s) I(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define JI(op, d, imm, off) I(BPF_JMP | (op) | BPF_K, d, 0, off, imm)
#define JR(op, d, s, off) I(BPF_JMP | (op) | BPF_X, d, s, off, 0)
#define STI(sz, d, o, imm) I(BPF_ST | BPF_MEM | (sz), d, 0, o, imm)
#define CALL(id) I(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define EXIT() I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

enum { MAY_SLEEP = 2 /* XDP_PASS */, MUST_NOT = 1 /* XDP_DROP */ };

/* The map value: 64 u64 "page-table entries"; each step indexes the next. */
#define NENT 64

/* Jumps to the two exits are patched once their place is known. */
enum { TO_MUST_NOT = 0x7ff0, TO_MAY_SLEEP = 0x7ff1 };

static int build(int map_fd, struct bpf_insn *p)
{
	int n = 0, must_not, may_sleep;

	p[n++] = MOVR(6, 1);				/* r6 = xdp_md */
	p[n++] = LDX(BPF_W, 2, 6, 0);			/* data */
	p[n++] = LDX(BPF_W, 3, 6, 4);			/* data_end */
	p[n++] = MOVR(4, 2);
	p[n++] = ALUI(BPF_ADD, 4, 64);
	p[n++] = JR(BPF_JGT, 4, 3, TO_MUST_NOT);			/* short packet -> must not */
	p[n++] = LDX(BPF_DW, 5, 2, 8);			/* ctx->rflags */
	p[n++] = ALUI(BPF_AND, 5, 512);
	p[n++] = JI(BPF_JEQ, 5, 0, TO_MUST_NOT);			/* IF = 0 -> must not */
	p[n++] = LDX(BPF_W, 7, 2, 4);			/* ctx->cpl */
	p[n++] = JI(BPF_JEQ, 7, 3, TO_MAY_SLEEP);			/* ring 3 -> may sleep */
	p[n++] = JI(BPF_JNE, 7, 0, TO_MUST_NOT);			/* CPL 1/2 -> must not */
	/* the "helper call": find the per-CPU page table */
	p[n++] = STI(BPF_W, 10, -4, 0);
	p[n++] = I(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd);
	p[n++] = I(0, 0, 0, 0, 0);
	p[n++] = MOVR(2, 10);
	p[n++] = ALUI(BPF_ADD, 2, -4);
	p[n++] = CALL(BPF_FUNC_map_lookup_elem);
	p[n++] = JI(BPF_JEQ, 0, 0, TO_MUST_NOT);			/* "page not present" */
	/* the 4-level walk: idx = pt[idx] & 63, four times, then the data read */
	p[n++] = MOVI(3, 0);
	for (int lvl = 0; lvl < 4; lvl++) {
		p[n++] = ALUI(BPF_LSH, 3, 3);
		p[n++] = MOVR(4, 0);
		p[n++] = ALUR(BPF_ADD, 4, 3);
		p[n++] = LDX(BPF_DW, 3, 4, 0);
		p[n++] = ALUI(BPF_AND, 3, NENT - 1);
	}
	/* r3 = data index: preempt_count | irq_depth << 32 */
	p[n++] = ALUI(BPF_LSH, 3, 3);
	p[n++] = ALUR(BPF_ADD, 0, 3);
	p[n++] = LDX(BPF_DW, 1, 0, 0);
	p[n++] = MOVI(0, MAY_SLEEP);
	p[n++] = JI(BPF_JEQ, 1, 0, 1);
	p[n++] = MOVI(0, MUST_NOT);
	p[n++] = EXIT();
	must_not = n;
	p[n++] = MOVI(0, MUST_NOT);
	p[n++] = EXIT();
	may_sleep = n;
	p[n++] = MOVI(0, MAY_SLEEP);
	p[n++] = EXIT();
	for (int i = 0; i < n; i++) {
		if (p[i].off == TO_MUST_NOT)
			p[i].off = must_not - i - 1;
		else if (p[i].off == TO_MAY_SLEEP)
			p[i].off = may_sleep - i - 1;
	}
	return n;
}

static int jit_enabled(void)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int run(int prog_fd, uint32_t cpl, uint64_t rflags, int repeat, int want, const char *what)
{
	uint8_t pkt[64] = { 0 };
	struct bpf_test_run_opts o = { .sz = sizeof(o) };
	double best = 1e18;

	memcpy(pkt + 4, &cpl, 4);
	memcpy(pkt + 8, &rflags, 8);
	o.data_in = pkt;
	o.data_size_in = sizeof(pkt);
	o.repeat = repeat;
	for (int round = 0; round < 5; round++) {
		int err = bpf_prog_test_run_opts(prog_fd, &o);

		if (err) {
			fprintf(stderr, "kbpf: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			return -1;
		}
		if ((int)o.retval != want) {
			fprintf(stderr, "kbpf: wrong answer %u (want %d)\n", o.retval, want);
			return -1;
		}
		if (o.duration < best)
			best = o.duration;
	}
	printf("kernel eBPF (%s), BPF_PROG_TEST_RUN x%d, %s %8.1f ns per run (best of 5)\n",
	       jit_enabled() == 1 ? "JIT" : jit_enabled() == 0 ? "interpreter" : "jit ?", repeat,
	       what, best);
	return 0;
}

int main(int argc, char **argv)
{
	int repeat = argc > 1 ? atoi(argv[1]) : 1000000;
	struct bpf_insn insns[64];
	uint64_t pt[NENT] = { 0 };
	uint32_t key = 0;
	char log[8192] = "";
	int map_fd, prog_fd, n;

	map_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "dz_pt", 4, sizeof(pt), 1, NULL);
	if (map_fd < 0) {
		fprintf(stderr, "kbpf: cannot create a map (%s): needs root\n", strerror(errno));
		return 1;
	}
	/* walk 0 -> 5 -> 9 -> 17 -> 40, data at 40 (0: preempt_count and irq depth 0) */
	pt[0] = 5;
	pt[5] = 9;
	pt[9] = 17;
	pt[17] = 40;
	pt[40] = 0;
	if (bpf_map_update_elem(map_fd, &key, pt, 0)) {
		fprintf(stderr, "kbpf: map update: %s\n", strerror(errno));
		return 1;
	}
	n = build(map_fd, insns);
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "dz_pred_mix", "GPL", insns, n, &lo);
	if (prog_fd < 0) {
		fprintf(stderr, "kbpf: the kernel refused the program (%s):\n%s\n", strerror(errno), log);
		return 1;
	}
	printf("kernel eBPF program: %d insns (the reference predicate: 26 insns + a 4-level walk in the helper)\n",
	       n);
	if (run(prog_fd, 0, 0x202, repeat, MAY_SLEEP, "ring 0, helper + 5-load walk:") ||
	    run(prog_fd, 3, 0x202, repeat, MAY_SLEEP, "ring 3, no helper call:       "))
		return 1;
	/* The harness's own cost per repetition: a program that only returns. */
	{
		struct bpf_insn empty[] = { MOVI(0, MAY_SLEEP), EXIT() };
		int efd = bpf_prog_load(BPF_PROG_TYPE_XDP, "dz_empty", "GPL", empty, 2, NULL);

		if (efd < 0 || run(efd, 0, 0, repeat, MAY_SLEEP, "empty program (harness cost):  "))
			return 1;
	}
	return 0;
}
