// SPDX-License-Identifier: GPL-2.0
/*
 * The asynchronous page-fault path: fault visibility, the per-fault decision,
 * page-not-present / page-ready delivery and lost-page reports (see apf.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "apf-impl.h"
#include "faultgva.h"
#include "vm-impl.h" /* vm->stopping: a host-side wait gives up when the VM stops */

/* The SIGBUS handler finds the vCPU through these (one apf per process). */
static struct dz_apf *g_apf;
static __thread struct apf_vcpu *tl_v;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool stopping(struct dz_apf *a)
{
	return atomic_load(&a->vm->stopping);
}

static void trace(struct dz_apf *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct dz_apf *a, const char *fmt, ...)
{
	va_list ap;

	if (!a->cfg.trace)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "doze: apf: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct apf_vcpu *apf__vcpu_of(struct dz_apf *a, struct vcpu *vcpu)
{
	int i = vcpu__index(vcpu);

	return i >= 0 && i < a->nr ? &a->v[i] : NULL;
}

enum dz_page_state apf__page_state(struct dz_apf *a, uint64_t gpa)
{
	return a->svc ? dz_faultsvc__page_state(a->svc, gpa) : DZ_PAGE_PRESENT;
}

/* ---- host-side waits ---------------------------------------------------- */

/* Waits until the page is present or lost (or the VM stops). Returns its state. */
static enum dz_page_state wait_page(struct apf_vcpu *v, uint64_t gpa)
{
	struct dz_apf *a = v->a;
	uint64_t t0 = now_ns();
	enum dz_page_state st = apf__page_state(a, gpa);

	if (st == DZ_PAGE_PRESENT || st == DZ_PAGE_LOST)
		return st;
	dz_faultsvc__request(a->svc, gpa & ~(DZ_PAGE_SIZE - 1), DZ_PAGE_SIZE, DZ_PRIO_DEMAND);
	pthread_mutex_lock(&a->wait_lock);
	v->wait_pfn = gpa >> DZ_PAGE_SHIFT;
	for (;;) {
		struct timespec ts;

		st = apf__page_state(a, gpa);
		if (st == DZ_PAGE_PRESENT || st == DZ_PAGE_LOST || stopping(a))
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&v->cond, &a->wait_lock, &ts);
	}
	v->wait_pfn = APF_NO_PFN;
	pthread_mutex_unlock(&a->wait_lock);
	v->sync_waits++;
	v->sync_wait_ns += now_ns() - t0;
	return st;
}

int apf__ensure_present(struct apf_vcpu *v, uint64_t gpa, uint64_t len)
{
	if (dz_guestmem__check_range(&v->a->gm, gpa, len))
		return -EFAULT;
	if (!len)
		return 0;
	for (uint64_t p = gpa & ~(DZ_PAGE_SIZE - 1); p < gpa + len; p += DZ_PAGE_SIZE) {
		enum dz_page_state st = wait_page(v, p);

		if (st == DZ_PAGE_LOST)
			return -EIO;
		if (st != DZ_PAGE_PRESENT)
			return -EINTR;
	}
	return 0;
}

static int gm_read(struct apf_vcpu *v, uint64_t gpa, void *dst, uint64_t len)
{
	int err = apf__ensure_present(v, gpa, len);

	return err ? err : dz_guestmem__read(&v->a->gm, gpa, dst, len);
}

static int gm_write(struct apf_vcpu *v, uint64_t gpa, const void *src, uint64_t len)
{
	int err = apf__ensure_present(v, gpa, len);

	return err ? err : dz_guestmem__write(&v->a->gm, gpa, src, len);
}

/* ---- page-ready ---------------------------------------------------------- */

void apf__deliver_ready(struct apf_vcpu *v)
{
	uint32_t busy, token;

	if (!v->en || !dz_tokens__ready_pending(&v->tokens))
		return;
	/* the guest clears the token before it ACKs: until then the area is its own */
	if (gm_read(v, v->area_gpa + APF_AREA_TOKEN, &busy, sizeof(busy)) || busy)
		return;
	if (dz_tokens__take_ready(&v->tokens, &token, now_ns()))
		return;
	if (gm_write(v, v->area_gpa + APF_AREA_TOKEN, &token, sizeof(token)) ||
	    vcpu__queue_irq(v->vcpu, v->vector)) {
		dz_tokens__untake(&v->tokens, token);
		return;
	}
	v->page_ready++;
	trace(v->a, "vCPU %d: page-ready token %#x queued on vector %u", v->idx, token, v->vector);
}

/* ---- making a fault visible: SIGBUS ------------------------------------- */

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct apf_vcpu *v = tl_v;
	struct dz_apf *a = g_apf;
	uint8_t *addr = si->si_addr;

	(void)sig;
	(void)uc;
	/* KVM reports a poisoned guest page as an action-required memory error */
	if (v && a && si->si_code == BUS_MCEERR_AR && addr >= a->ram &&
	    addr < a->ram + a->ram_size && ++v->sigbus_repeat < 1000000) {
		v->sigbus_gpa = addr - a->ram;
		v->sigbus_pending = 1;
		return;
	}
	/* the VMM itself touched a page it must not: die the way SIGBUS does */
	signal(SIGBUS, SIG_DFL);
}

