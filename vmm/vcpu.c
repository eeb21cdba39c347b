// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU thread: KVM_RUN loop, exit dispatch, hooks, userspace-irqchip
 * interrupt injection, the per-vCPU tick timer, and exception injection.
 *
 * Loop order, each iteration: stop? -> pause? -> tick due? -> before_entry
 * hook -> inject one queued interrupt (or ask for an interrupt window) ->
 * KVM_RUN -> dispatch the exit.
 */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <doze/abi.h>

#include "vm-impl.h"

void dz__vcpu_maybe_park(struct vcpu *vcpu);
void dz__vcpu_exit_loop(struct vcpu *vcpu);

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
};

const char *dz_kvm_exit_name(unsigned int reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
		return exit_names[reason];
	return "OTHER";
}

int vcpu__index(struct vcpu *vcpu)
{
	return vcpu->idx;
}

int vcpu__fd(struct vcpu *vcpu)
{
	return vcpu->fd;
}

struct kvm_run *vcpu__kvm_run(struct vcpu *vcpu)
{
	return vcpu->run;
}

struct vm *vcpu__vm(struct vcpu *vcpu)
{
	return vcpu->vm;
}

pid_t vcpu__tid(struct vcpu *vcpu)
{
	return atomic_load(&vcpu->tid);
}

const struct vcpu_stats *vcpu__stats(struct vcpu *vcpu)
{
	return &vcpu->stats;
}

int vcpu__kick(struct vcpu *vcpu)
{
	pid_t tid = atomic_load(&vcpu->tid);

	if (!tid)
		return 0; /* not running yet: it will see the flags when it starts */
	if (syscall(SYS_tgkill, getpid(), tid, DZ_KICK_SIGNAL))
		return errno == ESRCH ? 0 : -errno;
	return 0;
}

/* ---- register state: KVM_CAP_SYNC_REGS or the ioctls (see vm.h) ---- */

#define DZ_SYNC_FIELDS (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS)

struct sync_field {
	uint32_t bit;	  /* KVM_SYNC_X86_* */
	size_t off, len;  /* where in struct kvm_run */
	unsigned long get, set;
};

static const struct sync_field f_regs = {
	KVM_SYNC_X86_REGS, offsetof(struct kvm_run, s.regs.regs), sizeof(struct kvm_regs),
	KVM_GET_REGS, KVM_SET_REGS,
};
static const struct sync_field f_sregs = {
	KVM_SYNC_X86_SREGS, offsetof(struct kvm_run, s.regs.sregs), sizeof(struct kvm_sregs),
	KVM_GET_SREGS, KVM_SET_SREGS,
};
static const struct sync_field f_events = {
	KVM_SYNC_X86_EVENTS, offsetof(struct kvm_run, s.regs.events),
	sizeof(struct kvm_vcpu_events), KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
};

