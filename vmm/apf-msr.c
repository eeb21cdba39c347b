// SPDX-License-Identifier: GPL-2.0
/*
 * The MSRs of the asynchronous page-fault ABI (docs/abi.md): Linux KVM's
 * paravirtual APF MSRs, mirrored, and doze's own range (#VE area, predicate
 * registration, lost-page error, page-ready ACK, features). The VMM core routes
 * them here through the MSR filter. A malformed write gets #GP, as on KVM.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apf-impl.h"
#include "predreg.h"

static void update_armed(struct apf_vcpu *v)
{
	atomic_store(&v->armed, v->en && (!v->ve || v->ve_gpa));
}

static bool area_ok(struct dz_apf *a, uint64_t gpa, uint64_t len)
{
	return !dz_guestmem__check_range(&a->gm, gpa, len);
}

static int wr_apf_en(struct apf_vcpu *v, uint64_t data)
{
	uint64_t gpa = data & ~0x3fULL;

	if (data & 0x30) /* reserved bits */
		return -EINVAL;
	if (!(data & KVM_ASYNC_PF_ENABLED)) {
		v->msr_en = data;
		v->en = false;
		update_armed(v);
		return 0;
	}
	/* doze delivers page-ready only by interrupt (Linux >= 5.10 does the same) */
	if (!(data & KVM_ASYNC_PF_DELIVERY_AS_INT) || v->vector < 32 ||
	    !area_ok(v->a, gpa, APF_AREA_SIZE))
		return -EINVAL;
	v->msr_en = data;
	v->area_gpa = gpa;
	v->en = true;
	update_armed(v);
	return 0;
}

static int wr_ve(struct apf_vcpu *v, uint64_t data)
{
	uint64_t gpa = data & ~0x3fULL;

	if (data & 0x3e || v->a->cfg.pf_delivery)
		return -EINVAL; /* reserved bits, or #VE not offered (--async-delivery pf) */
	if (!(data & DZ_VE_ENABLE)) {
		v->msr_ve = data;
		v->ve = false;
		v->ve_gpa = 0;
		update_armed(v);
		return 0;
	}
	if (!area_ok(v->a, gpa, sizeof(struct dz_ve_info)))
		return -EINVAL;
	v->msr_ve = data;
	v->ve_gpa = gpa;
	v->ve = true;
	update_armed(v);
	return 0;
}

static void ack(struct apf_vcpu *v)
{
	if (!dz_tokens__ack(&v->tokens))
		v->acks++;
	apf__deliver_ready(v);
}

/* Brings the registration block, program and log pages in, so a guest that
 * registers right after a lazy restore is not told -EAGAIN. */
static void prefetch_registration(struct apf_vcpu *v, uint64_t reg_gpa)
{
	struct dz_apf *a = v->a;
	struct dz_pred_reg reg;

	if (reg_gpa & 7 || apf__ensure_present(v, reg_gpa, sizeof(reg)))
		return;
	if (dz_guestmem__read(&a->gm, reg_gpa, &reg, sizeof(reg)))
		return;
	if (reg.prog_len <= DZ_PRED_MAX_IMAGE && area_ok(a, reg.prog_gpa, reg.prog_len))
		apf__ensure_present(v, reg.prog_gpa, reg.prog_len);
	if (reg.log_size <= DZ_PRED_MAX_LOG && area_ok(a, reg.log_gpa, reg.log_size))
		apf__ensure_present(v, reg.log_gpa, reg.log_size);
}

static void wr_pred(struct apf_vcpu *v, uint64_t data)
{
	struct dz_apf *a = v->a;
	struct dz_predreg_result res;

	prefetch_registration(v, data);
	dz_predreg__register(a->policy, &a->gm, data, &res);
	v->pred_verdict = res.verdict;
	if (res.verdict)
		atomic_fetch_add(&a->pred_rejected, 1);
	else
		atomic_fetch_add(&a->pred_registered, 1);
	/* a guest can register in a loop: log the first refusals only (all are counted) */
	if (a->cfg.trace || (res.verdict && atomic_load(&a->pred_rejected) <= 5))
		fprintf(stderr, "doze: vCPU %d: predicate registration: %s (verdict %d)%s\n", v->idx,
			res.reason, res.verdict,
			res.verdict && atomic_load(&a->pred_rejected) == 5 && !a->cfg.trace
				? "; further refusals are counted, not logged"
				: "");
}

static int wr_sync_ranges(struct apf_vcpu *v, uint64_t gpa)
{
	struct dz_apf *a = v->a;
	struct dz_sync_ranges sr;

	if (gpa & 7 || apf__ensure_present(v, gpa, sizeof(sr)) ||
	    dz_guestmem__read(&a->gm, gpa, &sr, sizeof(sr)) || sr.nr > DZ_SYNC_RANGES_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < sr.nr; i++)
		if (sr.range[i].end < sr.range[i].start)
			return -EINVAL;
	pthread_mutex_lock(&a->pin_lock);
	for (unsigned int i = 0; i < sr.nr; i++) {
		a->guest_pinned[i].start = sr.range[i].start;
		a->guest_pinned[i].end = sr.range[i].end;
	}
	a->nr_guest_pinned = sr.nr;
	pthread_mutex_unlock(&a->pin_lock);
	return 0;
}

int apf__on_msr(struct apf_vcpu *v, struct kvm_run *run)
{
	bool wr = run->exit_reason == KVM_EXIT_X86_WRMSR;
	uint64_t data = run->msr.data;
	int err = 0;

	switch (run->msr.index) {
	case DZ_MSR_KVM_ASYNC_PF_EN:
		if (wr)
			err = wr_apf_en(v, data);
		else
			run->msr.data = v->msr_en;
		break;
	case DZ_MSR_KVM_ASYNC_PF_INT:
		if (wr) {
			if ((data & ~0xffULL) || data < 32)
				err = -EINVAL;
			else
				v->msr_int = data, v->vector = data;
		} else {
			run->msr.data = v->msr_int;
		}
		break;
	case DZ_MSR_KVM_ASYNC_PF_ACK:
	case DZ_MSR_PAGE_READY_ACK:
		if (wr) {
			if (data & ~1ULL)
				err = -EINVAL;
			else if (data & 1)
				ack(v);
		} else {
			run->msr.data = 0;
		}
		break;
	case DZ_MSR_VE_INFO:
		if (wr)
			err = wr_ve(v, data);
		else
			run->msr.data = v->msr_ve;
		break;
	case DZ_MSR_PRED:
		if (wr)
			wr_pred(v, data);
		else
			run->msr.data = (uint64_t)v->pred_verdict;
		break;
	case DZ_MSR_ERROR:
		if (wr)
			v->last_error = 0; /* any write clears it */
		else
			run->msr.data = v->last_error;
		break;
	case DZ_MSR_SYNC_RANGES:
		if (wr)
			err = wr_sync_ranges(v, data);
		else
			run->msr.data = v->a->nr_guest_pinned;
		break;
	case DZ_MSR_FEATURES:
		if (wr)
			err = -EINVAL;
		else
			run->msr.data = DZ_CPUID_F_PORTS | DZ_CPUID_F_PRED |
					(v->a->cfg.pf_delivery ? 0 : DZ_CPUID_F_VE);
		break;
	default:
		return 0;
	}
	run->msr.error = err ? 1 : 0;
	return 1;
}