/* ---- taking a ring-0 read back ------------------------------------------ */

/*
 * The read exited before it retired. Complete it with dummy data without
 * entering the guest (immediate_exit), then put the registers back: the
 * instruction runs again, for real, once the page is there.
 */
static int rollback(struct apf_vcpu *v, const struct kvm_regs *saved)
{
	struct kvm_run *run = vcpu__kvm_run(v->vcpu);
	int r = 0, i;

	for (i = 0; i < 8; i++) {
		memset(run->mmio.data, 0, sizeof(run->mmio.data));
		r = vcpu__complete_io(v->vcpu);
		if (r <= 0)
			break;
		/* another piece of the instruction (the write half of a read-modify-write):
		 * complete it too, its effect is undone with the registers */
		if (run->exit_reason != KVM_EXIT_MMIO) {
			r = -EIO;
			break;
		}
	}
	if (i == 8)
		r = -EIO;
	if (!r)
		r = vcpu__set_regs(v->vcpu, saved);
	v->rollbacks++;
	return r;
}

/*
 * String instructions keep KVM's emulator read cache across the restart, so a
 * rolled-back `rep movs` would replay stale data: they are served synchronously.
 */
static bool string_insn(struct apf_vcpu *v, const struct kvm_regs *regs,
			const struct kvm_sregs *sregs)
{
	struct dz_guest_ops ops;
	uint8_t code[15];
	uint64_t gpa;

	dz_guestmem__bpf_ops(&v->a->gm, &ops);
	for (unsigned int i = 0; i < sizeof(code); i++) {
		if (dz_gva_to_gpa(&ops, sregs->cr3, sregs->cr4, regs->rip + i, &gpa) ||
		    dz_guestmem__read(&v->a->gm, gpa, &code[i], 1))
			return true; /* cannot tell: be safe */
		switch (code[i]) {
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
		case 0x64:
		case 0x65:
		case 0x66:
		case 0x67:
		case 0xf0:
		case 0xf2:
		case 0xf3:
			continue;
		}
		if (code[i] >= 0x40 && code[i] <= 0x4f) /* REX */
			continue;
		return (code[i] >= 0xa4 && code[i] <= 0xa7) ||
		       (code[i] >= 0xaa && code[i] <= 0xaf) || (code[i] >= 0x6c && code[i] <= 0x6f);
	}
	return true;
}

/*
 * Injects an exception for the next entry. KVM would deliver an interrupt
 * queued for the same entry right after it, on the handler's first
 * instruction (before its swapgs, with IF = 0): tell the VMM core's injector
 * the guest cannot take one now, so it asks for an interrupt window instead.
 */
static void hold_interrupts(struct apf_vcpu *v)
{
	struct kvm_run *run = vcpu__kvm_run(v->vcpu);

	run->if_flag = 0;
	run->ready_for_interrupt_injection = 0;
}

static int inject_exception(struct apf_vcpu *v, uint8_t vector, bool has_err, uint32_t err)
{
	int r = vcpu__inject_exception(v->vcpu, vector, has_err, err);

	if (!r)
		hold_interrupts(v);
	return r;
}

/* ---- lost pages ----------------------------------------------------------- */

static uint32_t err_code(int status)
{
	switch (status) {
	case -ENODATA:
		return DZ_ERR_TRUNCATED;
	case -EBADMSG:
		return DZ_ERR_CHECKSUM;
	default:
		return DZ_ERR_SOURCE_GONE;
	}
}

/*
 * No #VE area to tell the guest through: report the page the way hardware
 * reports poisoned memory, as a machine check (abi.h 6b). A read has not
 * retired (action required, RIP is the instruction); a ring-0 write has
 * (action optional, execution may go on). If the guest cannot take a machine
 * check either, nothing can tell it: end the run naming the page.
 */