void dz__vcpu_init_sync_regs(struct vcpu *vcpu)
{
	const char *env = getenv("DOZE_SYNC_REGS");
	int r;

	vcpu->sync_fields = 0;
	vcpu->cached = 0;
	if (env && !strcmp(env, "0"))
		return;
	r = ioctl(vcpu->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	if (r <= 0 || (r & DZ_SYNC_FIELDS) != DZ_SYNC_FIELDS)
		return; /* all three or none: one code path per mode */
	vcpu->run->kvm_valid_regs = DZ_SYNC_FIELDS;
	vcpu->run->kvm_dirty_regs = 0;
	vcpu->sync_fields = DZ_SYNC_FIELDS;
}

bool vcpu__sync_regs(struct vcpu *vcpu)
{
	return vcpu->sync_fields != 0;
}

static void *field_ptr(struct vcpu *vcpu, const struct sync_field *f)
{
	return (uint8_t *)vcpu->run + f->off;
}

static int get_field(struct vcpu *vcpu, const struct sync_field *f, void *dst)
{
	if (vcpu->cached & f->bit) {
		memcpy(dst, field_ptr(vcpu, f), f->len);
		return 0;
	}
	if (ioctl(vcpu->fd, f->get, dst))
		return -errno;
	if (vcpu->sync_fields) { /* later gets in this exit are free */
		memcpy(field_ptr(vcpu, f), dst, f->len);
		vcpu->cached |= f->bit;
	}
	return 0;
}

static int set_field(struct vcpu *vcpu, const struct sync_field *f, const void *src)
{
	if (!vcpu->sync_fields)
		return ioctl(vcpu->fd, f->set, src) ? -errno : 0;
	memcpy(field_ptr(vcpu, f), src, f->len);
	vcpu->cached |= f->bit;
	vcpu->run->kvm_dirty_regs |= f->bit;
	return 0;
}

int dz__vcpu_flush_regs(struct vcpu *vcpu)
{
	static const struct sync_field *const order[] = { &f_regs, &f_sregs, &f_events };
	struct kvm_run *run = vcpu->run;

	/* the order KVM loads them in at KVM_RUN */
	for (int i = 0; i < 3; i++) {
		const struct sync_field *f = order[i];

		if (!(run->kvm_dirty_regs & f->bit))
			continue;
		if (ioctl(vcpu->fd, f->set, field_ptr(vcpu, f)))
			return -errno;
		run->kvm_dirty_regs &= ~f->bit;
	}
	return 0;
}

void dz__vcpu_forget_regs(struct vcpu *vcpu)
{
	vcpu->cached = 0;
	if (vcpu->run)
		vcpu->run->kvm_dirty_regs = 0;
}

/* KVM_RUN; 0 or -errno. Keeps the sync-regs view in step with KVM. */
static int run_ioctl(struct vcpu *vcpu)
{
	int r = ioctl(vcpu->fd, KVM_RUN, 0) < 0 ? -errno : 0;

	if (!vcpu->sync_fields)
		return r;
	if (vcpu->run->kvm_dirty_regs) {
		/* KVM returned before it loaded our writes, and may have put its own
		 * state over them: they are lost, say so rather than run on */
		vcpu->run->kvm_dirty_regs = 0;
		vcpu->cached = 0;
		return r && r != -EINTR && r != -EAGAIN ? r : -EPROTO;
	}
	/* on every way out of KVM_RUN (an exit, EINTR, immediate_exit) KVM stored
	 * the state; only an error may have skipped that */
	vcpu->cached = !r || r == -EINTR || r == -EAGAIN ? vcpu->sync_fields : 0;
	return r;
}

int vcpu__get_regs(struct vcpu *vcpu, struct kvm_regs *regs)
{
	return get_field(vcpu, &f_regs, regs);
}

int vcpu__set_regs(struct vcpu *vcpu, const struct kvm_regs *regs)
{
	return set_field(vcpu, &f_regs, regs);
}

int vcpu__get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs)
{
	return get_field(vcpu, &f_sregs, sregs);
}

int vcpu__set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs)
{
	return set_field(vcpu, &f_sregs, sregs);
}

int vcpu__get_events(struct vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	return get_field(vcpu, &f_events, ev);
}

int vcpu__set_events(struct vcpu *vcpu, const struct kvm_vcpu_events *ev)
{
	return set_field(vcpu, &f_events, ev);
}

int vcpu__complete_io(struct vcpu *vcpu)
{
	int r;

	vcpu->run->immediate_exit = 1;
	r = run_ioctl(vcpu);
	vcpu->run->immediate_exit = 0;
	if (r == -EINTR || r == -EAGAIN)
		return 0;
	return r < 0 ? r : 1;
}

