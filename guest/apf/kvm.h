/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference guest under `doze restore --policy kvm` (guest/apf/kvm.c):
 * KVM's own in-kernel async page faults, armed the way Linux arms them, with
 * the Linux-compatible #PF handler of guest/apf/apf.c.
 */
#ifndef DZ_GUEST_APF_KVM_H
#define DZ_GUEST_APF_KVM_H

#include <doze/apf.h>

#include "kernel.h"

/* KVM owns MSR_KVM_ASYNC_PF_* (DZ_CPUID_F_KVM_APF) */
extern bool apf_kvm_peer;

/* From detect(): the DZ_CPUID_F_* the VMM offers. With DZ_CPUID_F_KVM_LAPIC the
 * IDT's interrupt gates EOI and this CPU's LAPIC is software-enabled. True if
 * KVM's APF is to be armed. */
bool apf_kvm_detect(u64 features);
/* From apf_arm_cpu() on every CPU: this CPU's LAPIC, the counters in its area. */
void apf_kvm_arm_cpu(struct dz_apf_area *a);

/*
 * KVM's tokens are (sequence << 12) | vCPU id, so the low 6 bits the guest's
 * waiter table is indexed by are the vCPU id, the same for every token of a
 * vCPU. Put the sequence's low bits there instead (distinct for up to 64
 * tokens in flight in sequence order); the wake-all token stays what it is.
 */
static inline u64 apf_token_key(u64 token)
{
	if (!apf_kvm_peer)
		return token;
	return (token & ~(u64)(DZ_MAX_TOKENS - 1)) | ((token >> 12) & (DZ_MAX_TOKENS - 1));
}

/* The guest's own count of what KVM delivered, in the pad of its APF area
 * (KVM uses only flags and token), read by the VMM after the run. */
enum { APF_KVM_MAGIC, APF_KVM_NP_RING3, APF_KVM_NP_RING0, APF_KVM_READY, APF_KVM_WAKE_ALL };

static inline void apf_kvm_count(struct dz_apf_area *a, int what)
{
	if (apf_kvm_peer)
		((u64 *)a->pad)[what]++;
}

#endif