static int lost_as_mce(struct apf_vcpu *v, uint64_t gpa, enum apf_kind kind, const char *why)
{
	uint64_t status = DZ_MCI_STATUS_VAL | DZ_MCI_STATUS_UC | DZ_MCI_STATUS_EN |
			  DZ_MCI_STATUS_MISCV | DZ_MCI_STATUS_ADDRV | DZ_MCI_STATUS_S;
	uint64_t mcg = DZ_MCG_STATUS_MCIP;
	const char *off;
	int err;

	if (kind == APF_MMIO_WRITE) {
		status |= DZ_MCACOD_WRITEBACK;
		mcg |= DZ_MCG_STATUS_RIPV;
	} else {
		status |= DZ_MCI_STATUS_AR | DZ_MCACOD_DATA_LOAD;
		mcg |= DZ_MCG_STATUS_EIPV;
	}
	err = vcpu__machine_check(v->vcpu, status, gpa, DZ_MCE_MISC_PAGE, mcg);
	if (!err) {
		hold_interrupts(v); /* as after any injected exception */
		v->errors++;
		v->mce++;
		trace(v->a, "vCPU %d: page %#llx lost: machine check raised", v->idx,
		      (unsigned long long)gpa);
		return 1;
	}
	off = err == -EOPNOTSUPP ? "KVM offers no machine-check bank"
	      : err == -EPERM	 ? "machine checks are off (CR4.MCE or MC0_CTL)"
	      : err == -EBUSY	 ? "a machine check is already in progress"
				 : strerror(-err);
	dz__fail(v->a->vm, -EIO,
		 "vCPU %d: guest page %#llx is lost (%s); the guest has no #VE area armed and "
		 "cannot be told by a machine check either: %s",
		 v->idx, (unsigned long long)gpa, why[0] ? why : "source error", off);
	return -EIO;
}

static int deliver_lost(struct apf_vcpu *v, uint64_t gpa, enum apf_kind kind,
			const struct kvm_regs *regs)
{
	struct dz_apf *a = v->a;
	struct dz_ve_info ve = {0};
	struct kvm_sregs sregs;
	char why[256] = "", gvs[24] = "unknown";
	uint64_t gva = 0;
	int err, gva_err = -ENOTSUP;

	if (a->svc)
		dz_faultsvc__lost_reason(a->svc, why, sizeof(why));
	v->last_error = err_code(apf__lost_status(a, gpa));
	if (kind == APF_MMIO_READ && regs) {
		err = rollback(v, regs);
		if (err)
			return err;
	}
	if (!v->ve || !v->ve_gpa || gm_read(v, v->ve_gpa, &ve, sizeof(ve)) || ve.busy)
		return lost_as_mce(v, gpa, kind, why);
	/* a retired write (no regs) has moved RIP on: no GVA for it */
	if (regs && !vcpu__get_sregs(v->vcpu, &sregs))
		gva_err = dz_fault_gva(&a->gm, regs, &sregs, gpa, kind == APF_MMIO_READ, &gva);
	ve = (struct dz_ve_info){
	    .reason = DZ_VE_PAGE_LOST,
	    .busy = DZ_VE_BUSY,
	    .gpa = gpa,
	    .gva = gva_err ? 0 : gva,
	    .flags = (kind == APF_MMIO_WRITE ? DZ_VE_F_WRITE : 0) | (gva_err ? 0 : DZ_VE_F_GVA_VALID),
	    .error = v->last_error,
	};
	err = gm_write(v, v->ve_gpa, &ve, sizeof(ve));
	if (!err)
		err = inject_exception(v, DZ_VEC_VE, false, 0);
	if (err)
		return err;
	v->errors++;
	if (a->cfg.trace && !gva_err)
		snprintf(gvs, sizeof(gvs), "%#llx", (unsigned long long)gva);
	trace(a, "vCPU %d: page %#llx lost: error event delivered, GVA %s", v->idx,
	      (unsigned long long)gpa, gvs);
	return 1;
}

static void fill_mmio(struct dz_apf *a, struct kvm_run *run)
{
	uint64_t gpa = run->mmio.phys_addr;

	memcpy(run->mmio.data, a->ram + gpa, run->mmio.len);
}

/* ---- page not present ------------------------------------------------------ */

/*
 * Delivers "page not present" for gpa. Returns 1 if delivered, 2 if the page
 * turned up meanwhile (the access just runs again: nothing is delivered), 0
 * with a DZ_SYNC_* reason in *why when the guest cannot take it now, < 0 on a
 * fatal error.
 */