int vcpu__queue_irq(struct vcpu *vcpu, uint8_t vector)
{
	if (vector < 32)
		return -EINVAL;
	if (vcpu->vm->cfg.in_kernel_irqchip) {
		/* the in-kernel LAPIC takes it as an MSI to this vCPU's APIC id */
		struct kvm_msi msi = {
			.address_lo = 0xfee00000u | ((uint32_t)vcpu->idx << 12),
			.data = vector,
		};

		return ioctl(vcpu->vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
	}
	atomic_fetch_or(&vcpu->pending_irqs[vector >> 6], 1ULL << (vector & 63));
	return vcpu__kick(vcpu);
}

int vcpu__inject_exception(struct vcpu *vcpu, uint8_t vector, bool has_error, uint32_t error_code)
{
	struct kvm_vcpu_events ev;
	int err;

	if (vector >= 32)
		return -EINVAL;
	err = vcpu__get_events(vcpu, &ev);
	if (err)
		return err;
	if (ev.exception.injected || ev.exception.pending)
		return -EBUSY;
	memset(&ev.exception, 0, sizeof(ev.exception));
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = has_error;
	ev.exception.error_code = error_code;
	ev.flags = 0; /* NMI, SIPI, shadow, SMM: leave KVM's as they are */
	err = vcpu__set_events(vcpu, &ev);
	if (err)
		return err;
	vcpu->stats.exceptions_injected++;
	return 0;
}

/*
 * Raises a machine check in bank DZ_MCE_BANK (abi.h 6b) if the guest can take
 * one; KVM would silently drop it with the bank disabled and shut the VM down
 * with CR4.MCE clear or a machine check already in progress, so those are
 * refused here: -EOPNOTSUPP (no bank), -EPERM (CR4.MCE or the bank off),
 * -EBUSY (MCIP set).
 */
int vcpu__machine_check(struct vcpu *vcpu, uint64_t status, uint64_t addr, uint64_t misc,
			uint64_t mcg_status)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[3];
	} m = { .h.nmsrs = 3,
		.e = { { .index = DZ_MSR_MCG_STATUS }, { .index = DZ_MSR_MC0_CTL },
		       { .index = DZ_MSR_MCG_CTL } } };
	struct kvm_x86_mce mce = {
		.status = status,
		.addr = addr,
		.misc = misc,
		.mcg_status = mcg_status,
		.bank = DZ_MCE_BANK,
	};
	struct kvm_sregs sregs;
	int r;

	if (!vcpu->vm->mcg_cap)
		return -EOPNOTSUPP;
	if (!(vcpu->vm->mcg_cap & DZ_MCG_CAP_CTL_P))
		m.h.nmsrs = 2;
	if ((r = vcpu__get_sregs(vcpu, &sregs)))
		return r;
	if (ioctl(vcpu->fd, KVM_GET_MSRS, &m) != (int)m.h.nmsrs)
		return -EIO;
	if (!(sregs.cr4 & (1ULL << 6)) || m.e[1].data != ~0ULL ||
	    (m.h.nmsrs == 3 && m.e[2].data != ~0ULL))
		return -EPERM;
	if (m.e[0].data & DZ_MCG_STATUS_MCIP)
		return -EBUSY;
	/* KVM queues the #MC in the event state behind the sync-regs view:
	 * hand it our pending writes first, read the events afresh after */
	r = dz__vcpu_flush_regs(vcpu);
	if (r)
		return r;
	r = ioctl(vcpu->fd, KVM_X86_SET_MCE, &mce);
	vcpu->cached &= ~KVM_SYNC_X86_EVENTS;
	if (r)
		return -errno;
	vcpu->stats.exceptions_injected++;
	return 0;
}

static int highest_pending(struct vcpu *vcpu)
{
	for (int w = 3; w >= 0; w--) {
		uint64_t m = atomic_load(&vcpu->pending_irqs[w]);

		if (m)
			return w * 64 + 63 - __builtin_clzll(m);
	}
	return -1;
}

/* Deliver the highest queued vector if KVM can take it now; else ask KVM to
 * exit as soon as the guest can take interrupts. */
