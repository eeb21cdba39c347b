/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The asynchronous page-fault policy: per missing-page fault of a vCPU, deliver
 * "page not present" to the guest (ASYNC) or wait for the page on the host side
 * (SYNC), with the reason as a stats key.
 *
 *   sync     never async (what today's VMMs do)
 *   user     Linux KVM's rule: async only at CPL 3 with IF=1
 *   always   any CPL with IF=1 (the old SEND_ALWAYS; unsafe, kept to show the
 *            hard error the guest raises when a context that cannot sleep is
 *            told to)
 *   bpf      the guest's verified eBPF predicate decides (IF=1 still required);
 *            `user` while the guest has registered none
 *
 * Adaptive: when the page source expects the page sooner than async_min_wait,
 * waiting is cheaper than a task switch in the guest, so the fault stays sync.
 *
 * Thread-safe: vCPU threads decide concurrently; a predicate may be (re)set by
 * any vCPU thread at any time. Replaced predicates are kept until the policy
 * is freed, so a decision running on the old one never sees it freed.
 */
#ifndef DZ_VMM_POLICY_H
#define DZ_VMM_POLICY_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <doze/bpf.h>
#include <doze/pred.h>

#include "guestmem.h"

enum dz_policy_kind {
	DZ_POLICY_SYNC = 0,
	DZ_POLICY_USER,
	DZ_POLICY_ALWAYS,
	DZ_POLICY_BPF,
};

/* The outcome of a decision. DZ_DECIDE_ASYNC is the only "yes". */
enum dz_decide_reason {
	DZ_DECIDE_ASYNC = 0,
	DZ_SYNC_POLICY,		   /* the policy says no (sync; user at CPL < 3) */
	DZ_SYNC_PREDICATE,	   /* the guest's predicate returned 0 */
	DZ_SYNC_PRED_ERROR,	   /* the predicate failed at run time (budget, helper) */
	DZ_SYNC_NOT_INTERRUPTIBLE, /* IF=0 at the fault */
	DZ_SYNC_ADAPTIVE,	   /* the source is faster than --async-min-wait */
	DZ_SYNC_TOKEN_LIMIT,	   /* DZ_TOKENS_MAX tokens outstanding on this vCPU */
	DZ_SYNC_NOT_ARMED,	   /* guest has not enabled APF, or its #VE area is busy */
	DZ_SYNC_NOT_VISIBLE,	   /* the fault never became visible within the grace period */
	DZ_SYNC_NOT_VCPU,	   /* the fault came from a thread that is not a vCPU */
	DZ_SYNC_PINNED,		   /* the page is never made async (kernel image, page tables) */
	DZ_SYNC_NOT_RESTARTABLE,   /* a ring-0 string instruction: cannot be taken back */
	DZ_SYNC_ARRIVED,	   /* the page came between decision and delivery: the
				    * access just runs again, no page-not-present */
	DZ__DECIDE_MAX,
};

/* What the VMM knows about the fault and the vCPU besides its registers. */
struct dz_fault_env {
	uint64_t expected_latency_ns; /* source's estimate for this page; 0 = unknown */
	bool armed;		      /* APF enabled by the guest and the #VE area free */
	bool tokens_available;	      /* the vCPU's token table has room */
};

struct dz_policy_stats {
	uint64_t decisions[DZ__DECIDE_MAX];
	uint64_t async_by_cpl[4];
	uint64_t sync_by_cpl[4];
	uint64_t pred_evals;
	uint64_t pred_ns_sum;
	uint64_t pred_insns_sum;
	uint64_t pred_may_sleep; /* evaluations that returned 1 */
};

struct dz_policy {
	enum dz_policy_kind kind;
	uint64_t async_min_wait_ns;
	const struct dz_guestmem *gm; /* what the predicate's helpers read */
	struct dz_guest_ops ops;
	struct dz_prog *pred; /* atomic pointer; NULL until registered */
	pthread_mutex_t lock; /* serialises set_predicate and the retired list */
	struct dz_prog **retired;
	unsigned int nr_retired;
	struct dz_policy_stats stats; /* updated with atomics */
};

/* "sync" "user" "always" "bpf" -> kind; -EINVAL for anything else. */
int dz_policy_kind__parse(const char *s, enum dz_policy_kind *out);
const char *dz_policy_kind__name(enum dz_policy_kind kind);
/* Stats key of a reason: "async", "policy_no", "predicate_no", ... */
const char *dz_decide_reason__name(enum dz_decide_reason r);

/* gm may be NULL (the predicate's helpers then fail with -EFAULT). */
int dz_policy__new(enum dz_policy_kind kind, uint64_t async_min_wait_ns,
		   const struct dz_guestmem *gm, struct dz_policy **out);
void dz_policy__free(struct dz_policy *p);

/* Installs a verified predicate (ownership passes to the policy). -EPERM if not verified. */
int dz_policy__set_predicate(struct dz_policy *p, struct dz_prog *prog);
bool dz_policy__has_predicate(struct dz_policy *p);
/* Print the predicate's dz_trace() calls to stderr (set before the VM runs). */
void dz_policy__set_trace(struct dz_policy *p, bool on);

/*
 * Can a fault with this environment go async at all, whatever the vCPU state?
 * The fault service asks this before it makes the fault visible (poison); the
 * real decision follows on the vCPU thread with dz_policy__decide().
 */
bool dz_policy__may_async(struct dz_policy *p, const struct dz_fault_env *env,
			  enum dz_decide_reason *why);

/* Fills the predicate context from KVM's register state and the fault. */
void dz_pred_ctx__from_kvm(struct dz_pred_ctx *ctx, uint32_t vcpu, const struct kvm_regs *regs,
			   const struct kvm_sregs *sregs, uint64_t kernel_gs_base,
			   uint64_t fault_gpa, uint64_t fault_gva, bool gva_valid, uint32_t access);

/*
 * Whether the registered predicate may read KERNEL_GS_BASE for a fault at cpl
 * (it loads ctx->kernel_gs_base, or calls dz_read_percpu at CPL 3): what the
 * verifier recorded. false without a predicate.
 */
bool dz_policy__pred_needs_kernel_gs_base(struct dz_policy *p, uint32_t cpl);

/* The decision, not counted (the caller may still fall back to sync; see account). */
enum dz_decide_reason dz_policy__evaluate(struct dz_policy *p, const struct dz_pred_ctx *ctx,
					  const struct dz_fault_env *env);
/* Counts the final outcome of one fault taken at cpl. */
void dz_policy__account(struct dz_policy *p, enum dz_decide_reason r, uint32_t cpl);
/* evaluate + account. */
enum dz_decide_reason dz_policy__decide(struct dz_policy *p, const struct dz_pred_ctx *ctx,
					const struct dz_fault_env *env);

/* Counts a sync fallback decided outside dz_policy__decide (not visible, not a vCPU). */
void dz_policy__count(struct dz_policy *p, enum dz_decide_reason r);

void dz_policy__get_stats(struct dz_policy *p, struct dz_policy_stats *out);

#endif
