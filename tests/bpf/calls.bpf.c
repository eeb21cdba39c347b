// SPDX-License-Identifier: GPL-2.0
/*
 * Fixture: a predicate-typed program with bpf-to-bpf calls into .text
 * (static and global subprograms, one calling another), so the ELF loader's
 * call relocation is exercised. Returns (rax + 2 * rbx) ^ sq(rcx) + 7.
 */
#include <linux/types.h>

#include <doze/pred.h>

static __attribute__((noinline)) __u64 twice(__u64 x)
{
	return x + x;
}

__attribute__((noinline)) __u64 sq_plus(__u64 x)
{
	return x * x + twice(3) + 1; /* x^2 + 7 */
}

__attribute__((section("doze/calls"), used)) int calls(const struct dz_pred_ctx *ctx)
{
	volatile __u64 a = ctx->rax + twice(ctx->rbx);

	return (int)((a ^ (sq_plus(ctx->rcx) - 7)) + 7);
}

/* A second program in another section, selected with --sec. */
__attribute__((section("doze/second"), used)) int second(const struct dz_pred_ctx *ctx)
{
	return ctx->cpl + 40;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