static int inject_irqs(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int v = highest_pending(vcpu);

	run->request_interrupt_window = 0;
	if (v < 0)
		return 0;
	if (run->ready_for_interrupt_injection && run->if_flag) {
		struct kvm_interrupt irq = { .irq = v };
		int err;

		/*
		 * KVM_INTERRUPT changes the event state behind the sync-regs
		 * view (older kernels queue it there): writes still waiting in
		 * it go first, and the view is read afresh when next needed.
		 */
		err = dz__vcpu_flush_regs(vcpu);
		if (err)
			return err;
		if (ioctl(vcpu->fd, KVM_INTERRUPT, &irq))
			return -errno;
		vcpu->cached &= ~(KVM_SYNC_X86_EVENTS | KVM_SYNC_X86_SREGS);
		atomic_fetch_and(&vcpu->pending_irqs[v >> 6], ~(1ULL << (v & 63)));
		vcpu->stats.irqs_injected++;
		v = highest_pending(vcpu);
	}
	run->request_interrupt_window = v >= 0;
	return 0;
}

static void check_tick(struct vcpu *vcpu, uint64_t now)
{
	uint64_t period = 1000000000ULL / vcpu->vm->tick_hz;

	if (now < vcpu->next_tick_ns)
		return;
	vcpu->next_tick_ns += period;
	if (vcpu->next_tick_ns <= now) /* fell behind (paused, slow host): no burst */
		vcpu->next_tick_ns = now + period;
	vcpu->stats.ticks++;
	if (vcpu->vm->cfg.in_kernel_irqchip) /* an MSI to its LAPIC (dropped until enabled) */
		vcpu__queue_irq(vcpu, DZ_VEC_TIMER);
	else
		atomic_fetch_or(&vcpu->pending_irqs[DZ_VEC_TIMER >> 6], 1ULL << (DZ_VEC_TIMER & 63));
}

/* Consume kicks that arrived while we were outside KVM_RUN (they stay pending
 * because the signal is blocked here). */
static void eat_kicks(void)
{
	static const struct timespec zero;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, DZ_KICK_SIGNAL);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

/* Retire a pending port/MMIO completion without running guest code, so the
 * registers are at an instruction boundary (snapshot, pause). */
int dz__vcpu_settle(struct vcpu *vcpu)
{
	int r = vcpu__complete_io(vcpu);

	return r < 0 ? r : 0;
}

static void describe(struct vcpu *vcpu, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (vcpu__get_regs(vcpu, &r) || vcpu__get_sregs(vcpu, &s)) {
		snprintf(buf, len, "vCPU %d (registers unavailable)", vcpu->idx);
		return;
	}
	snprintf(buf, len, "vCPU %d, RIP %#llx, CPL %d, RSP %#llx, RFLAGS %#llx", vcpu->idx, r.rip,
		 s.cs.selector & 3, r.rsp, r.rflags);
}

static void fail_exit(struct vcpu *vcpu, int err, const char *what)
{
	char where[160];

	describe(vcpu, where, sizeof(where));
	dz__fail(vcpu->vm, err, "%s: %s", where, what);
}

static int handle_msr(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	int r = 0;

	if (vm->hooks.on_msr) {
		r = vm->hooks.on_msr(vm->hooks.opaque, vcpu, run);
		if (r)
			return r < 0 ? r : 0;
	}
	/* nobody owns it: reads of the feature MSR answer, everything else #GPs */
	run->msr.error = 1;
	if (run->exit_reason == KVM_EXIT_X86_RDMSR && run->msr.index == DZ_MSR_FEATURES) {
		run->msr.data = vm->doze_features;
		run->msr.error = 0;
	}
	return 0;
}