static int inject_not_present(struct apf_vcpu *v, uint64_t gpa, enum apf_kind kind,
			      const struct kvm_regs *regs, const struct kvm_sregs *sregs,
			      uint64_t gva, int gva_err, enum dz_decide_reason *why)
{
	struct dz_apf *a = v->a;
	struct dz_ve_info ve;
	uint32_t flags, token;
	char gvs[24] = "unknown";
	int err, early;

	/* the guest's area must be free: no nested page-not-present */
	if (v->ve) {
		if (gm_read(v, v->ve_gpa, &ve, sizeof(ve)) || ve.busy) {
			*why = DZ_SYNC_NOT_ARMED;
			return 0;
		}
	} else if (gm_read(v, v->area_gpa + APF_AREA_FLAGS, &flags, sizeof(flags)) || flags) {
		*why = DZ_SYNC_NOT_ARMED;
		return 0;
	}
	if (dz_tokens__alloc(&v->tokens, gpa >> DZ_PAGE_SHIFT, &token)) {
		*why = DZ_SYNC_TOKEN_LIMIT;
		return 0;
	}
	/*
	 * page_done() marks the tokens of a page under the table's lock after the
	 * page's state became final; a page that got there before our token did
	 * is seen here instead (the lock orders the two).
	 */
	if (apf__page_state(a, gpa) != DZ_PAGE_MISSING &&
	    apf__page_state(a, gpa) != DZ_PAGE_INFLIGHT) {
		dz_tokens__cancel(&v->tokens, token);
		v->early++;
		if (kind == APF_MMIO_READ && apf__page_state(a, gpa) == DZ_PAGE_PRESENT)
			fill_mmio(a, vcpu__kvm_run(v->vcpu));
		return 2; /* a lost page is reported when the access runs again */
	}
	if (kind == APF_MMIO_READ) {
		err = rollback(v, regs);
		if (err) {
			dz_tokens__cancel(&v->tokens, token);
			return err;
		}
	}
	early = dz_tokens__delivered(&v->tokens, token);
	if (early == 1) {
		/* the page beat us: the access simply runs again */
		v->early++;
		return 2;
	}
	if (v->ve) {
		ve = (struct dz_ve_info){
		    .reason = DZ_VE_PAGE_NOT_PRESENT,
		    .busy = DZ_VE_BUSY,
		    .token = token,
		    .gpa = gpa,
		    .gva = gva_err ? 0 : gva,
		    .flags = gva_err ? 0 : DZ_VE_F_GVA_VALID,
		};
		err = gm_write(v, v->ve_gpa, &ve, sizeof(ve));
		if (!err)
			err = inject_exception(v, DZ_VEC_VE, false, 0);
	} else {
		struct kvm_sregs s = *sregs;

		flags = KVM_PV_REASON_PAGE_NOT_PRESENT;
		s.cr2 = token;
		err = gm_write(v, v->area_gpa + APF_AREA_FLAGS, &flags, sizeof(flags));
		if (!err)
			err = vcpu__set_sregs(v->vcpu, &s);
		if (!err)
			err = inject_exception(v, 14, true, 0);
	}
	if (err)
		return err;
	v->last.valid = true;
	v->last.rip = regs->rip;
	v->last.gpa = gpa;
	v->last.cpl = sregs->cs.selector & 3;
	v->last.token = token;
	if (v->ve && gva_err)
		v->gva_unknown++;
	else if (v->ve)
		v->gva_filled++;
	if (a->cfg.trace && !gva_err)
		snprintf(gvs, sizeof(gvs), "%#llx", (unsigned long long)gva);
	trace(a, "vCPU %d: page-not-present token %#x GPA %#llx RIP %#llx CPL %u (%s) GVA %s",
	      v->idx, token, (unsigned long long)gpa, regs->rip, v->last.cpl,
	      kind == APF_SIGBUS ? "ring 3" : "ring-0 read", gvs);
	return 1;
}

static uint64_t kernel_gs_base(struct apf_vcpu *v)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e.index = MSR_KERNEL_GS_BASE};

	if (ioctl(vcpu__fd(v->vcpu), KVM_GET_MSRS, &m) != 1)
		return 0;
	return m.e.data;
}

/*
 * Whether this decision needs KERNEL_GS_BASE (a KVM_GET_MSRS): only the
 * guest's predicate reads it, only if it runs (the other policies and the
 * predicate's own preconditions in dz_policy__evaluate say no first), and
 * only if the verifier saw it load the field or call dz_read_percpu from CPL 3.
 * A predicate registered by another vCPU right after this check sees 0 there
 * once.
 */
static bool needs_kernel_gs_base(struct dz_apf *a, const struct kvm_regs *regs,
				 const struct kvm_sregs *sregs, const struct dz_fault_env *env)
{
	return a->cfg.policy == DZ_POLICY_BPF && (regs->rflags & (1ull << 9)) /* IF */ &&
	       dz_policy__pred_needs_kernel_gs_base(a->policy, sregs->cs.selector & 3) &&
	       dz_policy__may_async(a->policy, env, NULL);
}

