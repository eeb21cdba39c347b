// SPDX-License-Identifier: GPL-2.0
/*
 * Predicates as guests write them, compiled by clang -O2 -target bpf at build
 * time: the verifier must accept what real compiler output of safe C looks
 * like (sections "accept/..."), and reject the unsafe or unprovable ones with
 * the reason test-verifier.c expects (sections "reject/...").
 */
#include <linux/types.h>

#include <doze/pred.h>

#define SEC(name) __attribute__((section(name), used))
#define IF_FLAG (1ull << 9)

struct task {
	__u32 flags;
	__u32 state;
	__u64 stack;
};

SEC("accept/ring3_if")
int ring3_if(const struct dz_pred_ctx *ctx)
{
	return ctx->cpl == 3 && (ctx->rflags & IF_FLAG);
}

SEC("accept/percpu_task")
int percpu_task(const struct dz_pred_ctx *ctx)
{
	__u64 cur;
	struct task t;

	if (ctx->cpl == 3)
		return ctx->rflags & IF_FLAG ? 1 : 0;
	if (dz_read_percpu(&cur, sizeof(cur), 0x20))
		return 0;
	if (dz_read_gva(&t, sizeof(t), cur))
		return 0;
	if (t.flags & 0x10)
		return 0;
	return t.state == 0;
}

SEC("accept/stack_walk")
int stack_walk(const struct dz_pred_ctx *ctx)
{
	__u64 frames[4];
	int i, hits = 0;

	if (dz_read_gva(frames, sizeof(frames), ctx->rsp))
		return 0;
#pragma unroll
	for (i = 0; i < 4; i++)
		if (frames[i] >= 0xffffffff81000000ull && frames[i] < 0xffffffff82000000ull)
			hits++;
	return hits < 2;
}

SEC("accept/switch_cpl")
int switch_cpl(const struct dz_pred_ctx *ctx)
{
	switch (ctx->cpl) {
	case 0:
		return ctx->rip > 0xffffffff80000000ull;
	case 1:
	case 2:
		return 0;
	case 3:
		return (ctx->rflags >> 9) & 1;
	}
	return 0;
}

static __attribute__((noinline)) int in_kernel_text(__u64 rip)
{
	return rip >= 0xffffffff81000000ull && rip < 0xffffffff82000000ull;
}

SEC("accept/subprog")
int subprog(const struct dz_pred_ctx *ctx)
{
	if (!in_kernel_text(ctx->rip))
		return 1;
	return ctx->rflags & IF_FLAG ? 1 : 0;
}

SEC("accept/percpu_array")
int percpu_array(const struct dz_pred_ctx *ctx)
{
	__u32 v[8];
	__u32 idx = ctx->vcpu & 7;

	if (dz_read_percpu(v, sizeof(v), 0))
		return 0;
	return v[idx] == 0;
}

SEC("accept/trace")
int trace(const struct dz_pred_ctx *ctx)
{
	char msg[] = "fault";

	dz_trace(msg, sizeof(msg) - 1, ctx->fault_gpa);
	return 0;
}

SEC("accept/masked_size")
int masked_size(const struct dz_pred_ctx *ctx)
{
	__u8 buf[64];
	__u32 n = ctx->access & 63;

	if (!n)
		return 0;
	if (dz_read_gpa(buf, n, ctx->fault_gpa & ~63ull))
		return 0;
	return buf[0] == 0x90;
}

/*
 * Six bounded u32 sizes live across helper calls: more than r6-r9 can hold,
 * so clang spills some. With -mcpu=v3 they are 32-bit values and the spill
 * is a 4-byte store at a slot start ("*(u32 *)(r10 -64) = r3"), reloaded
 * with a 4-byte load as a helper size: the verifier must keep the bounds of
 * narrow spills (as the kernel's does), or the size is unbounded.
 */
SEC("accept/spilled_sizes")
int spilled_sizes(const struct dz_pred_ctx *ctx)
{
	__u32 v[6], n0, n1, n2, n3, n4, n5;
	__u8 buf[16];
	__u64 gpa = ctx->fault_gpa & ~4095ull;

	if (dz_read_percpu(v, sizeof(v), 0))
		return 0;
	n0 = (v[0] & 15) + 1;
	n1 = (v[1] & 15) + 1;
	n2 = (v[2] & 15) + 1;
	n3 = (v[3] & 15) + 1;
	n4 = (v[4] & 15) + 1;
	n5 = (v[5] & 15) + 1;
	if ((n0 ^ n1 ^ n2 ^ n3 ^ n4 ^ n5) == 3)
		return 0;
	if (dz_read_gpa(buf, n0, gpa) || dz_read_gpa(buf, n1, gpa + n0) ||
	    dz_read_gpa(buf, n2, gpa + n1) || dz_read_gpa(buf, n3, gpa + n2) ||
	    dz_read_gpa(buf, n4, gpa + n3) || dz_read_gpa(buf, n5, gpa + n4))
		return 0;
	return buf[0];
}

/* clang merges the two tests into one compare of (u32)(n - 65): unprovable, as in the kernel */
SEC("reject/merged_range_check")
int merged_range_check(const struct dz_pred_ctx *ctx)
{
	__u8 buf[64];
	__u32 n = ctx->access;

	if (n > sizeof(buf) || n == 0)
		return 0;
	if (dz_read_gpa(buf, n, ctx->fault_gpa & ~63ull))
		return 0;
	return buf[0] == 0x90;
}

SEC("reject/leak_pointer")
long leak_pointer(const struct dz_pred_ctx *ctx)
{
	return (long)ctx;
}

SEC("reject/write_ctx")
int write_ctx(struct dz_pred_ctx *ctx)
{
	ctx->rax = 0;
	return 0;
}

SEC("reject/array_overrun")
int array_overrun(const struct dz_pred_ctx *ctx)
{
	__u32 v[8];

	if (dz_read_percpu(v, sizeof(v), 0))
		return 0;
	return v[ctx->vcpu & 15] == 0;
}

char _license[] SEC("license") = "GPL";