static int wait_for_irq(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	sigset_t set;

	vcpu->stats.halts++;
	sigemptyset(&set);
	sigaddset(&set, DZ_KICK_SIGNAL);
	for (;;) {
		uint64_t now = dz__now_ns();
		struct timespec ts;
		uint64_t wait;

		check_tick(vcpu, now);
		if (highest_pending(vcpu) >= 0 || atomic_load(&vm->stopping) ||
		    atomic_load(&vm->pause_req))
			return 0;
		wait = vcpu->next_tick_ns > now ? vcpu->next_tick_ns - now : 0;
		ts.tv_sec = wait / 1000000000ULL;
		ts.tv_nsec = wait % 1000000000ULL;
		if (sigtimedwait(&set, NULL, &ts) < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (vm->hooks.on_eintr) {
			int r = vm->hooks.on_eintr(vm->hooks.opaque, vcpu);

			if (r < 0)
				return r;
		}
	}
}

static int handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	char msg[128];
	int r;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		r = dz__handle_io(vcpu);
		if (r == 0 && vm->hooks.on_port)
			r = vm->hooks.on_port(vm->hooks.opaque, vcpu, run);
		if (r == 0 && run->io.direction == KVM_EXIT_IO_IN) /* unknown port reads all ones */
			memset((uint8_t *)run + run->io.data_offset, 0xff,
			       (size_t)run->io.size * run->io.count);
		return r < 0 ? r : 0;
	case KVM_EXIT_MMIO:
		r = vm->hooks.on_mmio ? vm->hooks.on_mmio(vm->hooks.opaque, vcpu, run) : 0;
		if (r)
			return r < 0 ? r : 0;
		snprintf(msg, sizeof(msg), "%s of %u bytes at guest-physical %#llx outside RAM (MMIO)",
			 run->mmio.is_write ? "write" : "read", run->mmio.len, run->mmio.phys_addr);
		fail_exit(vcpu, -EFAULT, msg);
		return -EFAULT;
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		return handle_msr(vcpu);
	case KVM_EXIT_HLT:
		if (!run->if_flag) {
			fail_exit(vcpu, -EDEADLK, "guest halted with interrupts disabled (it can never wake)");
			return -EDEADLK;
		}
		return wait_for_irq(vcpu);
	case KVM_EXIT_IRQ_WINDOW_OPEN:
	case KVM_EXIT_INTR:
		return 0;
	case KVM_EXIT_DEBUG:
		r = vm->hooks.on_debug ? vm->hooks.on_debug(vm->hooks.opaque, vcpu, run) : 0;
		if (r)
			return r < 0 ? r : 0;
		fail_exit(vcpu, -EIO, "unexpected debug exit");
		return -EIO;
	case KVM_EXIT_SHUTDOWN:
		fail_exit(vcpu, -EFAULT, "guest shut down (triple fault), exit reason SHUTDOWN");
		return -EFAULT;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(msg, sizeof(msg), "VM entry failed, hardware reason %#llx",
			 run->fail_entry.hardware_entry_failure_reason);
		fail_exit(vcpu, -EIO, msg);
		return -EIO;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(msg, sizeof(msg), "KVM internal error, suberror %u", run->internal.suberror);
		fail_exit(vcpu, -EIO, msg);
		return -EIO;
	case KVM_EXIT_SYSTEM_EVENT:
		snprintf(msg, sizeof(msg), "guest system event %u (reset/shutdown)",
			 run->system_event.type);
		fail_exit(vcpu, -EFAULT, msg);
		return -EFAULT;
	default:
		snprintf(msg, sizeof(msg), "unexpected exit reason %u (%s)", run->exit_reason,
			 dz_kvm_exit_name(run->exit_reason));
		fail_exit(vcpu, -EIO, msg);
		return -EIO;
	}
}

static int set_run_sigmask(struct vcpu *vcpu)
{
	struct {
		struct kvm_signal_mask m;
		uint8_t set[8];
	} km;
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	sigdelset(&cur, DZ_KICK_SIGNAL);
	km.m.len = 8;
	memcpy(km.set, &cur, 8);
	return ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &km) ? -errno : 0;
}