/* A fault on gpa became visible on v's thread. Returns 1 handled, < 0 fatal. */
static int handle_fault(struct apf_vcpu *v, uint64_t gpa, enum apf_kind kind, struct kvm_run *run)
{
	struct dz_apf *a = v->a;
	struct dz_fault_env env;
	struct dz_pred_ctx ctx;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	enum dz_decide_reason r;
	enum dz_page_state st;
	uint64_t gva = 0, kgs;
	int err, gva_err;

	v->visible++;
	if (a->visible && gpa < a->ram_size)
		atomic_store(&a->visible[gpa >> DZ_PAGE_SHIFT], 2);
	if (kind == APF_MMIO_WRITE) {
		err = apf__wb_write(v, gpa, run->mmio.data, run->mmio.len);
		if (err == -EIO)
			return deliver_lost(v, gpa, kind, NULL);
		return err ? err : 1;
	}
	st = apf__page_state(a, gpa);
	if (st == DZ_PAGE_PRESENT) {
		if (kind == APF_MMIO_READ)
			fill_mmio(a, run);
		return 1;
	}
	err = vcpu__get_regs(v->vcpu, &regs);
	if (!err)
		err = vcpu__get_sregs(v->vcpu, &sregs);
	if (err)
		return err;
	if (st == DZ_PAGE_LOST)
		return deliver_lost(v, gpa, kind, &regs);

	env = (struct dz_fault_env){
	    .expected_latency_ns = a->svc ? dz_faultsvc__expected_latency_ns(a->svc) : 0,
	    .armed = atomic_load(&v->armed),
	    .tokens_available = dz_tokens__outstanding(&v->tokens) < v->tokens.limit,
	};
	/* the linear address only if the guest's page tables confirm it: for the
	 * predicate's context and the #VE area alike */
	gva_err = dz_fault_gva(&a->gm, &regs, &sregs, gpa, kind == APF_MMIO_READ, &gva);
	kgs = needs_kernel_gs_base(a, &regs, &sregs, &env) ? kernel_gs_base(v) : 0;
	dz_pred_ctx__from_kvm(&ctx, v->idx, &regs, &sregs, kgs, gpa, gva_err ? 0 : gva, !gva_err,
			      DZ_ACCESS_READ);
	r = dz_policy__evaluate(a->policy, &ctx, &env);
	if (r == DZ_DECIDE_ASYNC && kind == APF_MMIO_READ && string_insn(v, &regs, &sregs))
		r = DZ_SYNC_NOT_RESTARTABLE;
	if (r == DZ_DECIDE_ASYNC) {
		err = inject_not_present(v, gpa, kind, &regs, &sregs, gva, gva_err, &r);
		if (err == 2) {
			dz_policy__count(a->policy, DZ_SYNC_ARRIVED);
			return 1;
		}
		if (err) {
			/* async_faults counts deliveries, not decisions */
			if (err > 0)
				dz_policy__account(a->policy, DZ_DECIDE_ASYNC, ctx.cpl);
			return err;
		}
		/* the guest could not take it: served synchronously (r says why) */
	}
	dz_policy__account(a->policy, r, ctx.cpl);
	st = wait_page(v, gpa);
	if (st == DZ_PAGE_LOST)
		return deliver_lost(v, gpa, kind, &regs);
	if (st != DZ_PAGE_PRESENT)
		return 1; /* the VM is stopping */
	if (kind == APF_MMIO_READ)
		fill_mmio(a, run);
	return 1;
}

/* ---- VM hooks ------------------------------------------------------------------ */

static void h_vcpu_start(void *opaque, struct vcpu *vcpu)
{
	tl_v = apf__vcpu_of(opaque, vcpu);
}

static void h_vcpu_stop(void *opaque, struct vcpu *vcpu)
{
	tl_v = NULL;
}

static int h_on_eintr(void *opaque, struct vcpu *vcpu)
{
	struct apf_vcpu *v = apf__vcpu_of(opaque, vcpu);
	int r = 0;

	if (!v)
		return 0;
	if (v->sigbus_pending) {
		uint64_t gpa = v->sigbus_gpa;

		v->sigbus_pending = 0;
		v->sigbus_repeat = 0;
		r = handle_fault(v, gpa, APF_SIGBUS, NULL);
		if (r < 0)
			return r;
	}
	apf__deliver_ready(v);
	return r;
}

static int h_on_mmio(void *opaque, struct vcpu *vcpu, struct kvm_run *run)
{
	struct dz_apf *a = opaque;
	struct apf_vcpu *v = apf__vcpu_of(a, vcpu);
	uint64_t gpa = run->mmio.phys_addr;

	if (!v || gpa >= a->ram_size || run->mmio.len > 8)
		return 0; /* a real MMIO access: not a guest RAM page */
	return handle_fault(v, gpa, run->mmio.is_write ? APF_MMIO_WRITE : APF_MMIO_READ, run);
}

static int h_on_msr(void *opaque, struct vcpu *vcpu, struct kvm_run *run)
{
	struct apf_vcpu *v = apf__vcpu_of(opaque, vcpu);

	return v ? apf__on_msr(v, run) : 0;
}

static int h_before_entry(void *opaque, struct vcpu *vcpu)
{
	struct apf_vcpu *v = apf__vcpu_of(opaque, vcpu);

	if (v)
		apf__deliver_ready(v);
	return 0;
}

void dz_apf__vm_hooks(struct dz_apf *a, struct vm_hooks *h)
{
	memset(h, 0, sizeof(*h));
	h->opaque = a;
	h->vcpu_start = h_vcpu_start;
	h->vcpu_stop = h_vcpu_stop;
	h->on_eintr = h_on_eintr;
	h->on_mmio = h_on_mmio;
	h->on_msr = h_on_msr;
	h->before_entry = h_before_entry;
}

/* ---- fault service hooks (service thread) -------------------------------------- */

