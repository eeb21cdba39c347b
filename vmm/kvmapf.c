// SPDX-License-Identifier: GPL-2.0
/*
 * The kvm peer: KVM's own in-kernel async page faults around doze's fault
 * service (see kvmapf.h, docs/kvm-peer.md).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <doze/abi.h>

#include "kvmapf.h"

#define MSR_IA32_APICBASE 0x1b
#define APIC_BASE_ADDR	  0xfee00000ULL
#define APIC_BASE_BSP	  (1ULL << 8)
#define APIC_BASE_EXTD	  (1ULL << 10)
#define APIC_BASE_EN	  (1ULL << 11)
#define APIC_SVR	  0xf0 /* offset in struct kvm_lapic_state */
#define APIC_SVR_ENABLE	  (1U << 8)
#define SPURIOUS_VECTOR	  0xff

#define PF_WORKER 1 /* per-page kinds of the first event */
#define PF_VCPU	  2

struct wd {		   /* per-vCPU watchdog, touched only by its thread */
	uint64_t exits;	   /* exits seen at the last sample */
	uint64_t since_ns; /* last exit */
};

struct dz_kvmapf {
	struct vm *vm;
	struct dz_kvmapf_config cfg;
	/* service thread only */
	uint64_t npages;
	uint64_t *t0; /* first event on a page not yet present, 0 = none */
	uint8_t *kind;
	struct dz_kvmapf_stats st;
	_Atomic uint64_t events_worker; /* read by the watchdog on vCPU threads */
	_Atomic bool stalled;
	struct wd *wd;
	/* the caller's lost hook, chained */
	void *lost_opaque;
	void (*lost)(void *opaque, uint64_t gpa, int err, const char *why);
};

const char *dz_kvm_guest__name(enum dz_kvm_guest g)
{
	switch (g) {
	case DZ_KVM_GUEST_APF:
		return "apf";
	case DZ_KVM_GUEST_LAPIC:
		return "lapic";
	case DZ_KVM_GUEST_NONE:
		return "none";
	case DZ_KVM_GUEST_NO_LAPIC:
		return "no-lapic";
	}
	return "?";
}

int dz_kvmapf__create(struct vm *vm, const struct dz_kvmapf_config *cfg, struct dz_kvmapf **out)
{
	struct dz_kvmapf *k = calloc(1, sizeof(*k));
	uint32_t f = DZ_CPUID_F_PORTS;
	int err;

	if (!k)
		return -ENOMEM;
	k->vm = vm;
	k->cfg = *cfg;
	if (!k->cfg.stall_ns)
		k->cfg.stall_ns = 3000000000ULL;
	k->npages = vm__ram_size(vm) / 4096;
	k->t0 = calloc(k->npages, sizeof(*k->t0));
	k->kind = calloc(k->npages, 1);
	k->wd = calloc(vm__nr_vcpus(vm), sizeof(*k->wd));
	if (!k->t0 || !k->kind || !k->wd) {
		dz_kvmapf__destroy(k);
		return -ENOMEM;
	}
	dz_hist__init(&k->st.wait_vcpu);
	dz_hist__init(&k->st.wait_worker);
	if (cfg->guest == DZ_KVM_GUEST_APF || cfg->guest == DZ_KVM_GUEST_LAPIC)
		f |= DZ_CPUID_F_KVM_LAPIC;
	if (cfg->guest == DZ_KVM_GUEST_APF || cfg->guest == DZ_KVM_GUEST_NO_LAPIC)
		f |= DZ_CPUID_F_KVM_APF;
	err = vm__set_doze_features(vm, f);
	if (err) {
		dz_kvmapf__destroy(k);
		return err;
	}
	*out = k;
	return 0;
}

void dz_kvmapf__destroy(struct dz_kvmapf *k)
{
	if (!k)
		return;
	free(k->t0);
	free(k->kind);
	free(k->wd);
	free(k);
}

static bool is_vcpu_thread(struct dz_kvmapf *k, pid_t tid)
{
	for (int i = 0; i < vm__nr_vcpus(k->vm); i++)
		if (vcpu__tid(vm__vcpu(k->vm, i)) == tid)
			return true;
	return false;
}

/* Service thread. Never poisons: in this mode a fault either blocks its vCPU
 * (ring 0, IF = 0) or was raised by KVM's worker while the vCPU runs on. */
static int decide(void *opaque, uint64_t gpa, pid_t tid, uint64_t flags)
{
	struct dz_kvmapf *k = opaque;
	uint64_t pfn = gpa / 4096;
	bool vcpu = is_vcpu_thread(k, tid);

	if (vcpu) {
		k->st.events_vcpu++;
	} else {
		atomic_fetch_add(&k->events_worker, 1);
		if (flags & 1) /* UFFD_PAGEFAULT_FLAG_WRITE: KVM's worker faults for write */
			k->st.events_worker_write++;
	}
	if (pfn < k->npages && !k->t0[pfn]) {
		k->t0[pfn] = dz_now_ns();
		k->kind[pfn] = vcpu ? PF_VCPU : PF_WORKER;
	}
	return DZ_FAULT_WAIT;
}

