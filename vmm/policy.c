// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous page-fault policies (see policy.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"

#define RFLAGS_IF (1ull << 9)

static const char *const kind_names[] = {
    [DZ_POLICY_SYNC] = "sync",
    [DZ_POLICY_USER] = "user",
    [DZ_POLICY_ALWAYS] = "always",
    [DZ_POLICY_BPF] = "bpf",
};

static const char *const reason_names[DZ__DECIDE_MAX] = {
    [DZ_DECIDE_ASYNC] = "async",
    [DZ_SYNC_POLICY] = "policy_no",
    [DZ_SYNC_PREDICATE] = "predicate_no",
    [DZ_SYNC_PRED_ERROR] = "predicate_error",
    [DZ_SYNC_NOT_INTERRUPTIBLE] = "not_interruptible",
    [DZ_SYNC_ADAPTIVE] = "adaptive",
    [DZ_SYNC_TOKEN_LIMIT] = "token_limit",
    [DZ_SYNC_NOT_ARMED] = "not_armed",
    [DZ_SYNC_NOT_VISIBLE] = "not_visible",
    [DZ_SYNC_NOT_VCPU] = "not_vcpu",
    [DZ_SYNC_PINNED] = "pinned",
    [DZ_SYNC_NOT_RESTARTABLE] = "not_restartable",
    [DZ_SYNC_ARRIVED] = "arrived",
};

