// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU and device state to and from snapshot records: registers, segment and
 * control registers, FPU/XSAVE, XCRs, MSRs (TSC, syscall MSRs, FS/GS/KERNEL_GS
 * bases, KVM PV MSRs), pending events, debug registers, and the VMM's own
 * interrupt/tick state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <doze/abi.h>

#include "vm-impl.h"

/* Candidates; only those KVM lists and can read are kept (dz__init_state_lists). */
static const uint32_t msr_candidates[] = {
	0x10,	    /* IA32_TSC */
	0x3b,	    /* IA32_TSC_ADJUST */
	0x174,	    /* SYSENTER_CS */
	0x175,	    /* SYSENTER_ESP */
	0x176,	    /* SYSENTER_EIP */
	0x1a0,	    /* MISC_ENABLE */
	0x277,	    /* PAT */
	0xc0000081, /* STAR */
	0xc0000082, /* LSTAR */
	0xc0000083, /* CSTAR */
	0xc0000084, /* FMASK */
	0xc0000100, /* FS_BASE */
	0xc0000101, /* GS_BASE */
	0xc0000102, /* KERNEL_GS_BASE */
	0xc0000103, /* TSC_AUX */
	0x4b564d00, /* KVM wall clock */
	0x4b564d01, /* KVM system time */
	0x4b564d02, /* KVM async PF EN (KVM's copy; doze's lives in the VMM) */
	0x4b564d03, /* KVM steal time */
	0x4b564d04, /* KVM PV EOI */
	0x4b564d05, /* KVM poll control */
	0x4b564d06, /* KVM async PF INT */
};

/* The machine-check bank of abi.h 6b: KVM does not list bank MSRs, keep them if set up. */
static const uint32_t mce_msrs[] = {
	DZ_MSR_MCG_STATUS, DZ_MSR_MCG_CTL, DZ_MSR_MC0_CTL,
	DZ_MSR_MC0_STATUS, DZ_MSR_MC0_ADDR, DZ_MSR_MC0_MISC,
};

static bool kvm_lists(uint32_t idx, const struct kvm_msr_list *l)
{
	for (uint32_t i = 0; i < l->nmsrs; i++)
		if (l->indices[i] == idx)
			return true;
	return false;
}

int dz__init_state_lists(struct vm *vm)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *l;
	size_t n = sizeof(msr_candidates) / sizeof(msr_candidates[0]);
	int r;

	r = ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe);
	if (r && errno != E2BIG)
		return -errno;
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(uint32_t));
	vm->msr_list = calloc(n + sizeof(mce_msrs) / sizeof(mce_msrs[0]), sizeof(uint32_t));
	if (!l || !vm->msr_list) {
		free(l);
		return -ENOMEM;
	}
	l->nmsrs = probe.nmsrs;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l)) {
		free(l);
		return -errno;
	}
	for (size_t i = 0; i < n + sizeof(mce_msrs) / sizeof(mce_msrs[0]); i++) {
		uint32_t idx = i < n ? msr_candidates[i] : mce_msrs[i - n];
		struct {
			struct kvm_msrs h;
			struct kvm_msr_entry e;
		} m = { .h.nmsrs = 1, .e.index = idx };

		if (i < n ? !kvm_lists(idx, l) : !vm->mcg_cap)
			continue;
		if (idx == DZ_MSR_MCG_CTL && !(vm->mcg_cap & DZ_MCG_CAP_CTL_P))
			continue;
		/* keep only what can be written back (e.g. ASYNC_PF_INT needs an
		 * in-kernel LAPIC): restore must not fail on an MSR we saved */
		if (ioctl(vm->vcpus[0].fd, KVM_GET_MSRS, &m) != 1 ||
		    ioctl(vm->vcpus[0].fd, KVM_SET_MSRS, &m) != 1)
			continue;
		vm->msr_list[vm->nr_msrs++] = idx;
	}
	free(l);
	r = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (r > (int)sizeof(struct kvm_xsave))
		vm->xsave_size = r;
	else if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0)
		vm->xsave_size = sizeof(struct kvm_xsave);
	return 0;
}