static struct apf_vcpu *vcpu_by_tid(struct dz_apf *a, pid_t tid)
{
	for (int i = 0; i < a->nr; i++)
		if (vcpu__tid(a->v[i].vcpu) == tid)
			return &a->v[i];
	return NULL;
}

bool apf__pinned(struct dz_apf *a, uint64_t gpa)
{
	bool r = false;

	for (unsigned int i = 0; i < a->cfg.nr_pinned; i++)
		if (gpa >= a->cfg.pinned[i].start && gpa < a->cfg.pinned[i].end)
			return true;
	pthread_mutex_lock(&a->pin_lock);
	for (unsigned int i = 0; i < a->nr_guest_pinned && !r; i++)
		r = gpa >= a->guest_pinned[i].start && gpa < a->guest_pinned[i].end;
	pthread_mutex_unlock(&a->pin_lock);
	return r;
}

static int s_decide(void *opaque, uint64_t gpa, pid_t tid, uint64_t flags)
{
	struct dz_apf *a = opaque;
	struct apf_vcpu *v;
	struct dz_fault_env env;
	enum dz_decide_reason why;

	if (!a->svc || a->cfg.policy == DZ_POLICY_SYNC) {
		dz_policy__count(a->policy, DZ_SYNC_POLICY);
		return DZ_FAULT_WAIT;
	}
	v = vcpu_by_tid(a, tid);
	if (!v) {
		dz_policy__count(a->policy, DZ_SYNC_NOT_VCPU);
		return DZ_FAULT_WAIT;
	}
	if (apf__pinned(a, gpa)) {
		dz_policy__count(a->policy, DZ_SYNC_PINNED);
		return DZ_FAULT_WAIT;
	}
	env = (struct dz_fault_env){
	    .expected_latency_ns = dz_faultsvc__expected_latency_ns(a->svc),
	    .armed = atomic_load(&v->armed),
	    .tokens_available = dz_tokens__outstanding(&v->tokens) < v->tokens.limit,
	};
	if (!dz_policy__may_async(a->policy, &env, &why)) {
		dz_policy__count(a->policy, why);
		return DZ_FAULT_WAIT;
	}
	if (a->visible)
		atomic_store(&a->visible[gpa >> DZ_PAGE_SHIFT], 1);
	return DZ_FAULT_POISON;
}

static void s_before_install(void *opaque, uint64_t gpa, void *page)
{
	apf__wb_before_install(opaque, gpa, page);
}

static void s_page_done(void *opaque, uint64_t gpa, int status)
{
	struct dz_apf *a = opaque;
	uint64_t pfn = gpa >> DZ_PAGE_SHIFT, t = now_ns();

	apf__wb_page_done(a, gpa, status);
	if (a->visible && atomic_exchange(&a->visible[pfn], 0) == 1)
		dz_policy__count(a->policy, DZ_SYNC_NOT_VISIBLE);
	for (int i = 0; i < a->nr; i++) {
		struct apf_vcpu *v = &a->v[i];

		if (dz_tokens__page_arrived(&v->tokens, pfn, t) > 0)
			vcpu__kick(v->vcpu);
	}
	pthread_mutex_lock(&a->wait_lock);
	for (int i = 0; i < a->nr; i++)
		if (a->v[i].wait_pfn == pfn)
			pthread_cond_signal(&a->v[i].cond);
	pthread_mutex_unlock(&a->wait_lock);
}

static void s_lost(void *opaque, uint64_t gpa, int err, const char *why)
{
	struct dz_apf *a = opaque;

	/*
	 * A page the guest's own machinery needs (page tables, kernel code, stacks:
	 * the never-async ranges) cannot be reported to it: KVM would fail on the
	 * poisoned page. End the run naming the page and the source. Any other page
	 * stays poisoned and the vCPU that touches it reports it to the guest.
	 */
	if (apf__pinned(a, gpa)) {
		vm__stop(a->vm, err < 0 ? err : -EIO, why);
		return;
	}
	trace(a, "page %#llx lost: %s", (unsigned long long)gpa, why);
}

void dz_apf__faultsvc_hooks(struct dz_apf *a, struct dz_faultsvc_hooks *h)
{
	memset(h, 0, sizeof(*h));
	h->opaque = a;
	h->decide = s_decide;
	h->before_install = s_before_install;
	h->page_done = s_page_done;
	h->lost = s_lost;
}

void dz_apf__set_faultsvc(struct dz_apf *a, struct dz_faultsvc *svc)
{
	a->svc = svc;
	a->gm.page_present = svc ? dz_faultsvc__page_present : NULL;
	a->gm.opaque = svc;
}

/* ---- life cycle ------------------------------------------------------------------ */

