/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference guest's asynchronous page-fault half (guest/apf/apf.c).
 */
#ifndef DZ_GUEST_APF_H
#define DZ_GUEST_APF_H

#include "kernel.h"

/* A kernel instruction that may touch a lost page, and where to go instead
 * (with RAX = -EFAULT). Entries live in section "apf_extable". */
struct apf_extable {
	u64 insn;
	u64 fixup;
};

void apf_init(void);	   /* CPU 0, at boot, IF = 0 */
void apf_arm_cpu(void);	   /* every CPU, at boot, IF = 0 */
void apf_rearm_all(void);  /* after the snapshot point (a restored guest arms again) */
void apf_ipi(void);	   /* from the IPI handler: re-arm if asked to */
void apf_page_ready(void); /* from the DZ_VEC_PAGE_READY handler */
void ve_dispatch(struct regs *r);
bool apf_page_fault(struct regs *r);	/* #PF: async page-not-present (Linux mode) handled */
/* The current ring-3 task was killed by a lost page (the workload accounts for it). */
void apf_task_killed(void) __attribute__((noreturn));

/*
 * Copies one 64-byte record from memory that may be lost: 0, or -EFAULT if a
 * page of src was lost (dst then holds what was copied before). IF may be 1.
 */
long apf_copy_record(u64 *dst, const u64 *src);

#endif