static void page_done(void *opaque, uint64_t gpa, int status)
{
	struct dz_kvmapf *k = opaque;
	uint64_t pfn = gpa / 4096, w;

	if (pfn >= k->npages || !k->t0[pfn])
		return;
	w = dz_now_ns() - k->t0[pfn];
	if (k->kind[pfn] == PF_VCPU) {
		k->st.wait_vcpu_ns += w;
		dz_hist__add(&k->st.wait_vcpu, w);
	} else {
		k->st.wait_worker_ns += w;
		dz_hist__add(&k->st.wait_worker, w);
	}
	k->t0[pfn] = 0;
}

static void lost(void *opaque, uint64_t gpa, int err, const char *why)
{
	struct dz_kvmapf *k = opaque;

	if (k->lost)
		k->lost(k->lost_opaque, gpa, err, why);
}

void dz_kvmapf__faultsvc_hooks(struct dz_kvmapf *k, struct dz_faultsvc_hooks *h)
{
	k->lost = h->lost;
	k->lost_opaque = h->opaque;
	h->lost = lost;
	h->opaque = k;
	h->decide = decide;
	h->page_done = page_done;
}

static int set_msr(struct vcpu *v, uint32_t idx, uint64_t val)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e = {.index = idx, .data = val}};

	return ioctl(vcpu__fd(v), KVM_SET_MSRS, &m) == 1 ? 0 : -EINVAL;
}

static int get_msr(struct vcpu *v, uint32_t idx, uint64_t *val)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e = {.index = idx}};

	if (ioctl(vcpu__fd(v), KVM_GET_MSRS, &m) != 1)
		return -EINVAL;
	*val = m.e.data;
	return 0;
}

static uint32_t lapic_svr(const struct kvm_lapic_state *l)
{
	uint32_t v;

	memcpy(&v, l->regs + APIC_SVR, 4);
	return v;
}

/*
 * A snapshot of a userspace-irqchip VM has no LAPIC state: KVM's LAPIC starts
 * software-disabled. Do what firmware does: x2APIC mode, SVR enabled with the
 * spurious vector 0xff, on every vCPU (an AP whose LAPIC is off could never
 * take the IPI that asks it to arm). A snapshot of an in-kernel-irqchip VM
 * brings its own state, left alone.
 */
int dz_kvmapf__after_restore(struct dz_kvmapf *k)
{
	if (k->cfg.guest == DZ_KVM_GUEST_NONE || k->cfg.guest == DZ_KVM_GUEST_NO_LAPIC)
		return 0;
	for (int i = 0; i < vm__nr_vcpus(k->vm); i++) {
		struct vcpu *v = vm__vcpu(k->vm, i);
		struct kvm_lapic_state l;
		uint64_t base;
		uint32_t svr;
		int err;

		if (ioctl(vcpu__fd(v), KVM_GET_LAPIC, &l))
			return -errno;
		if (lapic_svr(&l) & APIC_SVR_ENABLE)
			continue;
		err = get_msr(v, MSR_IA32_APICBASE, &base);
		if (err)
			return err;
		if (!(base & APIC_BASE_EXTD)) {
			base = APIC_BASE_ADDR | APIC_BASE_EN | (i == 0 ? APIC_BASE_BSP : 0);
			if ((err = set_msr(v, MSR_IA32_APICBASE, base)) ||
			    (err = set_msr(v, MSR_IA32_APICBASE, base | APIC_BASE_EXTD)))
				return err;
		}
		if (ioctl(vcpu__fd(v), KVM_GET_LAPIC, &l))
			return -errno;
		svr = APIC_SVR_ENABLE | SPURIOUS_VECTOR;
		memcpy(l.regs + APIC_SVR, &svr, 4);
		if (ioctl(vcpu__fd(v), KVM_SET_LAPIC, &l))
			return -errno;
	}
	return 0;
}

/*
 * vCPU thread, after every EINTR (the tick timer kicks it ~100 times a second
 * even while KVM keeps it inside KVM_RUN). The known failure: the guest armed
 * KVM's APF with its LAPIC software-disabled; KVM went async (its worker
 * fetches the page), the guest parked the task and idles, and the page-ready
 * interrupt can never be delivered: the vCPU spins in its idle loop inside
 * KVM_RUN without a single exit (HLT is handled in the kernel).
 */
