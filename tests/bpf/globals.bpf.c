// SPDX-License-Identifier: GPL-2.0
/* Fixture: global data needs a map relocation, which doze refuses clearly. */
#include <linux/types.h>

#include <doze/pred.h>

__u64 counter;

__attribute__((section("doze/globals"), used)) int globals(const struct dz_pred_ctx *ctx)
{
	counter += ctx->rax;
	return 0;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