int dz_policy_kind__parse(const char *s, enum dz_policy_kind *out)
{
	for (unsigned int i = 0; s && i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (!strcmp(s, kind_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *dz_policy_kind__name(enum dz_policy_kind kind)
{
	if ((unsigned int)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "?";
	return kind_names[kind];
}

const char *dz_decide_reason__name(enum dz_decide_reason r)
{
	if ((unsigned int)r >= DZ__DECIDE_MAX)
		return "?";
	return reason_names[r];
}

static void pred_trace(void *opaque, const char *msg, uint64_t arg)
{
	fprintf(stderr, "doze: predicate: %s %#llx\n", msg, (unsigned long long)arg);
}

int dz_policy__new(enum dz_policy_kind kind, uint64_t async_min_wait_ns,
		   const struct dz_guestmem *gm, struct dz_policy **out)
{
	struct dz_policy *p;

	if ((unsigned int)kind > DZ_POLICY_BPF)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->kind = kind;
	p->async_min_wait_ns = async_min_wait_ns;
	p->gm = gm;
	if (gm)
		dz_guestmem__bpf_ops(gm, &p->ops);
	pthread_mutex_init(&p->lock, NULL);
	*out = p;
	return 0;
}

void dz_policy__free(struct dz_policy *p)
{
	if (!p)
		return;
	dz_prog__free(p->pred);
	for (unsigned int i = 0; i < p->nr_retired; i++)
		dz_prog__free(p->retired[i]);
	free(p->retired);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int dz_policy__set_predicate(struct dz_policy *p, struct dz_prog *prog)
{
	struct dz_prog *old, **r;

	if (!prog || !prog->verified || prog->type != DZ_PROG_PREDICATE)
		return -EPERM;
	pthread_mutex_lock(&p->lock);
	old = __atomic_load_n(&p->pred, __ATOMIC_ACQUIRE);
	if (old) {
		r = realloc(p->retired, (p->nr_retired + 1) * sizeof(*r));
		if (!r) {
			pthread_mutex_unlock(&p->lock);
			return -ENOMEM;
		}
		p->retired = r;
		p->retired[p->nr_retired++] = old;
	}
	__atomic_store_n(&p->pred, prog, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void dz_policy__set_trace(struct dz_policy *p, bool on)
{
	p->ops.trace = on ? pred_trace : NULL;
}

bool dz_policy__has_predicate(struct dz_policy *p)
{
	return __atomic_load_n(&p->pred, __ATOMIC_ACQUIRE) != NULL;
}

void dz_policy__count(struct dz_policy *p, enum dz_decide_reason r)
{
	if ((unsigned int)r < DZ__DECIDE_MAX)
		__atomic_fetch_add(&p->stats.decisions[r], 1, __ATOMIC_RELAXED);
}

bool dz_policy__may_async(struct dz_policy *p, const struct dz_fault_env *env,
			  enum dz_decide_reason *why)
{
	enum dz_decide_reason r = DZ_DECIDE_ASYNC;

	if (p->kind == DZ_POLICY_SYNC)
		r = DZ_SYNC_POLICY;
	else if (!env->armed)
		r = DZ_SYNC_NOT_ARMED;
	else if (env->expected_latency_ns && env->expected_latency_ns < p->async_min_wait_ns)
		r = DZ_SYNC_ADAPTIVE;
	else if (!env->tokens_available)
		r = DZ_SYNC_TOKEN_LIMIT;
	if (why)
		*why = r;
	return r == DZ_DECIDE_ASYNC;
}

void dz_pred_ctx__from_kvm(struct dz_pred_ctx *ctx, uint32_t vcpu, const struct kvm_regs *regs,
			   const struct kvm_sregs *sregs, uint64_t kernel_gs_base,
			   uint64_t fault_gpa, uint64_t fault_gva, bool gva_valid, uint32_t access)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->vcpu = vcpu;
	ctx->cpl = sregs->cs.selector & 3;
	ctx->rflags = regs->rflags;
	ctx->rip = regs->rip;
	ctx->rsp = regs->rsp;
	ctx->rax = regs->rax;
	ctx->rbx = regs->rbx;
	ctx->rcx = regs->rcx;
	ctx->rdx = regs->rdx;
	ctx->rsi = regs->rsi;
	ctx->rdi = regs->rdi;
	ctx->rbp = regs->rbp;
	ctx->r8 = regs->r8;
	ctx->r9 = regs->r9;
	ctx->r10 = regs->r10;
	ctx->r11 = regs->r11;
	ctx->r12 = regs->r12;
	ctx->r13 = regs->r13;
	ctx->r14 = regs->r14;
	ctx->r15 = regs->r15;
	ctx->cr0 = sregs->cr0;
	ctx->cr3 = sregs->cr3;
	ctx->cr4 = sregs->cr4;
	ctx->efer = sregs->efer;
	ctx->fs_base = sregs->fs.base;
	ctx->gs_base = sregs->gs.base;
	ctx->kernel_gs_base = kernel_gs_base;
	ctx->fault_gpa = fault_gpa;
	ctx->fault_gva = gva_valid ? fault_gva : 0;
	ctx->access = access;
	ctx->flags = gva_valid ? DZ_PRED_F_GVA_VALID : 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static enum dz_decide_reason run_predicate(struct dz_policy *p, const struct dz_prog *prog,
					   const struct dz_pred_ctx *ctx)
{
	struct dz_run_opts opts = {.ops = p->gm ? &p->ops : NULL};
	struct dz_run_stats rs = {0};
	struct dz_pred_ctx copy = *ctx; /* the engine takes a mutable pointer */
	uint64_t ret = 0, t0 = mono_ns(), t1;
	int err;

	err = dz_prog__run(prog, &copy, sizeof(copy), &opts, &ret, &rs);
	t1 = mono_ns();
	__atomic_fetch_add(&p->stats.pred_evals, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->stats.pred_ns_sum, t1 - t0, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->stats.pred_insns_sum, rs.insns, __ATOMIC_RELAXED);
	if (err)
		return DZ_SYNC_PRED_ERROR;
	if (ret != DZ_PRED_MAY_SLEEP)
		return DZ_SYNC_PREDICATE;
	__atomic_fetch_add(&p->stats.pred_may_sleep, 1, __ATOMIC_RELAXED);
	return DZ_DECIDE_ASYNC;
}

bool dz_policy__pred_needs_kernel_gs_base(struct dz_policy *p, uint32_t cpl)
{
	const struct dz_prog *prog = __atomic_load_n(&p->pred, __ATOMIC_ACQUIRE);
	unsigned int slot = offsetof(struct dz_pred_ctx, kernel_gs_base) / 8;

	if (!prog)
		return false;
	return (prog->ctx_read & (1ULL << slot)) ||
	       (cpl == 3 && (prog->helpers_called & (1U << DZ_HELPER_READ_PERCPU)));
}

enum dz_decide_reason dz_policy__evaluate(struct dz_policy *p, const struct dz_pred_ctx *ctx,
					  const struct dz_fault_env *env)
{
	enum dz_decide_reason r;
	const struct dz_prog *prog;

	/* Cheap host-side reasons first: they never need the guest's state. */
	if (!dz_policy__may_async(p, env, &r))
		return r;
	if (!(ctx->rflags & RFLAGS_IF))
		return DZ_SYNC_NOT_INTERRUPTIBLE;
	switch (p->kind) {
	case DZ_POLICY_ALWAYS:
		return DZ_DECIDE_ASYNC;
	case DZ_POLICY_BPF:
		prog = __atomic_load_n(&p->pred, __ATOMIC_ACQUIRE);
		if (prog)
			return run_predicate(p, prog, ctx);
		/* no predicate registered: behave as `user` */
		__attribute__((fallthrough));
	case DZ_POLICY_USER:
	default:
		return ctx->cpl == 3 ? DZ_DECIDE_ASYNC : DZ_SYNC_POLICY;
	}
}

void dz_policy__account(struct dz_policy *p, enum dz_decide_reason r, uint32_t cpl)
{
	dz_policy__count(p, r);
	if (r == DZ_DECIDE_ASYNC)
		__atomic_fetch_add(&p->stats.async_by_cpl[cpl & 3], 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&p->stats.sync_by_cpl[cpl & 3], 1, __ATOMIC_RELAXED);
}

enum dz_decide_reason dz_policy__decide(struct dz_policy *p, const struct dz_pred_ctx *ctx,
					const struct dz_fault_env *env)
{
	enum dz_decide_reason r = dz_policy__evaluate(p, ctx, env);

	dz_policy__account(p, r, ctx->cpl);
	return r;
}

void dz_policy__get_stats(struct dz_policy *p, struct dz_policy_stats *out)
{
	for (unsigned int i = 0; i < DZ__DECIDE_MAX; i++)
		out->decisions[i] = __atomic_load_n(&p->stats.decisions[i], __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < 4; i++) {
		out->async_by_cpl[i] = __atomic_load_n(&p->stats.async_by_cpl[i], __ATOMIC_RELAXED);
		out->sync_by_cpl[i] = __atomic_load_n(&p->stats.sync_by_cpl[i], __ATOMIC_RELAXED);
	}
	out->pred_evals = __atomic_load_n(&p->stats.pred_evals, __ATOMIC_RELAXED);
	out->pred_ns_sum = __atomic_load_n(&p->stats.pred_ns_sum, __ATOMIC_RELAXED);
	out->pred_insns_sum = __atomic_load_n(&p->stats.pred_insns_sum, __ATOMIC_RELAXED);
	out->pred_may_sleep = __atomic_load_n(&p->stats.pred_may_sleep, __ATOMIC_RELAXED);
}