static int on_eintr(void *opaque, struct vcpu *v)
{
	struct dz_kvmapf *k = opaque;
	struct wd *w = &k->wd[vcpu__index(v)];
	const struct vcpu_stats *vs = vcpu__stats(v);
	uint64_t now = dz_now_ns(), exits = 0, en;
	struct kvm_lapic_state l;
	struct kvm_regs regs;
	char why[512];

	for (int i = 0; i < DZ_NR_EXIT_REASONS; i++)
		exits += vs->exits[i];
	if (exits != w->exits || !w->since_ns) {
		w->exits = exits;
		w->since_ns = now;
		return 0;
	}
	if (now - w->since_ns < k->cfg.stall_ns)
		return 0;
	w->since_ns = now; /* look again after another period */
	if (!atomic_load(&k->events_worker) || get_msr(v, 0x4b564d02, &en) || !(en & 1))
		return 0;
	if (ioctl(vcpu__fd(v), KVM_GET_LAPIC, &l) || (lapic_svr(&l) & APIC_SVR_ENABLE) ||
	    vcpu__get_regs(v, &regs))
		return 0;
	snprintf(why, sizeof(why),
		 "vCPU %d made no exit for %.1f s (RIP %#llx) with KVM's async page faults armed "
		 "and its LAPIC software-disabled (SVR %#x), after KVM handed %llu fault(s) to its "
		 "worker: the page-ready interrupt can never be delivered and the vCPU spins (the "
		 "guest must software-enable its LAPIC before arming; see docs/kvm-peer.md)",
		 vcpu__index(v), (double)k->cfg.stall_ns / 1e9, (unsigned long long)regs.rip,
		 lapic_svr(&l), (unsigned long long)atomic_load(&k->events_worker));
	atomic_store(&k->stalled, true);
	vm__stop(k->vm, -EDEADLK, why);
	return 0;
}

void dz_kvmapf__vm_hooks(struct dz_kvmapf *k, struct vm_hooks *h)
{
	memset(h, 0, sizeof(*h));
	h->opaque = k;
	h->on_eintr = on_eintr;
}

void dz_kvmapf__collect(struct dz_kvmapf *k, struct dz_faultsvc *svc)
{
	int n = vm__nr_vcpus(k->vm), enabled = 0, counted = 0;

	for (int i = 0; i < n; i++) {
		uint64_t en, c[7];

		if (get_msr(vm__vcpu(k->vm, i), 0x4b564d02, &en) || !(en & 1))
			continue;
		enabled++;
		/* the counters sit in the area's pad: offset 8, magic first */
		if (!svc || dz_faultsvc__read(svc, (en & ~63ULL) + 8, c, sizeof(c)) ||
		    c[0] != DZ_KVMAPF_COUNTERS_MAGIC)
			continue;
		counted++;
		k->st.not_present_ring3 += c[1];
		k->st.not_present_ring0 += c[2];
		k->st.page_ready += c[3];
		k->st.wake_all += c[4];
		k->st.early += c[5];
		k->st.probed += c[6];
	}
	k->st.guest_apf_enabled = enabled == n;
	k->st.guest_counters = counted > 0;
}

void dz_kvmapf__stats(struct dz_kvmapf *k, struct dz_kvmapf_stats *st)
{
	*st = k->st;
	st->events_worker = atomic_load(&k->events_worker);
	st->stalled = atomic_load(&k->stalled);
}

void dz_kvmapf__stats_json(struct dz_kvmapf *k, struct dz_json *j)
{
	struct dz_kvmapf_stats st;

	dz_kvmapf__stats(k, &st);
	dz_json__obj_begin(j, "kvm");
	dz_json__str(j, "guest_mode", dz_kvm_guest__name(k->cfg.guest));
	dz_json__bool(j, "guest_apf_enabled", st.guest_apf_enabled);
	dz_json__bool(j, "guest_counters", st.guest_counters);
	dz_json__obj_begin(j, "page_not_present");
	dz_json__u64(j, "ring3", st.not_present_ring3);
	dz_json__u64(j, "ring0", st.not_present_ring0);
	dz_json__obj_end(j);
	dz_json__u64(j, "page_ready", st.page_ready);
	dz_json__u64(j, "wake_all", st.wake_all);
	dz_json__u64(j, "early_wakes", st.early);
	dz_json__u64(j, "slot_probes", st.probed);
	dz_json__obj_begin(j, "uffd_events");
	dz_json__u64(j, "vcpu", st.events_vcpu);
	dz_json__u64(j, "worker", st.events_worker);
	dz_json__u64(j, "worker_write_flag", st.events_worker_write);
	dz_json__obj_end(j);
	dz_json__u64(j, "vcpu_wait_ns", st.wait_vcpu_ns);
	dz_json__u64(j, "worker_wait_ns", st.wait_worker_ns);
	dz_json__hist(j, "vcpu_wait", &st.wait_vcpu);
	dz_json__hist(j, "worker_wait", &st.wait_worker);
	dz_json__bool(j, "stalled", st.stalled);
	dz_json__obj_end(j);
}
