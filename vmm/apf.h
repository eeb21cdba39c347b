/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The asynchronous page-fault path: the host half of doze's guest ABI
 * (include/uapi/doze/abi.h, docs/abi.md).
 *
 * It plugs into the VMM core (vm_hooks: MSRs, MMIO and EINTR exits, event
 * injection before entry) and into the fault service (decide, before_install,
 * page_done hooks):
 *
 *   1. a vCPU touches a missing page; the fault service asks decide(): if the
 *      policy could make this fault async at all, the page is poisoned so the
 *      fault becomes visible on the vCPU thread (ring 3: SIGBUS + EINTR;
 *      emulated ring 0: an MMIO exit), else the thread simply waits;
 *   2. on the vCPU thread the policy decides with the vCPU's real state:
 *      async -> a ring-0 read is taken back (complete with immediate_exit,
 *      restore the registers) and "page not present" is injected (#VE with
 *      the #VE information area, or #PF with CR2 = token in the Linux mode);
 *      sync -> the thread waits on the host side for the page (a ring-0 read
 *      then completes with the page's bytes);
 *      a ring-0 write to a poisoned page has already retired: its bytes are
 *      kept and applied to the page before it is installed (write-behind);
 *   3. when the page arrives its tokens become ready; page-ready is written to
 *      the APF area and injected as an interrupt when the guest has IF=1, one
 *      at a time, each ACKed;
 *   4. a lost page is reported to the guest as a #VE of reason PAGE_LOST (the
 *      guest kills the task or fixes up the kernel copy), or ends the VM when
 *      the guest has no #VE area armed.
 *
 * Without a fault service (fresh boot) every page is present: only the MSRs
 * (enable, predicate registration) do anything.
 */
#ifndef DZ_VMM_APF_H
#define DZ_VMM_APF_H

#include <stdbool.h>
#include <stdint.h>

#include "faultsvc.h"
#include "policy.h"
#include "stats.h"
#include "vm.h"

#define DZ_APF_MAX_PINNED 8

struct dz_apf_range {
	uint64_t start, end; /* GPA [start, end) */
};

struct dz_apf_config {
	enum dz_policy_kind policy;
	uint64_t async_min_wait_ns; /* adaptive: expected latency below this -> sync */
	uint32_t token_limit;	    /* per vCPU, 0 = DZ_MAX_TOKENS */
	/*
	 * Pages never poisoned (always served synchronously): guest page tables and
	 * the code the emulator fetches in ring 0 must not be poisoned (KVM cannot
	 * walk or fetch through a poisoned page: shutdown / emulation failure).
	 */
	struct dz_apf_range pinned[DZ_APF_MAX_PINNED];
	unsigned int nr_pinned;
	bool trace;	    /* one stderr line per async event */
	bool pf_delivery;   /* offer only Linux's #PF delivery (CR2 = token), no #VE */
};

struct dz_apf_stats {
	uint64_t async_by_cpl[4];	      /* page-not-present injected, by CPL of the fault */
	uint64_t sync_by_cpl[4];	      /* faults seen on the vCPU and served synchronously */
	uint64_t sync_reason[DZ__DECIDE_MAX]; /* sync fallbacks by reason (all paths) */
	uint64_t visible_faults;	      /* faults seen on a vCPU thread (SIGBUS or MMIO) */
	uint64_t rollbacks;		      /* ring-0 reads taken back */
	uint64_t write_behind;		      /* retired ring-0 writes kept for a missing page */
	uint64_t write_behind_bytes;
	uint64_t early_wakes; /* page arrived before its page-not-present went out */
	uint64_t page_ready;  /* page-ready interrupts queued */
	uint64_t acks;
	uint32_t tokens_outstanding_max;
	uint64_t ready_latency_ns_sum; /* page arrived -> page-ready queued */
	uint64_t ready_latency_ns_max;
	uint64_t roundtrip_ns_sum; /* page-not-present -> page-ready queued */
	uint64_t sync_waits;	   /* host-side waits of a vCPU for a page */
	uint64_t sync_wait_ns_sum;
	uint64_t errors_delivered; /* lost pages reported to the guest */
	uint64_t errors_as_mce;	   /* ... of which as a machine check (no #VE area) */
	uint64_t gva_filled;	   /* #VE page-not-present with a verified GVA */
	uint64_t gva_unknown;	   /* ... without (DZ_VE_F_GVA_VALID clear) */
	uint64_t hard_errors;	   /* guest died: async fault where it cannot sleep */
	uint64_t pred_evals;
	uint64_t pred_ns_sum;
	uint64_t pred_insns_sum;
	uint64_t pred_registered; /* successful registrations */
	uint64_t pred_rejected;
};

struct dz_apf;

int dz_apf__create(struct vm *vm, const struct dz_apf_config *cfg, struct dz_apf **out);
/* Fills the fault service hooks (opaque = apf). Use with lost_release = DZ_LOST_POISON. */
void dz_apf__faultsvc_hooks(struct dz_apf *a, struct dz_faultsvc_hooks *h);
/* Connects the fault service once it exists (before vm__run). */
void dz_apf__set_faultsvc(struct dz_apf *a, struct dz_faultsvc *svc);
/* Fills the VM hooks (opaque = apf); set them with vm__set_hooks() before vm__run. */
void dz_apf__vm_hooks(struct dz_apf *a, struct vm_hooks *h);
struct dz_policy *dz_apf__policy(struct dz_apf *a);

void dz_apf__stats(struct dz_apf *a, struct dz_apf_stats *st);
/* Writes an "async" object member into the current JSON object. */
void dz_apf__stats_json(struct dz_apf *a, struct dz_json *j);
/*
 * After a failed run: if the guest died of a hard error, a sentence naming the
 * policy and the last page-not-present delivered to that vCPU (RIP, CPL, GPA,
 * decision); "" otherwise. Also counts the hard error in the stats.
 */
void dz_apf__explain(struct dz_apf *a, const struct vm_result *res, char *buf, size_t len);
void dz_apf__destroy(struct dz_apf *a);

#endif