int dz_apf__create(struct vm *vm, const struct dz_apf_config *cfg, struct dz_apf **out)
{
	struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
	struct dz_apf *a;
	int err;

	if (g_apf)
		return -EBUSY;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->vm = vm;
	a->cfg = *cfg;
	a->ram = vm__ram(vm);
	a->ram_size = vm__ram_size(vm);
	a->gm = (struct dz_guestmem){.ram = a->ram, .size = a->ram_size};
	a->nr = vm__nr_vcpus(vm);
	a->visible = calloc(a->ram_size >> DZ_PAGE_SHIFT, 1);
	pthread_mutex_init(&a->wait_lock, NULL);
	pthread_mutex_init(&a->wb_lock, NULL);
	pthread_mutex_init(&a->pin_lock, NULL);
	pthread_cond_init(&a->wb_cond, NULL);
	err = dz_policy__new(cfg->policy, cfg->async_min_wait_ns, &a->gm, &a->policy);
	if (err)
		goto fail;
	dz_policy__set_trace(a->policy, cfg->trace);
	a->v = calloc(a->nr, sizeof(*a->v));
	if (!a->v) {
		err = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < a->nr; i++) {
		struct apf_vcpu *v = &a->v[i];

		v->a = a;
		v->idx = i;
		v->vcpu = vm__vcpu(vm, i);
		v->wait_pfn = APF_NO_PFN;
		pthread_cond_init(&v->cond, NULL);
		dz_tokens__init(&v->tokens, i, cfg->token_limit);
	}
	/* CPUID 0x40000101 tells the guest #VE delivery and predicates are offered */
	err = vm__set_doze_features(vm, DZ_CPUID_F_PORTS | DZ_CPUID_F_PRED |
					    (cfg->pf_delivery ? 0 : DZ_CPUID_F_VE) |
					    (vm__has_mce(vm) ? DZ_CPUID_F_LOST_MCE : 0));
	if (err)
		goto fail;
	if (sigaction(SIGBUS, &sa, NULL)) {
		err = -errno;
		goto fail;
	}
	g_apf = a;
	*out = a;
	return 0;
fail:
	dz_apf__destroy(a);
	return err;
}

void dz_apf__destroy(struct dz_apf *a)
{
	if (!a)
		return;
	if (g_apf == a) {
		signal(SIGBUS, SIG_DFL);
		g_apf = NULL;
	}
	for (int i = 0; a->v && i < a->nr; i++) {
		dz_tokens__destroy(&a->v[i].tokens);
		pthread_cond_destroy(&a->v[i].cond);
	}
	free(a->v);
	free((void *)a->visible);
	dz_policy__free(a->policy);
	free(a->wb);
	pthread_mutex_destroy(&a->wait_lock);
	pthread_mutex_destroy(&a->wb_lock);
	pthread_mutex_destroy(&a->pin_lock);
	pthread_cond_destroy(&a->wb_cond);
	free(a);
}

struct dz_policy *dz_apf__policy(struct dz_apf *a)
{
	return a->policy;
}

/* ---- stats ------------------------------------------------------------------------- */

void dz_apf__stats(struct dz_apf *a, struct dz_apf_stats *st)
{
	struct dz_policy_stats ps;

	memset(st, 0, sizeof(*st));
	dz_policy__get_stats(a->policy, &ps);
	for (int i = 0; i < 4; i++) {
		st->async_by_cpl[i] = ps.async_by_cpl[i];
		st->sync_by_cpl[i] = ps.sync_by_cpl[i];
	}
	for (int i = 1; i < DZ__DECIDE_MAX; i++)
		st->sync_reason[i] = ps.decisions[i];
	st->pred_evals = ps.pred_evals;
	st->pred_ns_sum = ps.pred_ns_sum;
	st->pred_insns_sum = ps.pred_insns_sum;
	for (int i = 0; i < a->nr; i++) {
		struct apf_vcpu *v = &a->v[i];
		struct dz_tokens_stats ts;

		dz_tokens__get_stats(&v->tokens, &ts);
		st->visible_faults += v->visible;
		st->rollbacks += v->rollbacks;
		st->write_behind += v->write_behind;
		st->write_behind_bytes += v->write_behind_bytes;
		st->early_wakes += v->early;
		st->page_ready += v->page_ready;
		st->acks += v->acks;
		st->sync_waits += v->sync_waits;
		st->sync_wait_ns_sum += v->sync_wait_ns;
		st->errors_delivered += v->errors;
		st->errors_as_mce += v->mce;
		st->gva_filled += v->gva_filled;
		st->gva_unknown += v->gva_unknown;
		if (ts.outstanding_max > st->tokens_outstanding_max)
			st->tokens_outstanding_max = ts.outstanding_max;
		st->ready_latency_ns_sum += ts.ready_latency_ns_sum;
		if (ts.ready_latency_ns_max > st->ready_latency_ns_max)
			st->ready_latency_ns_max = ts.ready_latency_ns_max;
		st->roundtrip_ns_sum += ts.roundtrip_ns_sum;
	}
	st->hard_errors = atomic_load(&a->hard_errors);
	st->pred_registered = atomic_load(&a->pred_registered);
	st->pred_rejected = atomic_load(&a->pred_rejected);
}