static int start_timer(struct vcpu *vcpu)
{
	struct sigevent sev = { 0 };
	uint64_t period = 1000000000ULL / vcpu->vm->tick_hz;
	struct itimerspec its = {
		.it_value = { period / 1000000000ULL, period % 1000000000ULL },
		.it_interval = { period / 1000000000ULL, period % 1000000000ULL },
	};

	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = DZ_KICK_SIGNAL;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &vcpu->timer))
		return -errno;
	vcpu->timer_armed = true;
	if (timer_settime(vcpu->timer, 0, &its, NULL))
		return -errno;
	return 0;
}

/*
 * The VM is stopping. A timeout is the one stop that says nothing about where
 * the guest was, and "where" is what one needs to debug a guest that went
 * quiet: say it, with whether this vCPU sat in HLT.
 */
static int stopped(struct vcpu *vcpu)
{
	char where[160];

	if (vcpu->vm->stop_err != -ETIMEDOUT)
		return 0;
	describe(vcpu, where, sizeof(where));
	fprintf(stderr, "doze: at the timeout: %s, %s\n", where,
		vcpu->run->exit_reason == KVM_EXIT_HLT ? "halted (waiting for an interrupt)"
							: "running");
	return 0;
}

static int vcpu_loop(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	int r;

	for (;;) {
		if (atomic_load(&vm->stopping))
			return stopped(vcpu);
		dz__vcpu_maybe_park(vcpu);
		if (atomic_load(&vm->stopping))
			return 0;
		check_tick(vcpu, dz__now_ns());
		if (vm->hooks.before_entry) {
			r = vm->hooks.before_entry(vm->hooks.opaque, vcpu);
			if (r < 0)
				return r;
		}
		if (!vm->cfg.in_kernel_irqchip) {
			r = inject_irqs(vcpu);
			if (r < 0) {
				fail_exit(vcpu, r, "KVM_INTERRUPT failed");
				return r;
			}
		}
		r = run_ioctl(vcpu);
		if (r < 0) {
			if (r == -EINTR || r == -EAGAIN) {
				vcpu->stats.eintr++;
				eat_kicks();
				if (vm->hooks.on_eintr) {
					r = vm->hooks.on_eintr(vm->hooks.opaque, vcpu);
					if (r < 0)
						return r;
				}
				continue;
			}
			fail_exit(vcpu, r, r == -EPROTO ? "KVM_RUN returned before it loaded the registers"
							: "KVM_RUN failed");
			return r;
		}
		if (run->exit_reason < DZ_NR_EXIT_REASONS)
			vcpu->stats.exits[run->exit_reason]++;
		r = handle_exit(vcpu);
		if (r < 0)
			return r;
	}
}

void *dz__vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];
	int r;

	atomic_store(&vcpu->tid, gettid());
	snprintf(name, sizeof(name), "doze-vcpu%d", vcpu->idx);
	pthread_setname_np(pthread_self(), name);
	if (vm->hooks.vcpu_start)
		vm->hooks.vcpu_start(vm->hooks.opaque, vcpu);
	r = set_run_sigmask(vcpu);
	if (!r)
		r = start_timer(vcpu);
	if (r)
		dz__fail(vm, r, "vCPU %d: cannot set up its signal mask or timer: %s", vcpu->idx,
			 strerror(-r));
	else
		r = vcpu_loop(vcpu);
	if (r < 0 && !atomic_load(&vm->stopping))
		dz__fail(vm, r, "vCPU %d: run loop failed: %s", vcpu->idx, strerror(-r));
	if (vcpu->timer_armed) {
		timer_delete(vcpu->timer);
		vcpu->timer_armed = false;
	}
	dz__console_flush(vcpu);
	if (vm->hooks.vcpu_stop)
		vm->hooks.vcpu_stop(vm->hooks.opaque, vcpu);
	dz__vcpu_exit_loop(vcpu);
	/* tid stays set: kicks after this fail with ESRCH, which vcpu__kick ignores */
	return NULL;
}