static int save_vcpu(struct vm *vm, struct vcpu *v, struct dz_snap_writer *w)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_vcpu_events ev;
	struct kvm_debugregs dr;
	struct dz_snap_vcpu_dev dev = { 0 };
	size_t msz = sizeof(struct kvm_msrs) + vm->nr_msrs * sizeof(struct kvm_msr_entry);
	struct kvm_msrs *msrs;
	void *xs;
	int err;

	/* the vCPU is paused (settled: KVM loaded any register writes); this is
	 * for a caller that paused it some other way */
	err = dz__vcpu_flush_regs(v);
	if (err)
		return err;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) || ioctl(v->fd, KVM_GET_SREGS, &sregs) ||
	    ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) || ioctl(v->fd, KVM_GET_DEBUGREGS, &dr))
		return -errno;
	if ((err = dz_snap_writer__add(w, DZ_SNAP_REC_REGS, v->idx, &regs, sizeof(regs))) ||
	    (err = dz_snap_writer__add(w, DZ_SNAP_REC_SREGS, v->idx, &sregs, sizeof(sregs))))
		return err;
	if (vm->xsave_size) {
		xs = calloc(1, vm->xsave_size);
		if (!xs)
			return -ENOMEM;
		if (ioctl(v->fd, vm->xsave_size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
			  xs))
			err = -errno;
		else
			err = dz_snap_writer__add(w, DZ_SNAP_REC_XSAVE, v->idx, xs, vm->xsave_size);
		free(xs);
		if (err)
			return err;
		if (!ioctl(v->fd, KVM_GET_XCRS, &xcrs)) {
			err = dz_snap_writer__add(w, DZ_SNAP_REC_XCRS, v->idx, &xcrs, sizeof(xcrs));
			if (err)
				return err;
		}
	} else {
		struct kvm_fpu fpu;

		if (ioctl(v->fd, KVM_GET_FPU, &fpu))
			return -errno;
		err = dz_snap_writer__add(w, DZ_SNAP_REC_FPU, v->idx, &fpu, sizeof(fpu));
		if (err)
			return err;
	}
	msrs = calloc(1, msz);
	if (!msrs)
		return -ENOMEM;
	msrs->nmsrs = vm->nr_msrs;
	for (int i = 0; i < vm->nr_msrs; i++)
		msrs->entries[i].index = vm->msr_list[i];
	if (ioctl(v->fd, KVM_GET_MSRS, msrs) != vm->nr_msrs)
		err = -EIO;
	else
		err = dz_snap_writer__add(w, DZ_SNAP_REC_MSRS, v->idx, msrs, msz);
	free(msrs);
	if (err)
		return err;
	if ((err = dz_snap_writer__add(w, DZ_SNAP_REC_EVENTS, v->idx, &ev, sizeof(ev))) ||
	    (err = dz_snap_writer__add(w, DZ_SNAP_REC_DEBUGREGS, v->idx, &dr, sizeof(dr))))
		return err;
	if (vm->cfg.in_kernel_irqchip) {
		struct kvm_lapic_state lapic;
		struct kvm_mp_state mp;

		if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) || ioctl(v->fd, KVM_GET_MP_STATE, &mp))
			return -errno;
		if ((err = dz_snap_writer__add(w, DZ_SNAP_REC_LAPIC, v->idx, &lapic, sizeof(lapic))) ||
		    (err = dz_snap_writer__add(w, DZ_SNAP_REC_MP_STATE, v->idx, &mp, sizeof(mp))))
			return err;
	}
	for (int i = 0; i < 4; i++)
		dev.pending_irqs[i] = atomic_load(&v->pending_irqs[i]);
	dev.ticks = v->stats.ticks;
	dev.progress = v->stats.progress;
	return dz_snap_writer__add(w, DZ_SNAP_REC_VCPU_DEV, v->idx, &dev, sizeof(dev));
}

