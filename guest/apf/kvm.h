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
 * KVM's tokens are (sequence << 12) | vCPU id: their low six bits, by which
 * the guest's waiter table is indexed, are the same for every token of a vCPU,
 * and nothing bounds how far apart two sequences in flight are. Under KVM a
 * token gets a free slot of the table when its task goes to sleep (probing
 * from its sequence's low bits) and the key passed to sleep_on_token /
 * wake_token names that slot. doze's own tokens are their own key.
 * apf_sleep_key: 0 = the page-ready came first (do not sleep, just retry).
 * apf_wake_key: 0 = nobody sleeps on it yet (remembered for the sleeper).
 */
u64 apf_kvm_sleep_key(u64 token);
u64 apf_kvm_wake_key(u64 token);

static inline u64 apf_sleep_key(u64 token)
{
	return apf_kvm_peer ? apf_kvm_sleep_key(token) : token;
}

static inline u64 apf_wake_key(u64 token)
{
	return apf_kvm_peer ? apf_kvm_wake_key(token) : token;
}

/* The guest's own count of what KVM delivered, in the pad of its APF area
 * (KVM uses only flags and token), read by the VMM after the run. */
enum {
	APF_KVM_MAGIC,
	APF_KVM_NP_RING3,
	APF_KVM_NP_RING0,
	APF_KVM_READY,
	APF_KVM_WAKE_ALL,
	APF_KVM_EARLY,
	APF_KVM_PROBED
};

static inline void apf_kvm_count(struct dz_apf_area *a, int what)
{
	if (apf_kvm_peer)
		((u64 *)a->pad)[what]++;
}

#endif