static void json_cpl(struct dz_json *j, const char *key, const uint64_t *n)
{
	static const char *const names[4] = {"ring0", "ring1", "ring2", "ring3"};

	dz_json__obj_begin(j, key);
	for (int i = 0; i < 4; i++)
		if (i == 0 || i == 3 || n[i])
			dz_json__u64(j, names[i], n[i]);
	dz_json__obj_end(j);
}

void dz_apf__stats_json(struct dz_apf *a, struct dz_json *j)
{
	struct dz_apf_stats st;

	dz_apf__stats(a, &st);
	dz_json__obj_begin(j, "async");
	dz_json__str(j, "policy", dz_policy_kind__name(a->cfg.policy));
	dz_json__u64(j, "async_min_wait_ns", a->cfg.async_min_wait_ns);
	dz_json__bool(j, "predicate_registered", dz_policy__has_predicate(a->policy));
	json_cpl(j, "async_faults", st.async_by_cpl);
	json_cpl(j, "sync_faults_on_vcpu", st.sync_by_cpl);
	dz_json__obj_begin(j, "sync_fallbacks");
	for (int i = 1; i < DZ__DECIDE_MAX; i++)
		dz_json__u64(j, dz_decide_reason__name(i), st.sync_reason[i]);
	dz_json__obj_end(j);
	dz_json__u64(j, "visible_faults", st.visible_faults);
	dz_json__u64(j, "rollbacks", st.rollbacks);
	dz_json__u64(j, "write_behind", st.write_behind);
	dz_json__u64(j, "write_behind_bytes", st.write_behind_bytes);
	dz_json__u64(j, "early_wakes", st.early_wakes);
	dz_json__u64(j, "tokens_outstanding_max", st.tokens_outstanding_max);
	dz_json__obj_begin(j, "page_ready");
	dz_json__u64(j, "count", st.page_ready);
	dz_json__u64(j, "acks", st.acks);
	dz_json__double(j, "latency_mean_ns",
			st.acks ? (double)st.ready_latency_ns_sum / st.acks : 0.0);
	dz_json__u64(j, "latency_max_ns", st.ready_latency_ns_max);
	dz_json__double(j, "roundtrip_mean_ns",
			st.acks ? (double)st.roundtrip_ns_sum / st.acks : 0.0);
	dz_json__obj_end(j);
	dz_json__obj_begin(j, "sync_waits");
	dz_json__u64(j, "count", st.sync_waits);
	dz_json__double(j, "mean_ns",
			st.sync_waits ? (double)st.sync_wait_ns_sum / st.sync_waits : 0.0);
	dz_json__obj_end(j);
	dz_json__obj_begin(j, "predicate");
	dz_json__u64(j, "registered", st.pred_registered);
	dz_json__u64(j, "rejected", st.pred_rejected);
	dz_json__u64(j, "evaluations", st.pred_evals);
	dz_json__double(j, "mean_ns", st.pred_evals ? (double)st.pred_ns_sum / st.pred_evals : 0.0);
	dz_json__double(j, "mean_insns",
			st.pred_evals ? (double)st.pred_insns_sum / st.pred_evals : 0.0);
	dz_json__obj_end(j);
	dz_json__obj_begin(j, "gva"); /* #VE page-not-present with / without a verified GVA */
	dz_json__u64(j, "filled", st.gva_filled);
	dz_json__u64(j, "unknown", st.gva_unknown);
	dz_json__obj_end(j);
	dz_json__u64(j, "errors_delivered", st.errors_delivered);
	dz_json__u64(j, "errors_as_machine_check", st.errors_as_mce);
	dz_json__u64(j, "hard_errors", st.hard_errors);
	dz_json__obj_end(j);
}

void dz_apf__explain(struct dz_apf *a, const struct vm_result *res, char *buf, size_t len)
{
	buf[0] = 0;
	if (!res || !strstr(res->error, "hard error"))
		return;
	atomic_fetch_add(&a->hard_errors, 1);
	for (int i = 0; i < a->nr; i++) {
		struct apf_vcpu *v = &a->v[i];
		char tag[32];

		snprintf(tag, sizeof(tag), "vCPU %d:", i);
		if (!strstr(res->error, tag) || !v->last.valid)
			continue;
		snprintf(buf, len,
			 "hard error under policy '%s': the host delivered page-not-present to "
			 "vCPU %d at RIP %#llx, CPL %u (GPA %#llx, token %#x) where the guest "
			 "cannot sleep",
			 dz_policy_kind__name(a->cfg.policy), i, (unsigned long long)v->last.rip,
			 v->last.cpl, (unsigned long long)v->last.gpa, v->last.token);
		return;
	}
	snprintf(buf, len, "hard error under policy '%s'", dz_policy_kind__name(a->cfg.policy));
}