int vm__save_snapshot(struct vm *vm, const char *prefix)
{
	struct dz_snap_header h = { 0 };
	struct dz_snap_vm_dev vdev = { .tick_hz = vm->tick_hz };
	struct kvm_clock_data clk = { 0 };
	struct dz_snap_writer *w;
	char paths[2][4096];
	int err;

	if (!prefix)
		return -EINVAL;
	h.ram_size = vm->ram_size;
	h.nr_cpus = vm->nr_vcpus;
	h.layout = vm->layout;
	h.tick_hz = vm->tick_hz;
	snprintf(h.workload, sizeof(h.workload), "%s", vm->workload);
	if (!ioctl(vm->vm_fd, KVM_GET_CLOCK, &clk))
		vdev.kvmclock_ns = clk.clock;
	err = dz_snap_writer__begin(prefix, &h, vm->ram, &w);
	if (err)
		return err;
	for (int i = 0; i < vm->nr_vcpus && !err; i++)
		err = save_vcpu(vm, &vm->vcpus[i], w);
	if (!err)
		err = dz_snap_writer__add(w, DZ_SNAP_REC_VM_DEV, UINT32_MAX, &vdev, sizeof(vdev));
	if (err) {
		dz_snap_writer__abort(w);
		return err;
	}
	err = dz_snap_writer__finish(w, paths[0], paths[1]);
	if (!err) {
		pthread_mutex_lock(&vm->lock);
		memcpy(vm->snap_paths, paths, sizeof(paths));
		pthread_mutex_unlock(&vm->lock);
	}
	return err;
}

#define WHY(vm, ...) snprintf((vm)->last_error, sizeof((vm)->last_error), __VA_ARGS__)

static int rec(const struct dz_snapshot *s, uint32_t type, uint32_t cpu, const void **d, size_t want)
{
	size_t len;
	int err = dz_snapshot__record(s, type, cpu, d, &len);

	if (err)
		return err;
	return len == want ? 0 : -EBADMSG;
}

static int restore_vcpu(struct vm *vm, struct vcpu *v, const struct dz_snapshot *s)
{
	const void *d;
	size_t len;
	int err;

	dz__vcpu_forget_regs(v);
	/* order as QEMU does it: regs, xsave, xcrs, sregs, msrs, events, debugregs */
	if ((err = rec(s, DZ_SNAP_REC_REGS, v->idx, &d, sizeof(struct kvm_regs))))
		return err;
	if (ioctl(v->fd, KVM_SET_REGS, d))
		return -errno;
	if (!dz_snapshot__record(s, DZ_SNAP_REC_XSAVE, v->idx, &d, &len)) {
		void *xs;

		if (!vm->xsave_size || len < sizeof(struct kvm_xsave) || len > vm->xsave_size)
			return -EBADMSG;
		xs = calloc(1, vm->xsave_size);
		if (!xs)
			return -ENOMEM;
		memcpy(xs, d, len);
		err = ioctl(v->fd, KVM_SET_XSAVE, xs) ? -errno : 0;
		free(xs);
		if (err)
			return err;
	} else if (!rec(s, DZ_SNAP_REC_FPU, v->idx, &d, sizeof(struct kvm_fpu))) {
		if (ioctl(v->fd, KVM_SET_FPU, d))
			return -errno;
	} else {
		return -EBADMSG;
	}
	if (!rec(s, DZ_SNAP_REC_XCRS, v->idx, &d, sizeof(struct kvm_xcrs)) &&
	    ioctl(v->fd, KVM_SET_XCRS, d))
		return -errno;
	if ((err = rec(s, DZ_SNAP_REC_SREGS, v->idx, &d, sizeof(struct kvm_sregs))))
		return err;
	if (ioctl(v->fd, KVM_SET_SREGS, d))
		return -errno;
	if ((err = dz_snapshot__record(s, DZ_SNAP_REC_MSRS, v->idx, &d, &len)))
		return err;
	{
		const struct kvm_msrs *m = d;

		if (len < sizeof(*m) || m->nmsrs > 1024 ||
		    len != sizeof(*m) + m->nmsrs * sizeof(struct kvm_msr_entry))
			return -EBADMSG;
		err = ioctl(v->fd, KVM_SET_MSRS, m);
		if (err < 0)
			return -errno;
		if ((uint32_t)err != m->nmsrs) {
			WHY(vm, "vCPU %d: KVM_SET_MSRS refused MSR %#x", v->idx, m->entries[err].index);
			return -EINVAL;
		}
	}
	if (vm->cfg.in_kernel_irqchip) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		if (!rec(s, DZ_SNAP_REC_LAPIC, v->idx, &d, sizeof(struct kvm_lapic_state)) &&
		    ioctl(v->fd, KVM_SET_LAPIC, d))
			return -errno;
		if (!rec(s, DZ_SNAP_REC_MP_STATE, v->idx, &d, sizeof(mp)))
			memcpy(&mp, d, sizeof(mp));
		if (ioctl(v->fd, KVM_SET_MP_STATE, &mp))
			return -errno;
	}
	if ((err = rec(s, DZ_SNAP_REC_EVENTS, v->idx, &d, sizeof(struct kvm_vcpu_events))))
		return err;
	{
		struct kvm_vcpu_events ev;

		memcpy(&ev, d, sizeof(ev));
		ev.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
			    KVM_VCPUEVENT_VALID_SMM;
		if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev))
			return -errno;
	}
	if (!rec(s, DZ_SNAP_REC_DEBUGREGS, v->idx, &d, sizeof(struct kvm_debugregs))) {
		struct kvm_debugregs dr;

		memcpy(&dr, d, sizeof(dr));
		dr.flags = 0;
		if (ioctl(v->fd, KVM_SET_DEBUGREGS, &dr))
			return -errno;
	}
	if (!rec(s, DZ_SNAP_REC_VCPU_DEV, v->idx, &d, sizeof(struct dz_snap_vcpu_dev))) {
		const struct dz_snap_vcpu_dev *dev = d;

		for (int i = 0; i < 4; i++)
			atomic_store(&v->pending_irqs[i], dev->pending_irqs[i]);
		v->stats.ticks = dev->ticks;
		v->stats.progress = dev->progress;
	}
	return 0;
}

