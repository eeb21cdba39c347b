/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference guest's per-CPU area, found at the kernel GS base (GS base in
 * ring 0, KERNEL_GS_BASE while a task runs in ring 3). Shared by the guest kernel
 * and its fault predicate (pred.bpf.c), which reads it with dz_read_percpu().
 * The first fields are fixed; the guest may append after DZ_PERCPU_FIXED_END.
 */
#ifndef DZ_GUEST_PERCPU_H
#define DZ_GUEST_PERCPU_H

#define DZ_PERCPU_SELF		0	/* u64: linear address of this area */
#define DZ_PERCPU_CURRENT	8	/* u64: current task */
#define DZ_PERCPU_PREEMPT_COUNT	16	/* u32: > 0 means preemption disabled */
#define DZ_PERCPU_IRQ_DEPTH	20	/* u32: > 0 means in an interrupt/exception handler */
#define DZ_PERCPU_CPU		24	/* u32: CPU number */
#define DZ_PERCPU_NR_TASKS	28	/* u32: live tasks of this CPU (running, ready or asleep) */
#define DZ_PERCPU_FIXED_END	64

#endif
