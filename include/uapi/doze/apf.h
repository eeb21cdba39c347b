/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause */
/*
 * doze guest ABI, asynchronous page faults: what abi.h reserves (MSRs, the #VE
 * information area, tokens) completed with the pieces the async path adds.
 * docs/abi.md ("Asynchronous page faults") describes the protocol.
 */
#ifndef _UAPI_DOZE_APF_H
#define _UAPI_DOZE_APF_H

#include <linux/types.h>

#include <doze/abi.h>

/* Linux KVM paravirtual APF, mirrored: MSR_KVM_ASYNC_PF_EN bits */
#define DZ_KVM_ASYNC_PF_ENABLED		      (1ULL << 0)
#define DZ_KVM_ASYNC_PF_SEND_ALWAYS	      (1ULL << 1) /* accepted, ignored: the policy decides */
#define DZ_KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT (1ULL << 2) /* accepted, ignored */
#define DZ_KVM_ASYNC_PF_DELIVERY_AS_INT	      (1ULL << 3) /* required: page-ready by interrupt */
#define DZ_KVM_PV_REASON_PAGE_NOT_PRESENT     1		  /* dz_apf_area::flags for the #PF mode */

/*
 * The per-vCPU shared area named by MSR_KVM_ASYNC_PF_EN (64-byte aligned), laid
 * out as Linux's struct kvm_vcpu_pv_apf_data: the host writes `token` before it
 * raises the page-ready interrupt; the guest reads it, writes 0, then writes 1
 * to MSR_KVM_ASYNC_PF_ACK (or DZ_MSR_PAGE_READY_ACK) to get the next one.
 * In the Linux-compatible #PF mode the host sets `flags` to
 * DZ_KVM_PV_REASON_PAGE_NOT_PRESENT with CR2 = token; the guest clears it.
 */
struct dz_apf_area {
	__u32 flags;
	__u32 token;
	__u8 pad[56];
};

/*
 * DZ_MSR_SYNC_RANGES: write the GPA of a struct dz_sync_ranges (8-byte
 * aligned). Faults on these pages are never made asynchronous: the guest lists
 * its page tables, the code and data its ring-0 entry paths touch, its IDT,
 * GDT, TSS and kernel stacks (KVM cannot walk page tables, fetch instructions
 * or deliver events through a page the host made visibly missing). VM-wide;
 * the last write wins; nr = 0 clears. rdmsr returns the number in force.
 */
#define DZ_MSR_SYNC_RANGES (DZ_MSR_BASE + 5)
#define DZ_SYNC_RANGES_MAX 8

struct dz_sync_ranges {
	__u32 nr;
	__u32 reserved;
	struct {
		__u64 start; /* GPA, inclusive */
		__u64 end;   /* GPA, exclusive */
	} range[DZ_SYNC_RANGES_MAX];
};

/* DZ_PORT_PANIC with DZ_PANIC_HARD_ERROR: RCX holds why the context cannot sleep */
#define DZ_HARD_IF_OFF	    1 /* the faulting context had IF = 0 */
#define DZ_HARD_PREEMPT_OFF 2 /* preempt_count > 0 */
#define DZ_HARD_IN_IRQ	    3 /* inside an interrupt or exception handler */
#define DZ_HARD_NO_TASK	    4 /* no task to put to sleep (idle context) */

#endif /* _UAPI_DOZE_APF_H */