int vm__restore_state(struct vm *vm, const char *state_path)
{
	struct dz_snapshot *s;
	const void *d;
	int err;

	vm->last_error[0] = 0;
	err = dz_snapshot__open(state_path, &s);
	if (err) {
		WHY(vm, "%s: %s", state_path,
		    err == -EBADMSG ? "not a valid doze state file (magic, sizes or hash)"
				    : strerror(-err));
		return err;
	}
	err = -EINVAL;
	if (s->ram_size != vm->ram_size || s->nr_cpus != (uint32_t)vm->nr_vcpus) {
		WHY(vm, "the snapshot has %u vCPUs and %llu bytes of RAM, the VM %d and %llu",
		    s->nr_cpus, (unsigned long long)s->ram_size, vm->nr_vcpus,
		    (unsigned long long)vm->ram_size);
		goto out;
	}
	for (int i = 0; i < vm->nr_vcpus; i++) {
		err = restore_vcpu(vm, &vm->vcpus[i], s);
		if (err) {
			if (!vm->last_error[0])
				WHY(vm, "vCPU %d: %s", i,
				    err == -ENOENT ? "a state record is missing" : strerror(-err));
			goto out;
		}
	}
	if (!rec(s, DZ_SNAP_REC_VM_DEV, UINT32_MAX, &d, sizeof(struct dz_snap_vm_dev))) {
		const struct dz_snap_vm_dev *vd = d;
		struct kvm_clock_data clk = { .clock = vd->kvmclock_ns };

		if (vd->tick_hz)
			vm->tick_hz = vd->tick_hz;
		if (vd->kvmclock_ns)
			ioctl(vm->vm_fd, KVM_SET_CLOCK, &clk); /* best effort: kvmclock is optional */
	}
	vm->layout = s->layout;
	vm->loaded = true;
	err = 0;
out:
	dz_snapshot__close(s);
	return err;
}
