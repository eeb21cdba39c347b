// SPDX-License-Identifier: GPL-2.0
/*
 * The reference guest's fault predicate, run by the host on the guest's state
 * at a fault on a page that is not present yet:
 *
 *	may sleep iff IF=1 and (ring 3, or ring 0 with preempt_count == 0 and
 *	not in an interrupt)
 *
 * Ring 3 with interrupts on can always be parked (the kernel's own async page
 * faults rely on that). In ring 0 the per-CPU preempt_count and irq depth say
 * whether the kernel may schedule here; they sit next to each other in the
 * per-CPU area (percpu.h), so one helper call reads both. Anything we cannot
 * read (per-CPU page missing, unmapped, bad GS base) means "must not": the host
 * then serves the fault synchronously, which is always safe.
 *
 * Build: clang -O2 -g -target bpf -Iinclude/uapi -c guest/pred/pred.bpf.c
 */
#include <linux/types.h>

#include <doze/pred.h>

#include "percpu.h"

#define X86_EFLAGS_IF (1UL << 9)

_Static_assert(DZ_PERCPU_IRQ_DEPTH == DZ_PERCPU_PREEMPT_COUNT + 4,
	       "preempt_count and irq depth are read together");

__attribute__((section("doze/pred"), used)) int dz_pred(const struct dz_pred_ctx *ctx)
{
	struct {
		__u32 preempt_count;
		__u32 irq_depth;
	} pc;

	if (!(ctx->rflags & X86_EFLAGS_IF))
		return DZ_PRED_MUST_NOT;
	if (ctx->cpl == 3)
		return DZ_PRED_MAY_SLEEP;
	if (ctx->cpl != 0)
		return DZ_PRED_MUST_NOT;
	if (dz_read_percpu(&pc, sizeof(pc), DZ_PERCPU_PREEMPT_COUNT))
		return DZ_PRED_MUST_NOT;
	return pc.preempt_count == 0 && pc.irq_depth == 0 ? DZ_PRED_MAY_SLEEP : DZ_PRED_MUST_NOT;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
