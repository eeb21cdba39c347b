/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The peer baseline `doze restore --policy kvm`: Linux KVM's own in-kernel
 * asynchronous page faults, run on the same guest, snapshot, page source and
 * fault service as doze's policies (issue 8, docs/kvm-peer.md).
 *
 * The VM has KVM's in-kernel LAPIC and KVM owns MSR_KVM_ASYNC_PF_* (vm.c does
 * not filter them with the in-kernel irqchip). doze's own injection, #VE and
 * predicate are off; the guest learns the mode from DZ_CPUID_F_KVM_LAPIC /
 * DZ_CPUID_F_KVM_APF and arms KVM's APF the Linux way.
 *
 * What this module adds around the unchanged fault service:
 *  - decide hook: every fault waits (never poisoned); events are counted by
 *    who raised them — a vCPU thread (a synchronous fault, e.g. in emulated
 *    guest ring 0) or a KVM worker (an in-kernel async fault: the guest got
 *    page-not-present, or KVM halted the vCPU artificially); a worker's event
 *    says "write" even for a read;
 *  - at restore: a snapshot taken with the userspace irqchip has no LAPIC
 *    state; the LAPIC is put in x2APIC mode and software-enabled (as firmware
 *    would), unless the testing mode asks for a guest that never enables it;
 *  - a watchdog on each vCPU thread: a vCPU that made no exit and did not move
 *    for a while, with its LAPIC software-disabled, after KVM went async, is
 *    the known KVM failure (page-ready can never be delivered; the vCPU spins)
 *    and ends the run with an error naming the cause;
 *  - after the run: the guest's own counters (page-not-present #PFs by CPL,
 *    page-ready interrupts, wake-alls) from its APF area, for the stats.
 */
#ifndef DZ_VMM_KVMAPF_H
#define DZ_VMM_KVMAPF_H

#include <stdint.h>

#include "faultsvc.h"
#include "stats.h"
#include "vm.h"

/* What the guest is told to do (testing aid: the failure modes of the peer). */
enum dz_kvm_guest {
	DZ_KVM_GUEST_APF = 0,  /* enable the LAPIC and arm KVM's APF (the peer) */
	DZ_KVM_GUEST_LAPIC,    /* enable the LAPIC only: KVM halts the vCPU artificially */
	DZ_KVM_GUEST_NONE,     /* neither (a guest that knows nothing): artificial halts too */
	DZ_KVM_GUEST_NO_LAPIC, /* arm KVM's APF, leave the LAPIC software-disabled: page-ready
				  can never be delivered (the known failure; the watchdog) */
};

struct dz_kvmapf_config {
	enum dz_kvm_guest guest;
	uint64_t stall_ns; /* watchdog: no exit this long (0 = 3 s) */
};

/* The guest's counters, laid over the pad of its APF area (guest/apf/kvm.c). */
#define DZ_KVMAPF_COUNTERS_MAGIC 0x544e43464170415aULL /* "ZApAFCNT" */

struct dz_kvmapf_stats {
	uint64_t events_vcpu;	      /* userfaultfd events raised by a vCPU thread */
	uint64_t events_worker;	      /* ... by any other thread (KVM's async worker) */
	uint64_t events_worker_write; /* worker events flagged "write" */
	uint64_t wait_vcpu_ns;	      /* sum of waits of the vCPU-thread faults */
	uint64_t wait_worker_ns;      /* sum of waits of the worker faults */
	struct dz_hist wait_vcpu;     /* per vCPU-thread fault: event read -> page installed */
	struct dz_hist wait_worker;
	/* from the guest's APF areas (all vCPUs), valid if guest_counters */
	bool guest_counters;
	bool guest_apf_enabled;	    /* MSR_KVM_ASYNC_PF_EN had ENABLED on every vCPU */
	uint64_t not_present_ring3; /* #PF with flags = 1 taken in ring 3 */
	uint64_t not_present_ring0;
	uint64_t page_ready; /* page-ready interrupts */
	uint64_t wake_all;   /* ... with token 0xffffffff */
	uint64_t early;	     /* page-ready with no sleeper on its token (yet) */
	uint64_t probed;     /* sleepers whose first waiter slot was taken */
	bool stalled;	     /* the watchdog ended the run */
};

struct dz_kvmapf;

/* Sets the doze features the guest sees (call before vm__run). */
int dz_kvmapf__create(struct vm *vm, const struct dz_kvmapf_config *cfg, struct dz_kvmapf **out);
void dz_kvmapf__destroy(struct dz_kvmapf *k);
/* Fills the decide and page_done hooks; the lost hook already in @h is chained. */
void dz_kvmapf__faultsvc_hooks(struct dz_kvmapf *k, struct dz_faultsvc_hooks *h);
/* After vm__restore_state: the LAPIC of a userspace-irqchip snapshot. */
int dz_kvmapf__after_restore(struct dz_kvmapf *k);
/* The vCPU-loop hooks (watchdog). */
void dz_kvmapf__vm_hooks(struct dz_kvmapf *k, struct vm_hooks *h);
/* After vm__run, before vm__destroy: read the guest's counters (svc may be NULL). */
void dz_kvmapf__collect(struct dz_kvmapf *k, struct dz_faultsvc *svc);
void dz_kvmapf__stats(struct dz_kvmapf *k, struct dz_kvmapf_stats *st);
/* Writes the object "kvm". */
void dz_kvmapf__stats_json(struct dz_kvmapf *k, struct dz_json *j);
const char *dz_kvm_guest__name(enum dz_kvm_guest g);

#endif
