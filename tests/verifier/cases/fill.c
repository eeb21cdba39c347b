// SPDX-License-Identifier: GPL-2.0
/* Generators for programs too large to write out (as the kernel's .fill_helper). */
#include <stdlib.h>

static struct bpf_insn *fill_alloc(uint32_t n)
{
	struct bpf_insn *p = calloc(n, sizeof(*p));

	if (!p)
		abort();
	return p;
}

/* n - 1 times "r0 = i", then exit. */
static void fill_straight(struct bpf_insn **insns, uint32_t *len, uint32_t n)
{
	struct bpf_insn *p = fill_alloc(n);
	uint32_t i;

	for (i = 0; i + 1 < n; i++)
		p[i] = BPF_MOV64_IMM(BPF_REG_0, (int32_t)(i & 0xff));
	p[n - 1] = BPF_EXIT_INSN();
	*insns = p;
	*len = n;
}

static void fill_max(struct bpf_insn **insns, uint32_t *len)
{
	fill_straight(insns, len, DZ_MAX_INSNS);
}

static void fill_max_plus_one(struct bpf_insn **insns, uint32_t *len)
{
	fill_straight(insns, len, DZ_MAX_INSNS + 1);
}

/*
 * r6 = ctx; r0 = 0; then N times: r1 = ctx->vcpu; if r1 > k goto +1; r0 = 1.
 * 2^N paths, but at each join only r0 in {0, 1} is live: pruning keeps the
 * walk linear.
 */
#define DIAMONDS 400
static void fill_diamonds_pruned(struct bpf_insn **insns, uint32_t *len)
{
	uint32_t n = 3 + DIAMONDS * 3, i, k = 0;
	struct bpf_insn *p = fill_alloc(n);

	p[k++] = BPF_MOV64_REG(BPF_REG_6, BPF_REG_1);
	p[k++] = BPF_MOV64_IMM(BPF_REG_0, 0);
	for (i = 0; i < DIAMONDS; i++) {
		p[k++] = BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX_OFF(vcpu));
		p[k++] = BPF_JMP_IMM(BPF_JGT, BPF_REG_1, (int32_t)i, 1);
		p[k++] = BPF_MOV64_IMM(BPF_REG_0, 1);
	}
	p[k++] = BPF_EXIT_INSN();
	*insns = p;
	*len = k;
}

/*
 * 30 diamonds that each add a distinct power of two to r7 on one side: 2^30
 * live, pairwise different states. Nothing can be pruned, so the walk must
 * stop at the complexity limit.
 */
static void fill_diamonds_exploding(struct bpf_insn **insns, uint32_t *len)
{
	uint32_t n = 4 + 30 * 3, i, k = 0;
	struct bpf_insn *p = fill_alloc(n);

	p[k++] = BPF_MOV64_REG(BPF_REG_6, BPF_REG_1);
	p[k++] = BPF_MOV64_IMM(BPF_REG_7, 0);
	for (i = 0; i < 30; i++) {
		p[k++] = BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX_OFF(vcpu));
		p[k++] = BPF_JMP_IMM(BPF_JGT, BPF_REG_1, (int32_t)i, 1);
		p[k++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_7, 1 << i);
	}
	p[k++] = BPF_MOV64_REG(BPF_REG_0, BPF_REG_7);
	p[k++] = BPF_EXIT_INSN();
	*insns = p;
	*len = k;
}

/* A full-size program of 1024 diamonds, as the 4096-insn benchmark shape. */
static void fill_max_branchy(struct bpf_insn **insns, uint32_t *len)
{
	uint32_t n = DZ_MAX_INSNS, i, k = 0;
	struct bpf_insn *p = fill_alloc(n);

	p[k++] = BPF_MOV64_REG(BPF_REG_6, BPF_REG_1);
	p[k++] = BPF_MOV64_IMM(BPF_REG_0, 0);
	for (i = 0; k + 4 <= n - 1; i++) {
		p[k++] = BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, CTX_OFF(vcpu));
		p[k++] = BPF_JMP_IMM(BPF_JEQ, BPF_REG_1, (int32_t)i, 1);
		p[k++] = BPF_ALU64_IMM(BPF_MOV, BPF_REG_0, 1);
	}
	while (k < n - 1)
		p[k++] = BPF_MOV64_IMM(BPF_REG_2, 0);
	p[k++] = BPF_EXIT_INSN();
	*insns = p;
	*len = k;
}

/* A lddw that is the last slot: truncated. */
static void fill_lddw_truncated(struct bpf_insn **insns, uint32_t *len)
{
	struct bpf_insn *p = fill_alloc(3);

	p[0] = BPF_MOV64_IMM(BPF_REG_0, 0);
	p[1] = BPF_EXIT_INSN();
	p[2] = BPF_RAW_INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_0, 0, 0, 1);
	*insns = p;
	*len = 3;
}

/* 8 frames deep, then 30 exploding diamonds under a full stack: bounded time. */
static void fill_deep_exploding(struct bpf_insn **insns, uint32_t *len)
{
	struct bpf_insn *p = fill_alloc(256);
	uint32_t k = 0, i;
	int s;

	for (i = 0; i + 1 < DZ_MAX_CALL_FRAMES; i++) {
		p[k++] = BPF_CALL_REL(1);
		p[k++] = BPF_EXIT_INSN();
	}
	for (s = 1; s <= 64; s++)
		p[k++] = BPF_ST_MEM(BPF_DW, BPF_REG_10, -8 * s, s);
	p[k++] = BPF_MOV64_REG(BPF_REG_6, BPF_REG_1);
	p[k++] = BPF_MOV64_IMM(BPF_REG_7, 0);
	for (i = 0; i < 30; i++) {
		p[k++] = BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, 0);
		p[k++] = BPF_JMP_IMM(BPF_JGT, BPF_REG_1, (int32_t)i, 1);
		p[k++] = BPF_ALU64_IMM(BPF_ADD, BPF_REG_7, 1 << i);
	}
	p[k++] = BPF_MOV64_REG(BPF_REG_0, BPF_REG_7);
	p[k++] = BPF_EXIT_INSN();
	*insns = p;
	*len = k;
}

/* 8 frames deep, then 1500 undecided branches in a row: the pending states' memory is bounded. */
static void fill_deep_pending(struct bpf_insn **insns, uint32_t *len)
{
	struct bpf_insn *p = fill_alloc(3100);
	uint32_t k = 0, i;

	for (i = 0; i + 1 < DZ_MAX_CALL_FRAMES; i++) {
		p[k++] = BPF_CALL_REL(1);
		p[k++] = BPF_EXIT_INSN();
	}
	p[k++] = BPF_MOV64_REG(BPF_REG_6, BPF_REG_1);
	for (i = 0; i < 1500; i++) {
		p[k++] = BPF_LDX_MEM(BPF_W, BPF_REG_1, BPF_REG_6, 0);
		p[k++] = BPF_JMP_IMM(BPF_JGT, BPF_REG_1, (int32_t)i, 0);
	}
	p[k++] = BPF_MOV64_IMM(BPF_REG_0, 0);
	p[k++] = BPF_EXIT_INSN();
	*insns = p;
	*len = k;
}
