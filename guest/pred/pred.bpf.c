// SPDX-License-Identifier: GPL-2.0
/*
 * The reference guest's fault predicate, run by the host on the guest's state
 * at a fault on a page that is not present yet:
 *
 *	may sleep iff IF=1, this CPU has another task that could run
 *	(nr_tasks > 1), and (ring 3, or ring 0 with preempt_count == 0 and not
 *	in an interrupt)
 *
 * Ring 3 with interrupts on can always be parked (the kernel's own async page
 * faults rely on that). In ring 0 the per-CPU preempt_count and irq depth say
 * whether the kernel may schedule here.
 *
 * nr_tasks counts the CPU's live tasks, ready or not: one asleep on another
 * token will be woken by its page-ready, so "nothing ready right now" is no
 * reason to wait. But with a single task (tasks never migrate) going async
 * can only park it and idle until the page arrives: the same wait plus the
 * round trip's cost (measured 0.81-0.88x of sync), so the host waits instead.
 *
 * The four u32 fields (preempt_count, irq depth, cpu, nr_tasks) sit together in
 * the per-CPU area (percpu.h): one helper call reads them. Anything we cannot
 * read (per-CPU page missing, unmapped, bad GS base) means "must not": the
 * host then serves the fault synchronously, which is always safe.
 *
 * Build: clang -O2 -g -target bpf -Iinclude/uapi -c guest/pred/pred.bpf.c
 */
#include <linux/types.h>

#include <doze/pred.h>

#include "percpu.h"

#define X86_EFLAGS_IF (1UL << 9)

_Static_assert(DZ_PERCPU_IRQ_DEPTH == DZ_PERCPU_PREEMPT_COUNT + 4 &&
		       DZ_PERCPU_NR_TASKS == DZ_PERCPU_PREEMPT_COUNT + 12,
	       "preempt_count, irq depth and nr_tasks are read together");

__attribute__((section("doze/pred"), used)) int dz_pred(const struct dz_pred_ctx *ctx)
{
	struct {
		__u32 preempt_count;
		__u32 irq_depth;
		__u32 cpu;
		__u32 nr_tasks;
	} pc;

	if (!(ctx->rflags & X86_EFLAGS_IF))
		return DZ_PRED_MUST_NOT;
	if (ctx->cpl != 3 && ctx->cpl != 0)
		return DZ_PRED_MUST_NOT;
	if (dz_read_percpu(&pc, sizeof(pc), DZ_PERCPU_PREEMPT_COUNT))
		return DZ_PRED_MUST_NOT;
	if (pc.nr_tasks <= 1)
		return DZ_PRED_MUST_NOT; /* nothing else could run here: waiting is cheaper */
	if (ctx->cpl == 3)
		return DZ_PRED_MAY_SLEEP;
	return pc.preempt_count == 0 && pc.irq_depth == 0 ? DZ_PRED_MAY_SLEEP : DZ_PRED_MUST_NOT;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
